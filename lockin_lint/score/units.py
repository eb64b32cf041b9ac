"""Findings grouped into units of porting work, the way a team would plan the port.

A finding is a place; a unit is a piece of work. One custom kernel is one unit whatever the number
of intrinsics, PTX blocks and warp-size literals inside it (they make the kernel bigger, not more
numerous); one library is one unit with a family of call sites per file, whatever the number of
symbols it exports; an API with no equivalent is written once however often it is called; device
strings, environment variables, includes and build lines are edits, one per site. The grouping does
not depend on the target: the target only decides what each unit costs (`costs.py`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from ..model import Finding

#: Rules whose finding is a kernel definition with its body as its span (C/C++/CUDA), or a Python
#: kernel (numba, CuPy raw kernels, Triton).
DEFINITION_RULES = frozenset({"LC7000", "LL700", "LL701", "LL702"})
#: Findings that are one edit wherever they are: kernel launches, CUDA and PyTorch-CUDA headers.
EDIT_RULES = frozenset({"LC7001", "LC6000", "LC5000"})
EDIT_CATEGORIES = frozenset({"device-string", "env", "build"})
LIBRARY_CATEGORIES = frozenset({"library", "plugin"})
#: How big a kernel counts when its span says nothing (a decorator line, a one-line string).
DEFAULT_KERNEL_LINES = 40

#: Library of a C/C++ rule by the prefix of its id (the generated packs number libraries by
#: hundreds, rules/README.md); the longest matching prefix wins.
C_LIBRARIES: dict[str, str] = {
    "LC30": "cuBLAS", "LC31": "cuDNN", "LC32": "cuFFT", "LC33": "cuRAND", "LC34": "cuSPARSE",
    "LC35": "cuSOLVER", "LC360": "CUB", "LC37": "cuTENSOR", "LC38": "cuSPARSELt", "LC39": "cuFile",
    "LC41": "NCCL", "LC42": "NVML", "LC43": "NVSHMEM", "LC44": "Thrust", "LC46": "nvJPEG",
    "LC47": "cuDNN frontend", "LC48": "cuComplex", "LC49": "nvGRAPH", "LC5100": "NVTX", "LC5101": "CUTLASS",
}
#: Dependency-manifest rules that name a family of packages rather than one library.
DEPENDENCY_GROUPS: dict[str, str] = {
    "LD100": "torch (CUDA build)", "LD101": "torch (CUDA build)", "LD102": "nvidia CUDA wheels",
    "LD104": "conda CUDA packages",
}
_CUDA_SUFFIX = re.compile(r"[-_](cu\d+x?|cuda\d*x?)$")


@dataclass(frozen=True)
class Unit:
    """One piece of porting work: ``kind`` is kernel, device-code, library, api, edit or call."""

    kind: str
    name: str
    category: str
    path: str
    line: int
    findings: tuple[Finding, ...]
    #: The kernel definition a kernel unit is built around (None for other kinds).
    anchor: Finding | None = None
    #: A kernel's body in lines (0 for other kinds).
    body_lines: int = 0

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted({f.path for f in self.findings}))


def library_name(finding: Finding) -> str | None:
    """The library a finding belongs to (``CUTLASS``, ``flash_attn``), or None if it is not a library use."""
    rule = finding.rule_id
    if rule in DEPENDENCY_GROUPS:
        return DEPENDENCY_GROUPS[rule]
    if finding.category not in LIBRARY_CATEGORIES and not rule.startswith("LC41"):
        return None
    if rule == "LC6000":
        return None  # a toolkit header: an include to swap, counted as an edit
    for size in (6, 5, 4):
        if rule[:size] in C_LIBRARIES:
            return C_LIBRARIES[rule[:size]]
    if rule.startswith("LC"):
        return rule
    top = re.split(r"[.:/\[ ]", finding.symbol.strip(), maxsplit=1)[0].lower().replace("-", "_")
    return _CUDA_SUFFIX.sub("", top) or finding.symbol


def _kind(finding: Finding) -> str:
    if finding.depends_on:
        return "call"
    if finding.rule_id.startswith("LD") or finding.rule_id in EDIT_RULES or finding.category in EDIT_CATEGORIES:
        return "edit"
    if finding.rule_id in DEFINITION_RULES:
        return "kernel"
    if finding.category == "kernel":
        return "member"
    if library_name(finding) is not None:
        return "library"
    return "api"


def _span(finding: Finding) -> int:
    span = finding.end_line - finding.line + 1
    return span if span > 1 else DEFAULT_KERNEL_LINES


def _enclosing(definitions: list[Finding], finding: Finding) -> Finding | None:
    """The innermost kernel definition whose body holds ``finding``."""
    inside = [d for d in definitions if d.line <= finding.line <= d.end_line and d is not finding]
    return min(inside, key=lambda d: (d.end_line - d.line, d.line)) if inside else None


def group_units(findings: Iterable[Finding]) -> list[Unit]:
    """Every finding in exactly one unit, in a deterministic order (by kind, then location)."""
    ordered = sorted(findings, key=lambda f: (*f.sort_key(), f.category, f.fingerprint))
    kinds = {id(f): _kind(f) for f in ordered}
    definitions: dict[str, list[Finding]] = defaultdict(list)
    for finding in ordered:
        if kinds[id(finding)] == "kernel":
            definitions[finding.path].append(finding)
    kernels: dict[int, list[Finding]] = {id(d): [d] for ds in definitions.values() for d in ds}
    device_code: dict[str, list[Finding]] = defaultdict(list)
    libraries: dict[str, list[Finding]] = defaultdict(list)
    apis: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    units: list[Unit] = []
    for finding in ordered:
        kind = kinds[id(finding)]
        if kind == "member":
            owner = _enclosing(definitions.get(finding.path, []), finding)
            (kernels[id(owner)] if owner is not None else device_code[finding.path]).append(finding)
        elif kind == "library":
            libraries[library_name(finding) or finding.rule_id].append(finding)
        elif kind == "api":
            apis[(finding.rule_id, finding.symbol)].append(finding)
        elif kind in ("edit", "call"):
            units.append(Unit(kind, finding.symbol, finding.category, finding.path, finding.line, (finding,)))
    for ds in definitions.values():
        for d in ds:
            units.append(Unit("kernel", d.symbol.removeprefix("__global__ "), "kernel", d.path, d.line,
                              tuple(kernels[id(d)]), anchor=d, body_lines=_span(d)))
    for path, members in device_code.items():
        units.append(Unit("device-code", f"device code in {path.rsplit('/', 1)[-1]}", "kernel", path,
                          members[0].line, tuple(members)))
    for name, uses in libraries.items():
        units.append(Unit("library", name, uses[0].category, uses[0].path, uses[0].line, tuple(uses)))
    for (_, symbol), uses in apis.items():
        units.append(Unit("api", symbol, uses[0].category, uses[0].path, uses[0].line, tuple(uses)))
    units.sort(key=lambda u: (u.kind, u.path, u.line, u.name))
    return units
