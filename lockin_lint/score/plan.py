"""What to do first: the executive summary and the ranked blockers of the migration report.

A decision-maker reads the first screen only, so it says, in order of cost and certainty: what
``check --fix`` removes for free, then the libraries to replace or swap, then the kernels to port,
each ranked by effort with the size that breaks ties. Blockers are units of work, never single
findings, so an intrinsic inside a kernel is never listed apart from its kernel.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..model import Finding
from .costs import RANK, is_blocking, status_on
from .effort import HOURS_PER_DAY, EffortModel, TargetSummary, unit_costs
from .hooks import is_fixable
from .ranges import ZERO, Range
from .units import Unit, group_units

TOP_BLOCKERS = 10
TOP_STEP_ITEMS = 5
KERNEL_KINDS = ("kernel", "device-code")

Costs = dict[str, dict[int, Range]]


def costs_by_target(units: Sequence[Unit], findings: list[Finding], targets: tuple[str, ...],
                    model: EffortModel) -> Costs:
    """``{target: {id(unit): cost}}`` for every unit."""
    return {t: {id(u): c for u, c in unit_costs(findings, t, model, list(units))} for t in targets}


def unit_size(unit: Unit) -> int:
    """What breaks ties between equally costly units: a kernel's lines, else its number of findings."""
    return unit.body_lines or len(unit.findings)


def _rank_key(unit: Unit, costs: Costs) -> tuple[float, float, int, str, int]:
    per_target = [costs[t][id(unit)] for t in costs]
    return (-max((c.high for c in per_target), default=0.0), -max((c.low for c in per_target), default=0.0),
            -unit_size(unit), unit.path, unit.line)


def unit_row(unit: Unit, costs: Costs) -> dict[str, Any]:
    """A unit as the report shows it: where it starts, how big it is, what it costs per target."""
    head = unit.anchor or unit.findings[0]
    worst = {t: max((status_on(f, t) for f in unit.findings), key=RANK.__getitem__) for t in costs}
    return {
        "kind": unit.kind, "name": unit.name, "rule_id": head.rule_id, "category": unit.category,
        "symbol": head.symbol, "path": unit.path, "line": unit.line, "column": head.column,
        "message": head.message, "size_lines": unit.body_lines, "findings": len(unit.findings),
        "files": len(unit.files), "statuses": worst,
        "effort_hours": {t: round(costs[t][id(unit)].mid, 2) for t in costs},
        "effort_low": {t: round(costs[t][id(unit)].low, 2) for t in costs},
        "effort_high": {t: round(costs[t][id(unit)].high, 2) for t in costs},
    }


def top_blockers(units: Sequence[Unit], costs: Costs, limit: int = TOP_BLOCKERS) -> list[dict[str, Any]]:
    """Units that block some target, costliest first (ties: the bigger unit first, then by place)."""
    blocking = [u for u in units if any(is_blocking(u, t) for t in costs)]
    blocking.sort(key=lambda u: _rank_key(u, costs))
    return [unit_row(u, costs) for u in blocking[:limit]]


def _ranked(units: Sequence[Unit], costs: Costs, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    chosen = [u for u in units if u.kind in kinds and any(costs[t][id(u)] for t in costs)]
    chosen.sort(key=lambda u: _rank_key(u, costs))
    return [unit_row(u, costs) for u in chosen]


def _total(units: Sequence[Unit], costs: Costs, kinds: tuple[str, ...], target: str) -> Range:
    return sum((costs[target][id(u)] for u in units if u.kind in kinds), ZERO)


def _range_dict(effort: Range) -> dict[str, float]:
    return {"low": round(effort.low, 2), "high": round(effort.high, 2),
            "low_days": round(effort.low / HOURS_PER_DAY, 1), "high_days": round(effort.high / HOURS_PER_DAY, 1)}


def executive_summary(findings: list[Finding], summaries: dict[str, TargetSummary], model: EffortModel,
                      units: list[Unit] | None = None) -> dict[str, Any]:
    """Steps in the order a team should take them, each with what it covers and costs per target."""
    targets = tuple(summaries)
    grouped = units if units is not None else group_units(findings)
    costs = costs_by_target(grouped, findings, targets, model)
    fixable = [f for f in findings if any(f.targets[t].status != "native" and is_fixable(f, t) for t in targets)]
    libraries = _ranked(grouped, costs, ("library",))
    kernels = _ranked(grouped, costs, KERNEL_KINDS)
    rest = ("api", "edit")
    return {
        "fix": {"findings": len(fixable),
                "per_target": {t: {"findings": s.fixable, "saves": _range_dict(s.fix_saves)}
                               for t, s in summaries.items()}},
        "libraries": {"count": len(libraries), "top": libraries[:TOP_STEP_ITEMS],
                      "effort": {t: _range_dict(_total(grouped, costs, ("library",), t)) for t in targets}},
        "kernels": {"count": len(kernels), "top": kernels[:TOP_STEP_ITEMS],
                    "effort": {t: _range_dict(_total(grouped, costs, KERNEL_KINDS, t)) for t in targets}},
        "rest": {"count": sum(u.kind in rest and any(costs[t][id(u)] for t in targets) for u in grouped),
                 "effort": {t: _range_dict(_total(grouped, costs, rest, t)) for t in targets}},
    }
