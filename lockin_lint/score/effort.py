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
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..model import CATEGORIES, STATUSES, Finding
from .costs import is_blocking, statuses_on, unit_cost, unit_statuses
from .hooks import is_fixable
from .effort_model import (DEFAULT_CATEGORY_FACTOR, DEFAULT_GOOD_MAX_HOURS, DEFAULT_LINES_PER_HOUR,
                           DEFAULT_STATUS_HOURS, SCORE_BANDS, EffortModel)
from .ranges import ZERO, Range, sum_ranges
from .units import Unit, group_units

__all__ = ["DEFAULT_CATEGORY_FACTOR", "DEFAULT_GOOD_MAX_HOURS", "DEFAULT_LINES_PER_HOUR", "DEFAULT_STATUS_HOURS",
           "SCORE_BANDS", "EffortModel"]  # the model's settings live in `effort_model`; re-exported here

HOURS_PER_DAY = 8.0
BLOCKING = frozenset({"missing", "unknown"})
#: The `costs.status_on` values of a finding `hooks.is_mechanical` counts: ready (``native``), or a rename.
MECHANICAL = frozenset({"native", "rename"})


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
    listed = list(findings)
    table = statuses_on(listed, target)
    return [(unit, unit_cost(unit, target, model, unit_statuses(unit, table)))
            for unit in (units if units is not None else group_units(listed))]


def score_of(ready: int, sites: int) -> float:
    return round(100.0 * ready / sites, 1) if sites else 100.0


def fix_saves(findings: list[Finding], target: str, model: EffortModel) -> tuple[int, Range]:
    """How many findings ``--fix`` rewrites on ``target`` and what they would cost by hand.

    ``check`` asks twice about the same findings (the fixable-findings note, then the JSON summary): the
    answers for the last findings asked about are kept (the very same objects, compared by identity)."""
    seen, model_seen, answers = _SAVES
    if not (model_seen == model and len(seen) == len(findings) and all(map(operator.is_, seen, findings))):
        seen, answers = tuple(findings), {}
        _SAVES[:] = [seen, model, answers]
    answer = answers.get(target)
    if answer is None:
        answer = answers[target] = _fix_saves(seen, target, model)
    return answer


#: `fix_saves`' findings, model and answers per target.
_SAVES: list[Any] = [(), None, {}]


def _fix_saves(findings: tuple[Finding, ...], target: str, model: EffortModel) -> tuple[int, Range]:
    saved = []
    for finding in findings:
        status = finding.targets[target].status
        if status != "native" and is_fixable(finding, target):
            saved.append(model.cost("rename" if status == "rename" else "adapt" if status == "equivalent" else "edit",
                                    status, finding.category))
    return len(saved), sum_ranges(saved)


def summarize_target(findings: list[Finding], target: str, model: EffortModel,
                     units: list[Unit] | None = None) -> TargetSummary:
    costs: list[Range] = []
    by_unit_category: dict[str, list[Range]] = {}
    blocking_units = 0
    table = statuses_on(findings, target)  # each finding asked once, not once per cost and test
    for unit in units if units is not None else group_units(findings):
        ordered_statuses = unit_statuses(unit, table)
        cost = unit_cost(unit, target, model, ordered_statuses)
        blocking_units += is_blocking(unit, target, ordered_statuses)
        if cost:
            costs.append(cost)
            by_unit_category.setdefault(unit.category, []).append(cost)
    by_category = {category: sum_ranges(ranges) for category, ranges in by_unit_category.items()}
    total = sum_ranges(costs)
    statuses = dict.fromkeys(STATUSES, 0)
    for finding in findings:
        statuses[finding.targets[target].status] += 1
    ready = sum(table[id(f)] in MECHANICAL for f in findings)  # `hooks.is_mechanical`, read from the table
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
