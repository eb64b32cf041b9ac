"""The switching-cost model: effort per finding and target, and portability scores (docs/scoring.md).

Effort is engineer-hours. A finding costs the hours of its status on that target (``native`` costs
nothing); for work that must be re-implemented, times its category's factor: a missing custom kernel
costs far more than a missing environment variable. Porting work that is done once is counted once: an API that has to be
re-implemented (``missing``, or ``unknown`` until someone looks) is paid for at its first use in a
scope, and each further use costs one edit; a Python call into the repository's own CUDA extension
(`Finding.depends_on`) costs nothing, because the kernels it needs are findings of their own. A score compares that effort with the size of the code:

    score = 100 * C / (C + E),   C = lines / lines_per_hour

so code whose porting effort equals one hour per ``lines_per_hour`` lines scores 50. The properties
the tests hold it to: 100 with no findings, never higher after a finding is added, strictly lower
after a non-native one, independent of file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ..model import CATEGORIES, STATUSES, Finding

#: Engineer-hours for one finding of this status, before the category factor.
DEFAULT_STATUS_HOURS: Mapping[str, float] = {
    "native": 0.0, "rename": 0.25, "equivalent": 2.0, "missing": 8.0, "unknown": 4.0,
}
#: How much costlier a category is per finding than a plain API call.
DEFAULT_CATEGORY_FACTOR: Mapping[str, float] = {
    "device-api": 1.0, "device-string": 0.5, "distributed": 1.0, "library": 2.0,
    "plugin": 3.0, "build": 2.0, "kernel": 4.0, "env": 0.25, "operator": 2.0,
}
#: Lines of code that one hour of porting effort is weighed against in a score.
DEFAULT_LINES_PER_HOUR = 10.0
#: Cost of each further use of an API already re-implemented (an edit to call the new version).
DEFAULT_EDIT_HOURS = 0.25
BLOCKING = frozenset({"missing", "unknown"})


@dataclass(frozen=True)
class EffortModel:
    status_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STATUS_HOURS))
    category_factor: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CATEGORY_FACTOR))
    lines_per_hour: float = DEFAULT_LINES_PER_HOUR
    edit_hours: float = DEFAULT_EDIT_HOURS

    def hours(self, finding: Finding, target: str) -> float:
        """The full cost of this finding on ``target`` (first use of an API).

        The category factor scales re-implementation (``missing``/``unknown``) only: rewriting a
        kernel costs far more than rewriting an env var lookup, while adapting a call that has an
        equivalent is about the same edit whatever the category.
        """
        if finding.depends_on:
            return 0.0  # a call into a custom kernel: the kernel's own findings carry its effort, once
        status = finding.targets[target].status
        factor = self.category_factor.get(finding.category, 1.0) if status in BLOCKING else 1.0
        return self.status_hours[status] * factor

    def describe(self) -> dict[str, object]:
        return {
            "status_hours": dict(self.status_hours),
            "category_factor": dict(self.category_factor),
            "lines_per_hour": self.lines_per_hour,
            "edit_hours": self.edit_hours,
            "formula": "score = 100 * C / (C + E), C = lines / lines_per_hour, E = effort hours; a finding "
                       "costs status_hours of its status, a missing or unknown one times its category_factor "
                       "at its first use in a scope and edit_hours at each further use",
        }


@dataclass(frozen=True, slots=True)
class TargetSummary:
    score: float
    effort_hours: float
    blockers: int
    effort_by_category: Mapping[str, float]
    statuses: Mapping[str, int]


def effort_items(findings: Iterable[Finding], target: str, model: EffortModel) -> list[tuple[Finding, float]]:
    """Each finding with its cost on ``target``, re-implementations counted once per symbol.

    Within a group of uses of one missing/unknown symbol, the costliest use (the first of equals, in
    path/line order) carries the full effort and every other use one edit; taking the maximum, not
    the first use, is what keeps the total from ever falling when a finding is added.
    """
    ordered = sorted(findings, key=lambda f: (*f.sort_key(), f.category, f.fingerprint))  # a total order
    full = [model.hours(f, target) for f in ordered]
    carrier: dict[tuple[str, str], int] = {}
    for position, finding in enumerate(ordered):
        if finding.targets[target].status in BLOCKING:
            key = (finding.rule_id, finding.symbol)
            best = carrier.get(key)
            if best is None or full[position] > full[best]:
                carrier[key] = position
    carriers = set(carrier.values())
    items = []
    for position, finding in enumerate(ordered):
        cost = full[position]
        if finding.targets[target].status in BLOCKING and position not in carriers:
            cost = min(cost, model.edit_hours)
        items.append((finding, cost))
    return items


def score_for(effort: float, lines: int, model: EffortModel) -> float:
    capacity = max(lines, 1) / model.lines_per_hour
    return round(100.0 * capacity / (capacity + effort), 1)


def summarize_target(findings: list[Finding], target: str, lines: int, model: EffortModel) -> TargetSummary:
    by_category: dict[str, float] = {}
    statuses = dict.fromkeys(STATUSES, 0)
    blockers = 0
    for finding, cost in effort_items(findings, target, model):
        status = finding.targets[target].status
        statuses[status] += 1
        blockers += status in BLOCKING
        if cost:
            by_category[finding.category] = by_category.get(finding.category, 0.0) + cost
    by_category = {c: round(by_category[c], 2) for c in CATEGORIES if c in by_category}
    effort = round(sum(by_category.values()), 2)
    return TargetSummary(score_for(effort, lines, model), effort, blockers, by_category, statuses)


def summarize(findings: Iterable[Finding], targets: tuple[str, ...], lines: int,
              model: EffortModel | None = None) -> dict[str, TargetSummary]:
    chosen = model or EffortModel()
    listed = list(findings)
    return {t: summarize_target(listed, t, lines, chosen) for t in targets}
