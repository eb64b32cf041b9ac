"""Per-target summary numbers for a run: score, effort and blockers.

This is the first, deliberately simple model; the scoring issue replaces the constants with a
configurable, documented one. It already has the properties that model must keep: 100 with no
findings, `native` findings cost nothing, every other status lowers the score, and the result does not
depend on file order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .model import Finding

#: Share of a code line's worth of porting work a finding with this status stands for.
STATUS_WEIGHT = {"native": 0.0, "rename": 0.25, "equivalent": 0.5, "missing": 1.0, "unknown": 1.0}
#: Engineer-hours for one finding of this status, before the category factor.
STATUS_HOURS = {"native": 0.0, "rename": 0.1, "equivalent": 1.0, "missing": 8.0, "unknown": 2.0}
#: Some categories are costlier to port per finding: a missing kernel is a re-implementation.
CATEGORY_FACTOR = {"kernel": 4.0, "plugin": 2.0, "build": 2.0}
BLOCKING = frozenset({"missing", "unknown"})


@dataclass(frozen=True, slots=True)
class TargetSummary:
    score: float
    effort_hours: float
    blockers: int


def summarize(findings: Iterable[Finding], targets: tuple[str, ...], lines: int) -> dict[str, TargetSummary]:
    weights = {t: 0.0 for t in targets}
    hours = {t: 0.0 for t in targets}
    blockers = {t: 0 for t in targets}
    for finding in findings:
        factor = CATEGORY_FACTOR.get(finding.category, 1.0)
        for target in targets:
            status = finding.targets[target].status
            weights[target] += STATUS_WEIGHT[status]
            hours[target] += STATUS_HOURS[status] * factor
            blockers[target] += status in BLOCKING
    size = max(lines, 1)
    return {
        t: TargetSummary(
            score=round(max(0.0, 100.0 * (1.0 - weights[t] / size)), 1),
            effort_hours=round(hours[t], 1),
            blockers=blockers[t],
        )
        for t in targets
    }
