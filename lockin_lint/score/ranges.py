"""Effort as a range (low–high hours), and the default costs of each kind of porting work.

A single number would claim a precision nobody has: the same 300-line kernel takes an expert two
days and a newcomer two weeks. Every cost in the model is therefore a pair, and the report shows
both ends; the public anchors behind the defaults are in `calibration.py` and docs/scoring.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping


@dataclass(frozen=True, slots=True)
class Range:
    """Engineer-hours, from an optimistic to a pessimistic estimate (``low <= high``)."""

    low: float = 0.0
    high: float = 0.0

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.high + other.high)

    def times(self, factor: float) -> Range:
        return Range(self.low * factor, self.high * factor)

    @property
    def mid(self) -> float:
        """The single figure older contracts expect (``effort_hours``): the middle of the range."""
        return (self.low + self.high) / 2

    def rounded(self) -> Range:
        return Range(round(self.low, 2), round(self.high, 2))

    def __bool__(self) -> bool:
        return self.high > 0


ZERO = Range()


def sum_ranges(ranges: Iterable[Range]) -> Range:
    """``sum(ranges, ZERO)``, float for float (the same additions in the same order), without building
    a `Range` per addition: a report adds up tens of thousands of them (the torch package's summary)."""
    low = high = 0.0
    for cost in ranges:
        low += cost.low
        high += cost.high
    return Range(low, high)

#: (low, high) engineer-hours of each kind of work, before status and category scaling.
#: Keys are also the names of the ``effort-ranges`` configuration table.
DEFAULT_COSTS: Mapping[str, tuple[float, float]] = {
    # one site, mechanical: a name a tool or a search-and-replace changes (1 to 5 minutes)
    "rename": (1 / 60, 5 / 60),
    # one site of a device string, an environment variable, an include, a build or requirement line
    "edit": (0.1, 0.5),
    # one call adapted by hand to an equivalent API
    "adapt": (0.5, 2.0),
    # one API with no equivalent, written again once (times the category factor)
    "reimplement": (4.0, 16.0),
    # one API nobody has looked at yet: finding out, and often a workaround (times the category factor)
    "investigate": (2.0, 8.0),
    # one kernel run through a translator (HIPIFY, SYCLomatic) and reviewed: a fixed part ...
    "kernel-translate": (0.5, 2.0),
    # ... and a part per line of its body and of the device code it carries
    "kernel-translate-line": (0.002, 0.01),
    # one kernel rewritten by hand in the target's kernel language: a fixed part (tests, tuning) ...
    "kernel-rewrite": (8.0, 24.0),
    # ... and a part per line (the low end is ``lines-per-hour``: 10 lines an hour)
    "kernel-rewrite-line": (0.1, 0.4),
    # one CUDA-only library replaced by another or by code of one's own, once per library ...
    "library-replace": (24.0, 120.0),
    # ... a library swapped for the target's counterpart (cuBLAS -> hipBLAS, oneMKL) ...
    "library-swap": (4.0, 24.0),
    # ... and per call-site family (a file using it), rewritten or adapted
    "library-family-replace": (4.0, 16.0),
    "library-family-swap": (0.5, 2.0),
}
