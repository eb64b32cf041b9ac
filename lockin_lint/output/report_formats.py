"""Text and Markdown renderings of the migration report (`lockin_lint.score.report.build_report`).

Both read the report document only, in the order a decision-maker reads: what to do first, the
per-target estimate, then the detail that backs it.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ..score.left_out import left_out_lines
from . import DEFAULT_HTML_FINDINGS

Table = list[list[str]]
HOURS_PER_DAY = 8.0


def days(low: float, high: float) -> str:
    """``12–40 d`` (or hours under a day), the way every range in the report is printed."""
    if high < HOURS_PER_DAY:
        return f"{low:.1f}–{high:.1f} h"
    return f"{low / HOURS_PER_DAY:,.0f}–{high / HOURS_PER_DAY:,.0f} d"


def _worst_target(per_target: dict[str, float]) -> str:
    return max(per_target, key=lambda t: (per_target[t], t)) if per_target else ""


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The executive summary as sentences: fix first, then libraries, then kernels, then the rest."""
    summary = report.get("summary") or {}
    if not summary:
        return []
    targets = list(report["targets"])
    fix = summary["fix"]
    saves = "; ".join(f"{t} {days(fix['per_target'][t]['saves']['low'], fix['per_target'][t]['saves']['high'])}"
                      for t in targets if fix["per_target"][t]["findings"])
    lines = [f"1. Run `lockin-lint check --fix`: it rewrites {fix['findings']} findings"
             + (f", saving {saves} of hand edits." if saves else ".")]
    for number, (key, what) in enumerate((("libraries", "Libraries to replace or swap"),
                                          ("kernels", "Kernels and device code to port")), start=2):
        step = summary[key]
        if not step["count"]:
            lines.append(f"{number}. {what}: none.")
            continue
        spans = "; ".join(f"{t} {days(step['effort'][t]['low'], step['effort'][t]['high'])}" for t in targets)
        lines.append(f"{number}. {what}: {step['count']} ({spans}), costliest first:")
        for item in step["top"]:
            worst = _worst_target(item["effort_high"])
            lines.append(f"   - {item['name']} ({item['path']}:{item['line']}; {item['findings']} findings"
                         + (f", {item['size_lines']} lines" if item["size_lines"] else "")
                         + f"): {worst} {days(item['effort_low'][worst], item['effort_high'][worst])}")
    rest = summary["rest"]
    spans = "; ".join(f"{t} {days(rest['effort'][t]['low'], rest['effort'][t]['high'])}" for t in targets)
    lines.append(f"4. Then API adaptations and edits: {rest['count']} ({spans}).")
    return lines


def _target_rows(report: dict[str, Any]) -> Table:
    rows = [["target", "score", "band", "effort (low–high)", "effort (h)", "ready/sites", "blockers", "native",
             "rename", "equivalent", "missing", "unknown"]]
    for target, data in report["targets"].items():
        s = data["statuses"]
        rows.append([target, f"{data['score']:.1f}", data.get("band", ""),
                     days(data.get("effort_low", data["effort_hours"]), data.get("effort_high", data["effort_hours"])),
                     f"{data['effort_hours']:.1f}", f"{data.get('ready', 0)}/{data.get('sites', 0)}",
                     str(data["blockers"]), *(str(s[k]) for k in ("native", "rename", "equivalent", "missing", "unknown"))])
    return rows


def _category_rows(report: dict[str, Any]) -> Table:
    categories = sorted({c for d in report["targets"].values() for c in d["effort_by_category"]})
    rows = [["category", *report["targets"]]]
    for category in categories:
        rows.append([category, *(f"{d['effort_by_category'].get(category, 0):.1f}" for d in report["targets"].values())])
    rows.append(["total (h)", *(f"{d['effort_hours']:.1f}" for d in report["targets"].values())])
    return rows


def _scope_rows(report: dict[str, Any]) -> Table:
    targets = list(report["targets"])
    rows = [["scope", "files", "findings", *targets]]
    for scope, data in (report.get("scopes") or {}).items():
        rows.append([scope, str(data["files"]), str(data["findings"]),
                     *(days(data["targets"][t]["effort_low"], data["targets"][t]["effort_high"]) for t in targets)])
    return rows


def _blocker_rows(report: dict[str, Any]) -> Table:
    rows = [["#", "unit", "location", "size", "worst target"]]
    for rank, b in enumerate(report["top_blockers"], start=1):
        high = b.get("effort_high", b["effort_hours"])
        worst = _worst_target(high)
        low = b.get("effort_low", b["effort_hours"])
        size = f"{b['size_lines']} lines" if b.get("size_lines") else f"{b.get('findings', 1)} findings"
        rows.append([str(rank), f"{b.get('kind', b['category'])} {b.get('name', b['symbol'])}",
                     f"{b['path']}:{b['line']}", size, f"{worst} {days(low[worst], high[worst])}"])
    return rows


def _directory_rows(report: dict[str, Any], limit: int = 10) -> Table:
    targets = list(report["targets"])
    rows = [["directory", "files", "findings", *(f"{t} score/h" for t in targets)]]
    for d in report["directories"][:limit]:
        rows.append([d["path"], str(d["files"]), str(d["findings"]),
                     *(f"{d['targets'][t]['score']:.1f}/{d['targets'][t]['effort_hours']:.1f}" for t in targets)])
    return rows


def _dependency_rows(report: dict[str, Any], limit: int = 25) -> Table:
    rows = [["dependency", "category", "uses", "files", "worst target", "rules"]]
    for d in report["dependencies"][:limit]:
        high = d.get("effort_high") or {}
        worst = _worst_target(high)
        cost = days(d["effort_low"][worst], high[worst]) if worst and high[worst] else "-"
        rows.append([d["name"], d["category"], str(d["count"]), str(len(d["files"])), f"{worst} {cost}".strip(),
                     d["rule_id"]])
    return rows


def _custom_code_rows(report: dict[str, Any]) -> Table:
    rows = [["location", "code", "ops", "calls", "calling files"]]
    for c in report["custom_code"]:
        rows.append([f"{c['path']}:{c['line']}", c["what"], ", ".join(c["ops"]), str(c["calls"]), str(len(c["callers"]))])
    return rows


def _operator_rows(report: dict[str, Any], limit: int = 40) -> Table:
    rows = [["operator API", "uses", "files", "missing on", "first use"]]
    for o in report.get("operators", [])[:limit]:
        rows.append([o["symbol"], str(o["uses"]), str(len(o["files"])), ", ".join(o["missing"]),
                     f"{o['path']}:{o['line']}"])
    return rows


SECTIONS: list[tuple[str, Callable[[dict[str, Any]], Table]]] = [
    ("Portability per target (product code)", _target_rows),
    ("Effort by scope", _scope_rows),
    ("Effort by category (hours, middle of the range)", _category_rows),
    ("Top blockers (units of work, costliest first)", _blocker_rows),
    ("Directories by effort", _directory_rows),
    ("Dependencies found (one row per library)", _dependency_rows),
    ("Custom CUDA code called from Python", _custom_code_rows),
    ("PyTorch operators a target does not implement", _operator_rows),
]


def _text_table(rows: Table) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _markdown_table(rows: Table) -> str:
    escape = lambda cell: cell.replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(escape(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _intro(report: dict[str, Any]) -> str:
    return (f"lockin-lint {report['version']}: {report['files_scanned']} files, {report['lines_scanned']} lines, "
            f"{len(report['findings'])} findings, {len(report['errors'])} errors"
            + (f", {len(report['partial_parses'])} partial parses" if report.get("partial_parses") else ""))


def _render(report: dict[str, Any], header: list[str], section: Callable[[str, Table], str],
            prose: Callable[[str, list[str]], str], footer: str) -> str:
    """The report's sections in order, each rendered by ``section``; empty tables are left out."""
    parts = [*header, _intro(report)]
    if steps := summary_lines(report):
        parts.append(prose("What to do first", steps))
    if left := left_out_lines(report):
        parts.append(prose("What a target's build leaves out", left))
    parts += [section(title, table) for title, rows in SECTIONS if len(table := rows(report)) > 1]
    if report.get("counting"):
        parts.append(prose("How the tables count", [report["counting"]]))
    if assumptions := report["model"].get("assumptions"):
        parts.append(prose("Assumptions", [f"- {a}" for a in assumptions]))
    parts.append("Scores: " + report["model"]["formula"] + footer)
    return "\n\n".join(parts) + "\n"


def render_report_text(report: dict[str, Any]) -> str:
    return _render(report, [], lambda title, table: f"{title}\n{_text_table(table)}",
                   lambda title, lines: "\n".join([title, *lines]), " (docs/scoring.md)")


def render_report_markdown(report: dict[str, Any]) -> str:
    return _render(report, ["# CUDA lock-in report"], lambda title, table: f"## {title}\n\n{_markdown_table(table)}",
                   lambda title, lines: "\n".join([f"## {title}", "", *lines]), ".")


def render_report_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"


def render_report_html(report: dict[str, Any], all_findings: bool = False) -> str:
    from .html_report import render_html  # only an HTML report needs it

    return render_html(report, findings_limit=None if all_findings else DEFAULT_HTML_FINDINGS)


#: ``lockin-lint report --format``: name -> renderer.
REPORT_FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": render_report_text,
    "markdown": render_report_markdown,
    "json": render_report_json,
    "html": render_report_html,
}
