"""Decide from bytes alone whether a file can match any loaded rule, before paying for a parse.

Two cheap tests, both derived from the loaded rules (`python_index.build_python_index`):

* trigger tokens: a file is a candidate when its bytes contain one (``bytes.__contains__`` per token,
  which beats a regex alternation severalfold);
* import roots: names under a CUDA-specific top-level package (``cupy``, ``triton``, ``apex``, ...) can
  only be used after importing it, so instead of scanning every file for each such package name, the
  prefilter reads the file's import lines (found by the one token ``import``) and checks their roots.
"""

from __future__ import annotations

import re
from typing import Iterator

from .python_index import PythonIndex

# Both start with a literal, so `re` scans for it at C speed; a superset of roots is harmless.
_IMPORT = re.compile(rb"import[ \t]+([A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?)*)")
_FROM = re.compile(rb"from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b")


def imported_roots(data: bytes) -> set[bytes]:
    """Top-level packages named by the file's import statements (a superset is fine; misses are not)."""
    roots = {match.group(1).split(b".", 1)[0] for match in _FROM.finditer(data)}
    for match in _IMPORT.finditer(data):
        for part in match.group(1).split(b","):
            roots.add(part.strip().split(b".", 1)[0].split(None, 1)[0])
    return roots


def present_triggers(index: PythonIndex, data: bytes) -> list[bytes]:
    """The trigger tokens that occur in ``data``; testing all of them (not stopping at the first)
    costs little more, since files without a token scan them all anyway, and the matcher then
    searches only for the tokens that occur."""
    present = [token for token in index.triggers if token in data]
    if index.word_triggers:
        present += sorted(index.word_triggers.intersection(data.translate(_WORD_BYTES).split()))
    return present


def is_candidate(index: PythonIndex, data: bytes, present: list[bytes]) -> bool:
    if any(_relevant(index, data, token, start) for token in present for start in occurrences(data, token)):
        return True
    return bool(index.import_roots_bytes) and not imported_roots(data).isdisjoint(index.import_roots_bytes)


def occurrences(data: bytes, token: bytes) -> Iterator[int]:
    """Start offsets of ``token`` in ``data``; ``bytes.find`` beats a regex alternation severalfold."""
    start = data.find(token)
    while start >= 0:
        yield start
        start = data.find(token, start + 1)


def word_occurrences(data: bytes, word: bytes) -> Iterator[int]:
    """Occurrences of ``word`` as a whole identifier (aliases can be as short as ``a``)."""
    end = len(word)
    for start in occurrences(data, word):
        if (start == 0 or not IDENT_BYTE[data[start - 1]]) and (
            start + end >= len(data) or not IDENT_BYTE[data[start + end]]
        ):
            yield start


def _relevant(index: PythonIndex, data: bytes, token: bytes, start: int) -> bool:
    """Could the token occurrence at ``start`` be part of a finding? Judged from its line alone.

    Conservative by construction: only a hit inside a comment, inside a one-line string literal whose
    content no string rule accepts, or inside an identifier that is no part of any matched name is
    irrelevant. Anything the line cannot tell (a line inside a multi-line string, say) is relevant.
    """
    line_start = data.rfind(b"\n", 0, start) + 1
    line_end = data.find(b"\n", start)
    line = data[line_start : line_end if line_end >= 0 else len(data)]
    offset = start - line_start
    quote, opened, position = b"", 0, 0
    while position < offset:
        char = line[position : position + 1]
        if quote:
            if char == b"\\":
                position += 1
            elif char == quote:
                quote = b""
        elif char in (b'"', b"'"):
            quote, opened = char, position + 1
        elif char == b"#":
            return False  # a comment
        position += 1
    if quote:
        close = line.find(quote, offset)
        content = line[opened : close if close >= 0 else len(line)].decode("utf-8", "replace")
        value = _INTERPOLATION.sub("0", content)
        return any(rule.pattern.search(value) for rule in index.strings)
    begin = offset
    while begin > 0 and IDENT_BYTE[line[begin - 1]]:
        begin -= 1
    end = offset + len(token)
    while end < len(line) and IDENT_BYTE[line[end]]:
        end += 1
    return line[begin:end].decode("utf-8", "replace") in index.name_parts


_INTERPOLATION = re.compile(r"\{[^{}]*\}")
#: Bytes that can continue a Python identifier (non-ASCII bytes included: UTF-8 identifiers).
IDENT_BYTE = [chr(b).isalnum() or b == ord("_") or b >= 0x80 for b in range(256)]
#: ``data.translate(_WORD_BYTES).split()``: the file's identifier-like words (every other byte a space).
_WORD_BYTES = bytes(b if IDENT_BYTE[b] else 0x20 for b in range(256))
