"""A light pass over C/C++/CUDA bytes before tree-sitter sees them, keeping every byte offset.

tree-sitter-cuda knows no macros, so valid code reads as syntax errors: an attribute-like macro before a
declaration (``CUTLASS_DEVICE void f()``, ``FORCE_INLINE static int g()``), a macro invocation used as
a statement without a semicolon (``GN_CUDA_INST_DEFINE(1024, 320)``, ``Py_END_ALLOW_THREADS``),
``__align__(8)`` in a declaration, a last ``#include`` without a newline. Each is replaced by spaces
of the same length (newlines kept), so positions, lines and the findings after the old recovery point
stay where they are. Macros that mean device code (``CUTLASS_DEVICE``, ``C10_HOST_DEVICE``, a file's
own ``#define HOST_DEVICE __host__ __device__``, and an attribute-like macro from another header whose
name says device: ``DS_D_INLINE``) become ``__device__`` instead, so the intrinsics in such functions
count as device code. A statement-like invocation is blanked only when nothing in it
could be a finding (``might_match``), so no finding is ever traded for a cleaner parse.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

from ..kb.cuda_index import DEVICE_MACROS

#: ``#define NAME <qualifiers>`` whose body marks device code: the file's own device macros. The body is
#: words separated by blanks, written so that a word can be split in one way only: with the separator
#: optional, ``#define AT_X GenericPackedTensorAccessor<T, N>`` tried every split of the long word
#: before failing at ``<`` (75 s for torch's 2.8 KB ``TensorAccessor.h``).
_DEVICE_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+([A-Za-z_]\w*(?:[ \t]+[A-Za-z_]\w*)*[ \t]*)$",
                            re.MULTILINE)
_DEVICE_DEFINE_AFTER_NEWLINE = re.compile(
    rb"\n[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+([A-Za-z_]\w*(?:[ \t]+[A-Za-z_]\w*)*[ \t]*)(?=\n|\Z)")  # `_at_line_starts`
_QUALIFIERS = frozenset({b"__host__", b"__device__", b"__global__", b"__forceinline__", b"__inline__", b"inline",
                         b"static", b"constexpr", b"__noinline__", b"extern"})
#: Attribute-like macro names: upper case, ending in what such macros are named for.
#: Only in a declaration's specifiers: followed by another word (``CUTLASS_DEVICE void``), never by an
#: operator or a comma (``n = MAX_DEVICE + 1`` keeps its constant).
_ATTRIBUTE_NAME = re.compile(rb"(?:[A-Z][A-Z0-9]*_)+(?:DEVICE|HOST|INLINE|FORCEINLINE|NOINLINE|FUNCTION|FUNC|DECL|API|"
                             rb"EXPORT|QUALIFIERS?)")
_ATTRIBUTE = re.compile(rb"\b" + _ATTRIBUTE_NAME.pattern + rb"\b(?=[ \t\r\n]+[A-Za-z_~])")
#: The last part of such a name, at the end of a word: a literal ``_`` the regex engine scans for
#: quickly (`_ATTRIBUTE` starts with ``\b`` and is tried at every byte), then `_ATTRIBUTE` at the word's start.
_ATTRIBUTE_END = re.compile(rb"_(?:DEVICE|HOST|INLINE|FORCEINLINE|NOINLINE|FUNCTION|FUNC|DECL|API|EXPORT|QUALIFIERS?)"
                            rb"(?![A-Za-z0-9_])")
#: The bytes of a ``\b`` word (ASCII only, as ``\b`` in a bytes pattern).
_WORD_BYTE = tuple(chr(b).isascii() and (chr(b).isalnum() or b == 0x5F) for b in range(256))
#: Parts of an attribute-like macro's name that say device code, for a macro defined in another header
#: (DeepSpeed's ``DS_D_INLINE``/``DS_HD_INLINE`` from ``ds_kernel_utils.h``, ``MY_DEVICE_INLINE``).
_DEVICE_PARTS = frozenset({b"DEVICE", b"DEV", b"D", b"HD"})
#: ``#define NAME``: the macro names a file defines (also read by `project.rocm_aliases`).
DEFINED_NAME = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_ALIGN = re.compile(rb"__align__[ \t]*\([ \t]*\w+[ \t]*\)")  # after a non-word byte (`_aligns`): a literal first
#: A statement-like macro invocation: a macro name at the start of a line, then its arguments. Only an
#: upper-case first letter can start a `_MACRO_NAME`: the other calls at a line's start are not matched.
_INVOCATION_START = re.compile(rb"^([ \t]*)([A-Z]\w*)[ \t]*\(", re.MULTILINE)
#: A bare statement-like macro: a line that is one upper-case name (``Py_END_ALLOW_THREADS``).
_BARE_MACRO = re.compile(rb"^[ \t]*([A-Z][A-Za-z0-9]*_[A-Za-z0-9_]*)[ \t]*$", re.MULTILINE)
#: The same two after a newline (`_at_line_starts`): a literal first byte, which the regex engine
#: scans for quickly, where a multi-line ``^`` is tried at every byte.
_INVOCATION_AFTER_NEWLINE = re.compile(rb"\n([ \t]*)([A-Z]\w*)[ \t]*\(")
_BARE_MACRO_AFTER_NEWLINE = re.compile(rb"\n[ \t]*([A-Z][A-Za-z0-9]*_[A-Za-z0-9_]*)[ \t]*(?=\n|\Z)")
_MACRO_NAME = re.compile(rb"^(?:[A-Z][A-Z0-9]*_)+[A-Za-z0-9_]*$|^[A-Z][A-Z0-9_]{3,}$|^[A-Z][A-Za-z0-9]*_[A-Z][A-Z0-9_]*$")
_DIRECTIVE = re.compile(rb"[ \t]*#")  # matched at a line's start offset
#: Where a statement may start: after these characters at the end of the previous code line.
_STATEMENT_END = (b";", b"}", b"{", b")")
_MAX_ARGUMENTS = 20_000
#: What, on the next code line, would continue an expression rather than start a new statement.
_CONTINUES = frozenset(bytes([c]) for c in b";,.)-+*/%&|^?:=<>[(")


def _at_line_starts(first_line: re.Pattern[bytes], after_newline: re.Pattern[bytes],
                    source: bytes) -> Iterator[re.Match[bytes]]:
    """The matches of a one-line pattern anchored at line starts (``^``, multi-line) over ``source``:
    its match on the first line, then those of ``after_newline`` (the same pattern after a ``\\n``,
    its groups at the same offsets)."""
    first = first_line.match(source)
    if first is not None:
        yield first
    yield from after_newline.finditer(source)


def _attributes(source: bytes) -> Iterator[re.Match[bytes]]:
    """The matches of `_ATTRIBUTE` in ``source``, in order: each is a whole word ending in one of the
    parts `_ATTRIBUTE_END` looks for, so `_ATTRIBUTE` is tried only at the start of those words."""
    for end in _ATTRIBUTE_END.finditer(source):
        start = end.start()
        while start > 0 and _WORD_BYTE[source[start - 1]]:
            start -= 1
        match = _ATTRIBUTE.match(source, start)
        if match is not None:
            yield match


def _aligns(source: bytes) -> Iterator[re.Match[bytes]]:
    """The matches of ``\\b__align__(...)``: `_ALIGN` after a non-word byte or at the start."""
    for match in _ALIGN.finditer(source):
        if match.start() == 0 or not _WORD_BYTE[source[match.start() - 1]]:
            yield match


#: What follows a function-like macro's name at a call.
_CALLED = re.compile(rb"[ \t]*\(")


def _uses(source: bytes, name: bytes) -> Iterator[tuple[int, int]]:
    """The spans of ``\\bNAME\\b(?![ \\t]*\\()`` in ``source`` (``name`` is a macro name: word bytes
    only, so two whole-word occurrences never overlap), from ``bytes.find``: the regex, with no
    literal prefix after its ``\\b``, was tried at every byte of the file, once per device macro."""
    start = source.find(name)
    while start >= 0:
        end = start + len(name)
        if (start == 0 or not _WORD_BYTE[source[start - 1]]) and (end == len(source) or not _WORD_BYTE[source[end]]) \
                and _CALLED.match(source, end) is None:
            yield start, end
        start = source.find(name, start + 1)


def _blank(buffer: bytearray, start: int, end: int) -> None:
    for index in range(start, end):
        if buffer[index] not in (0x0A, 0x0D):
            buffer[index] = 0x20


_LIBRARY_DEVICE_MACROS = frozenset(name.encode() for name in DEVICE_MACROS)


def _macro_groups(parts: tuple[bytes, ...]) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    """The library's device macros by the first of ``parts`` each spells (else by itself), sorted."""
    groups: dict[bytes, list[bytes]] = {}
    for name in sorted(_LIBRARY_DEVICE_MACROS):
        groups.setdefault(next((part for part in parts if part in name), name), []).append(name)
    return tuple((part, tuple(names)) for part, names in groups.items())


#: A file that does not spell a group's part has none of its macros: one search for the group, not one
#: per macro (most of them spell ``DEVICE``).
_MACRO_GROUPS = _macro_groups((b"DEVICE", b"FUNCTION", b"INLINE"))


def _device_macros(source: bytes) -> dict[bytes, bytes]:
    """Macro name -> the qualifier it stands for (``__device__`` or ``__global__``): the library's
    macros the file may spell, and the file's own."""
    found = dict.fromkeys((name for part, names in _MACRO_GROUPS if part in source for name in names), b"__device__")
    if b"#" not in source:
        return found
    for match in _at_line_starts(_DEVICE_DEFINE, _DEVICE_DEFINE_AFTER_NEWLINE, source):
        words = match.group(2).split()
        if words and all(w in _QUALIFIERS for w in words):
            if b"__global__" in words:
                found[match.group(1)] = b"__global__"
            elif b"__device__" in words:
                found[match.group(1)] = b"__device__"
    return found


def may_write_device(source: bytes) -> bool:
    """Could `prepare` write ``__device__`` into ``source``? (A device macro, or an attribute-like
    macro whose name says device; a file's own ``#define X __device__`` spells it already.)"""
    if any(name in source for name in _LIBRARY_DEVICE_MACROS):
        return True
    return any(_device_named(match.group(0)) for match in _attributes(source))


def writes_device(words: set[bytes]) -> bool:
    """`may_write_device` from an ASCII file's words (each macro `prepare` reads is one whole word)."""
    return not words.isdisjoint(_LIBRARY_DEVICE_MACROS) or any(
        _ATTRIBUTE_NAME.fullmatch(word) is not None and _device_named(word) for word in words)


def _device_named(name: bytes) -> bool:
    """An attribute-like macro `prepare` turns into ``__device__`` (``DS_D_INLINE``, ``MY_DEVICE_INLINE``)."""
    return bool(_DEVICE_PARTS.intersection(name.split(b"_"))) and len(name) >= len(b"__device__")


def _on_directive(source: bytes, offset: int) -> bool:
    line_start = source.rfind(b"\n", 0, offset) + 1
    return _DIRECTIVE.match(source, line_start) is not None


def _previous_code_ends_statement(source: bytes, offset: int) -> bool:
    """The code before ``offset`` (comments and directive lines skipped) ends a statement or block."""
    end = offset
    while end > 0:
        line_start = source.rfind(b"\n", 0, end - 1) + 1
        line = source[line_start:end].split(b"//", 1)[0].strip()
        if line and not line.startswith((b"#", b"*", b"/*")) and not line.endswith(b"*/"):
            return line.endswith(_STATEMENT_END)
        end = line_start
        if line_start == 0:
            break
    return True  # the start of the file


#: The bytes `_closing_paren` reads; the regex engine skips the others.
_PARENTHESES_OR_BLOCKS = re.compile(rb"[(){};]")


def _closing_paren(source: bytes, open_at: int) -> int | None:
    """The offset just after the ``)`` matching the ``(`` at ``open_at``; None if unbalanced or huge."""
    depth = 0
    for match in _PARENTHESES_OR_BLOCKS.finditer(source, open_at, min(len(source), open_at + _MAX_ARGUMENTS)):
        char = source[match.start()]
        if char == 0x28:
            depth += 1
        elif char == 0x29:
            depth -= 1
            if depth == 0:
                return match.start() + 1
        else:  # ``; { }``: a statement inside, not a plain invocation
            return None
    return None


def prepare(source: bytes, might_match: Callable[[bytes], bool]) -> bytes:
    """``source`` with macros tree-sitter cannot read blanked (same length, plus a final newline)."""
    buffer = bytearray(source)
    own: frozenset[bytes] | None = None  # the macros this file defines, read on the first device-named one
    for name, qualifier in _device_macros(source).items():
        for start, end in _uses(source, name):
            if _on_directive(source, start):
                continue
            _blank(buffer, start, end)
            if end - start >= len(qualifier):
                buffer[start:start + len(qualifier)] = qualifier
    for pattern in (_ATTRIBUTE, _ALIGN):
        for match in _attributes(source) if pattern is _ATTRIBUTE else _aligns(source):
            if bytes(buffer[match.start():match.end()]) == match.group(0) and not _on_directive(source, match.start()):
                _blank(buffer, *match.span())
                if pattern is _ATTRIBUTE and _device_named(match.group(0)):
                    if own is None:  # a macro this file defines is read from its body (above), not its name
                        own = frozenset(DEFINED_NAME.findall(source))
                    if match.group(0) in own:
                        continue
                    buffer[match.start():match.start() + len(b"__device__")] = b"__device__"
    for match in _at_line_starts(_INVOCATION_START, _INVOCATION_AFTER_NEWLINE, source):
        if not _MACRO_NAME.match(match.group(2)) or not _previous_code_ends_statement(source, match.start(2)):
            continue
        closing = _closing_paren(source, match.end() - 1)
        if closing is None:
            continue
        end = closing
        line_end = source.find(b"\n", end)
        rest = source[end:line_end if line_end >= 0 else len(source)]
        following = source[end:end + 200].lstrip()[:1]
        if rest.split(b"//", 1)[0].strip() or following in _CONTINUES or might_match(source[match.start(2):end]):
            continue  # followed by ``;`` or more code, or holding a possible finding
        _blank(buffer, match.start(2), end)
    for match in _at_line_starts(_BARE_MACRO, _BARE_MACRO_AFTER_NEWLINE, source):
        name = match.group(1)
        if _MACRO_NAME.match(name) and bytes(buffer[match.start(1):match.end(1)]) == name \
                and _previous_code_ends_statement(source, match.start(1)) and not might_match(name):
            _blank(buffer, *match.span(1))
    if buffer and not buffer.endswith(b"\n"):
        buffer += b"\n"
    return bytes(buffer)
