"""The switching-cost model: per target an effort range and a score that agree (docs/scoring.md).

Effort is counted in units of real porting work (`units.py`), each priced as a low–high range of
engineer-hours (`costs.py`, defaults in `ranges.py`, anchors in `calibration.py`). The score is the
share of lock-in sites that are portable without thought on the target (native there, handled by the
project's own dispatch code, or a rename a tool applies: ``check --fix``, HIPIFY), and a target only
earns the "good" band when its effort is also small: a large codebase cannot look portable just by
being large.

The properties the tests hold it to: nothing found scores 100 at zero effort; adding a finding never
lowers effort, and adding one that is not ready never raises the score; making a finding native on a
target (a ROCm branch) never raises that target's effort; the result does not depend on order.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ..model import CATEGORIES, STATUSES, Finding
from .costs import is_blocking, unit_cost
from .hooks import is_fixable, is_mechanical
from .ranges import DEFAULT_COSTS, ZERO, Range
from .units import Unit, group_units

#: Engineer-hours of one site of this status; the model's costs scale with the ratio of a configured
#: value to this default (``effort-hours = {missing = 16}`` doubles every re-implementation).
DEFAULT_STATUS_HOURS: Mapping[str, float] = {
    "native": 0.0, "rename": 0.25, "equivalent": 2.0, "missing": 8.0, "unknown": 4.0,
}
#: How much costlier a category's work is than a plain API call; configured values scale costs by
#: their ratio to these defaults.
DEFAULT_CATEGORY_FACTOR: Mapping[str, float] = {
    "device-api": 1.0, "device-string": 0.5, "distributed": 1.0, "library": 2.0,
    "plugin": 3.0, "build": 2.0, "kernel": 4.0, "env": 0.25, "operator": 2.0,
}
#: Lines of kernel code rewritten in an hour at the optimistic end (the pessimistic end is 4x slower):
#: configuring ``lines-per-hour`` sets the ``kernel-rewrite-line`` range to (1/lines, 4/lines) hours.
DEFAULT_LINES_PER_HOUR = 10.0
#: The most effort (the high end, hours) a target may need and still be called "good": 4 engineer-weeks.
DEFAULT_GOOD_MAX_HOURS = 160.0
HOURS_PER_DAY = 8.0
BLOCKING = frozenset({"missing", "unknown"})
#: Score bands: (floor, band). A target above ``good_max_hours`` is at best "fair".
SCORE_BANDS: tuple[tuple[float, str], ...] = ((80.0, "good"), (50.0, "fair"), (0.0, "poor"))


def _ratio(table: Mapping[str, float], default: Mapping[str, float], key: str) -> float:
    base = default.get(key, 0.0)
    return table.get(key, base) / base if base else 1.0


@dataclass(frozen=True)
class EffortModel:
    status_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STATUS_HOURS))
    category_factor: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CATEGORY_FACTOR))
    lines_per_hour: float = DEFAULT_LINES_PER_HOUR
    costs: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_COSTS))
    good_max_hours: float = DEFAULT_GOOD_MAX_HOURS
    #: `cost`'s answers (a report asks 60,000 times on vLLM, for a few dozen distinct triples).
    _costs: dict[tuple[str, str, str], Range] = field(default_factory=dict, init=False, repr=False, compare=False)

    def cost(self, kind: str, status: str, category: str) -> Range:
        """The range of one piece of work of ``kind``, scaled by the configured status and category."""
        known = self._costs.get((kind, status, category))
        if known is None:
            base = Range(*self.costs[kind])
            scale = _ratio(self.status_hours, DEFAULT_STATUS_HOURS, status) * _ratio(
                self.category_factor, DEFAULT_CATEGORY_FACTOR, category)
            known = self._costs[(kind, status, category)] = base.times(scale)
        return known

    def band(self, score: float, effort: Range) -> str:
        band = next((name for floor, name in SCORE_BANDS if score >= floor), SCORE_BANDS[-1][1])
        return "fair" if band == "good" and effort.high > self.good_max_hours else band

    def describe(self) -> dict[str, object]:
        return {
            "status_hours": dict(self.status_hours),
            "category_factor": dict(self.category_factor),
            "lines_per_hour": self.lines_per_hour,
            "costs": {k: list(v) for k, v in self.costs.items()},
            "good_max_hours": self.good_max_hours,
            "formula": "score = share of lock-in sites portable without thought on the target (native, handled, "
                       "or a mechanical rename); effort = sum over units of work (kernels by size, libraries per library "
                       "and file, APIs once, edits per site) of a low-high range; 'good' needs score >= 80 and "
                       f"effort at most {self.good_max_hours:g} h",
        }


@dataclass(frozen=True, slots=True)
class TargetSummary:
    score: float
    effort_hours: float
    blockers: int
    effort_by_category: Mapping[str, float]
    statuses: Mapping[str, int]
    effort: Range = ZERO
    band: str = "good"
    ready: int = 0
    sites: int = 0
    fixable: int = 0
    fix_saves: Range = ZERO
    blocking_units: int = 0


def unit_costs(findings: Iterable[Finding], target: str, model: EffortModel,
               units: list[Unit] | None = None) -> list[tuple[Unit, Range]]:
    """Every unit of work with its cost on ``target`` (zero-cost units included)."""
    return [(unit, unit_cost(unit, target, model)) for unit in (units if units is not None else group_units(findings))]


def score_of(ready: int, sites: int) -> float:
    return round(100.0 * ready / sites, 1) if sites else 100.0


def fix_saves(findings: list[Finding], target: str, model: EffortModel) -> tuple[int, Range]:
    """How many findings ``--fix`` rewrites on ``target`` and what they would cost by hand."""
    count, saved = 0, ZERO
    for finding in findings:
        status = finding.targets[target].status
        if status != "native" and is_fixable(finding, target):
            count += 1
            saved += model.cost("rename" if status == "rename" else "adapt" if status == "equivalent" else "edit",
                                status, finding.category)
    return count, saved


def summarize_target(findings: list[Finding], target: str, model: EffortModel,
                     units: list[Unit] | None = None) -> TargetSummary:
    by_category: dict[str, Range] = {}
    total = ZERO
    blocking_units = 0
    for unit, cost in unit_costs(findings, target, model, units):
        blocking_units += is_blocking(unit, target)
        if cost:
            by_category[unit.category] = by_category.get(unit.category, ZERO) + cost
            total += cost
    statuses = dict.fromkeys(STATUSES, 0)
    for finding in findings:
        statuses[finding.targets[target].status] += 1
    ready = sum(is_mechanical(f, target) for f in findings)
    fixable, saves = fix_saves(findings, target, model)
    score = score_of(ready, len(findings))
    ordered = [c for c in CATEGORIES if c in by_category] + sorted(set(by_category) - set(CATEGORIES))
    mids = {c: round(by_category[c].mid, 2) for c in ordered}
    return TargetSummary(
        score=score, effort_hours=round(sum(mids.values()), 2),
        blockers=statuses["missing"] + statuses["unknown"], effort_by_category=mids, statuses=statuses,
        effort=total.rounded(), band=model.band(score, total), ready=ready, sites=len(findings),
        fixable=fixable, fix_saves=saves.rounded(), blocking_units=blocking_units,
    )


def summarize(findings: Iterable[Finding], targets: tuple[str, ...], lines: int = 0,
              model: EffortModel | None = None) -> dict[str, TargetSummary]:
    """Per target, the summary of these findings (``lines`` is accepted for older callers, unused)."""
    chosen = model or EffortModel()
    listed = list(findings)
    for seen, model_seen, summaries in _RECENT:
        if (model_seen == chosen and set(targets) <= summaries.keys() and len(seen) == len(listed)
                and all(map(operator.is_, seen, listed))):
            return {t: summaries[t] for t in targets}
    units = group_units(listed)
    summaries = {t: summarize_target(listed, t, chosen, units) for t in targets}
    _RECENT.insert(0, (tuple(listed), chosen, summaries))
    del _RECENT[_RECENT_SIZE:]
    return summaries


#: The last few `summarize` calls: ``check`` asks twice about the same findings (the fixable-findings
#: note, then the JSON summary), ``report`` about the product code twice, which cost a second each
#: on vLLM. Findings are immutable, so the very same objects (compared by identity) give the same
#: summaries.
_RECENT: list[tuple[tuple[Finding, ...], EffortModel, dict[str, TargetSummary]]] = []
_RECENT_SIZE = 4
