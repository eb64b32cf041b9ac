"""The migration report: every number of ``lockin-lint report``, built once as plain data.

All formats (text, Markdown, HTML, JSON) render this one document, so they cannot disagree, and
every number in it is traceable: per target, the effort by category sums to the total effort, and
the per-file and per-directory figures come from the same findings with the same model.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .. import __version__
from ..model import RunResult, Settings, finding_dict
from .effort import BLOCKING, EffortModel, effort_items, summarize

DEPENDENCY_CATEGORIES = frozenset({"library", "plugin"})
TOP_BLOCKERS = 10


def _directory(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


def _scopes(run: RunResult, key, targets: tuple[str, ...], model: EffortModel) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    groups: dict[str, list] = defaultdict(list)  # type: ignore[type-arg]
    for finding in run.findings:
        groups[key(finding.path)].append(finding)
    files: dict[str, int] = defaultdict(int)
    lines: dict[str, int] = defaultdict(int)
    for path, count in run.file_lines.items():
        files[key(path)] += 1
        lines[key(path)] += count
    rows: list[dict[str, Any]] = []
    for scope, findings in groups.items():
        per_target = summarize(findings, targets, lines.get(scope, 0), model)
        rows.append({
            "path": scope, "files": files.get(scope, 1), "lines": lines.get(scope, 0), "findings": len(findings),
            "targets": {t: {"score": s.score, "effort_hours": s.effort_hours, "blockers": s.blockers}
                        for t, s in per_target.items()},
        })
    rows.sort(key=lambda r: (-max((t["effort_hours"] for t in r["targets"].values()), default=0), r["path"]))
    return rows


def _top_blockers(run: RunResult, targets: tuple[str, ...], model: EffortModel) -> list[dict[str, Any]]:
    costs: dict[str, dict[str, float]] = defaultdict(dict)
    for target in targets:
        for finding, cost in effort_items(run.findings, target, model):
            costs[finding.fingerprint][target] = cost
    # A call into a custom kernel costs nothing (the kernel is listed); it is not where the work is.
    blocking = [f for f in run.findings if any(f.targets[t].status in BLOCKING for t in targets)
                and not f.depends_on]
    blocking.sort(key=lambda f: (-max(costs[f.fingerprint].values()), f.sort_key()))
    return [{
        "rule_id": f.rule_id, "category": f.category, "symbol": f.symbol, "path": f.path, "line": f.line,
        "column": f.column, "message": f.message,
        "statuses": {t: f.targets[t].status for t in targets},
        "effort_hours": {t: round(costs[f.fingerprint][t], 2) for t in targets},
    } for f in blocking[:TOP_BLOCKERS]]


def _dependencies(run: RunResult) -> list[dict[str, Any]]:
    """Libraries and plugins, one row per top-level name (``apex`` once, with every rule it hit)."""
    found: dict[str, dict[str, Any]] = {}
    for finding in run.findings:
        if finding.category not in DEPENDENCY_CATEGORIES:
            continue
        name = finding.symbol.split(".")[0]
        entry = found.setdefault(name, {"name": name, "rules": [], "category": finding.category,
                                        "count": 0, "files": []})
        entry["count"] += 1
        if finding.rule_id not in entry["rules"]:
            entry["rules"].append(finding.rule_id)
        if finding.path not in entry["files"]:
            entry["files"].append(finding.path)
    for entry in found.values():
        entry["rule_id"] = ", ".join(sorted(entry.pop("rules")))
    return sorted(found.values(), key=lambda e: (-e["count"], e["name"]))


def _custom_code(run: RunResult) -> list[dict[str, Any]]:
    """The repository's own CUDA code that Python calls into (LL710's ``depends_on``): each kernel
    with the ops that reach it and their call sites, most called first. Migration plans start here:
    one kernel ported unblocks every call below it."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for finding in run.findings:
        for place in finding.depends_on:
            entry = found.setdefault((place.path, place.line), {
                "path": place.path, "line": place.line, "column": place.column, "what": place.message,
                "ops": [], "calls": 0, "callers": []})
            entry["calls"] += 1
            for key, value in (("ops", finding.symbol), ("callers", finding.path)):
                if value not in entry[key]:
                    entry[key].append(value)
    return sorted(found.values(), key=lambda e: (-e["calls"], e["path"], e["line"]))


def build_report(run: RunResult, settings: Settings, model: EffortModel | None = None) -> dict[str, Any]:
    chosen = model or EffortModel()
    targets = settings.targets
    summary = summarize(run.findings, targets, run.lines_scanned, chosen)
    return {
        "version": __version__,
        "files_scanned": run.files_scanned,
        "lines_scanned": run.lines_scanned,
        "model": chosen.describe(),
        "targets": {t: {
            "score": s.score, "effort_hours": s.effort_hours, "effort_days": round(s.effort_hours / 8, 1),
            "blockers": s.blockers, "statuses": dict(s.statuses), "effort_by_category": dict(s.effort_by_category),
        } for t, s in summary.items()},
        "top_blockers": _top_blockers(run, targets, chosen),
        "directories": _scopes(run, _directory, targets, chosen),
        "files": _scopes(run, lambda p: p, targets, chosen),
        "dependencies": _dependencies(run),
        "custom_code": _custom_code(run),
        "findings": [finding_dict(f) for f in run.findings],
        "errors": [{"path": e.path, "message": e.message} for e in run.failures],
        "partial_parses": [{"path": e.path, "message": e.message} for e in run.partial_parses],
    }
