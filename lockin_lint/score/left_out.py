"""What a project's build for a target leaves out, priced as if it were to be ported.

`project.build_dispatch` marks the findings in sources a project's ROCm build never compiles (vLLM's
Marlin, Machete, CUTLASS kernels) as handled for ROCm: they cost nothing in the ROCm estimate, since
the project reaches ROCm without them. They must not silently vanish, though: a decision-maker who
wants those features on ROCm too needs their size. This module gathers them per target and prices
them with the handled note taken away (their status still says what a port needs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..model import Finding
from .effort import HOURS_PER_DAY, EffortModel, summarize_target
from .hooks import left_out_of_build


def _unmarked(finding: Finding, target: str) -> Finding:
    return replace(finding, handled=tuple(mark for mark in finding.handled if mark[0] != target))


def _place(ref: str) -> tuple[str, int]:
    """``CMakeLists.txt:308`` sorts before ``CMakeLists.txt:1014``."""
    path, _, line = ref.rpartition(":")
    return path, int(line) if line.isdigit() else 0


def left_out(findings: list[Finding], targets: tuple[str, ...], model: EffortModel) -> dict[str, Any]:
    """Per target whose build leaves code out: findings, files, where the build says so, and the effort
    (low-high) of porting them; targets without any are absent."""
    rows: dict[str, Any] = {}
    for target in targets:
        found = [f for f in findings if left_out_of_build(f, target)]
        if not found:
            continue
        cost = summarize_target([_unmarked(f, target) for f in found], target, model).effort
        where = sorted({how[how.rfind("(") + 1:].rstrip(")") for f in found for t, how in f.handled
                        if t == target and "(" in how}, key=_place)
        rows[target] = {
            "findings": len(found), "files": len({f.path for f in found}), "where": where,
            "effort_low": cost.low, "effort_high": cost.high,
            "effort_low_days": round(cost.low / HOURS_PER_DAY, 1), "effort_high_days": round(cost.high / HOURS_PER_DAY, 1),
        }
    return rows


def _span(low: float, high: float) -> str:
    if high < HOURS_PER_DAY:
        return f"{low:.1f}–{high:.1f} h"
    return f"{low / HOURS_PER_DAY:,.0f}–{high / HOURS_PER_DAY:,.0f} d"


def left_out_lines(report: Mapping[str, Any]) -> list[str]:
    """The report's sentence per target whose build leaves code out (every format prints the same)."""
    lines = []
    for target, row in (report.get("left_out") or {}).items():
        where = ", ".join(row["where"][:3]) + (", ..." if len(row["where"]) > 3 else "")
        lines.append(f"CUDA-only features the {target} build leaves out ({where}): {row['findings']:,} findings in "
                     f"{row['files']:,} files, not counted in the {target} estimate; "
                     f"{_span(row['effort_low'], row['effort_high'])} if they were to be ported.")
    return lines
