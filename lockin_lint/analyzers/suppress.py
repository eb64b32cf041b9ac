"""Inline suppressions: ``# lockin: ignore[ID,...]`` (or ``//``) on the line, or alone on the line before.

A bare ``lockin: ignore`` silences every rule there; ``lockin: ignore-file`` silences the whole file.
Codes are what ``--select`` accepts (rule ids, id prefixes such as ``LL1``, rule names, categories),
and Ruff users' ``# noqa: LL120`` works too (only its codes that look like ours count, so a
``# noqa: E501`` beside it is neither a suppression nor "unused"; a bare ``# noqa`` is left to the
tools it was written for).

Markers are found with a regex over the bytes rather than by walking the syntax tree (the matcher never
walks the whole tree); where the file was parsed, the caller passes ``comment_at`` so that a marker
inside a string literal (a test's source text, a docstring) is not taken for a comment. A marker is a
whole word (``lockin: ignored - still to port`` is prose, not a suppression) and an ``ignore[`` without
its ``]`` on the same line is no suppression at all, rather than one that swallows the lines after it.
Suppressions that hide nothing are reported (Ruff's RUF100), so stale ones do not pile up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

_MARKER = re.compile(
    rb"(?:#|//)[ \t]*(?:lockin:[ \t]*ignore(?P<file>-file)?(?:\[(?P<codes>[^\]\n]*)\]|(?![\w\[-]))"
    rb"|noqa:[ \t]*(?P<noqa>[\w-]+(?:[ \t]*,?[ \t]*[\w-]+)*))"
)
#: What a code of ours looks like in a ``noqa`` list (ids and id prefixes: ``LL120``, ``LC1``).
_OUR_CODE = re.compile(r"^L[A-Z]\d*$")

#: Sentinel meaning "all rules".
ALL = "*"


@dataclass(slots=True)
class Suppression:
    line: int
    codes: frozenset[str]
    #: A comment alone on its line covers the next line; one after code covers only its own line.
    standalone: bool = False
    used: bool = False
    #: How the comment was spelled, for messages: ``lockin: ignore`` or ``noqa``.
    marker: str = "lockin: ignore"


def code_hits(code: str, rule_id: str, names: tuple[str, ...]) -> bool:
    """Does one suppression code name this rule? The same test ``--select`` uses."""
    return code == ALL or rule_id.startswith(code) or code in names


@dataclass
class Suppressions:
    comments: list[Suppression] = field(default_factory=list)
    whole_file: Suppression | None = None
    #: Comments by each line they cover, so matching a finding is one lookup however many there are.
    _by_line: dict[int, list[Suppression]] = field(default_factory=dict)

    def add(self, comment: Suppression) -> None:
        self.comments.append(comment)
        self._by_line.setdefault(comment.line, []).append(comment)
        if comment.standalone:
            self._by_line.setdefault(comment.line + 1, []).append(comment)

    def match(self, line: int, rule_id: str, names: tuple[str, ...] = ()) -> Suppression | None:
        """The comment that hides a finding of ``rule_id`` (also known by ``names``: its rule name and
        category) on ``line``, marked as used."""
        for comment in self._by_line.get(line, ()):
            if any(code_hits(code, rule_id, names) for code in comment.codes):
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
    if b"lockin:" not in data and b"noqa:" not in data:
        return table
    line, counted = 1, 0  # line numbers counted incrementally: one pass over the file, not one per marker
    for match in _markers(data):
        if comment_at is not None and not comment_at(match.start()):
            continue
        line += data.count(b"\n", counted, match.start())
        counted = match.start()
        line_start = data.rfind(b"\n", 0, match.start()) + 1
        standalone = not data[line_start : match.start()].strip()
        if match.group("noqa") is not None:
            listed = re.split(r"[\s,]+", match.group("noqa").decode("ascii", "replace"))
            ours = frozenset(c for c in listed if _OUR_CODE.match(c))
            if ours:
                table.add(Suppression(line, ours, standalone=False, marker="noqa"))
            continue
        ids = match.group("codes")
        codes = {c.strip() for c in ids.decode("utf-8", "replace").split(",") if c.strip()} if ids else {ALL}
        entry = Suppression(line, frozenset(codes), standalone=standalone)
        if match.group("file"):
            table.whole_file = table.whole_file or entry
        else:
            table.add(entry)
    return table


_WORDS = (b"lockin:", b"noqa:")


def _markers(data: bytes) -> Iterator[re.Match[bytes]]:
    """``_MARKER.finditer(data)``, without running the regex over the whole file.

    A marker is ``#`` or ``//``, blanks, then ``lockin:`` or ``noqa:``: so every match starts just
    before the run of blanks that precedes an occurrence of one of those two words, and is tried
    there alone (a regex without a literal prefix is tried at every byte: `# noqa: E501` is in most
    files of a large project). Taking the candidates in order and skipping those inside the last
    match keeps the matches `finditer` would give, leftmost and non-overlapping.
    """
    starts: set[int] = set()
    for word in _WORDS:
        found = data.find(word)
        while found >= 0:
            blank = found
            while blank > 0 and data[blank - 1] in (0x20, 0x09):  # space, tab
                blank -= 1
            if data[blank - 1 : blank] == b"#":
                starts.add(blank - 1)
            elif blank >= 2 and data[blank - 2 : blank] == b"//":
                starts.add(blank - 2)
            found = data.find(word, found + 1)
    end = 0
    for start in sorted(starts):
        if start < end:
            continue
        match = _MARKER.match(data, start)
        if match is not None:
            end = match.end()
            yield match
