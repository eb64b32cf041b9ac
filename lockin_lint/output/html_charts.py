"""The HTML report's inline SVG charts: scores per target and effort ranges by category.

Drawn as SVG in the page itself (no script, no network) so the report prints and mails as it shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model import CATEGORIES
from .html_assets import BAND_COLOURS, STATUS_COLOURS
from .html_cells import SCORE_BANDS, as_number, band_of, esc

#: One colour per known category (``model.CATEGORIES`` order); unknown categories take the extras.
CATEGORY_PALETTE: tuple[str, ...] = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
)
# Chart geometry, in SVG user units (the chart is drawn 1:1 at the page's 1200 px width).
CHART_WIDTH = 1200
LABEL_WIDTH = 90
BAR_AREA = 900
ROW_HEIGHT = 32
BAR_HEIGHT = 20
AXIS_HEIGHT = 24


def score_chart(targets: Mapping[str, Mapping[str, Any]]) -> str:
    """Horizontal bars 0–100, one per target, labelled with the score and the effort in days."""
    height = ROW_HEIGHT * len(targets) + AXIS_HEIGHT
    parts = [_axis(height - AXIS_HEIGHT)]
    for row, (name, data) in enumerate(targets.items()):
        score = as_number(data.get("score"))
        y = row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        width = BAR_AREA * max(0.0, min(score, 100.0)) / 100
        band = data.get("band") if data.get("band") in BAND_COLOURS else band_of(score)
        if "effort_low_days" in data:
            effort = f"{as_number(data.get('effort_low_days')):,.0f}–{as_number(data.get('effort_high_days')):,.0f} d"
        else:
            effort = f"{as_number(data.get('effort_days')):.1f} d"
        label = f"{score:.1f} ({band}) · {effort}"
        parts.append(
            f"<g class=\"score-row\" data-target=\"{esc(name)}\">"
            f"<text class=\"target\" x=\"{LABEL_WIDTH - 10}\" y=\"{y + BAR_HEIGHT - 5}\" "
            f"text-anchor=\"end\">{esc(name)}</text>"
            f"<rect class=\"track\" x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{BAR_AREA}\" height=\"{BAR_HEIGHT}\" "
            "rx=\"3\"/>"
            f"<rect class=\"bar\" x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{width:.1f}\" height=\"{BAR_HEIGHT}\" "
            f"rx=\"3\" fill=\"{BAND_COLOURS[str(band)]}\"><title>{esc(name)}: score {score:.1f}</title></rect>"
            f"<text class=\"score\" x=\"{LABEL_WIDTH + width + 8:.1f}\" y=\"{y + BAR_HEIGHT - 5}\">"
            f"{esc(label)}</text></g>"
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


def effort_chart(targets: Mapping[str, Mapping[str, Any]]) -> str:
    """One stacked bar per target, all on the scale of the costliest target, and a category legend."""
    categories = _categories(data.get("effort_by_category", {}) for data in targets.values())
    colours = {name: _category_colour(name, categories) for name in categories}
    totals = {name: sum(as_number(v) for v in data.get("effort_by_category", {}).values())
              for name, data in targets.items()}
    scale = BAR_AREA / max([*totals.values(), 1e-9])
    parts = []
    for row, (name, data) in enumerate(targets.items()):
        y = row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        parts.append(f"<g class=\"effort-row\" data-target=\"{esc(name)}\">"
                     f"<text class=\"target\" x=\"{LABEL_WIDTH - 10}\" y=\"{y + BAR_HEIGHT - 5}\" "
                     f"text-anchor=\"end\">{esc(name)}</text>")
        x = float(LABEL_WIDTH)
        spread = data.get("effort_by_category", {})
        for category in categories:
            hours = as_number(spread.get(category, 0))
            if hours <= 0:
                continue
            parts.append(f"<rect x=\"{x:.1f}\" y=\"{y}\" width=\"{hours * scale:.1f}\" height=\"{BAR_HEIGHT}\" "
                         f"fill=\"{colours[category]}\"><title>{esc(name)} · {esc(category)}: "
                         f"{hours:.1f} h</title></rect>")
            x += hours * scale
        parts.append(f"<text class=\"score\" x=\"{x + 8:.1f}\" y=\"{y + BAR_HEIGHT - 5}\">"
                     f"{totals[name]:.1f} h</text></g>")
    chart = _svg(ROW_HEIGHT * len(targets) + 4, "Estimated effort in hours per target, by category", parts)
    return chart + (legend_html(colours, "legend chart-legend") or "<p class=\"empty\">No effort estimated.</p>\n")


def legend_html(colours: Mapping[str, str], css: str = "legend") -> str:
    """A legend drawn as tiny SVG swatches: colours as attributes need no inline ``style``."""
    items = "".join(
        f"<span class=\"swatch\"><svg width=\"12\" height=\"12\" aria-hidden=\"true\">"
        f"<rect width=\"12\" height=\"12\" rx=\"2\" fill=\"{colour}\"/></svg>{esc(name)}</span>"
        for name, colour in colours.items()
    )
    return f"<div class=\"{css}\">{items}</div>\n" if items else ""


def band_legend(good_max_hours: float | None = None) -> str:
    limit = f" and ≤ {good_max_hours:g} h" if good_max_hours is not None else ""
    labels = {"good": f"≥ 80{limit}", "fair": "50 – 80", "poor": "< 50"}
    colours = {f"{band} ({labels[band]})": BAND_COLOURS[band] for _, band in SCORE_BANDS}
    return legend_html(colours, "legend chart-legend small")


def status_legend() -> str:
    return legend_html(STATUS_COLOURS)


def _svg(height: float, label: str, parts: Iterable[str]) -> str:
    return (f"<svg class=\"chart\" viewBox=\"0 0 {CHART_WIDTH} {height}\" width=\"{CHART_WIDTH}\" "
            f"height=\"{height}\" role=\"img\" aria-label=\"{esc(label)}\">" + "".join(parts) + "</svg>\n")


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

