"""The scoring model's properties (docs/scoring.md), checked with hypothesis."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from lockin_lint.model import CATEGORIES, STATUSES, TARGETS, Finding, TargetInfo
from lockin_lint.score.effort import EffortModel, summarize

MODEL = EffortModel()


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    statuses = {t: TargetInfo(draw(st.sampled_from(STATUSES))) for t in TARGETS}
    line = draw(st.integers(1, 500))
    symbol = draw(st.sampled_from(["a", "b", "c", "torch.cuda.x"]))
    return Finding(rule_id=draw(st.sampled_from(["LL101", "LC7000", "LL800"])),
                   category=draw(st.sampled_from(CATEGORIES)), severity="warning",
                   path=draw(st.sampled_from(["a.py", "b/c.py", "k.cu"])), line=line, column=1, end_line=line,
                   end_column=2, symbol=symbol, message="m", targets=statuses, fingerprint=f"{line}{symbol}")


def scores(found: list[Finding], lines: int = 1000) -> dict[str, float]:
    return {t: s.score for t, s in summarize(found, TARGETS, lines, MODEL).items()}


def test_no_findings_scores_100() -> None:
    assert set(scores([]).values()) == {100.0}


@settings(max_examples=200, deadline=None)
@given(st.lists(findings(), max_size=30), findings())
def test_adding_a_finding_never_raises_and_missing_lowers_strictly(found: list[Finding], extra: Finding) -> None:
    before = summarize(found, TARGETS, 1000, MODEL)
    after = summarize([*found, extra], TARGETS, 1000, MODEL)
    for target in TARGETS:
        assert after[target].effort_hours >= before[target].effort_hours
        assert after[target].score <= before[target].score
        status = extra.targets[target].status
        if status == "missing":
            assert after[target].effort_hours > before[target].effort_hours
        if status == "native":
            assert after[target].effort_hours == before[target].effort_hours


@settings(max_examples=100, deadline=None)
@given(st.lists(findings(), max_size=30), st.randoms())
def test_order_does_not_matter_and_categories_sum_to_the_total(found: list[Finding], rnd: random.Random) -> None:
    shuffled = list(found)
    rnd.shuffle(shuffled)
    a, b = summarize(found, TARGETS, 700, MODEL), summarize(shuffled, TARGETS, 700, MODEL)
    for target in TARGETS:
        assert a[target] == b[target]
        assert abs(sum(a[target].effort_by_category.values()) - a[target].effort_hours) < 1e-9
        assert round(a[target].score, 1) == a[target].score


def test_a_missing_kernel_costs_far_more_than_a_missing_env_var_and_is_paid_once() -> None:
    def finding(category: str, line: int, symbol: str) -> Finding:
        return Finding("LX", category, "warning", "a.py", line, 1, line, 2, symbol, "m",
                       {t: TargetInfo("missing") for t in TARGETS})
    kernel = summarize([finding("kernel", 1, "k")], ("ascend",), 100, MODEL)["ascend"].effort_hours
    env = summarize([finding("env", 1, "E")], ("ascend",), 100, MODEL)["ascend"].effort_hours
    assert (kernel, env) == (32.0, 2.0)
    twice = summarize([finding("kernel", 1, "k"), finding("kernel", 9, "k")], ("ascend",), 100, MODEL)
    assert twice["ascend"].effort_hours == 32.25
