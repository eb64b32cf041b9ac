"""Text and Markdown renderings of the migration report (`lockin_lint.report.build_report`)."""

from __future__ import annotations

import json
from typing import Any, Callable

Table = list[list[str]]


def _fmt_hours(hours: float) -> str:
    return f"{hours:.1f} h ({hours / 8:.1f} d)"


def _target_rows(report: dict[str, Any]) -> Table:
    rows = [["target", "score", "effort", "blockers", "native", "rename", "equivalent", "missing", "unknown"]]
    for target, data in report["targets"].items():
        s = data["statuses"]
        rows.append([target, f"{data['score']:.1f}", _fmt_hours(data["effort_hours"]), str(data["blockers"]),
                     *(str(s[k]) for k in ("native", "rename", "equivalent", "missing", "unknown"))])
    return rows


def _category_rows(report: dict[str, Any]) -> Table:
    categories = sorted({c for d in report["targets"].values() for c in d["effort_by_category"]})
    rows = [["category", *report["targets"]]]
    for category in categories:
        rows.append([category, *(f"{d['effort_by_category'].get(category, 0):.1f}" for d in report["targets"].values())])
    rows.append(["total (h)", *(f"{d['effort_hours']:.1f}" for d in report["targets"].values())])
    return rows


def _blocker_rows(report: dict[str, Any]) -> Table:
    rows = [["location", "rule", "symbol", "worst target (h)"]]
    for b in report["top_blockers"]:
        worst = max(b["effort_hours"], key=lambda t: b["effort_hours"][t])
        rows.append([f"{b['path']}:{b['line']}", b["rule_id"], b["symbol"], f"{worst} ({b['effort_hours'][worst]:.1f})"])
    return rows


def _directory_rows(report: dict[str, Any], limit: int = 10) -> Table:
    targets = list(report["targets"])
    rows = [["directory", "files", "findings", *(f"{t} score/h" for t in targets)]]
    for d in report["directories"][:limit]:
        rows.append([d["path"], str(d["files"]), str(d["findings"]),
                     *(f"{d['targets'][t]['score']:.1f}/{d['targets'][t]['effort_hours']:.1f}" for t in targets)])
    return rows


def _dependency_rows(report: dict[str, Any]) -> Table:
    rows = [["dependency", "rule", "category", "uses", "files"]]
    for d in report["dependencies"]:
        rows.append([d["name"], d["rule_id"], d["category"], str(d["count"]), str(len(d["files"]))])
    return rows


def _custom_code_rows(report: dict[str, Any]) -> Table:
    rows = [["location", "code", "ops", "calls", "calling files"]]
    for c in report["custom_code"]:
        rows.append([f"{c['path']}:{c['line']}", c["what"], ", ".join(c["ops"]), str(c["calls"]), str(len(c["callers"]))])
    return rows


SECTIONS: list[tuple[str, Callable[[dict[str, Any]], Table]]] = [
    ("Portability per target", _target_rows),
    ("Effort by category (hours)", _category_rows),
    ("Top blockers", _blocker_rows),
    ("Directories by effort", _directory_rows),
    ("Dependencies found", _dependency_rows),
    ("Custom CUDA code called from Python", _custom_code_rows),
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


def _render(report: dict[str, Any], header: list[str], section: Callable[[str, Table], str], footer: str) -> str:
    """The report's sections in order, each rendered by ``section``; empty tables are left out."""
    parts = [*header, _intro(report)]
    parts += [section(title, table) for title, rows in SECTIONS if len(table := rows(report)) > 1]
    parts.append("Scores: " + report["model"]["formula"] + footer)
    return "\n\n".join(parts) + "\n"


def render_report_text(report: dict[str, Any]) -> str:
    return _render(report, [], lambda title, table: f"{title}\n{_text_table(table)}", " (docs/scoring.md)")


def render_report_markdown(report: dict[str, Any]) -> str:
    return _render(report, ["# CUDA lock-in report"], lambda title, table: f"## {title}\n\n{_markdown_table(table)}",
                   ".")


def render_report_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"
