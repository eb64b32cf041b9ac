"""The portable path after an NVIDIA-only test is ROCm's too (analyzers/python_nvidia_fall_through.py;
docs/validation.md, #11, sixth session, f16e): vLLM's ``if current_platform.is_cuda(): <CUDA op>;
return`` before a Triton fall-through. Each shape that fires is paired with near misses that keep the
old reading (rocm not handled): a test ROCm passes too, a fall-through that is CUDA again, runs on
the CPU, does no work or raises, a body that goes on, and an ``elif``."""

from __future__ import annotations

import pytest

from lockin_lint.analyzers.python_dispatch import FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

#: vLLM's int8_utils.py:232-256 in miniature: ``torch.version.cuda`` stands for the CUDA-only call
#: (its rocm status is no ``native``, so a note is what changes).
_QUANT = """import torch
from vllm.platforms import current_platform


def quant(x, group):
    y = torch.empty_like(x)
    # prefer the CUDA kernel
    if current_platform.is_cuda():
        version = torch.version.cuda
        return y, version

    m = x.numel() // group
    _quant_kernel[(m,)](x, y, group)
    return y, None
"""
_LINE = 9


def _found(ruleset: RuleSet, source: str, line: int = _LINE) -> Finding:
    result = check_bytes("int8_utils.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line]
    return found


def test_rocm_runs_the_portable_fall_through_of_an_nvidia_only_test(ruleset: RuleSet) -> None:
    found = _found(ruleset, _QUANT)
    assert found.rule_id == "LL122"
    assert dict(found.handled) == {"cpu": FALLBACK, "rocm": "fall-through of an NVIDIA-only test (int8_utils.py:12)"}
    # under a test ROCm passes too, the same line is ROCm's work: a status that is no `native`, no note
    before = _found(ruleset, _QUANT.replace("current_platform.is_cuda()", "torch.cuda.is_available()"))
    assert before.targets["rocm"].status != "native" and dict(before.handled) == {"cpu": FALLBACK}
    # the message's sentence about the targets no test names is the dispatch's, unchanged
    assert found.message == before.message


@pytest.mark.parametrize("test", ["torch.version.cuda is not None", "_is_cuda()",
                                  "current_platform.is_cuda() and x.is_contiguous()"])
def test_other_nvidia_only_tests(ruleset: RuleSet, test: str) -> None:
    found = _found(ruleset, _QUANT.replace("current_platform.is_cuda()", test))
    assert dict(found.handled).get("rocm") == "fall-through of an NVIDIA-only test (int8_utils.py:12)", test


def test_an_else_is_the_fall_through_too(ruleset: RuleSet) -> None:
    source = _QUANT.replace("        return y, version\n\n    m =", "        return y, version\n    else:\n        m =") \
        .replace("\n    _quant_kernel", "\n        _quant_kernel").replace("\n    return y, None", "\n        return y, None")
    assert "    else:\n        m = x.numel()" in source
    assert dict(_found(ruleset, source).handled).get("rocm") == "fall-through of an NVIDIA-only test (int8_utils.py:12)"


@pytest.mark.parametrize("change", [
    ("current_platform.is_cuda()", "torch.cuda.is_available()"),    # true on ROCm: ROCm takes the CUDA side
    ("current_platform.is_cuda()", "current_platform.is_cuda_alike()"),
    ("current_platform.is_cuda()", "x.is_cuda"),
    ("    _quant_kernel[(m,)](x, y, group)\n", "    torch.cuda.synchronize()\n"),  # CUDA again
    ("    _quant_kernel[(m,)](x, y, group)\n", "    y = _quant_kernel(x.cpu(), group)\n"),  # ROCm sent to the CPU
    ("    _quant_kernel[(m,)](x, y, group)\n", '    y = _quant_ref(x.to("cpu"), group)\n'),
    ("    _quant_kernel[(m,)](x, y, group)\n", "    # no GPU kernel here\n    _quant_kernel[(m,)](x, y, group)\n"),
    ("    _quant_kernel[(m,)](x, y, group)\n", ""),                      # no work: only a value
    ("    _quant_kernel[(m,)](x, y, group)\n", '    logger.warning("no kernel")\n'),  # only a log
    ("    _quant_kernel[(m,)](x, y, group)\n", '    raise NotImplementedError("CUDA only")\n'),
    ("        return y, version\n", "        y = y + 0\n"),            # the body goes on: no other path
    ("        return y, version\n\n", "        return y, version\n    elif current_platform.is_xpu():\n"
                                      "        return y, None\n\n"),    # a chain: left to the dispatch
])
def test_near_misses_keep_rocm_unhandled(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _QUANT.replace(*change)
    assert source != _QUANT
    assert "rocm" not in dict(_found(ruleset, source).handled), change


def test_a_match_outside_the_body_is_not_credited(ruleset: RuleSet) -> None:
    # in the test itself (a platform test of its own), and after the if, where ROCm runs it
    source = _QUANT.replace("    m = x.numel() // group\n", "    m = x.numel() // group\n    v = torch.version.cuda\n")
    assert "rocm" not in dict(_found(ruleset, source, 13).handled)
