"""Table cells and values of the HTML report: every string from scanned code is escaped here.

The page is opened from untrusted checkouts, so escaping, link building and number parsing live in
one module that the tables and charts share; a hand-edited report with a bad value still renders.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ..model import STATUSES

#: Lower bounds of the score bands; a score colours green, amber or red like a traffic light.
SCORE_BANDS: tuple[tuple[float, str], ...] = ((80.0, "good"), (50.0, "fair"), (0.0, "poor"))
NUM_CLASS = ' class="num"'
_QUALIFIER = re.compile(r"(\.|::)")


def td(text: Any, cls: str | None = None, sort: Any = None, title: str | None = None) -> str:
    extra = attrs(cls=cls, sort=sort, title=title)
    return f"<td{extra}>{esc('' if text is None else text)}</td>"


def attrs(cls: str | None = None, sort: Any = None, title: str | None = None) -> str:
    out = ""
    if cls:
        out += f" class=\"{esc(cls)}\""
    if sort is not None:
        out += f" data-sort=\"{esc(sort)}\""
    if title:
        out += f" title=\"{esc(title)}\""
    return out


def num_td(value: Any, digits: int = 1) -> str:
    number = as_number(value)
    return f"<td class=\"num\" data-sort=\"{number}\">{number:.{digits}f}</td>"


def score_td(value: Any) -> str:
    score = as_number(value)
    return (f"<td class=\"num\" data-sort=\"{score}\"><span class=\"chip {band_of(score)}\">{score:.1f}</span>"
            "</td>")


def breakdown_td(data: Mapping[str, Any]) -> str:
    score, hours, blockers = as_number(data.get("score")), as_number(data.get("effort_hours")), data.get("blockers", 0)
    title = f"score {score:.1f}, effort {hours:.1f} h, {count_text(blockers)} blocker(s)"
    return (f"<td class=\"num\" data-sort=\"{score}\" title=\"{esc(title)}\">"
            f"<span class=\"chip {band_of(score)}\">{score:.1f}</span> <span class=\"sub\">{hours:.1f} h</span></td>")


def status_td(status: Any, note: str | None = None, title: str | None = None) -> str:
    """A cell coloured by status; it sorts from most to least portable, not alphabetically."""
    name = str(status)
    rank = STATUSES.index(name) if name in STATUSES else len(STATUSES)
    css = f"status st-{name}" if name in STATUSES else "status st-unknown"
    extra = f"<span class=\"sub\">{esc(note)}</span>" if note else ""
    return f"<td{attrs(cls=css, sort=rank, title=title)}>{esc(name)}{extra}</td>"


def finding_status_td(info: Mapping[str, Any]) -> str:
    status = info.get("status", "unknown")
    replacement = info.get("replacement")
    title = f"{status} → {replacement}" if replacement else str(status)
    return status_td(status, title=title)


def finding_cells(item: Mapping[str, Any]) -> str:
    """Location, rule, category, symbol and message: the columns findings and blockers share."""
    return (location_td(item) + td(item.get("rule_id")) + td(item.get("category"), cls="category")
            + code_td(item.get("symbol")) + message_td(item))


def message_td(item: Mapping[str, Any]) -> str:
    """The message, and the device-agnostic rewrite when there is one: the fix that serves every target."""
    portable = item.get("portable") or {}
    rewrite = portable.get("replacement") if isinstance(portable, Mapping) else None
    since = f" (torch ≥ {portable['min_torch']})" if rewrite and portable.get("min_torch") else ""
    extra = f"<span class=\"sub\">portable: <code>{esc(rewrite)}</code>{esc(since)}</span>" if rewrite else ""
    return f"<td class=\"message\">{esc(item.get('message', ''))}{extra}</td>"


def code_td(text: Any) -> str:
    """A symbol, allowed to wrap before each ``.`` and ``::`` so qualified names break between parts."""
    breakable = _QUALIFIER.sub(r"<wbr>\1", esc(text or ""))
    return f"<td class=\"code\">{breakable}</td>"


def path_td(*paths: Any, more: str = "") -> str:
    """Paths, each breakable; ``more`` (escaped) follows them, e.g. "and 52 more"."""
    tail = f" {esc(more)}" if more else ""
    return f"<td class=\"path\">{', '.join(breakable_path(p) for p in paths)}{tail}</td>"


def breakable_path(path: Any) -> str:
    """Escaped, with a line-break opportunity after each ``/`` so long paths wrap between names.

    Escaping first is safe: entities contain no ``/``, so the inserted tags cannot split one.
    """
    return esc(path).replace("/", "/<wbr>")


def location_td(item: Mapping[str, Any]) -> str:
    """``path:line`` linking to ``path#Lline`` next to the report; sorts by path, then line number."""
    path, line = str(item.get("path", "")), int(as_number(item.get("line")))
    column = item.get("column")
    shown = f"{path}:{line}" + (f":{column}" if column else "")
    return (f"<td class=\"path\" data-sort=\"{esc(path)}:{line:09d}\">"
            f"<a href=\"{esc(relative_href(path, line))}\">{breakable_path(shown)}</a></td>")


def relative_href(path: str, line: int) -> str:
    """A link that can only ever be relative: scanned paths must not become ``javascript:`` or ``//host``.

    Percent-encoding ``:`` stops a scheme; backslashes (which browsers read as slashes) become ``/``
    first, so a leading ``//`` or ``\\\\`` (a network-path reference) is caught and gets a ``.`` in front.
    """
    encoded = quote(path.replace("\\", "/"), safe="/")
    if encoded.startswith("//"):
        encoded = "." + encoded
    return f"{encoded}#L{line}"


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def as_number(value: Any) -> float:
    """A number from the document; anything else (None, text, NaN from a hand-edited file) counts as 0.

    Bar widths and sort keys are computed from these, so a bad value must not break the page.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def count_text(value: Any) -> str:
    return f"{int(as_number(value)):,}"


def plain(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def band_of(score: float) -> str:
    for floor, band in SCORE_BANDS:
        if score >= floor:
            return band
    return SCORE_BANDS[-1][1]


def sortable_table(head: Sequence[str], rows: Sequence[str], cls: str, numeric_from: int | None = None) -> str:
    """A sortable table; the script sorts on each cell's ``data-sort`` when present, else its text."""
    numeric = len(head) if numeric_from is None else numeric_from
    heads = "".join(f"<th scope=\"col\"{NUM_CLASS if i >= numeric else ''}>{esc(h)}</th>"
                    for i, h in enumerate(head))
    body = "".join(f"<tr>{row}</tr>\n" for row in rows)
    return (f"<div class=\"scroll\"><table class=\"sortable {cls}\">\n<thead><tr>{heads}</tr></thead>\n"
            f"<tbody>\n{body}</tbody>\n</table></div>\n")

