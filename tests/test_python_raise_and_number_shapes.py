"""The third-round shapes fixed by f9py (docs/validation.md, #11, fourth session): a lone CUDA ``if``
whose fall-through raises (no CPU fallback) and a backend comparison that only picks a number; each
with the near misses that keep firing."""

from __future__ import annotations

from lockin_lint.analyzers.python_dispatch import FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding


def _found(source: str, ruleset: RuleSet, line: int, rule: str = "") -> list[Finding]:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.line == line and rule in f.rule_id]


# -- a lone CUDA `if` followed by a raise (flash-attention cute_dsl_utils.py:60) -------------------
_LONE = ("import torch\ndef sms(i):\n    if torch.cuda.is_available():\n{body}{after}")
_NESTED = "        arch, n = probe(i)\n        if arch == 9:\n            return n\n"


def _cpu(source: str, ruleset: RuleSet) -> tuple[str | None, str]:
    [found] = _found(source, ruleset, 3, "LL1")
    return dict(found.handled).get("cpu"), found.message


def test_a_lone_cuda_if_whose_fall_through_raises_has_no_cpu_fallback(ruleset: RuleSet) -> None:
    for body in (_NESTED, "        return probe(i)\n"):
        note, message = _cpu(_LONE.format(body=body, after="    raise RuntimeError('no GPU')\n"), ruleset)
        assert note is None and "silently run on the CPU" not in message, body


def test_a_lone_cuda_if_that_goes_on_or_has_an_else_keeps_its_fallback(ruleset: RuleSet) -> None:
    for body, after in ((_NESTED, "    return 1\n"),
                        ("        x = probe(i)\n", "    raise RuntimeError('no GPU')\n"),
                        ("        return probe(i)\n", "    n = 1\n    raise RuntimeError('no GPU')\n")):
        assert _cpu(_LONE.format(body=body, after=after), ruleset)[0] == FALLBACK, (body, after)


# -- a backend comparison that only picks a number (accelerate utils/dataclasses.py:300) ----------
_PICK = ("from datetime import timedelta\nclass K:\n    def post(self):\n"
         "        seconds = {left} if self.backend != 'nccl' else {right}\n")


def _ll300(left: str, right: str, ruleset: RuleSet) -> list[Finding]:
    return _found(_PICK.format(left=left, right=right), ruleset, 4, "LL300")


def test_a_backend_comparison_that_picks_a_number_is_no_finding(ruleset: RuleSet) -> None:
    for left, right in (("1800", "600"), ("-1", "2.5"), ("timedelta(seconds=1800)", "timedelta(minutes=10)")):
        assert not _ll300(left, right, ruleset), (left, right)


def test_a_backend_comparison_that_picks_anything_else_keeps_firing(ruleset: RuleSet) -> None:
    for left, right in (("1800", "self.fallback()"), ("'gloo'", "600"), ("timedelta(seconds=n)", "600")):
        assert _ll300(left, right, ruleset), (left, right)

