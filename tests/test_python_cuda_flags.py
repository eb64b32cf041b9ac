"""A module flag only a CUDA test can set True (TGI's ``CUSTOM_KERNELS_ENABLED``) reads as that
test, and its ``else`` is every other target's path (`python_cuda_flags`); the near misses, where
something else can set the flag or the ``else`` is no other path, keep their findings as they were."""

from __future__ import annotations

from lockin_lint.analyzers.python_dispatch import FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_MODULE = """import os
import torch
ENABLED = False
if {test}:
    try:
        from custom_kernels import fused
        ENABLED = True
    except ImportError:
        pass
{extra}
def attention(q):
    if {use}:
        torch.cuda.synchronize()
        return fused.forward(q)
    {otherwise}:
        return q.softmax(-1)
"""
_CUDA = 'torch.cuda.is_available() and not os.environ.get("DISABLE", "") == "1"'


def _line(source: str) -> int:
    return source.splitlines().index("        torch.cuda.synchronize()") + 1


def _handled(ruleset: RuleSet, test: str = _CUDA, extra: str = "", use: str = "ENABLED",
             otherwise: str = "else") -> dict[str, str]:
    source = _MODULE.format(test=test, extra=extra, use=use, otherwise=otherwise)
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == _line(source) and f.rule_id.startswith("LL1")]
    return dict(found.handled)


def test_the_else_of_a_cuda_only_flag_handles_every_target_the_flag_is_never_true_on(ruleset: RuleSet) -> None:
    for use in ("ENABLED", "ENABLED and q.shape[-1] < 4096", "(ENABLED)"):
        handled = _handled(ruleset, use=use)
        assert set(handled) == {"ascend", "mlu", "musa", "xpu", "mps", "cpu"}, use
        assert handled["mps"] == "else of a CUDA-only flag (m.py:15)", use


def test_a_cuda_only_flag_with_no_else_reads_as_the_cuda_test(ruleset: RuleSet) -> None:
    # `if ENABLED:` then more code: like `if torch.cuda.is_available():`, the CPU falls through.
    assert _handled(ruleset, otherwise="if q is None") == {"cpu": FALLBACK}


def test_a_flag_something_else_can_set_keeps_its_finding_unhandled(ruleset: RuleSet) -> None:
    for test, extra in (("HAS_KERNELS", ""),                                   # no CUDA test
                        (_CUDA, "def force():\n    global ENABLED\n    ENABLED = True\n"),
                        (_CUDA, "for ENABLED in (True, False):\n    pass\n"),
                        (_CUDA, "ENABLED = os.environ.get('FORCE') == '1'\n"),
                        ("not torch.cuda.is_available()", "")):                # true off CUDA
        assert _handled(ruleset, test=test, extra=extra) == {}, (test, extra)


def test_an_else_that_spells_cuda_or_a_negated_flag_is_no_other_path(ruleset: RuleSet) -> None:
    source = _MODULE.format(test=_CUDA, extra="", use="ENABLED", otherwise="else").replace(
        "return q.softmax(-1)", "return q.cuda().softmax(-1)")
    result = check_bytes("m.py", source.encode(), ruleset)
    [found] = [f for f in result.findings if f.line == _line(source) and f.rule_id.startswith("LL1")]
    assert dict(found.handled) == {"cpu": FALLBACK}
    assert _handled(ruleset, use="not ENABLED") == {}
