"""Decide from bytes alone whether a file can match any loaded rule, before paying for a parse.

Two cheap tests, both derived from the loaded rules (`index.build_python_index`):

* trigger tokens: a file is a candidate when its bytes contain one (``bytes.__contains__`` per token,
  which beats a regex alternation severalfold);
* import roots: names under a CUDA-specific top-level package (``cupy``, ``triton``, ``apex``, ...) can
  only be used after importing it, so instead of scanning every file for each such package name, the
  prefilter reads the file's import lines (found by the one token ``import``) and checks their roots.
"""

from __future__ import annotations

import re

from .index import PythonIndex

_IMPORT_LINE = re.compile(
    rb"(?:^|[;:])[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+([^#;\n]+))"
)
_MODULE = re.compile(rb"[A-Za-z_]\w*")


def imported_roots(data: bytes) -> set[bytes]:
    """Top-level packages named by the file's import statements (a superset is fine; misses are not)."""
    roots: set[bytes] = set()
    start = data.find(b"import")
    while start >= 0:
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", start)
        line = data[line_start : line_end if line_end >= 0 else len(data)]
        for match in _IMPORT_LINE.finditer(line.strip()):
            if match.group(1):
                roots.add(match.group(1).split(b".", 1)[0])
            else:
                for part in match.group(2).split(b","):
                    module = _MODULE.match(part.strip().lstrip(b"("))
                    if module:
                        roots.add(module.group(0))
        start = data.find(b"import", line_end if line_end >= 0 else len(data))
    return roots


def present_triggers(index: PythonIndex, data: bytes) -> list[bytes]:
    """The trigger tokens that occur in ``data``; testing all of them (not stopping at the first)
    costs little more, since files without a token scan them all anyway, and the matcher then
    searches only for the tokens that occur."""
    return [token for token in index.triggers if token in data]


def is_candidate(index: PythonIndex, data: bytes, present: list[bytes]) -> bool:
    if present:
        return True
    return bool(index.import_roots_bytes) and not imported_roots(data).isdisjoint(index.import_roots_bytes)
