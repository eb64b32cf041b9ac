"""The effort model's settings (`EffortModel`) and their defaults, apart from the model's arithmetic.

A configuration holds an `EffortModel` (``[tool.lockin-lint]``'s ``effort-*`` keys), so every run
builds one; importing the scoring code with it (`effort`, `costs`, `units`) took 6-7 ms of a one-file
run's start-up, which a run that replays its stored output (`cli_memo`) never scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .ranges import DEFAULT_COSTS, Range

#: Engineer-hours of one site of this status; the model's costs scale with the ratio of a configured
#: value to this default (``effort-hours = {missing = 16}`` doubles every re-implementation).
DEFAULT_STATUS_HOURS: Mapping[str, float] = {
    "native": 0.0, "rename": 0.25, "equivalent": 2.0, "missing": 8.0, "unknown": 4.0,
}
#: How much costlier a category's work is than a plain API call; configured values scale costs by
#: their ratio to these defaults.
DEFAULT_CATEGORY_FACTOR: Mapping[str, float] = {
    "device-api": 1.0, "device-string": 0.5, "distributed": 1.0, "library": 2.0,
    "plugin": 3.0, "build": 2.0, "kernel": 4.0, "env": 0.25, "operator": 2.0,
}
#: Lines of kernel code rewritten in an hour at the optimistic end (the pessimistic end is 4x slower):
#: configuring ``lines-per-hour`` sets the ``kernel-rewrite-line`` range to (1/lines, 4/lines) hours.
DEFAULT_LINES_PER_HOUR = 10.0
#: The most effort (the high end, hours) a target may need and still be called "good": 4 engineer-weeks.
DEFAULT_GOOD_MAX_HOURS = 160.0
#: Score bands: (floor, band). A target above ``good_max_hours`` is at best "fair".
SCORE_BANDS: tuple[tuple[float, str], ...] = ((80.0, "good"), (50.0, "fair"), (0.0, "poor"))


def _ratio(table: Mapping[str, float], default: Mapping[str, float], key: str) -> float:
    base = default.get(key, 0.0)
    return table.get(key, base) / base if base else 1.0


@dataclass(frozen=True)
class EffortModel:
    status_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STATUS_HOURS))
    category_factor: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CATEGORY_FACTOR))
    lines_per_hour: float = DEFAULT_LINES_PER_HOUR
    costs: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_COSTS))
    good_max_hours: float = DEFAULT_GOOD_MAX_HOURS
    #: `cost`'s answers (a report asks 60,000 times on vLLM, for a few dozen distinct triples).
    _costs: dict[tuple[str, str, str], Range] = field(default_factory=dict, init=False, repr=False, compare=False)

    def cost(self, kind: str, status: str, category: str) -> Range:
        """The range of one piece of work of ``kind``, scaled by the configured status and category."""
        known = self._costs.get((kind, status, category))
        if known is None:
            base = Range(*self.costs[kind])
            scale = _ratio(self.status_hours, DEFAULT_STATUS_HOURS, status) * _ratio(
                self.category_factor, DEFAULT_CATEGORY_FACTOR, category)
            known = self._costs[(kind, status, category)] = base.times(scale)
        return known

    def band(self, score: float, effort: Range) -> str:
        band = next((name for floor, name in SCORE_BANDS if score >= floor), SCORE_BANDS[-1][1])
        return "fair" if band == "good" and effort.high > self.good_max_hours else band

    def describe(self) -> dict[str, object]:
        return {
            "status_hours": dict(self.status_hours),
            "category_factor": dict(self.category_factor),
            "lines_per_hour": self.lines_per_hour,
            "costs": {k: list(v) for k, v in self.costs.items()},
            "good_max_hours": self.good_max_hours,
            "formula": "score = share of lock-in sites portable without thought on the target (native, handled, "
                       "or a mechanical rename); effort = sum over units of work (kernels by size, libraries per library "
                       "and file, APIs once, edits per site) of a low-high range; 'good' needs score >= 80 and "
                       f"effort at most {self.good_max_hours:g} h",
        }
