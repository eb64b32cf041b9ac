"""The report's breakdown tables: directories, files, dependencies, and custom code called from Python.

Directory and file rows add up to the project's total: each unit's cost is shared among the places
of its findings in proportion to how many are there (a kernel sits wholly in its file; a library
used in three directories is shared by the three). Scores per row are the share of its own findings
that are portable without thought, like the project's.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Sequence

from ..model import Finding, RunResult
from .effort import score_of
from .hooks import is_mechanical
from .plan import Costs
from .ranges import Range
from .units import Unit, library_name

COUNTING_NOTE = ("Each unit of work (a kernel, a library, an API) is shared among the directories (files) of its "
                 "findings in proportion to its findings there, so the rows add up to the total; a row's score is "
                 "the share of its own findings that are native, handled or a mechanical rename on the target.")


def directory_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


def breakdown(run: RunResult, findings: list[Finding], units: Sequence[Unit], costs: Costs,
              key: Callable[[str], str]) -> list[dict[str, Any]]:
    """One row per directory (or file) with findings, costliest first."""
    shares: dict[str, dict[str, list[float]]] = defaultdict(lambda: {t: [0.0, 0.0] for t in costs})
    for unit in units:
        counts: dict[str, int] = defaultdict(int)
        for finding in unit.findings:
            counts[key(finding.path)] += 1
        for target, by_unit in costs.items():
            cost = by_unit[id(unit)]
            if not cost:
                continue
            for place, count in counts.items():
                cell = shares[place][target]
                cell[0] += cost.low * count / len(unit.findings)
                cell[1] += cost.high * count / len(unit.findings)
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[key(finding.path)].append(finding)
    files: dict[str, int] = defaultdict(int)
    lines: dict[str, int] = defaultdict(int)
    for path, count in run.file_lines.items():
        files[key(path)] += 1
        lines[key(path)] += count
    rows: list[dict[str, Any]] = []
    for place, found in grouped.items():
        per_target: dict[str, dict[str, float]] = {}
        for target in costs:
            low, high = shares[place][target] if place in shares else (0.0, 0.0)
            effort = Range(low, high)
            per_target[target] = {
                "score": score_of(sum(is_mechanical(f, target) for f in found), len(found)),
                "effort_hours": round(effort.mid, 2), "effort_low": round(low, 2), "effort_high": round(high, 2),
                "blockers": sum(f.targets[target].status in ("missing", "unknown") for f in found),
            }
        rows.append({"path": place, "files": files.get(place, 1), "lines": lines.get(place, 0),
                     "findings": len(found), "targets": per_target})
    rows.sort(key=lambda r: (-max((t["effort_high"] for t in r["targets"].values()), default=0), r["path"]))
    return rows


def dependencies(findings: list[Finding], units: Sequence[Unit], costs: Costs) -> list[dict[str, Any]]:
    """One row per library (CUTLASS once, with its uses and files), costliest first."""
    found: dict[str, dict[str, Any]] = {}
    for finding in findings:
        name = library_name(finding)
        if name is None:
            continue
        entry = found.setdefault(name, {"name": name, "rules": set(), "category": finding.category, "count": 0,
                                        "files": set()})
        entry["count"] += 1
        entry["rules"].add(finding.rule_id)
        entry["files"].add(finding.path)
    effort = {name: {t: Range() for t in costs} for name in found}
    for unit in units:
        if unit.kind == "library" and unit.name in effort:
            for target in costs:
                effort[unit.name][target] = costs[target][id(unit)]
    rows = []
    for name, entry in found.items():
        rows.append({"name": name, "rule_id": ", ".join(sorted(entry["rules"])), "category": entry["category"],
                     "count": entry["count"], "files": sorted(entry["files"]),
                     "effort_low": {t: round(r.low, 2) for t, r in effort[name].items()},
                     "effort_high": {t: round(r.high, 2) for t, r in effort[name].items()}})
    rows.sort(key=lambda e: (-max(e["effort_high"].values(), default=0), -e["count"], e["name"]))
    return rows


def operators(findings: list[Finding], targets: tuple[str, ...]) -> list[dict[str, Any]]:
    """The PyTorch operators the code uses that some target does not implement (the ``operator``
    rules, LL901-LL904): each API once, with where it is used and, per target, whether the vendor's
    data says it is missing and what to fall back on. A model with no ``torch.cuda`` call can still
    need these re-developed."""
    found: dict[str, dict[str, Any]] = {}
    for finding in findings:
        if finding.category != "operator":
            continue
        entry = found.setdefault(finding.symbol, {
            "symbol": finding.symbol, "rule_id": finding.rule_id, "uses": 0, "files": [],
            "path": finding.path, "line": finding.line,
            "missing": {t: (finding.targets[t].replacement or "") for t in targets
                        if t in finding.targets and finding.targets[t].status == "missing"}})
        entry["uses"] += 1
        if finding.path not in entry["files"]:
            entry["files"].append(finding.path)
    return sorted(found.values(), key=lambda e: (-len(e["missing"]), -e["uses"], e["symbol"]))


def custom_code(findings: list[Finding]) -> list[dict[str, Any]]:
    """The repository's own CUDA code that Python calls into (LL710's ``depends_on``): each kernel
    with the ops that reach it and their call sites, most called first. Migration plans start here:
    one kernel ported unblocks every call below it."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for finding in findings:
        for place in finding.depends_on:
            entry = found.setdefault((place.path, place.line), {
                "path": place.path, "line": place.line, "column": place.column, "what": place.message,
                "ops": [], "calls": 0, "callers": []})
            entry["calls"] += 1
            for key, value in (("ops", finding.symbol), ("callers", finding.path)):
                if value not in entry[key]:
                    entry[key].append(value)
    return sorted(found.values(), key=lambda e: (-e["calls"], e["path"], e["line"]))
