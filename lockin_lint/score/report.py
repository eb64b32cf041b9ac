"""The migration report: every number of ``lockin-lint report``, built once as plain data.

All formats (text, Markdown, HTML, JSON) render this one document, so they cannot disagree. The
headline (``targets``, the executive summary, blockers, dependencies) is product code; tests and
vendored code are reported apart under ``scopes``. Every number is traceable: per target, the effort
by category sums to the total, and the directory and file rows add up to it (tables.COUNTING_NOTE).

The document is a superset of report version 1 (every older key keeps its name and type);
``report_version`` says which shape a reader has (docs/scoring.md).
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..model import Finding, RunResult, Settings, finding_dict
from .calibration import assumptions
from .effort import HOURS_PER_DAY, EffortModel, TargetSummary, summarize
from .left_out import left_out
from .plan import costs_by_target, executive_summary, top_blockers
from .scopes import SCOPES, ScopeRules
from .tables import COUNTING_NOTE, breakdown, custom_code, dependencies, directory_of, operators
from .units import group_units

REPORT_VERSION = 2


def _target_dict(s: TargetSummary) -> dict[str, Any]:
    return {
        "score": s.score, "band": s.band, "effort_hours": s.effort_hours,
        "effort_days": round(s.effort_hours / HOURS_PER_DAY, 1),
        "effort_low": s.effort.low, "effort_high": s.effort.high,
        "effort_low_days": round(s.effort.low / HOURS_PER_DAY, 1),
        "effort_high_days": round(s.effort.high / HOURS_PER_DAY, 1),
        "blockers": s.blockers, "blocking_units": s.blocking_units, "ready": s.ready, "sites": s.sites,
        "statuses": dict(s.statuses), "effort_by_category": dict(s.effort_by_category),
    }


def _scope_rows(run: RunResult, by_scope: dict[str, list[Finding]], rules: ScopeRules,
                targets: tuple[str, ...], model: EffortModel) -> dict[str, Any]:
    rows = {}
    for scope in SCOPES:
        paths = [p for p in run.file_lines if rules.scope_of(p) == scope]
        found = by_scope[scope]
        rows[scope] = {
            "files": len(paths), "lines": sum(run.file_lines[p] for p in paths), "findings": len(found),
            "targets": {t: {"score": s.score, "band": s.band, "effort_hours": s.effort_hours,
                            "effort_low": s.effort.low, "effort_high": s.effort.high}
                        for t, s in summarize(found, targets, 0, model).items()},
        }
    return rows


def build_report(run: RunResult, settings: Settings, model: EffortModel | None = None,
                 scopes: ScopeRules | None = None) -> dict[str, Any]:
    chosen = model or EffortModel()
    rules = scopes or ScopeRules()
    targets = settings.targets
    by_scope: dict[str, list[Finding]] = {scope: [] for scope in SCOPES}
    for finding in run.findings:
        by_scope[rules.scope_of(finding.path)].append(finding)
    product = by_scope["product"]
    units = group_units(product)
    summary = summarize(product, targets, 0, chosen)
    costs = costs_by_target(units, product, targets, chosen)
    return {
        "version": __version__,
        "report_version": REPORT_VERSION,
        "files_scanned": run.files_scanned,
        "lines_scanned": run.lines_scanned,
        "model": chosen.describe() | {"assumptions": assumptions(chosen)},
        "headline_scope": "product",
        "targets": {t: _target_dict(s) for t, s in summary.items()},
        "left_out": left_out(product, targets, chosen),
        "summary": executive_summary(product, summary, chosen, units),
        "scopes": _scope_rows(run, by_scope, rules, targets, chosen),
        "top_blockers": top_blockers(units, costs),
        "counting": COUNTING_NOTE,
        "directories": breakdown(run, product, units, costs, directory_of),
        "files": breakdown(run, product, units, costs, lambda p: p),
        "dependencies": dependencies(product, units, costs),
        "custom_code": custom_code(run.findings),
        "operators": operators(product, targets),
        "findings": [finding_dict(f) for f in run.findings],
        "errors": [{"path": e.path, "message": e.message} for e in run.failures],
        "partial_parses": [{"path": e.path, "message": e.message} for e in run.partial_parses],
    }
