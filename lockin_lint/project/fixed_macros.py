"""Findings in branches a project's own configuration macros rule out: no build compiles them.

TGI's exllamav2 ``qdq_4.cuh`` includes ``../../config.h``, which has ``#define QMODE_4BIT 1`` outside
any condition; its ``#if QMODE_4BIT == 1 ... #else <18 lines of half-precision intrinsics> #endif`` has
an ``#else`` no build reads, like an ``#if 0`` block (which the analyzer already drops on its own).
After the run, each C/C++/CUDA file with findings is read with the integer macros it and the project
headers it includes (transitively, each once, the way `rocm_aliases` follows them) fix for every
build (`analyzers.macro_values`), and its findings on lines the preprocessor model then finds dead
(`analyzers.preprocessor.never_compiled`) are dropped.

What a build may change is never taken as fixed: a definition under a condition (``#ifndef NAME`` /
``#define NAME 1`` is a default), one defined twice or ``#undef``'d anywhere in that set, one
defined in a header included under a condition, and any name a build file of the run mentions
(``setup.py``, CMake, Make, Bazel, Meson: a ``-DNAME=...`` there wins over the header).
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Callable

from ..analyzers import language_of
from ..analyzers.macro_values import NONE, Definitions, definitions
from ..analyzers.preprocessor import never_compiled
from ..model import FileResult, Finding, Reader
from .rocm_aliases import resolve_header

_BUILD_NAMES = frozenset({"setup.py", "CMakeLists.txt", "Makefile", "GNUmakefile", "meson.build", "BUILD",
                          "BUILD.bazel", "build.ninja"})
_BUILD_SUFFIXES = (".cmake", ".bzl", ".mk")
_WORD = re.compile(rb"[A-Za-z_]\w*")
#: How deep includes are followed (a file's header's header's header).
_MAX_DEPTH = 4


class _Macros:
    """Per file read: its `Definitions` (computed once per run); the words of the run's build files."""

    def __init__(self, files: dict[str, str], read: Reader, is_file: Callable[[str], bool]) -> None:
        self.files = files
        self.read = read
        self.is_file = is_file
        self.cache: dict[str, Definitions] = {}
        self.build_words: set[bytes] | None = None

    def of(self, path: str, data: bytes | None = None) -> Definitions:
        if path not in self.cache:
            data = data if data is not None else self.read(path)
            self.cache[path] = definitions(data) if data is not None else NONE
        return self.cache[path]

    def header(self, including: str, written: str) -> str | None:
        return resolve_header(including, written, lambda candidate: candidate in self.cache or self.is_file(candidate))

    def in_build_files(self, name: str) -> bool:
        """Whether a build file of the run names ``name`` (where a ``-D`` flag would set it)."""
        if self.build_words is None:
            self.build_words = set()
            for shown, real in self.files.items():
                base = os.path.basename(shown)
                if base in _BUILD_NAMES or base.endswith(_BUILD_SUFFIXES):
                    data = self.read(real)
                    for word in _WORD.findall(data) if data is not None else ():
                        self.build_words.add(word[1:] if word.startswith(b"D") else word)  # ``-DNAME=1``
                        self.build_words.add(word)
        return name.encode() in self.build_words

    def fixed(self, path: str, own: Definitions) -> dict[str, tuple[int, int]]:
        """Name -> (line from which it is defined, value) of the macros fixed for ``path``."""
        values = dict(own.values)
        unfixed = set(own.unfixed)
        seen = {path}
        read_here = [path]
        for line, written in own.includes:
            for header in self._closure(path, written, seen):
                _merge(values, unfixed, self.of(header), line)
                read_here.append(header)
        for including in read_here:  # a header included under a condition: what it defines may differ
            for written in self.of(including).conditional_includes:
                maybe = self.header(including, written)
                if maybe is not None:
                    unfixed.update(self.of(maybe).values, self.of(maybe).unfixed)
        return {name: value for name, value in values.items() if name not in unfixed}

    def _closure(self, including: str, written: str, seen: set[str], depth: int = 0) -> list[str]:
        """The header ``written`` names and those it includes in turn, each once per file."""
        header = self.header(including, written)
        if header is None or header in seen:
            return []
        seen.add(header)
        found = [header]
        if depth < _MAX_DEPTH:
            for _, nested in self.of(header).includes:
                found.extend(self._closure(header, nested, seen, depth + 1))
        return found


def _merge(values: dict[str, tuple[int, int]], unfixed: set[str], header: Definitions, line: int) -> None:
    """Add a header's definitions, seen from ``line`` on; a name defined twice is unfixed."""
    unfixed.update(header.unfixed)
    for name, (_, value) in header.values.items():
        if name in values:
            unfixed.add(name)
        values[name] = (line, value)


def drop_fixed_dead(results: list[FileResult], files: dict[str, str], read: Reader,
                    is_file: Callable[[str], bool] = os.path.isfile) -> list[FileResult]:
    """``results`` without the C/C++/CUDA findings on lines the project's fixed macros make dead."""
    macros = _Macros(files, read, is_file)
    output = []
    for result in results:
        if not (result.findings or result.suppressed) or language_of(result.path) != "cuda" \
                or result.path not in files:
            output.append(result)
            continue
        real = files[result.path]
        data = read(real)
        own = macros.of(real, data) if data is not None else NONE
        if not own.tested:
            output.append(result)
            continue
        fixed = {name: value for name, value in macros.fixed(real, own).items()
                 if name in own.tested and not macros.in_build_files(name)}
        dead = never_compiled(data, fixed) if fixed and data is not None else None
        if dead is None:
            output.append(result)
            continue
        output.append(replace(result, findings=_alive(result.findings, dead), suppressed=_alive(result.suppressed, dead)))
    return output


def _alive(findings: tuple[Finding, ...], dead: list[bool]) -> tuple[Finding, ...]:
    return tuple(f for f in findings if not (0 < f.line <= len(dead) and dead[f.line - 1]))
