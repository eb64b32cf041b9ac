"""A module-level name bound to a ROCm-only package on ROCm and to the project's CUDA extension
elsewhere: calls through it are handled on ROCm (analyzers/python_rocm_bindings.py); near misses keep
the extension's rocm status."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_KERNEL = ("__global__ void k(float* x) {}\nvoid run(float* x) { k<<<1, 1>>>(x); }\n"
           'TORCH_LIBRARY(attn3, m) { m.def("combine", &run); }\n')

# flash-attention's hopper/flash_attn_interface.py, rewritten
_MODULE = '''import os
import torch

USE_KERNELS_ROCM = os.getenv("KERNELS_AMD_ENABLE", "FALSE") == "TRUE"
{test}
    from aiter.ops.triton.attn import attn3 as attn3_gpu
else:
    attn3_gpu = torch.ops.attn3


def combine(out, lse):
    return attn3_gpu.combine(out, lse)
'''
_CALL = 12
_NOTE = "ROCm binding of attn3_gpu (attn.py:6)"


def _calls(tmp_path: Path, ruleset: RuleSet, module: str) -> dict[int, Finding]:
    """The LL710 findings of ``module`` checked beside the extension, by line."""
    (tmp_path / "k.cu").write_text(_KERNEL, encoding="utf-8")
    (tmp_path / "attn.py").write_text(module, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    return {f.line: f for f in run.findings if f.path == "attn.py" and f.rule_id == "LL710"}


def _call(tmp_path: Path, ruleset: RuleSet, module: str) -> Finding:
    """The finding on ``combine``'s call through ``attn3_gpu``."""
    line = module.splitlines().index("    return attn3_gpu.combine(out, lse)") + 1
    return _calls(tmp_path, ruleset, module)[line]


def _without(tmp_path: Path, ruleset: RuleSet) -> Finding:
    """The same call where the module binds the name to the extension alone."""
    return _call(tmp_path / "plain", ruleset, _MODULE.replace("{test}\n    from aiter.ops.triton.attn import "
                                                               "attn3 as attn3_gpu\nelse:\n    ", ""))


@pytest.mark.parametrize("test", ["if USE_KERNELS_ROCM:", "if torch.version.hip:", "if (is_rocm()):",
                                  "if IS_HIP:"])
def test_a_call_through_the_rocm_binding_is_handled_on_rocm(tmp_path: Path, ruleset: RuleSet, test: str) -> None:
    (tmp_path / "plain").mkdir()
    plain = _without(tmp_path, ruleset)
    found = _call(tmp_path, ruleset, _MODULE.format(test=test))
    assert plain.targets["rocm"].status != "native" and not plain.handled
    assert dict(found.handled) == {"rocm": _NOTE}
    assert found.targets["rocm"].status == "native"
    assert {t: i for t, i in found.targets.items() if t != "rocm"} == \
        {t: i for t, i in plain.targets.items() if t != "rocm"}
    assert found.symbol == plain.symbol == "torch.ops.attn3.combine"


def test_a_negated_test_takes_the_else_on_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    module = _MODULE.replace("{test}\n    from aiter.ops.triton.attn import attn3 as attn3_gpu\nelse:\n"
                             "    attn3_gpu = torch.ops.attn3\n",
                             "if not USE_KERNELS_ROCM:\n    attn3_gpu = torch.ops.attn3\nelse:\n"
                             "    from aiter.ops.triton.attn import attn3 as attn3_gpu\n")
    assert dict(_call(tmp_path, ruleset, module).handled) == {"rocm": "ROCm binding of attn3_gpu (attn.py:8)"}


@pytest.mark.parametrize("module", [
    _MODULE.format(test="if USE_KERNELS:"),  # a switch that names no ROCm
    _MODULE.format(test="if torch.cuda.is_available():"),  # true on ROCm and CUDA alike
    _MODULE.format(test="if not USE_KERNELS_ROCM:"),  # the aiter branch is the one ROCm does not take
    _MODULE.format(test="if USE_KERNELS_ROCM:").replace("aiter.ops.triton.attn", "triton_attn"),  # not ROCm-only
    _MODULE.format(test="if USE_KERNELS_ROCM:").replace("else:\n", "elif USE_OTHER:\n    pass\nelse:\n"),  # a chain
    _MODULE.format(test="if USE_KERNELS_ROCM:").replace("def combine(out, lse):",
                                                        "def combine(out, lse, attn3_gpu=torch.ops.attn3):"),
    _MODULE.format(test="if USE_KERNELS_ROCM:").replace(
        "    return attn3_gpu.combine", "    attn3_gpu = torch.ops.attn3\n    return attn3_gpu.combine"),
], ids=["no-rocm-word", "cuda-test", "wrong-side", "not-rocm-only", "elif", "parameter", "local"])
def test_near_misses_keep_the_extension_status(tmp_path: Path, ruleset: RuleSet, module: str) -> None:
    found = _call(tmp_path, ruleset, module)
    assert "rocm" not in dict(found.handled)
    assert found.targets["rocm"].status != "native"


def test_a_direct_call_beside_the_binding_stays(tmp_path: Path, ruleset: RuleSet) -> None:
    module = _MODULE.format(test="if USE_KERNELS_ROCM:") + "\n\ndef direct(out, lse):\n    " \
                                                           "return torch.ops.attn3.combine(out, lse)\n"
    calls = _calls(tmp_path, ruleset, module)
    assert sorted(calls) == [_CALL, _CALL + 4]
    assert dict(calls[_CALL].handled) == {"rocm": _NOTE}
    assert not calls[_CALL + 4].handled
