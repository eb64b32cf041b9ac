"""CUDA names a project's own compatibility header defines for ROCm builds.

vLLM's ``cumem_allocator.cpp`` spells ``CUdeviceptr`` and ``cuMemCreate`` outside any branch, yet
builds on ROCm: ``cumem_allocator_compat.h`` has, under ``#ifdef USE_ROCM``, ``typedef hipDeviceptr_t
CUdeviceptr;`` and ``#define cuMemCreate hipMemCreate``. Such a name is already ported for ``rocm``.
After the run, for each C/C++/CUDA file with findings not yet native on ``rocm``, the quoted headers it
includes (and the file itself) are searched for ``typedef``/``#define``/``using`` of those names on lines
only a ROCm build compiles (`analyzers.preprocessor`); the findings that name them become ``native`` for
rocm, noted ``handled: {rocm: "ROCm alias in <header>"}``.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Callable

from ..analyzers import language_of
from ..analyzers.preprocessor import ROCM_ONLY, line_states
from ..model import FileResult, Finding, Reader, with_handled

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"', re.MULTILINE)
_ALIAS = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)|\btypedef\b[^;{}]*?\b([A-Za-z_]\w*)[ \t]*;|"
                    rb"\busing[ \t]+([A-Za-z_]\w*)[ \t]*=", re.MULTILINE)
_PARENT_LEVELS = 3


class _Aliases:
    """Per header: the names it defines on ROCm-only lines (read and computed once per run)."""

    def __init__(self, read: Reader, is_file: Callable[[str], bool]) -> None:
        self.read = read
        self.is_file = is_file
        self.cache: dict[str, frozenset[str]] = {}

    def of(self, path: str, data: bytes | None = None) -> frozenset[str]:
        if path not in self.cache:
            data = data if data is not None else self.read(path)
            self.cache[path] = _rocm_aliases(data) if data is not None else frozenset()
        return self.cache[path]

    def header(self, including: str, written: str) -> str | None:
        folder = os.path.dirname(including)
        for _ in range(_PARENT_LEVELS + 1):
            candidate = os.path.normpath(os.path.join(folder, written))
            if candidate in self.cache or self.is_file(candidate):
                return candidate
            folder = os.path.dirname(folder)
        return None


def _rocm_aliases(data: bytes) -> frozenset[str]:
    states = line_states(data)
    if states is None:
        return frozenset()
    names = set()
    line, counted = 0, 0
    for match in _ALIAS.finditer(data):
        line += data.count(b"\n", counted, match.start())
        counted = match.start()
        if states[line] == ROCM_ONLY:
            name = next(g for g in match.groups() if g is not None)
            names.add(name.decode())
    return frozenset(names)


def _unported(finding: Finding) -> bool:
    target = finding.targets.get("rocm")
    return target is not None and target.status != "native"


def mark_rocm_aliases(results: list[FileResult], files: dict[str, str], read: Reader,
                      is_file: Callable[[str], bool] = os.path.isfile) -> list[FileResult]:
    """``results`` with findings whose names a ROCm-only alias defines made native for rocm (``read``
    and ``is_file`` are how it looks at headers: `project.passes` records what they saw)."""
    aliases = _Aliases(read, is_file)
    output = []
    for result in results:
        if not any(_unported(f) for f in result.findings) or language_of(result.path) != "cuda" \
                or result.path not in files:
            output.append(result)
            continue
        real = files[result.path]
        data = read(real)
        if data is None or (b"#" not in data):
            output.append(result)
            continue
        found: dict[str, str] = {name: "ROCm alias in this file" for name in aliases.of(real, data)}
        for written in _INCLUDE.findall(data):
            header = aliases.header(real, written.decode("utf-8", "replace"))
            if header is not None:
                for name in aliases.of(header):
                    found.setdefault(name, f"ROCm alias in {os.path.basename(header)}")
        if found:
            result = replace(result, findings=tuple(
                with_handled(f, {"rocm": found[f.symbol]}) if f.symbol in found and _unported(f) else f
                for f in result.findings))
        output.append(result)
    return output
