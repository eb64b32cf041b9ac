"""Inline suppressions: ``# lockin: ignore[ID,...]`` (or ``//``) on the line, or alone on the line before.

A bare ``lockin: ignore`` silences every rule there; ``lockin: ignore-file`` silences the whole file.
Markers are found with a regex over the bytes rather than by walking the syntax tree (the matcher never
walks the whole tree); where the file was parsed, the caller passes ``comment_at`` so that a marker
inside a string literal (a test's source text, a docstring) is not taken for a comment. Suppressions
that hide nothing are reported (Ruff's RUF100), so stale ones do not pile up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

_MARKER = re.compile(rb"(?:#|//)\s*lockin:\s*ignore(-file)?(?:\[([^\]]*)\])?")

#: Sentinel meaning "all rules".
ALL = "*"


@dataclass
class Suppression:
    line: int
    codes: frozenset[str]
    #: A comment alone on its line covers the next line; one after code covers only its own line.
    standalone: bool = False
    used: bool = False

    def covers(self, line: int) -> bool:
        return line == self.line or (self.standalone and line == self.line + 1)


@dataclass
class Suppressions:
    comments: list[Suppression] = field(default_factory=list)
    whole_file: Suppression | None = None

    def match(self, line: int, rule_id: str) -> Suppression | None:
        """The comment that hides a finding of ``rule_id`` on ``line``, marked as used."""
        for comment in self.comments:
            if comment.covers(line) and (ALL in comment.codes or rule_id in comment.codes):
                comment.used = True
                return comment
        if self.whole_file is not None:
            self.whole_file.used = True
            return self.whole_file
        return None

    def unused(self) -> list[Suppression]:
        found = [c for c in self.comments if not c.used]
        if self.whole_file is not None and not self.whole_file.used:
            found.append(self.whole_file)
        return sorted(found, key=lambda c: c.line)


def suppressions(data: bytes, comment_at: Callable[[int], bool] | None = None) -> Suppressions:
    """The file's suppression comments; ``comment_at(offset)`` tells whether a marker is in a comment."""
    table = Suppressions()
    if b"lockin:" not in data:
        return table
    for match in _MARKER.finditer(data):
        if comment_at is not None and not comment_at(match.start()):
            continue
        line = data.count(b"\n", 0, match.start()) + 1
        ids = match.group(2)
        codes = {c.strip() for c in ids.decode("utf-8", "replace").split(",") if c.strip()} if ids else {ALL}
        line_start = data.rfind(b"\n", 0, match.start()) + 1
        entry = Suppression(line, frozenset(codes), standalone=not data[line_start : match.start()].strip())
        if match.group(1):
            table.whole_file = table.whole_file or entry
        else:
            table.comments.append(entry)
    return table
