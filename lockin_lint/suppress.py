"""Inline suppressions: ``# lockin: ignore[ID,...]`` (or ``//``) on the line or the line before.

A bare ``lockin: ignore`` silences every rule there. Comments are found with a regex over the bytes
rather than the syntax tree because the matcher never walks the whole tree; the marker is specific
enough that a false hit would need the marker text inside a string, which is harmless (it only hides).
"""

from __future__ import annotations

import re

_MARKER = re.compile(rb"(?:#|//)\s*lockin:\s*ignore(?:\[([^\]]*)\])?")

#: Sentinel meaning "all rules" for a line.
ALL = "*"


def suppressions(data: bytes) -> dict[int, frozenset[str]]:
    """Map 1-based line -> rule ids (or ``ALL``) suppressed on that line."""
    if b"lockin:" not in data:
        return {}
    result: dict[int, set[str]] = {}
    for match in _MARKER.finditer(data):
        line = data.count(b"\n", 0, match.start()) + 1
        ids = match.group(1)
        codes = {c.strip() for c in ids.decode("utf-8", "replace").split(",") if c.strip()} if ids else {ALL}
        for target in (line, line + 1):  # DESIGN.md: "on the line or the line before"
            result.setdefault(target, set()).update(codes)
    return {line: frozenset(codes) for line, codes in result.items()}


def is_suppressed(table: dict[int, frozenset[str]], line: int, rule_id: str) -> bool:
    codes = table.get(line)
    return codes is not None and (ALL in codes or rule_id in codes)
