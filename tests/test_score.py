"""The scoring model's properties (docs/scoring.md), checked with hypothesis on mixed projects:
kernels with intrinsics and PTX inside them, libraries, APIs, edits and calls into custom kernels."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from lockin_lint.model import STATUSES, TARGETS, Finding, Location, TargetInfo
from lockin_lint.score.effort import EffortModel, summarize
from lockin_lint.score.hooks import LEFT_OUT_OF_BUILD, is_mechanical
from lockin_lint.score.left_out import left_out

MODEL = EffortModel()
#: (rule, category, path, symbol) shapes the model treats differently.
SHAPES = [
    ("LC7000", "kernel", "k.cu", "__global__ k"),        # a kernel definition (span = body)
    ("LC4001", "kernel", "k.cu", "__syncthreads"),       # an intrinsic (inside the kernel or not)
    ("LC4001", "kernel", "k.cu", "__expf"),
    ("LC7010", "kernel", "k.cu", "asm"),                 # inline PTX
    ("LC7020", "kernel", "h.cuh", "31"),                 # a warp-size literal in device code
    ("LC5101", "library", "g.cu", "cutlass::gemm"),      # a library symbol
    ("LC5101", "library", "h.cuh", "cute::Tensor"),
    ("LC3007", "library", "g.cu", "cublasSgemm"),
    ("LL101", "device-api", "a.py", "torch.cuda.synchronize"),
    ("LL101", "device-api", "b/c.py", "torch.cuda.synchronize"),
    ("LL200", "device-string", "a.py", "cuda"),          # an edit
    ("LD102", "library", "requirements.txt", "nvidia-cublas-cu12"),
    ("LL510", "plugin", "a.py", "flash_attn"),
]


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    rule, category, path, symbol = draw(st.sampled_from(SHAPES))
    statuses = {t: TargetInfo(draw(st.sampled_from(STATUSES)), draw(st.sampled_from([None, "x"]))) for t in TARGETS}
    line = draw(st.integers(1, 300))
    end = line + (draw(st.integers(0, 120)) if rule == "LC7000" else draw(st.integers(0, 3)))
    calls = (Location("k.cu", 1, 1, "kernel"),) if rule == "LL101" and draw(st.booleans()) else ()
    return Finding(rule_id=rule, category=category, severity="warning", path=path, line=line, column=1,
                   end_line=end, end_column=2, symbol=symbol, message="m", targets=statuses,
                   fingerprint=f"{rule}{path}{line}", depends_on=calls)


def test_nothing_found_scores_100_at_no_cost() -> None:
    for summary in summarize([], TARGETS).values():
        assert (summary.score, summary.effort.high, summary.band) == (100.0, 0.0, "good")


@settings(max_examples=200, deadline=None)
@given(st.lists(findings(), max_size=25), findings())
def test_adding_lock_in_never_lowers_effort_or_raises_the_score(found: list[Finding], extra: Finding) -> None:
    before = summarize(found, TARGETS, model=MODEL)
    after = summarize([*found, extra], TARGETS, model=MODEL)
    for target in TARGETS:
        assert after[target].effort.low >= before[target].effort.low - 1e-6
        assert after[target].effort.high >= before[target].effort.high - 1e-6
        if not is_mechanical(extra, target):
            assert after[target].score <= before[target].score


@settings(max_examples=200, deadline=None)
@given(st.lists(findings(), min_size=1, max_size=25), st.data())
def test_a_rocm_branch_never_raises_rocm_effort(found: list[Finding], data: st.DataObject) -> None:
    """Making a finding native on ROCm (the code gained a ROCm path) can only lower ROCm's effort."""
    index = data.draw(st.integers(0, len(found) - 1))
    ported = dataclasses.replace(found[index], targets={**found[index].targets, "rocm": TargetInfo("native")})
    before = summarize(found, ("rocm",), model=MODEL)["rocm"]
    after = summarize([*found[:index], ported, *found[index + 1:]], ("rocm",), model=MODEL)["rocm"]
    assert after.effort.high <= before.effort.high + 1e-6 and after.effort.low <= before.effort.low + 1e-6
    assert after.score >= before.score


@settings(max_examples=200, deadline=None)
@given(st.lists(findings(), min_size=1, max_size=25), st.sampled_from(sorted({shape[2] for shape in SHAPES})))
def test_a_rocm_build_that_leaves_a_file_out_never_raises_rocm_effort(found: list[Finding], path: str) -> None:
    """A project gaining a ROCm build that leaves ``path`` out (`project.build_dispatch`): ROCm's effort can
    only fall, no other target moves, and the left-out part, priced as a port, costs no more than all."""
    how = f"{LEFT_OUT_OF_BUILD} (CMakeLists.txt:1)"
    marked = [dataclasses.replace(f, handled=(*f.handled, ("rocm", how))) if f.path == path else f for f in found]
    before, after = summarize(found, TARGETS, model=MODEL), summarize(marked, TARGETS, model=MODEL)
    assert after["rocm"].effort.high <= before["rocm"].effort.high + 1e-6
    assert after["rocm"].effort.low <= before["rocm"].effort.low + 1e-6
    assert after["rocm"].score >= before["rocm"].score
    assert all(after[t] == before[t] for t in TARGETS if t != "rocm")
    row = left_out(marked, ("rocm",), MODEL).get("rocm")
    assert (row is None) == (not any(f.path == path for f in found))
    if row is not None:
        assert row["effort_high"] <= before["rocm"].effort.high + 1e-6 and row["findings"] == sum(
            f.path == path for f in found)


@settings(max_examples=100, deadline=None)
@given(st.lists(findings(), max_size=25), st.randoms())
def test_order_does_not_matter_and_categories_sum_to_the_total(found: list[Finding], rnd: random.Random) -> None:
    shuffled = list(found)
    rnd.shuffle(shuffled)
    a, b = summarize(found, TARGETS, model=MODEL), summarize(shuffled, TARGETS, model=MODEL)
    for target in TARGETS:
        assert a[target] == b[target]
        assert abs(sum(a[target].effort_by_category.values()) - a[target].effort_hours) < 0.05
        assert a[target].effort.low <= a[target].effort_hours <= a[target].effort.high + 1e-6
        assert round(a[target].score, 1) == a[target].score


def test_no_good_band_above_the_effort_threshold() -> None:
    """A big codebase whose sites are mostly native still cannot be "good" if porting the rest is large."""
    native = {t: TargetInfo("native") for t in TARGETS}
    kernel = Finding("LC7000", "kernel", "warning", "k.cu", 1, 1, 2000, 2, "__global__ k", "m",
                     {**native, "ascend": TargetInfo("missing")}, fingerprint="k")
    filler = [dataclasses.replace(kernel, rule_id="LL101", category="device-api", path="a.py", line=i, end_line=i,
                                  targets=native, fingerprint=str(i)) for i in range(1, 100)]
    summary = summarize([kernel, *filler], ("ascend",), model=MODEL)["ascend"]
    assert summary.score >= 80 and summary.effort.high > MODEL.good_max_hours
    assert summary.band == "fair"
    relaxed = EffortModel(good_max_hours=summary.effort.high)
    assert summarize([kernel, *filler], ("ascend",), model=relaxed)["ascend"].band == "good"
