"""CUDA spellings on a path the portable runtime makes unreachable or answers for itself
(`python_runtime_fallbacks`): the old-torch ``else`` of ``hasattr(torch.amp, "custom_fwd")`` and a
``"cuda" if <CUDA test> else get_device()`` whose helper returns the runtime's backend; the near
misses keep their statuses."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_AMP = """import torch

if {probe}:
    legacy = False
    from {portable} import custom_fwd, custom_bwd
else:
    legacy = True
    from torch.cuda.amp import custom_fwd, custom_bwd
"""
_DEVICE = """import functools

import triton
from vllm.platforms import current_platform


@functools.cache
def runtime_device() -> str:
{body}


device = "cuda" if {test} else runtime_device()
"""
_RUNTIME = """    try:
        return triton.runtime.driver.active.get_current_target().backend
    except RuntimeError:
        return "cpu\""""


def _found(source: str, ruleset: RuleSet, rule: str) -> list[Finding]:
    result = check_bytes("amp.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == rule]


def test_a_cuda_import_only_on_old_torch_is_handled_everywhere(ruleset: RuleSet) -> None:
    found = _found(_AMP.format(probe='hasattr(torch.amp, "custom_fwd")', portable="torch.amp"), ruleset, "LL105")
    assert [f.symbol for f in found] == ["torch.cuda.amp.custom_fwd", "torch.cuda.amp.custom_bwd"]
    for finding in found:
        handled = dict(finding.handled)
        assert set(handled) == {"ascend", "mlu", "musa", "xpu", "mps", "cpu"}
        assert handled["xpu"] == 'old-torch fallback of `hasattr(torch.amp, "custom_fwd")` (amp.py:3)'
        assert {t.status for t in finding.targets.values()} == {"native"}


def test_other_amp_imports_keep_their_statuses(ruleset: RuleSet) -> None:
    near_misses = [
        # a hasattr on an unrelated object
        _AMP.format(probe='hasattr(config, "custom_fwd")', portable="torch.amp"),
        # a probe for another name than the one imported
        _AMP.format(probe='hasattr(torch.amp, "autocast")', portable="torch.amp"),
        # the body does not import the probed name from the probed module
        _AMP.format(probe='hasattr(torch.amp, "custom_fwd")', portable="apex.amp"),
        # unconditional
        "import torch\nfrom torch.cuda.amp import custom_fwd, custom_bwd\n",
    ]
    for source in near_misses:
        found = _found(source, ruleset, "LL105")
        assert len(found) == 2, source
        assert all(not f.handled and f.targets["ascend"].status == "rename" for f in found), source


def test_a_conditional_whose_else_asks_the_runtime_handles_every_target(ruleset: RuleSet) -> None:
    [found] = _found(_DEVICE.format(body=_RUNTIME, test="current_platform.is_cuda_alike()"), ruleset, "LL201")
    handled = dict(found.handled)
    assert handled["xpu"] == handled["mps"] == handled["ascend"] == "device the runtime reports (amp.py:15)"
    assert "rocm" not in handled and "without CUDA" not in found.message


def test_a_helper_returning_only_literals_is_credited_only_with_them(ruleset: RuleSet) -> None:
    near_misses = [
        _DEVICE.format(body='    return "cpu"', test="current_platform.is_cuda_alike()"),
        # not a CUDA test
        _DEVICE.format(body=_RUNTIME, test="fast_path"),
        # a helper that spells CUDA
        _DEVICE.format(body=_RUNTIME.replace('"cpu"', 'torch.cuda.current_device()'),
                       test="current_platform.is_cuda_alike()"),
    ]
    for source in near_misses:
        for finding in _found(source, ruleset, "LL201"):
            handled = dict(finding.handled)
            assert not any(note.startswith("device the runtime") for note in handled.values()), source
