"""CUDA names a project's own compatibility header defines for ROCm builds.

vLLM's ``cumem_allocator.cpp`` spells ``CUdeviceptr`` and ``cuMemCreate`` outside any branch, yet
builds on ROCm: ``cumem_allocator_compat.h`` has, under ``#ifdef USE_ROCM``, ``typedef hipDeviceptr_t
CUdeviceptr;`` and ``#define cuMemCreate hipMemCreate``. Such a name is already ported for ``rocm``.
After the run, for each C/C++/CUDA file with findings not yet native on ``rocm``, the quoted headers it
includes (and the file itself) are searched for ``typedef``/``#define``/``using`` of those names on lines
only a ROCm build compiles (`analyzers.preprocessor`); the findings that name them become ``native`` for
rocm, noted ``handled: {rocm: "ROCm alias in <header>"}``. A function *defined* there under the CUDA
name counts too: the same header wraps ``CUresult cuMemSetAccess(...) { return hipMemSetAccess(...); }``.
A declaration without a body, a call, or a method (``Foo::cuMemSetAccess``) is no such wrapper.
A namespace alias renames a whole namespace: ``cub_helpers.h`` has ``namespace cub = hipcub;`` under
``#ifdef USE_ROCM``, so every ``cub::...`` finding of a file that includes it is ported. What it aliases
to is not checked (``namespace cub = my_cub;`` counts too), as for the other forms: the project wrote a
ROCm-only spelling of the CUDA name, which is what says the name builds on ROCm.

The same headers say which of the project's macros a ROCm build never defines: DeepSpeed's
``ds_kernel_utils.h`` defines ``PTX_AVAILABLE`` only in the branch after ``#ifdef __HIP_PLATFORM_AMD__
... #else``, so ``#ifdef PTX_AVAILABLE <inline PTX> #else <plain C++> #endif`` in a file that includes
it is the CUDA side of a branch a ROCm build leaves out: its findings become ``native`` for rocm,
noted ``handled: {rocm: "preprocessor branch (macros of <header>)"}``.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Callable

from ..analyzers import language_of
from ..analyzers.cpp_prepass import DEFINED_NAME, _closing_paren  # the same balanced ``(...)`` with no ``; { }`` inside
from ..analyzers.preprocessor import NOT_ON_ROCM, ROCM_ONLY, line_states
from ..model import FileResult, Finding, Reader, with_handled
from .line_search import findall_on_lines

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"', re.MULTILINE)
_ALIAS = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)|\btypedef\b[^;{}]*?\b([A-Za-z_]\w*)[ \t]*;|"
                    rb"\busing[ \t]+([A-Za-z_]\w*)[ \t]*=|\bnamespace[ \t]+([A-Za-z_]\w*)[ \t]*=", re.MULTILINE)
_PARENT_LEVELS = 3
#: Comments and literals, blanked before looking for function definitions (they may hold braces).
_NOISE = re.compile(rb'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.DOTALL)
#: Every byte but a newline to a space (what blanks a comment or literal, its lines kept).
_BLANK = bytes(10 if byte == 10 else 32 for byte in range(256))
_CALL_NAME = re.compile(rb"\b([A-Za-z_]\w*)[ \t\r\n]*\(")
#: What may stand before a defined function's name: its return type and specifiers.
_SPECIFIERS = re.compile(rb"(?:[A-Za-z_]\w*\b|::|[*&<>,]|\s)+")
_AFTER_PARAMETERS = re.compile(rb"\s*(?:(?:const|noexcept|override)\b\s*)*\{")
_NOT_TYPES = frozenset({b"return", b"else", b"new", b"delete", b"throw", b"case", b"goto", b"sizeof", b"typedef",
                        b"using", b"define", b"operator"})
_NOT_FUNCTIONS = frozenset({b"if", b"for", b"while", b"switch", b"catch", b"sizeof", b"return", b"defined",
                            b"decltype", b"alignof", b"static_assert"})


class _Aliases:
    """Per header: the names it defines on ROCm-only lines (read and computed once per run)."""

    def __init__(self, read: Reader, is_file: Callable[[str], bool]) -> None:
        self.read = read
        self.is_file = is_file
        self.cache: dict[str, frozenset[str]] = {}
        self.cuda_only_cache: dict[str, frozenset[str]] = {}

    def of(self, path: str, data: bytes | None = None) -> frozenset[str]:
        if path not in self.cache:
            data = data if data is not None else self.read(path)
            states = line_states(data) if data is not None else None  # once for both
            self.cache[path] = _rocm_aliases(data, states) if data is not None else frozenset()
            self.cuda_only_cache[path] = _cuda_only_macros(data, states) if data is not None else frozenset()
        return self.cache[path]

    def cuda_only(self, path: str) -> frozenset[str]:
        """The macros ``path`` defines only on lines a ROCm build leaves out (read with `of`)."""
        self.of(path)
        return self.cuda_only_cache[path]

    def header(self, including: str, written: str) -> str | None:
        return resolve_header(including, written, lambda candidate: candidate in self.cache or self.is_file(candidate))


def resolve_header(including: str, written: str, exists: Callable[[str], bool]) -> str | None:
    """The project header ``#include "written"`` in ``including`` names: beside it, or up to three
    folders above (where ``-I`` flags usually point), whichever ``exists`` first; None if none does."""
    folder = os.path.dirname(including)
    for _ in range(_PARENT_LEVELS + 1):
        candidate = os.path.normpath(os.path.join(folder, written))
        if exists(candidate):
            return candidate
        folder = os.path.dirname(folder)
    return None


def _rocm_aliases(data: bytes, states: list[int] | None) -> frozenset[str]:
    """The names ``data`` defines on ROCm-only lines (``states``: its `line_states`)."""
    if states is None:
        return frozenset()
    names = set()
    line, counted = 0, 0
    for match in _ALIAS.finditer(data):
        line += data.count(b"\n", counted, match.start())
        counted = match.start()
        if states[line] == ROCM_ONLY:
            name = next(g for g in match.groups() if g is not None)
            names.add(name.decode() + ("::" if match.group(4) is not None else ""))
    if ROCM_ONLY in states:
        names.update(_wrapper_definitions(data, states))
    return frozenset(names)


def _cuda_only_macros(data: bytes, states: list[int] | None) -> frozenset[str]:
    """The macros ``data`` defines only on lines a ROCm build leaves out (``states``: its `line_states`)."""
    if states is None or b"define" not in data:
        return frozenset()
    cuda_only: set[str] = set()
    elsewhere: set[str] = set()
    line, counted = 0, 0
    for match in DEFINED_NAME.finditer(data):
        line += data.count(b"\n", counted, match.start())  # counted on from the last match, not from the start
        counted = match.start()
        name = match.group(1).decode()
        (cuda_only if states[line] == NOT_ON_ROCM else elsewhere).add(name)
    return frozenset(cuda_only - elsewhere)


def _rocm_only_code(data: bytes, states: list[int]) -> bytes:
    """``data`` with everything but ROCm-only code (comments, literals, directives, other lines) blanked."""
    data = _NOISE.sub(lambda m: m.group().translate(_BLANK), data)
    lines = data.split(b"\n")
    return b"\n".join(line if states[i] == ROCM_ONLY and not line.lstrip().startswith(b"#") else b""
                      for i, line in enumerate(lines))


def _wrapper_definitions(data: bytes, states: list[int]) -> set[str]:
    """Names of the free functions defined (with a body) on ROCm-only lines."""
    code = _rocm_only_code(data, states)
    names = set()
    for match in _CALL_NAME.finditer(code):
        name = match.group(1)
        if name in _NOT_FUNCTIONS:
            continue
        start = max(code.rfind(b";", 0, match.start()), code.rfind(b"{", 0, match.start()),
                    code.rfind(b"}", 0, match.start())) + 1
        prefix = code[start:match.start()]
        words = prefix.split()
        if not words or prefix.rstrip().endswith((b"::", b",", b"<")) or not _SPECIFIERS.fullmatch(prefix) \
                or any(w in _NOT_TYPES for w in words):
            continue
        after = _closing_paren(code, match.end() - 1)
        if after is not None and _AFTER_PARAMETERS.match(code, after):
            names.add(name.decode())
    return names


def _aliased(symbol: str, names: dict[str, str]) -> str | None:
    """The note of the alias that names ``symbol``: the name itself, or a namespace (``cub::``) it is in."""
    if symbol in names:
        return names[symbol]
    head = symbol.split("::", 1)[0] + "::" if "::" in symbol else None
    return names.get(head) if head is not None else None


def _with_alias(finding: Finding, names: dict[str, str]) -> Finding:
    note = _aliased(finding.symbol, names) if _unported(finding) else None
    return with_handled(finding, {"rocm": note}) if note is not None else finding


def _unported(finding: Finding) -> bool:
    target = finding.targets.get("rocm")
    return target is not None and target.status != "native"


def mark_rocm_aliases(results: list[FileResult], files: dict[str, str], read: Reader,
                      is_file: Callable[[str], bool] = os.path.isfile) -> list[FileResult]:
    """``results`` with findings whose names a ROCm-only alias defines made native for rocm (``read``
    and ``is_file`` are how it looks at headers: `project.passes` records what they saw)."""
    aliases = _Aliases(read, is_file)
    included: dict[str, list[str]] = {}  # per file read here, the project headers it includes, in order
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
        cuda_only: dict[str, str] = {}
        included[real] = []
        for written in findall_on_lines(_INCLUDE, data, b"include"):
            header = aliases.header(real, written.decode("utf-8", "replace"))
            if header is not None:
                included[real].append(header)
                for name in aliases.of(header):
                    found.setdefault(name, f"ROCm alias in {os.path.basename(header)}")
                for name in aliases.cuda_only(header):
                    cuda_only.setdefault(name, os.path.basename(header))
        if found:
            result = replace(result, findings=tuple(_with_alias(f, found) for f in result.findings))
        used = {name: header for name, header in cuda_only.items() if name.encode() in data}
        states = line_states(data, frozenset(used)) if used else None
        if states is not None:
            note = f"preprocessor branch (macros of {', '.join(sorted(set(used.values())))})"
            result = replace(result, findings=tuple(
                with_handled(f, {"rocm": note}) if _unported(f) and states[f.line - 1] == NOT_ON_ROCM else f
                for f in result.findings))
        output.append(result)
    return _mark_aliases_of_includers(output, files, included, aliases)


def _mark_aliases_of_includers(results: list[FileResult], files: dict[str, str], included: dict[str, list[str]],
                               aliases: _Aliases) -> list[FileResult]:
    """Findings of a header whose names every file including it has aliased for ROCm *before* it.

    vLLM's ``gguf/vecdotq.cuh`` calls ``__vcmpeq4`` in code compiled for ROCm too, and includes no
    header; ``gguf_kernel.cu`` includes ``ggml-common.h`` (which defines ``__vcmpeq4`` under ``#if
    defined(USE_ROCM)``) and then ``vecdotq.cuh``. Only the includers read above count; a header none
    of them includes is left as it is.
    """
    before_it: dict[str, list[list[str]]] = {}  # per header: what each includer includes before it
    for headers in included.values():
        for position, header in enumerate(headers):
            before_it.setdefault(header, []).append(headers[:position])
    output = []
    for result in results:
        real = files.get(result.path)
        includers = before_it.get(real, []) if real is not None else []
        if not includers or not any(_unported(f) for f in result.findings):
            output.append(result)
            continue
        shared: set[str] | None = None
        for before in includers:
            names = {name: header for header in before for name in aliases.of(header)}
            shared = set(names) if shared is None else shared & set(names)
            named = names
        notes = {name: f"ROCm alias in {os.path.basename(named[name])}, included before it" for name in shared or ()}
        output.append(replace(result, findings=tuple(_with_alias(f, notes) for f in result.findings))
                      if notes else result)
    return output
