"""The object-like macros a C/C++/CUDA file fixes to one integer in every build, and what it includes.

TGI's exllamav2 ``config.h`` has ``#define QMODE_4BIT 1`` outside any condition (but its include
guard), and ``qdq_4.cuh`` includes it before ``#if QMODE_4BIT == 1 ... #else ... #endif``: no build
compiles that ``#else``. `definitions` reads which names a file fixes that way, so that the
preprocessor model (`preprocessor.never_compiled`) can evaluate such conditions; the whole-project
pass `project.fixed_macros` follows the includes.

A name is *fixed* only when it is defined once, unconditionally, to an integer literal. Anything a
build could change is not: a definition under any ``#if``/``#ifdef`` (``#ifndef QMODE_4BIT`` /
``#define QMODE_4BIT 1`` is a default a ``-D`` overrides), a second definition, an ``#undef``. Only an
include guard (the file's first directive ``#ifndef X`` followed by ``#define X``, closed by its last
``#endif``) does not count as a condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A directive with its continuation lines. Searched from its ``#`` (a literal first character the
#: regex engine scans for quickly), not from the line start: a MULTILINE ``^`` is 8 times slower.
_DIRECTIVE = re.compile(rb"#[ \t]*(if|ifdef|ifndef|elif|else|endif|define|undef|include)\b((?:[^\n]*\\\r?\n)*[^\n]*)")
_CONTINUATION = re.compile(rb"\\\r?\n")
_DEFINED = re.compile(r"[ \t]*([A-Za-z_]\w*)(\(?)")
_INTEGER = re.compile(r"\(?[ \t]*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*[ \t]*\)?[ \t]*(?://.*|/\*.*)?")
_QUOTED = re.compile(r'[ \t]*"([^"]+)"')
_NAME = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Definitions:
    """What one file says about its macros (0-based lines).

    ``values``: name -> (line, value) of each fixed name; ``unfixed``: names defined or undefined here
    in a way a build may change (conditionally, twice, ``#undef``); ``includes``: (line, written name)
    of each unconditional quoted include, in order; ``conditional_includes``: the others, whose
    definitions are unfixed for whoever includes them; ``tested``: the names its ``#if``/``#elif``/
    ``#ifdef``/``#ifndef`` conditions name (the include guard's aside).
    """

    values: dict[str, tuple[int, int]]
    unfixed: frozenset[str]
    includes: tuple[tuple[int, str], ...]
    conditional_includes: tuple[str, ...]
    tested: frozenset[str]


NONE = Definitions({}, frozenset(), (), (), frozenset())


def definitions(data: bytes) -> Definitions:
    """The fixed macros, unfixed names and quoted includes of one file (`Definitions`)."""
    if b"#" not in data:
        return NONE
    directives = []
    line, counted = 0, 0
    for match in _DIRECTIVE.finditer(data):
        start = data.rfind(b"\n", 0, match.start()) + 1
        if data[start:match.start()].strip(b" \t"):
            continue  # a ``#`` inside a line: no directive
        line += data.count(b"\n", counted, match.start())
        counted = match.start()
        joined = _CONTINUATION.sub(b" ", match.group(2)).rstrip(b"\r")
        directives.append((line, match.group(1).decode(), joined.decode("utf-8", "replace")))
    guard = _guard(directives)
    values: dict[str, tuple[int, int]] = {}
    unfixed: set[str] = set()
    includes: list[tuple[int, str]] = []
    conditional: list[str] = []
    tested: set[str] = set()
    open_groups: list[bool] = []  # per open ``#if``: whether it is a condition (not the include guard)
    for index, (line, keyword, rest) in enumerate(directives):
        depth = sum(open_groups)
        if keyword in ("if", "ifdef", "ifndef", "elif"):
            if index != guard:
                tested.update(_NAME.findall(rest))
            if keyword != "elif":
                open_groups.append(index != guard)
        elif keyword == "endif" and open_groups:
            open_groups.pop()
        elif keyword in ("define", "undef"):
            name = _DEFINED.match(rest)
            if name is None:
                continue
            value = _INTEGER.fullmatch(rest[name.end():].strip()) if keyword == "define" and not name.group(2) \
                else None
            if value is None or depth or name.group(1) in values or name.group(1) in unfixed:
                unfixed.add(name.group(1))
                values.pop(name.group(1), None)
            else:
                values[name.group(1)] = (line, _integer(value.group(1)))
        elif keyword == "include":
            quoted = _QUOTED.match(rest)
            if quoted is not None:
                (conditional.append(quoted.group(1)) if depth else includes.append((line, quoted.group(1))))
    return Definitions(values, frozenset(unfixed), tuple(includes), tuple(conditional), frozenset(tested))


def _integer(literal: str) -> int:
    """A C integer literal's value (``0x1F`` hexadecimal, ``017`` octal)."""
    if literal[:2].lower() == "0x":
        return int(literal, 16)
    return int(literal, 8) if len(literal) > 1 and literal[0] == "0" else int(literal)


def _guard(directives: list[tuple[int, str, str]]) -> int:
    """The index of the include guard's ``#ifndef`` among ``directives`` (always 0), or -1 if none."""
    if len(directives) < 3 or directives[0][1] != "ifndef" or directives[1][1] != "define" \
            or directives[-1][1] != "endif":
        return -1
    name = directives[0][2].split()
    defined = directives[1][2].split()
    if not name or not defined or name[0] != defined[0]:
        return -1
    depth = 0
    for index, (_, keyword, _) in enumerate(directives):
        if depth == 1 and keyword in ("else", "elif"):
            return -1  # the guard's own ``#else``: not a guard
        depth += keyword in ("if", "ifdef", "ifndef")
        depth -= keyword == "endif"
        if depth == 0:
            return 0 if index == len(directives) - 1 else -1
    return -1
