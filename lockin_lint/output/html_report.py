"""``lockin-lint report --format html``: one self-contained HTML page a team lead can open or mail.

The page is read offline, attached to tickets and opened from untrusted checkouts, so it carries its
own CSS, SVG and script and references nothing on the network. Every string in the report comes from
scanned code (paths, symbols, messages) and is escaped (`html_cells`); a Content-Security-Policy that
allows only this module's own script and style, by hash, is the second line of defence if an escape
is ever missed.

It opens with what a decision-maker needs (what to do first, the estimate per target) and keeps the
detail below; on a large repository only the first findings are listed, so the page stays small
(the JSON report has them all).

The input is the report document of ``lockin-lint report --format json`` as a plain dict, so the page
can also be rebuilt later from a saved JSON file.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..score.left_out import left_out_lines
from .html_assets import CSS, SORT_SCRIPT
from .html_cells import count_text, esc, sortable_table, td
from .html_charts import band_legend, effort_chart, score_chart, status_legend
from .html_tables import (DIRECTORY_COUNTS, blockers_table, breakdown_table, custom_code_table, days_text,
                          dependencies_table, errors_table, files_details, findings_table, model_section,
                          operators_table, target_table)

Report = Mapping[str, Any]

#: (anchor, heading) of every section, in page order: the navigation bar and the headings share it.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "What to do first"),
    ("scores", "Score by target"),
    ("targets", "Targets"),
    ("scopes", "Product, tests and vendored code"),
    ("effort", "Effort by category"),
    ("blockers", "Top blockers"),
    ("directories", "Directories"),
    ("dependencies", "Dependencies"),
    ("custom", "Custom CUDA code"),
    ("operators", "Operators"),
    ("findings", "Findings"),
    ("errors", "Errors"),
    ("partial", "Partial parses"),
    ("model", "Scoring model"),
)


def render_html(report: Report, findings_limit: int | None = None) -> str:
    """The whole page for one report document; ``findings_limit`` caps the findings listed (None: all)."""
    targets = report["targets"]
    names = list(targets)
    good_max = (report.get("model") or {}).get("good_max_hours")
    body = "".join((
        _header(report),
        _nav({anchor for anchor, key in (("errors", "errors"), ("partial", "partial_parses")) if report.get(key)}),
        _section("summary", _summary(report.get("summary") or {}, names)),
        _section("scores", score_chart(targets) + band_legend(good_max)),
        _section("targets", _headline_note(report) + target_table(targets)),
        _section("scopes", _scopes_table(report.get("scopes") or {}, names)),
        _section("effort", effort_chart(targets)),
        _section("blockers", blockers_table(report["top_blockers"], names)),
        _section("directories", _counting(report) + breakdown_table(report["directories"], names, "Directory",
                                                                    DIRECTORY_COUNTS)
                 + files_details(report["files"], names)),
        _section("dependencies", dependencies_table(report["dependencies"], names)),
        _section("custom", custom_code_table(report["custom_code"])),
        _section("operators", operators_table(report.get("operators", []), names)),
        _section("findings", status_legend() + findings_table(report["findings"], names, findings_limit)),
        _section("errors", errors_table(report["errors"])) if report["errors"] else "",
        _section("partial", errors_table(report["partial_parses"], "partial")) if report.get("partial_parses") else "",
        _section("model", model_section(report["model"])),
    ))
    return _document(f"lockin-lint report: {len(report['findings'])} findings", body)


def _document(title: str, body: str) -> str:
    """Wrap the body; the CSP pins the inline style and script by hash and forbids every fetch."""
    policy = (
        "default-src 'none'; "
        f"style-src '{_sha256(CSS)}'; "
        f"script-src '{_sha256(SORT_SCRIPT)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{esc(policy)}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}</main>\n<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _header(report: Report) -> str:
    stats = (
        ("Files scanned", report["files_scanned"]),
        ("Lines scanned", report["lines_scanned"]),
        ("Findings", len(report["findings"])),
        ("Targets", len(report["targets"])),
        ("Errors", len(report["errors"])),
        ("Partial parses", len(report.get("partial_parses", ()))),
    )
    cards = "".join(f"<div class=\"card\"><div class=\"value\">{count_text(value)}</div>"
                    f"<div class=\"label\">{esc(label)}</div></div>" for label, value in stats)
    return (
        "<header>\n<h1>CUDA lock-in migration report</h1>\n"
        f"<p class=\"meta\">lockin-lint {esc(report['version'])} · {count_text(report['files_scanned'])} files, "
        f"{count_text(report['lines_scanned'])} lines scanned</p>\n"
        f"<div class=\"cards\">{cards}</div>\n</header>\n"
    )


#: Sections shown only when they have rows: files that could not be checked, or only in part.
_OPTIONAL = frozenset({"errors", "partial"})


def _nav(present: set[str]) -> str:
    """Links to every section; the optional ones (`_OPTIONAL`) only when they are ``present``."""
    links = "".join(f"<a href=\"#{anchor}\">{esc(title)}</a>" for anchor, title in SECTIONS
                    if anchor not in _OPTIONAL or anchor in present)
    return f"<nav>{links}</nav>\n"


def _section(anchor: str, content: str) -> str:
    title = dict(SECTIONS)[anchor]
    return f"<section id=\"{anchor}\">\n<h2>{esc(title)}</h2>\n{content}</section>\n"


def _spans(effort: Mapping[str, Mapping[str, Any]], targets: Sequence[str]) -> str:
    return "; ".join(f"{t} {days_text(effort.get(t, {}).get('low'), effort.get(t, {}).get('high'))}"
                     for t in targets)


def _summary(summary: Mapping[str, Any], targets: Sequence[str]) -> str:
    """The executive summary: ``--fix`` first, then libraries, then kernels, each ranked by effort."""
    if not summary:
        return "<p class=\"empty\">No summary in this report (made by an older lockin-lint).</p>\n"
    fix = summary["fix"]
    saves = {t: fix["per_target"][t]["saves"] for t in targets if fix["per_target"][t]["findings"]}
    steps = [f"<li><b>Run <code>lockin-lint check --fix</code></b>: it rewrites {count_text(fix['findings'])} "
             f"findings" + (f", saving {esc(_spans(saves, list(saves)))} of hand edits." if saves else ".") + "</li>"]
    for key, what in (("libraries", "Libraries to replace or swap"), ("kernels", "Kernels and device code to port")):
        step = summary[key]
        if not step["count"]:
            steps.append(f"<li>{esc(what)}: none.</li>")
            continue
        items = "".join(
            f"<li><code>{esc(item['name'])}</code> <span class=\"sub\">{esc(item['path'])}:{item['line']} · "
            f"{count_text(item['findings'])} findings"
            + (f" · {count_text(item['size_lines'])} lines" if item.get("size_lines") else "") + " · "
            + esc(_spans({t: {"low": item["effort_low"][t], "high": item["effort_high"][t]} for t in targets},
                         targets)) + "</span></li>"
            for item in step["top"])
        steps.append(f"<li><b>{esc(what)}: {count_text(step['count'])}</b> ({esc(_spans(step['effort'], targets))}), "
                     f"costliest first:<ol>{items}</ol></li>")
    rest = summary["rest"]
    steps.append(f"<li>Then API adaptations and edits: {count_text(rest['count'])} "
                 f"({esc(_spans(rest['effort'], targets))}).</li>")
    return f"<ol class=\"steps\">{''.join(steps)}</ol>\n"


def _headline_note(report: Report) -> str:
    scope = report.get("headline_scope")
    left = "".join(f"<p class=\"hint\">{esc(line)}</p>\n" for line in left_out_lines(report))
    return (f"<p class=\"hint\">Estimates for {esc(scope)} code; tests and vendored code are counted apart below. "
            "Effort is a range from an optimistic to a pessimistic estimate.</p>\n" if scope else "") + left


def _counting(report: Report) -> str:
    return f"<p class=\"hint\">{esc(report['counting'])}</p>\n" if report.get("counting") else ""


def _scopes_table(scopes: Mapping[str, Mapping[str, Any]], targets: Sequence[str]) -> str:
    rows = [td(name, cls="name") + td(count_text(data.get("files")), cls="num")
            + td(count_text(data.get("findings")), cls="num")
            + "".join(td(days_text(data["targets"][t]["effort_low"], data["targets"][t]["effort_high"]), cls="num")
                      for t in targets)
            for name, data in scopes.items()]
    if not rows:
        return "<p class=\"empty\">This report does not tell scopes apart (made by an older lockin-lint).</p>\n"
    return sortable_table(["Scope", "Files", "Findings", *targets], rows, "scopes", numeric_from=1)
