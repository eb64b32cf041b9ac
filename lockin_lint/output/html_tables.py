"""The HTML report's tables: targets, blockers, breakdowns, dependencies, findings, errors, model.

Each returns an HTML fragment built from the report document with the shared cells (`html_cells`),
so escaping and sorting behave the same in every table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import STATUSES
from .html_cells import (as_number, breakdown_td, code_td, count_text, esc, finding_cells, finding_status_td,
                         location_td, num_td, path_td, plain, score_td, sortable_table, status_td, td)

#: The size columns of the directory and file breakdowns (a file's ``files`` is always 1).
DIRECTORY_COUNTS: tuple[str, ...] = ("files", "lines", "findings")
FILE_COUNTS: tuple[str, ...] = ("lines", "findings")


#: Rows of the per-file table in the page (all files are in the JSON report).
FILE_ROWS = 200
#: Files listed per dependency before "and N more".
DEPENDENCY_FILES = 5


def days_text(low: Any, high: Any) -> str:
    return f"{as_number(low) / 8:,.0f}–{as_number(high) / 8:,.0f} d" if as_number(high) >= 8 else \
        f"{as_number(low):.1f}–{as_number(high):.1f} h"


def target_table(targets: Mapping[str, Mapping[str, Any]]) -> str:
    head = ["Target", "Score", "Band", "Effort (low–high)", "Effort (h)", "Ready / sites", "Blockers", *STATUSES]
    rows = []
    for name, data in targets.items():
        statuses = data.get("statuses", {})
        rows.append(
            td(name, cls="name")
            + score_td(data.get("score"))
            + td(data.get("band", ""))
            + td(days_text(data.get("effort_low", data.get("effort_hours")),
                           data.get("effort_high", data.get("effort_hours"))), cls="num",
                 sort=as_number(data.get("effort_high", data.get("effort_hours"))))
            + num_td(data.get("effort_hours"))
            + td(f"{count_text(data.get('ready'))} / {count_text(data.get('sites'))}", cls="num")
            + num_td(data.get("blockers"), digits=0)
            + "".join(num_td(statuses.get(status, 0), digits=0) for status in STATUSES)
        )
    return sortable_table(head, rows, "targets", numeric_from=1)


def blockers_table(blockers: Sequence[Mapping[str, Any]], targets: list[str]) -> str:
    """Units of work, costliest first: a kernel with its size, a library with its uses."""
    head = ["#", "Unit", "Location", "Size", *targets]
    rows = []
    for rank, item in enumerate(blockers, start=1):
        statuses, hours = item.get("statuses", {}), item.get("effort_hours", {})
        low, high = item.get("effort_low", hours), item.get("effort_high", hours)
        cells = "".join(status_td(statuses.get(t, "unknown"), note=days_text(low.get(t), high.get(t)))
                        for t in targets)
        size = (f"{count_text(item.get('size_lines'))} lines" if item.get("size_lines")
                else f"{count_text(item.get('findings', 1))} findings")
        unit = f"{item.get('kind', item.get('category', ''))}: {item.get('name', item.get('symbol', ''))}"
        rows.append(num_td(rank, digits=0) + code_td(unit) + location_td(item) + td(size, cls="num") + cells)
    return sortable_table(head, rows, "blockers") if rows else "<p class=\"empty\">No blockers.</p>\n"


def breakdown_table(entries: Sequence[Mapping[str, Any]], targets: list[str], first: str,
                     counts: Sequence[str]) -> str:
    """Directories or files: size, findings, and per target a score chip with the effort."""
    head = [first, *(key.capitalize() for key in counts), *targets]
    rows = [path_td(entry.get("path", ""))
            + "".join(num_td(entry.get(key), digits=0) for key in counts)
            + "".join(breakdown_td(entry.get("targets", {}).get(t, {})) for t in targets)
            for entry in entries]
    return sortable_table(head, rows, "breakdown", numeric_from=1) if rows else "<p class=\"empty\">No findings.</p>\n"


def files_details(files: Sequence[Mapping[str, Any]], targets: list[str]) -> str:
    if not files:
        return ""
    shown = f", the {FILE_ROWS} costliest shown" if len(files) > FILE_ROWS else ""
    return (f"<details><summary>Per file ({len(files)} files with findings{shown})</summary>\n"
            f"{breakdown_table(files[:FILE_ROWS], targets, 'File', FILE_COUNTS)}</details>\n")


def dependencies_table(dependencies: Sequence[Mapping[str, Any]], targets: list[str]) -> str:
    """One row per library, with its uses, its files (the first few) and its effort per target."""
    rows = []
    for dep in dependencies:
        files = list(dep.get("files", []))
        more = f"and {len(files) - DEPENDENCY_FILES} more" if len(files) > DEPENDENCY_FILES else ""
        low, high = dep.get("effort_low") or {}, dep.get("effort_high") or {}
        rows.append(code_td(dep.get("name")) + td(dep.get("category"), cls="category")
                    + num_td(dep.get("count"), digits=0) + num_td(len(files), digits=0)
                    + "".join(td(days_text(low.get(t), high.get(t)), cls="num", sort=as_number(high.get(t)))
                              for t in targets)
                    + path_td(*files[:DEPENDENCY_FILES], more=more) + td(dep.get("rule_id")))
    if not rows:
        return "<p class=\"empty\">No CUDA-only libraries or plugins found.</p>\n"
    return sortable_table(["Library / plugin", "Category", "Uses", "Files", *targets, "Where", "Rules"], rows,
                          "dependencies")


def custom_code_table(custom: Sequence[Mapping[str, Any]]) -> str:
    """The repository's own kernels that Python calls, with the ops and files that reach them."""
    rows = [
        path_td(f"{c.get('path')}:{c.get('line')}") + code_td(c.get("what")) + code_td(", ".join(c.get("ops", [])))
        + num_td(c.get("calls"), digits=0) + path_td(*c.get("callers", []))
        for c in custom
    ]
    if not rows:
        return "<p class=\"empty\">No Python call into this repository's own CUDA code was found.</p>\n"
    return sortable_table(["Location", "Code", "Ops", "Call sites", "Calling files"], rows, "custom")


def operators_table(operators: Sequence[Mapping[str, Any]], targets: list[str]) -> str:
    """The operator APIs the code uses that some target lacks, with the fallback each target offers."""
    rows = []
    for o in operators:
        missing = o.get("missing", {})
        cells = "".join(td("missing" + (f": {missing[t]}" if missing[t] else ""), "st-missing") if t in missing
                        else td("") for t in targets)
        rows.append(code_td(o.get("symbol")) + num_td(o.get("uses"), digits=0)
                    + path_td(*o.get("files", [])) + cells)
    if not rows:
        return "<p class=\"empty\">No operator that a target lacks was found.</p>\n"
    return sortable_table(["Operator API", "Uses", "Files", *targets], rows, "operators")


def findings_table(findings: Sequence[Mapping[str, Any]], targets: list[str], limit: int | None = None) -> str:
    """Every finding, or the first ``limit`` of them with a note saying where the rest are."""
    head = ["Location", "Rule", "Category", "Symbol", "Message", *targets]
    rows = []
    shown = findings if limit is None else findings[:limit]
    for finding in shown:
        per_target = finding.get("targets", {})
        cells = "".join(finding_status_td(per_target.get(t, {})) for t in targets)
        rows.append(finding_cells(finding) + cells)
    if not rows:
        return "<p class=\"empty\">No findings: nothing ties this code to CUDA.</p>\n"
    left = len(findings) - len(shown)
    note = (f" The first {len(shown)} of {len(findings)} are listed; all are in <code>--format json</code>, and "
            "<code>--all-findings</code> lists them here." if left else "")
    return (f"<p class=\"hint\">{len(findings)} findings. Click a column heading to sort; hover a status for "
            f"what to write instead.{note}</p>\n" + sortable_table(head, rows, "findings"))


def errors_table(errors: Sequence[Mapping[str, Any]], name: str = "errors") -> str:
    rows = [path_td(e.get("path", "")) + td(e.get("message"), cls="message") for e in errors]
    return sortable_table(["File", "Problem"], rows, name)


def model_section(model: Mapping[str, Any]) -> str:
    """The assumptions and constants behind every number above, so a reader can check or dispute them."""
    assumptions = model.get("assumptions") or []
    parts = ["<ul class=\"assumptions\">" + "".join(f"<li>{esc(a)}</li>" for a in assumptions) + "</ul>"
             ] if assumptions else []
    for key, value in model.items():
        if key == "assumptions":
            continue
        label = key.replace("_", " ").capitalize()
        if isinstance(value, Mapping):
            rows = "".join(f"<tr><td>{esc(k)}</td><td class=\"num\">{esc(plain(v))}</td></tr>"
                           for k, v in value.items())
            parts.append(f"<div class=\"model-table\"><h3>{esc(label)}</h3><table>{rows}</table></div>")
        else:
            parts.append(f"<p><b>{esc(label)}:</b> {esc(plain(value))}</p>")
    return f"<details open><summary>How scores and efforts are computed</summary>{''.join(parts)}</details>\n"

