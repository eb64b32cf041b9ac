"""``lockin-lint report --format html``: one self-contained HTML page a team lead can open or mail.

The page is read offline, attached to tickets and opened from untrusted checkouts, so it carries its
own CSS, SVG and script and references nothing on the network. Every string in the report comes from
scanned code (paths, symbols, messages) and is escaped; a Content-Security-Policy that allows only
this module's own script and style, by hash, is the second line of defence if an escape is ever
missed.

The input is the report document of ``lockin-lint report --format json`` as a plain dict, so the page
can also be rebuilt later from a saved JSON file.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ..model import CATEGORIES, STATUSES
from .html_assets import BAND_COLOURS, CSS, SORT_SCRIPT, STATUS_COLOURS

Report = Mapping[str, Any]

#: (anchor, heading) of every section, in page order: the navigation bar and the headings share it.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("scores", "Score by target"),
    ("targets", "Targets"),
    ("effort", "Effort by category"),
    ("blockers", "Top blockers"),
    ("directories", "Directories"),
    ("dependencies", "Dependencies"),
    ("custom", "Custom CUDA code"),
    ("findings", "Findings"),
    ("errors", "Errors"),
    ("partial", "Partial parses"),
    ("model", "Scoring model"),
)

#: Lower bounds of the score bands; a score colours green, amber or red like a traffic light.
SCORE_BANDS: tuple[tuple[float, str], ...] = ((80.0, "good"), (50.0, "fair"), (0.0, "poor"))
#: One colour per known category (``model.CATEGORIES`` order); unknown categories take the extras.
CATEGORY_PALETTE: tuple[str, ...] = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
)

#: The size columns of the directory and file breakdowns (a file's ``files`` is always 1).
DIRECTORY_COUNTS: tuple[str, ...] = ("files", "lines", "findings")
FILE_COUNTS: tuple[str, ...] = ("lines", "findings")

# Score chart geometry, in SVG user units (the chart is drawn 1:1 at the page's 1200 px width).
CHART_WIDTH = 1200
LABEL_WIDTH = 90
BAR_AREA = 900
ROW_HEIGHT = 32
BAR_HEIGHT = 20
AXIS_HEIGHT = 24


def render_html(report: Report) -> str:
    """The whole page for one report document (the ``report --format json`` shape, keys all present)."""
    targets = report["targets"]
    names = list(targets)
    body = "".join((
        _header(report),
        _nav({anchor for anchor, key in (("errors", "errors"), ("partial", "partial_parses")) if report.get(key)}),
        _section("scores", _score_chart(targets) + _band_legend()),
        _section("targets", _target_table(targets)),
        _section("effort", _effort_chart(targets)),
        _section("blockers", _blockers_table(report["top_blockers"], names)),
        _section("directories", _breakdown_table(report["directories"], names, "Directory", DIRECTORY_COUNTS)
                 + _files_details(report["files"], names)),
        _section("dependencies", _dependencies_table(report["dependencies"])),
        _section("custom", _custom_code_table(report["custom_code"])),
        _section("findings", _status_legend() + _findings_table(report["findings"], names)),
        _section("errors", _errors_table(report["errors"])) if report["errors"] else "",
        _section("partial", _errors_table(report["partial_parses"], "partial")) if report.get("partial_parses") else "",
        _section("model", _model(report["model"])),
    ))
    return _document(f"lockin-lint report: {len(report['findings'])} findings", body)


# --- page frame ------------------------------------------------------------------------------------


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
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_esc(policy)}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
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
    cards = "".join(f"<div class=\"card\"><div class=\"value\">{_count(value)}</div>"
                    f"<div class=\"label\">{_esc(label)}</div></div>" for label, value in stats)
    return (
        "<header>\n<h1>CUDA lock-in migration report</h1>\n"
        f"<p class=\"meta\">lockin-lint {_esc(report['version'])} · {_count(report['files_scanned'])} files, "
        f"{_count(report['lines_scanned'])} lines scanned</p>\n"
        f"<div class=\"cards\">{cards}</div>\n</header>\n"
    )


#: Sections shown only when they have rows: files that could not be checked, or only in part.
_OPTIONAL = frozenset({"errors", "partial"})


def _nav(present: set[str]) -> str:
    """Links to every section; the optional ones (`_OPTIONAL`) only when they are ``present``."""
    links = "".join(f"<a href=\"#{anchor}\">{_esc(title)}</a>" for anchor, title in SECTIONS
                    if anchor not in _OPTIONAL or anchor in present)
    return f"<nav>{links}</nav>\n"


def _section(anchor: str, content: str) -> str:
    title = dict(SECTIONS)[anchor]
    return f"<section id=\"{anchor}\">\n<h2>{_esc(title)}</h2>\n{content}</section>\n"


# --- charts ----------------------------------------------------------------------------------------


def _score_chart(targets: Mapping[str, Mapping[str, Any]]) -> str:
    """Horizontal bars 0–100, one per target, labelled with the score and the effort in days."""
    height = ROW_HEIGHT * len(targets) + AXIS_HEIGHT
    parts = [_axis(height - AXIS_HEIGHT)]
    for row, (name, data) in enumerate(targets.items()):
        score = _number(data.get("score"))
        y = row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        width = BAR_AREA * max(0.0, min(score, 100.0)) / 100
        label = f"{score:.1f} · {_number(data.get('effort_days')):.1f} d"
        parts.append(
            f"<g class=\"score-row\" data-target=\"{_esc(name)}\">"
            f"<text class=\"target\" x=\"{LABEL_WIDTH - 10}\" y=\"{y + BAR_HEIGHT - 5}\" "
            f"text-anchor=\"end\">{_esc(name)}</text>"
            f"<rect class=\"track\" x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{BAR_AREA}\" height=\"{BAR_HEIGHT}\" "
            "rx=\"3\"/>"
            f"<rect class=\"bar\" x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{width:.1f}\" height=\"{BAR_HEIGHT}\" "
            f"rx=\"3\" fill=\"{BAND_COLOURS[_band(score)]}\"><title>{_esc(name)}: score {score:.1f}</title></rect>"
            f"<text class=\"score\" x=\"{LABEL_WIDTH + width + 8:.1f}\" y=\"{y + BAR_HEIGHT - 5}\">"
            f"{_esc(label)}</text></g>"
        )
    return _svg(height, "Portability score per target, 0 to 100", parts)


def _axis(bottom: float) -> str:
    """Grid lines every 25 points, so bars are comparable at a glance."""
    lines = []
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_WIDTH + BAR_AREA * tick / 100
        lines.append(f"<line class=\"grid\" x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{bottom}\"/>"
                     f"<text class=\"tick\" x=\"{x}\" y=\"{bottom + 16}\" text-anchor=\"middle\">{tick}</text>")
    return "".join(lines)


def _effort_chart(targets: Mapping[str, Mapping[str, Any]]) -> str:
    """One stacked bar per target, all on the scale of the costliest target, and a category legend."""
    categories = _categories(data.get("effort_by_category", {}) for data in targets.values())
    colours = {name: _category_colour(name, categories) for name in categories}
    totals = {name: sum(_number(v) for v in data.get("effort_by_category", {}).values())
              for name, data in targets.items()}
    scale = BAR_AREA / max([*totals.values(), 1e-9])
    parts = []
    for row, (name, data) in enumerate(targets.items()):
        y = row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        parts.append(f"<g class=\"effort-row\" data-target=\"{_esc(name)}\">"
                     f"<text class=\"target\" x=\"{LABEL_WIDTH - 10}\" y=\"{y + BAR_HEIGHT - 5}\" "
                     f"text-anchor=\"end\">{_esc(name)}</text>")
        x = float(LABEL_WIDTH)
        spread = data.get("effort_by_category", {})
        for category in categories:
            hours = _number(spread.get(category, 0))
            if hours <= 0:
                continue
            parts.append(f"<rect x=\"{x:.1f}\" y=\"{y}\" width=\"{hours * scale:.1f}\" height=\"{BAR_HEIGHT}\" "
                         f"fill=\"{colours[category]}\"><title>{_esc(name)} · {_esc(category)}: "
                         f"{hours:.1f} h</title></rect>")
            x += hours * scale
        parts.append(f"<text class=\"score\" x=\"{x + 8:.1f}\" y=\"{y + BAR_HEIGHT - 5}\">"
                     f"{totals[name]:.1f} h</text></g>")
    chart = _svg(ROW_HEIGHT * len(targets) + 4, "Estimated effort in hours per target, by category", parts)
    return chart + (_legend_html(colours, "legend chart-legend") or "<p class=\"empty\">No effort estimated.</p>\n")


def _legend_html(colours: Mapping[str, str], css: str = "legend") -> str:
    """A legend drawn as tiny SVG swatches: colours as attributes need no inline ``style``."""
    items = "".join(
        f"<span class=\"swatch\"><svg width=\"12\" height=\"12\" aria-hidden=\"true\">"
        f"<rect width=\"12\" height=\"12\" rx=\"2\" fill=\"{colour}\"/></svg>{_esc(name)}</span>"
        for name, colour in colours.items()
    )
    return f"<div class=\"{css}\">{items}</div>\n" if items else ""


def _band_legend() -> str:
    labels = {"good": "≥ 80", "fair": "50 – 80", "poor": "< 50"}
    colours = {f"{band} ({labels[band]})": BAND_COLOURS[band] for _, band in SCORE_BANDS}
    return _legend_html(colours, "legend chart-legend small")


def _status_legend() -> str:
    return _legend_html(STATUS_COLOURS)


def _svg(height: float, label: str, parts: Iterable[str]) -> str:
    return (f"<svg class=\"chart\" viewBox=\"0 0 {CHART_WIDTH} {height}\" width=\"{CHART_WIDTH}\" "
            f"height=\"{height}\" role=\"img\" aria-label=\"{_esc(label)}\">" + "".join(parts) + "</svg>\n")


def _category_colour(category: str, shown: Sequence[str]) -> str:
    """A known category keeps its colour in every report; others share the palette's spare colours."""
    if category in CATEGORIES:
        return CATEGORY_PALETTE[CATEGORIES.index(category)]
    spare = CATEGORY_PALETTE[len(CATEGORIES):] or CATEGORY_PALETTE
    extras = [c for c in shown if c not in CATEGORIES]
    return spare[extras.index(category) % len(spare)]


def _categories(spreads: Iterable[Mapping[str, Any]]) -> list[str]:
    """Known categories in their canonical order, then any others alphabetically."""
    seen = {name for spread in spreads for name in spread}
    return [c for c in CATEGORIES if c in seen] + sorted(seen - set(CATEGORIES))


# --- tables ----------------------------------------------------------------------------------------


def _target_table(targets: Mapping[str, Mapping[str, Any]]) -> str:
    head = ["Target", "Score", "Effort (h)", "Effort (days)", "Blockers", *STATUSES]
    rows = []
    for name, data in targets.items():
        statuses = data.get("statuses", {})
        rows.append(
            _td(name, cls="name")
            + _score_td(data.get("score"))
            + _num_td(data.get("effort_hours"))
            + _num_td(data.get("effort_days"))
            + _num_td(data.get("blockers"), digits=0)
            + "".join(_num_td(statuses.get(status, 0), digits=0) for status in STATUSES)
        )
    return _table(head, rows, "targets", numeric_from=1)


def _blockers_table(blockers: Sequence[Mapping[str, Any]], targets: list[str]) -> str:
    head = ["Location", "Rule", "Category", "Symbol", "Message", *targets]
    rows = []
    for item in blockers:
        statuses, hours = item.get("statuses", {}), item.get("effort_hours", {})
        cells = "".join(_status_td(statuses.get(t, "unknown"), note=f"{_number(hours.get(t)):.1f} h")
                        for t in targets)
        rows.append(_finding_cells(item) + cells)
    return _table(head, rows, "blockers") if rows else "<p class=\"empty\">No blockers.</p>\n"


def _breakdown_table(entries: Sequence[Mapping[str, Any]], targets: list[str], first: str,
                     counts: Sequence[str]) -> str:
    """Directories or files: size, findings, and per target a score chip with the effort."""
    head = [first, *(key.capitalize() for key in counts), *targets]
    rows = [_path_td(entry.get("path", ""))
            + "".join(_num_td(entry.get(key), digits=0) for key in counts)
            + "".join(_breakdown_td(entry.get("targets", {}).get(t, {})) for t in targets)
            for entry in entries]
    return _table(head, rows, "breakdown", numeric_from=1) if rows else "<p class=\"empty\">No findings.</p>\n"


def _files_details(files: Sequence[Mapping[str, Any]], targets: list[str]) -> str:
    if not files:
        return ""
    return (f"<details><summary>Per file ({len(files)} files with findings)</summary>\n"
            f"{_breakdown_table(files, targets, 'File', FILE_COUNTS)}</details>\n")


def _dependencies_table(dependencies: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        _code_td(dep.get("name")) + _td(dep.get("rule_id")) + _td(dep.get("category"), cls="category")
        + _num_td(dep.get("count"), digits=0) + _path_td(*dep.get("files", []))
        for dep in dependencies
    ]
    if not rows:
        return "<p class=\"empty\">No CUDA-only libraries or plugins found.</p>\n"
    return _table(["Library / plugin", "Rule", "Category", "Uses", "Files"], rows, "dependencies")


def _custom_code_table(custom: Sequence[Mapping[str, Any]]) -> str:
    """The repository's own kernels that Python calls, with the ops and files that reach them."""
    rows = [
        _path_td(f"{c.get('path')}:{c.get('line')}") + _code_td(c.get("what")) + _code_td(", ".join(c.get("ops", [])))
        + _num_td(c.get("calls"), digits=0) + _path_td(*c.get("callers", []))
        for c in custom
    ]
    if not rows:
        return "<p class=\"empty\">No Python call into this repository's own CUDA code was found.</p>\n"
    return _table(["Location", "Code", "Ops", "Call sites", "Calling files"], rows, "custom")


def _findings_table(findings: Sequence[Mapping[str, Any]], targets: list[str]) -> str:
    head = ["Location", "Rule", "Category", "Symbol", "Message", *targets]
    rows = []
    for finding in findings:
        per_target = finding.get("targets", {})
        cells = "".join(_finding_status_td(per_target.get(t, {})) for t in targets)
        rows.append(_finding_cells(finding) + cells)
    if not rows:
        return "<p class=\"empty\">No findings: nothing ties this code to CUDA.</p>\n"
    return (f"<p class=\"hint\">{len(rows)} findings. Click a column heading to sort; hover a status for "
            "what to write instead.</p>\n" + _table(head, rows, "findings"))


def _errors_table(errors: Sequence[Mapping[str, Any]], name: str = "errors") -> str:
    rows = [_path_td(e.get("path", "")) + _td(e.get("message"), cls="message") for e in errors]
    return _table(["File", "Problem"], rows, name)


def _model(model: Mapping[str, Any]) -> str:
    """The constants behind every number above, so a reader can check or dispute an estimate."""
    parts = []
    for key, value in model.items():
        label = key.replace("_", " ").capitalize()
        if isinstance(value, Mapping):
            rows = "".join(f"<tr><td>{_esc(k)}</td><td class=\"num\">{_esc(_plain(v))}</td></tr>"
                           for k, v in value.items())
            parts.append(f"<div class=\"model-table\"><h3>{_esc(label)}</h3><table>{rows}</table></div>")
        else:
            parts.append(f"<p><b>{_esc(label)}:</b> {_esc(_plain(value))}</p>")
    return f"<details open><summary>How scores and efforts are computed</summary>{''.join(parts)}</details>\n"


NUM_CLASS = ' class="num"'


def _table(head: Sequence[str], rows: Sequence[str], cls: str, numeric_from: int | None = None) -> str:
    """A sortable table; the script sorts on each cell's ``data-sort`` when present, else its text."""
    numeric = len(head) if numeric_from is None else numeric_from
    heads = "".join(f"<th scope=\"col\"{NUM_CLASS if i >= numeric else ''}>{_esc(h)}</th>"
                    for i, h in enumerate(head))
    body = "".join(f"<tr>{row}</tr>\n" for row in rows)
    return (f"<div class=\"scroll\"><table class=\"sortable {cls}\">\n<thead><tr>{heads}</tr></thead>\n"
            f"<tbody>\n{body}</tbody>\n</table></div>\n")


# --- cells -----------------------------------------------------------------------------------------


def _td(text: Any, cls: str | None = None, sort: Any = None, title: str | None = None) -> str:
    attrs = _attrs(cls=cls, sort=sort, title=title)
    return f"<td{attrs}>{_esc('' if text is None else text)}</td>"


def _attrs(cls: str | None = None, sort: Any = None, title: str | None = None) -> str:
    out = ""
    if cls:
        out += f" class=\"{_esc(cls)}\""
    if sort is not None:
        out += f" data-sort=\"{_esc(sort)}\""
    if title:
        out += f" title=\"{_esc(title)}\""
    return out


def _num_td(value: Any, digits: int = 1) -> str:
    number = _number(value)
    return f"<td class=\"num\" data-sort=\"{number}\">{number:.{digits}f}</td>"


def _score_td(value: Any) -> str:
    score = _number(value)
    return (f"<td class=\"num\" data-sort=\"{score}\"><span class=\"chip {_band(score)}\">{score:.1f}</span>"
            "</td>")


def _breakdown_td(data: Mapping[str, Any]) -> str:
    score, hours, blockers = _number(data.get("score")), _number(data.get("effort_hours")), data.get("blockers", 0)
    title = f"score {score:.1f}, effort {hours:.1f} h, {_count(blockers)} blocker(s)"
    return (f"<td class=\"num\" data-sort=\"{score}\" title=\"{_esc(title)}\">"
            f"<span class=\"chip {_band(score)}\">{score:.1f}</span> <span class=\"sub\">{hours:.1f} h</span></td>")


def _status_td(status: Any, note: str | None = None, title: str | None = None) -> str:
    """A cell coloured by status; it sorts from most to least portable, not alphabetically."""
    name = str(status)
    rank = STATUSES.index(name) if name in STATUSES else len(STATUSES)
    css = f"status st-{name}" if name in STATUSES else "status st-unknown"
    extra = f"<span class=\"sub\">{_esc(note)}</span>" if note else ""
    return f"<td{_attrs(cls=css, sort=rank, title=title)}>{_esc(name)}{extra}</td>"


def _finding_status_td(info: Mapping[str, Any]) -> str:
    status = info.get("status", "unknown")
    replacement = info.get("replacement")
    title = f"{status} → {replacement}" if replacement else str(status)
    return _status_td(status, title=title)


def _finding_cells(item: Mapping[str, Any]) -> str:
    """Location, rule, category, symbol and message: the columns findings and blockers share."""
    return (_location_td(item) + _td(item.get("rule_id")) + _td(item.get("category"), cls="category")
            + _code_td(item.get("symbol")) + _message_td(item))


def _message_td(item: Mapping[str, Any]) -> str:
    """The message, and the device-agnostic rewrite when there is one: the fix that serves every target."""
    portable = item.get("portable") or {}
    rewrite = portable.get("replacement") if isinstance(portable, Mapping) else None
    since = f" (torch ≥ {portable['min_torch']})" if rewrite and portable.get("min_torch") else ""
    extra = f"<span class=\"sub\">portable: <code>{_esc(rewrite)}</code>{_esc(since)}</span>" if rewrite else ""
    return f"<td class=\"message\">{_esc(item.get('message', ''))}{extra}</td>"


_QUALIFIER = re.compile(r"(\.|::)")


def _code_td(text: Any) -> str:
    """A symbol, allowed to wrap before each ``.`` and ``::`` so qualified names break between parts."""
    breakable = _QUALIFIER.sub(r"<wbr>\1", _esc(text or ""))
    return f"<td class=\"code\">{breakable}</td>"


def _path_td(*paths: Any) -> str:
    return f"<td class=\"path\">{', '.join(_breakable_path(p) for p in paths)}</td>"


def _breakable_path(path: Any) -> str:
    """Escaped, with a line-break opportunity after each ``/`` so long paths wrap between names.

    Escaping first is safe: entities contain no ``/``, so the inserted tags cannot split one.
    """
    return _esc(path).replace("/", "/<wbr>")


def _location_td(item: Mapping[str, Any]) -> str:
    """``path:line`` linking to ``path#Lline`` next to the report; sorts by path, then line number."""
    path, line = str(item.get("path", "")), int(_number(item.get("line")))
    column = item.get("column")
    shown = f"{path}:{line}" + (f":{column}" if column else "")
    return (f"<td class=\"path\" data-sort=\"{_esc(path)}:{line:09d}\">"
            f"<a href=\"{_esc(_relative_href(path, line))}\">{_breakable_path(shown)}</a></td>")


def _relative_href(path: str, line: int) -> str:
    """A link that can only ever be relative: scanned paths must not become ``javascript:`` or ``//host``.

    Percent-encoding ``:`` stops a scheme; backslashes (which browsers read as slashes) become ``/``
    first, so a leading ``//`` or ``\\\\`` (a network-path reference) is caught and gets a ``.`` in front.
    """
    encoded = quote(path.replace("\\", "/"), safe="/")
    if encoded.startswith("//"):
        encoded = "." + encoded
    return f"{encoded}#L{line}"


# --- values ----------------------------------------------------------------------------------------


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Any) -> float:
    """A number from the document; anything else (None, text, NaN from a hand-edited file) counts as 0.

    Bar widths and sort keys are computed from these, so a bad value must not break the page.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _count(value: Any) -> str:
    return f"{int(_number(value)):,}"


def _plain(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _band(score: float) -> str:
    for floor, band in SCORE_BANDS:
        if score >= floor:
            return band
    return SCORE_BANDS[-1][1]
