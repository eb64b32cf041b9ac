"""What one unit of work (`units.Unit`) costs on one target, as a range of engineer-hours.

Only what is not ready on the target costs anything: a finding ``native`` there, handled by the
project's own dispatch code, or rewritten by ``check --fix`` is free (`hooks.is_ready`). The rest:

- a kernel: a fixed part and a part per line, by its definition's status (translated and reviewed
  when ``equivalent`` or ``rename``, rewritten when ``missing``/``unknown``); its intrinsics (each
  distinct one), PTX blocks and warp-size assumptions add lines to it, priced by their own status;
- a library: once per library (swapped for a counterpart, or replaced), and once per file using it;
- an API: written once when ``missing`` (looked into when ``unknown``, adapted when ``equivalent``),
  then one edit per call;
- an edit: minutes for a rename, a short edit otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from ..model import Finding
from .hooks import is_ready, readiness
from .ranges import ZERO, Range, sum_ranges
from .units import Unit

if TYPE_CHECKING:
    from .effort import EffortModel

#: How bad a status is for planning: what costs more ranks higher (``unknown`` is looked into first).
RANK = {"native": 0, "rename": 1, "equivalent": 2, "unknown": 3, "missing": 4}
REWRITE = frozenset({"missing", "unknown"})
#: Lines a kernel member adds to its kernel, per occurrence: (fixed, per line it spans). Other
#: members (intrinsics, device types, cooperative-groups and WMMA calls) add DISTINCT_MEMBER_LINES per
#: distinct symbol: they are already lines of the body, and mostly map one to one.
MEMBER_LINES: dict[str, tuple[int, int]] = {
    "LC7010": (3, 2),    # inline PTX: one line of PTX is a few of C++
    "LC7011": (10, 4),   # tensor-core / async-copy PTX: a tile loop to redesign on the target
    "LC7002": (20, 0),   # dynamic parallelism
    "LC7020": (3, 0), "LC7021": (3, 0),  # a 32-lane warp assumed: a wave-64 or vector-unit review
    "LC7030": (3, 0),    # cooperative groups
    "LC7003": (1, 0),    # launch bounds
}
DISTINCT_MEMBER_LINES = 1


def status_on(finding: Finding, target: str) -> str:
    """The status that costs work: ``native`` when the finding is ready on ``target`` anyway."""
    return "native" if is_ready(finding, target) else finding.targets[target].status


def statuses_on(findings: Iterable[Finding], target: str) -> dict[int, str]:
    """`status_on` of every finding, by ``id``: what a summary over many units asks once per finding and
    target, then reads per unit (`unit_statuses`) instead of asking again for each cost and test."""
    return {id(f): "native" if readiness(f, target) else f.targets[target].status for f in findings}


def unit_statuses(unit: Unit, table: Mapping[int, str]) -> list[str]:
    """Each of ``unit.findings``' `status_on`, in order, read from a `statuses_on` table."""
    return [table[id(f)] for f in unit.findings]


def worst(statuses: list[str]) -> str:
    return max(statuses, key=RANK.__getitem__, default="native")


def unit_cost(unit: Unit, target: str, model: EffortModel, statuses: Sequence[str] | None = None) -> Range:
    """What ``unit`` costs on ``target``; ``statuses`` are its findings' `status_on` (in order) when the
    caller has them already."""
    if unit.kind == "call":
        return ZERO  # a call into the project's own kernel: the kernel unit carries the work
    if statuses is None:
        statuses = [status_on(f, target) for f in unit.findings]
    if unit.kind in ("kernel", "device-code"):
        return _kernel(unit, target, model, statuses)
    if unit.kind == "library":
        return _library(unit, model, statuses)
    if unit.kind == "api":
        return _api(unit, model, statuses)
    return sum_ranges(_site(finding, status, model) for finding, status in zip(unit.findings, statuses))


def is_blocking(unit: Unit, target: str, statuses: Sequence[str] | None = None) -> bool:
    """A unit that must be re-implemented or looked into before the code runs on ``target``
    (``statuses`` as for `unit_cost`)."""
    if unit.kind in ("call", "edit"):
        return False
    if statuses is None:
        return any(status_on(f, target) in REWRITE for f in unit.findings)
    return any(s in REWRITE for s in statuses)


def _site(finding: Finding, status: str, model: EffortModel) -> Range:
    if status == "native":
        return ZERO
    kind = "rename" if status == "rename" else "edit"
    return model.cost(kind, status, finding.category)


def _kernel(unit: Unit, target: str, model: EffortModel, statuses: Sequence[str]) -> Range:
    total = ZERO
    translate_lines = rewrite_lines = 0.0
    if unit.anchor is not None:
        status = next((s for f, s in zip(unit.findings, statuses) if f is unit.anchor), None)
        if status is None:  # an anchor outside its unit's findings (`units.group_units` never makes one)
            status = status_on(unit.anchor, target)
        if status in REWRITE:
            total += model.cost("kernel-rewrite", status, "kernel")
            rewrite_lines += unit.body_lines
        elif status != "native":
            total += model.cost("kernel-translate", status, "kernel")
            translate_lines += unit.body_lines
    distinct: dict[tuple[str, str], list[str]] = {}
    for member, status in zip(unit.findings, statuses):
        if member is unit.anchor:
            continue
        if member.rule_id in MEMBER_LINES:
            fixed, per_line = MEMBER_LINES[member.rule_id]
            lines = fixed + per_line * (member.end_line - member.line + 1)
            if status in REWRITE:
                rewrite_lines += lines
            elif status != "native":
                translate_lines += lines
        else:
            distinct.setdefault((member.rule_id, member.symbol), []).append(status)
    for kept in distinct.values():
        status = worst(kept)
        if status in REWRITE:
            rewrite_lines += DISTINCT_MEMBER_LINES
        elif status != "native":
            translate_lines += DISTINCT_MEMBER_LINES
    total += model.cost("kernel-rewrite-line", "missing", "kernel").times(rewrite_lines)
    total += model.cost("kernel-translate-line", "equivalent", "kernel").times(translate_lines)
    return total


def _costliest(ranges: list[Range]) -> Range:
    """The dearest of several ways a unit could be priced; taking the maximum (not the worst status's
    price) keeps effort from falling when a finding is added, whatever the configured hours."""
    return max(ranges, key=lambda r: (r.high, r.low), default=ZERO)


def _library(unit: Unit, model: EffortModel, statuses: Sequence[str]) -> Range:
    """Renamed calls cost minutes each; anything worse costs the library once and each file once.

    A use with a ``portable`` suggestion (``flash_attn`` -> ``scaled_dot_product_attention``) has a known
    replacement, so it is priced as a swap even where the library itself is missing."""
    by_file: dict[str, set[str]] = {}
    total = ZERO
    for finding, status in zip(unit.findings, statuses):
        if status in REWRITE and finding.portable is not None:
            status = "equivalent"  # a known device-agnostic replacement: swapped, not rebuilt
        if status == "rename":
            total += model.cost("rename", status, unit.category)
        elif status != "native":
            by_file.setdefault(finding.path, set()).add(status)
    present = set().union(*by_file.values()) if by_file else set()
    total += _costliest([model.cost("library-replace" if s in REWRITE else "library-swap", s, unit.category)
                         for s in present])
    for kept in by_file.values():
        total += _costliest([model.cost("library-family-replace" if s in REWRITE else "library-family-swap", s,
                                        unit.category) for s in kept])
    return total


def _api(unit: Unit, model: EffortModel, statuses: Sequence[str]) -> Range:
    """Written once when it has no equivalent (looked into once when unknown, adapted once when it has
    an equivalent); every call is then an edit, and a rename minutes."""
    once = {"missing": "reimplement", "unknown": "investigate", "equivalent": "adapt"}
    first = _costliest([model.cost(once[s], s, unit.category) for s in set(statuses) if s in once])
    return sum_ranges([first, *(model.cost("rename" if status == "rename" else "edit", status, unit.category)
                                for status in statuses if status != "native")])
