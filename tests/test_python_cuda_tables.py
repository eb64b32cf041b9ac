"""A table entry registered only under an NVIDIA-only test is the CUDA branch of a dispatch table
(analyzers/python_cuda_tables.py; docs/validation.md, #11, seventh session, f19c): vLLM's
``if current_platform.is_cuda(): QUANT_OPS[k] = torch.ops._C.<op>.default``. Every target gets the
one note in place of cpu's fallback note; the near misses keep the dispatch's reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.analyzers.python_dispatch import FALLBACK
from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import TARGETS, Finding

_KERNEL = ("__global__ void k(float* x) {}\nvoid run(float* x) { k<<<1, 1>>>(x); }\n"
           'TORCH_LIBRARY(_C, m) { m.def("group_quant", &run); }\n')

# vLLM's rms_quant_fusion.py:60-69, rewritten
_FUSION = '''import torch
from vllm.platforms import current_platform

QUANT_OPS = {
    "static": torch.ops._C.static_quant.default,
}
if current_platform.is_cuda():
    QUANT_OPS["group128"] = torch.ops._C.group_quant.default
    QUANT_OPS["group64"] = torch.ops._C.group_quant.default
'''
_NOTE = "registered only on CUDA (fusion.py:7); elsewhere the entry is absent"


def _linked(tmp_path: Path, ruleset: RuleSet, module: str) -> dict[int, Finding]:
    """The LL710 findings of ``module`` checked beside the extension, by line."""
    (tmp_path / "k.cu").write_text(_KERNEL, encoding="utf-8")
    (tmp_path / "fusion.py").write_text(module, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    return {f.line: f for f in run.findings if f.path == "fusion.py" and f.rule_id == "LL710"}


def test_an_op_registered_only_on_cuda_is_noted_on_every_target(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _linked(tmp_path, ruleset, _FUSION)
    assert sorted(found) == [8, 9]
    for finding in found.values():
        assert dict(finding.handled) == {t: _NOTE for t in TARGETS}
        assert "no test names" not in finding.message  # the fallback's sentence went with its note


def test_the_same_op_called_under_the_test_keeps_the_fallback(tmp_path: Path, ruleset: RuleSet) -> None:
    module = _FUSION.replace('QUANT_OPS["group64"] = torch.ops._C.group_quant.default',
                             "torch.ops._C.group_quant(torch.empty(4))")
    found = _linked(tmp_path, ruleset, module)
    assert sorted(found) == [8, 9]
    # a body that calls the op is code that runs: no line of it reads as a table entry
    assert all(dict(f.handled) == {"cpu": FALLBACK} for f in found.values())
    assert "no test names" in found[9].message


#: The same shape with a name whose rocm status is no `native` (LL122), so the notes show.
_TABLE = """import torch
from vllm.platforms import current_platform

INFO = {}
if current_platform.is_cuda():
    {fill}
"""
_TABLE_NOTE = "registered only on CUDA (tables.py:5); elsewhere the entry is absent"


def _finding(ruleset: RuleSet, source: str) -> Finding:
    result = check_bytes("tables.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.rule_id == "LL122"]
    return found


@pytest.mark.parametrize("fill", [
    'INFO["toolkit"] = torch.version.cuda',
    "INFO.update(toolkit=torch.version.cuda)",
    'INFO.update({"toolkit": torch.version.cuda})',
    "VERSIONS.append(torch.version.cuda)",
    "VERSIONS.extend([torch.version.cuda])",
    "SEEN.add(torch.version.cuda)",
    'INFO["toolkit"] = torch.version.cuda  # noqa: E501\n    # the Hopper ops\n    INFO["other"] = 1',
])
def test_each_way_of_filling_a_table(ruleset: RuleSet, fill: str) -> None:
    found = _finding(ruleset, _TABLE.replace("{fill}", fill))
    assert dict(found.handled) == {t: _TABLE_NOTE for t in TARGETS}
    assert all(info.status == "native" for info in found.targets.values())


def test_an_and_with_a_test_that_names_no_platform(ruleset: RuleSet) -> None:
    source = _TABLE.replace("current_platform.is_cuda()", 'current_platform.is_cuda() and hasattr(torch, "x")')
    found = _finding(ruleset, source.replace("{fill}", 'INFO["toolkit"] = torch.version.cuda'))
    assert dict(found.handled) == {t: _TABLE_NOTE for t in TARGETS}


@pytest.mark.parametrize("source", [
    # the body does something else too
    _TABLE.replace("{fill}", 'INFO["toolkit"] = torch.version.cuda\n    print("cuda")'),
    # the value is computed by a call
    _TABLE.replace("{fill}", 'INFO["toolkit"] = str(torch.version.cuda)'),
    # an `else` gives other platforms their own entry
    _TABLE.replace("{fill}", 'INFO["toolkit"] = torch.version.cuda\nelse:\n    INFO["toolkit"] = None'),
    _TABLE.replace("{fill}", 'INFO["toolkit"] = torch.version.cuda\nelif current_platform.is_rocm():\n    pass'),
    # a test ROCm passes too
    _TABLE.replace("current_platform.is_cuda()", "torch.cuda.is_available()").replace(
        "{fill}", 'INFO["toolkit"] = torch.version.cuda'),
    # a plain assignment, no table
    _TABLE.replace("{fill}", "toolkit = torch.version.cuda"),
    # inside another `if` in the body
    _TABLE.replace("{fill}", 'if VERBOSE:\n        INFO["toolkit"] = torch.version.cuda'),
], ids=["other-statement", "call", "else", "elif", "rocm-too", "no-table", "nested-if"])
def test_near_misses_keep_the_dispatch_reading(ruleset: RuleSet, source: str) -> None:
    found = _finding(ruleset, source)
    assert not any(note.startswith("registered only on CUDA") for _, note in found.handled)


def test_a_table_filled_unconditionally_is_plain_lock_in(ruleset: RuleSet) -> None:
    found = _finding(ruleset, 'import torch\n\nINFO = {}\nINFO["toolkit"] = torch.version.cuda\n')
    assert not found.handled
    assert found.targets["rocm"].status != "native"
