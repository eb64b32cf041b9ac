"""Decide from bytes alone whether a file can match any loaded rule, before paying for a parse.

Two cheap tests, both derived from the loaded rules (`python_index.build_python_index`):

* trigger tokens: a file is a candidate when its bytes contain one (``bytes.__contains__`` per token,
  which beats a regex alternation severalfold);
* import roots: names under a CUDA-specific top-level package (``cupy``, ``triton``, ``apex``, ...) can
  only be used after importing it, so instead of scanning every file for each such package name, the
  prefilter reads the file's import lines (found by the one token ``import``) and checks their roots.

A token's hit counts only where it can be part of a finding: not in a comment, nor in a string no
string rule accepts, nor inside an unrelated identifier. Each hit is first judged from its line alone
(code inside a formatted string's ``{...}`` field is code there; a string hit on a line holding a
triple quote is kept, since the line cannot tell where that string opens or closes);
a file some hit survives is then judged again with its comments and strings read across lines
(`_AcrossLines`), which places the hits on the lines of a docstring (on the torch package, 63 files
pass on docstring words alone).
"""

from __future__ import annotations

import bisect
import re
from typing import Iterator

from .python_index import PythonIndex
from .python_literals import COMMENT, FORMATTED, PLAIN, Literals, Span, formatted_parts

# Both start with a literal, so `re` scans for it at C speed; a superset of roots is harmless.
_IMPORT = re.compile(rb"import[ \t]+([A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*(?:[ \t]+as[ \t]+\w+)?)*)")
_FROM = re.compile(rb"from[ \t]+([A-Za-z_.][\w.]*)[ \t]+import\b")


def imported_roots(data: bytes) -> set[bytes]:
    """Top-level packages named by the file's import statements (a superset is fine; misses are not)."""
    roots = set()
    from_imports = set()
    for match in _FROM.finditer(data):
        from_imports.add(match.end() - 6)
        if match.group(1)[:1] != b".":
            roots.add(match.group(1).split(b".", 1)[0])
    for match in _IMPORT.finditer(data):
        if match.start() in from_imports:
            continue  # the names a from-import binds are no top-level packages
        for part in match.group(1).split(b","):
            roots.add(part.strip().split(b".", 1)[0].split(None, 1)[0])
    return roots


def file_words(data: bytes) -> set[bytes]:
    """The file's distinct identifier-like words (maximal runs of `IDENT_BYTE` bytes)."""
    return set(data.translate(WORD_BYTES).split())


def present_triggers(index: PythonIndex, data: bytes, words: set[bytes] | None = None) -> list[bytes]:
    """The trigger tokens that occur in ``data``; testing all of them (not stopping at the first)
    costs little more, since files without a token scan them all anyway, and the matcher then
    searches only for the tokens that occur.

    A token made of identifier bytes only occurs in ``data`` exactly when it occurs inside one of
    its words, so the tokens are looked for in the distinct words joined by newlines (a fifth to a
    tenth of the bytes: a name is spelled again and again) rather than in the whole file.
    """
    if words is None:
        words = file_words(data)
    haystack = b"\n".join(words) if index.triggers_are_words else data
    present = [token for token in index.triggers if token in haystack]
    if index.word_triggers:
        present += sorted(index.word_triggers.intersection(words))
    return present


def is_candidate(index: PythonIndex, data: bytes, present: list[bytes], words: set[bytes] | None = None) -> bool:
    """Could the file match? ``words`` (`file_words`), when given, spares reading its import lines
    when no import root is among them: in ASCII bytes every root `imported_roots` reads is a whole
    word (a maximal run of ``\\w`` bytes); a non-ASCII byte next to one would make it part of a longer
    word, so other files are always read."""
    lines = _Lines(data)  # each line is scanned once, however many hits it has
    hits = ((token, start) for token in present for start in occurrences(data, token))
    kept = next((hit for hit in hits if _relevant(index, *hit, lines)), None)
    if kept is not None:
        if _outside_triple_quotes(data, kept[1]):
            return True  # most often: the hit is code, and parsing is what the line-level reading does
        across = _AcrossLines(index, data, lines)  # read only for the files a line-level hit keeps
        if across.relevant(*kept):
            return True
        if any(across.relevant(token, start) for token in present for start in occurrences(data, token)):
            return True
    if not index.import_roots_bytes:
        return False
    if words is not None and index.import_roots_bytes.isdisjoint(words) and data.isascii():
        return False
    return not imported_roots(data).isdisjoint(index.import_roots_bytes)


def _outside_triple_quotes(data: bytes, offset: int) -> bool:
    """Do an even number of each triple quote come before ``offset``? Then it is most likely outside
    every docstring; a guess (a triple quote can sit in a comment), used only to parse a file the
    line-level reading parses anyway, without reading its literals."""
    return not (data.count(b'"""', 0, offset) % 2 or data.count(b"'''", 0, offset) % 2)


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


def word_spans(data: bytes, word: bytes, spans: list[tuple[int, int]]) -> None:
    """Append the (start, end) of each whole-word occurrence of ``word`` in ``data`` to ``spans``: what
    `word_occurrences` yields, in one loop (a matcher asks for a hundred words a file, and
    most of their occurrences sit inside longer names: ``cuda`` in ``cudaMalloc``)."""
    size, length = len(data), len(word)
    start = data.find(word)
    while start >= 0:
        end = start + length
        if (start == 0 or not IDENT_BYTE[data[start - 1]]) and (end >= size or not IDENT_BYTE[data[end]]):
            spans.append((start, end))
        start = data.find(word, start + 1)



def _relevant(index: PythonIndex, token: bytes, start: int, lines: _Lines) -> bool:
    """Could the token occurrence at ``start`` be part of a finding? Judged from its line alone.

    Conservative by construction: only a hit inside a comment, inside a one-line string literal whose
    content no string rule accepts, or inside an identifier that is no part of any matched name is
    irrelevant. Anything the line cannot tell (a line inside a multi-line string, say) is relevant.

    Most hits sit in code with no quote or ``#`` before them on their line (``output_size`` for the
    token ``put_``): no string holds them and no comment, so `_line_relevant`'s reading of the whole
    line would only come to the identifier around the hit. That is asked at once (`is_candidate` on
    the vLLM files it skips: 0.27 -> 0.16 s); the verdict is the same (`test_prefilter_lines`).
    """
    if start < lines.code_until(start):
        begin, end = lines.word_around(start)
        return lines.data[begin:end].decode("utf-8", "replace") in index.name_parts
    return _line_relevant(index, token, start, lines)


def _line_relevant(index: PythonIndex, token: bytes, start: int, lines: _Lines) -> bool:
    """`_relevant`, from the reading of the hit's whole line (its comment and one-line strings)."""
    scanned = lines.at(start)
    line = scanned.text
    offset = start - scanned.start
    if offset >= scanned.comment:
        return False  # a comment
    string = scanned.string_at(offset)
    if string is not None:
        opened, close = string
        if scanned.triple:
            return True  # a triple quote opens, closes or is left open here: the line cannot tell
        field = _field_before(line, opened, offset)
        if field is not None:  # code inside a formatted string's replacement field
            in_string = field.count(b"'") % 2 or field.count(b'"') % 2  # a string inside the field:
            return bool(in_string) or _word_relevant(index, scanned, offset)  # the parser judges it
        if opened not in scanned.verdicts:  # one judgement per literal, however many hits it holds
            value = _INTERPOLATION.sub("0", line[opened:close].decode("utf-8", "replace"))
            scanned.verdicts[opened] = any(rule.pattern.search(value) for rule in index.strings)
        return scanned.verdicts[opened]
    return _word_relevant(index, scanned, offset)


def _field_before(line: bytes, opened: int, offset: int) -> bytes | None:
    """The text of the replacement field that holds ``offset``, from its ``{``, when the one-line
    string whose content starts at ``opened`` is a formatted one (an ``f``/``t`` prefix) and more
    braces open than close before ``offset``; else None. A guess that errs towards code (``{{`` counts
    as opening): a field's code is judged as code, as the parser reads it."""
    size = 0  # the identifier right before the quote is the prefix
    while size < 3 and opened - 1 > size and IDENT_BYTE[line[opened - 2 - size]]:
        size += 1
    prefix = line[opened - 1 - size : opened - 1].lower()
    if size == 3 or not (b"f" in prefix or b"t" in prefix):
        return None
    text = line[opened:offset]
    if text.count(b"{") <= text.count(b"}"):
        return None
    return text[text.rfind(b"{"):]


def _word_relevant(index: PythonIndex, scanned: _Line, offset: int) -> bool:
    """Is the identifier around ``offset`` (a hit in code) part of some matched name?"""
    begin, end = scanned.word_at(offset)
    key = -1 - begin  # words' verdicts beside strings' (keyed by their non-negative start)
    if key not in scanned.verdicts:
        scanned.verdicts[key] = scanned.text[begin:end].decode("utf-8", "replace") in index.name_parts
    return scanned.verdicts[key]


class _AcrossLines:
    """Hits judged with the file's comments and string literals read across lines (`python_literals`),
    for a file a line-level hit keeps: the line alone cannot place a hit on a line inside a docstring.

    Up to where that reading stops (``known_until``) it replaces the line-level verdict, which also
    misplaces hits on a line where a triple-quoted string opens or closes beside code; beyond, the
    line-level verdict stands. A comment is irrelevant; a string is relevant when a string rule accepts
    its whole content (the value the matcher tests, `python_strings.string_value`, is the bytes
    between the quotes, escapes as written; a formatted string's, each field read as ``0``); a hit in
    code, or in a formatted string's field, is when its identifier is part of a matched name, as
    `_relevant` says, and a hit in a string inside a field always is. So a file is
    skipped only when no hit can be part of a finding, under the more exact of the two readings, and
    only if the line-level reading alone would have parsed it: a file it skips stays skipped.
    """

    __slots__ = ("index", "lines", "literals", "verdicts")

    def __init__(self, index: PythonIndex, data: bytes, lines: _Lines) -> None:
        self.index = index
        self.lines = lines
        self.literals = Literals(data)
        self.verdicts: dict[int, bool] = {}

    def relevant(self, token: bytes, offset: int) -> bool:
        literals = self.literals
        if not literals.known(offset):
            return _relevant(self.index, token, offset, self.lines)
        found = literals.at(offset)
        if found is None:
            scanned = self.lines.at(offset)
            return _word_relevant(self.index, scanned, offset - scanned.start)
        kind, start, end = found
        if kind == COMMENT:
            return False
        data = literals.data
        if kind == FORMATTED:
            fields, strings = formatted_parts(data, start, end) or ([], [])
            if any(begin <= offset < finish for begin, finish in fields):
                if any(begin <= offset < finish for begin, finish in strings):
                    return True  # a string inside a field: judged where it sits, by the parser
                scanned = self.lines.at(offset)
                return _word_relevant(self.index, scanned, offset - scanned.start)
        verdict = self.verdicts.get(start)
        if verdict is None:
            value = data[start:end] if kind == PLAIN else _without_fields(data, start, end, fields)
            verdict = self.verdicts[start] = any(rule.pattern.search(value.decode("utf-8", "replace"))
                                                 for rule in self.index.strings)
        return verdict


def _without_fields(data: bytes, start: int, end: int, fields: list[Span]) -> bytes:
    """A formatted string's value as the matcher reads it (`python_strings.string_value`): each
    field reads as ``0``, the rest as written."""
    pieces, position = [], start
    for begin, finish in fields:
        pieces += [data[position:begin], b"0"]
        position = finish
    pieces.append(data[position:end])
    return b"".join(pieces)


class _Lines:
    """The scanned lines of one file, found by offset; the last one is remembered, since a token's
    hits come in order (finding a long line's start again for each hit was quadratic too)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.by_start: dict[int, _Line] = {}
        self.last: _Line | None = None
        self._code = (0, 0, 0)  # the last line `code_until` read: its start, end, first quote or '#'
        self._word = (0, 0)  # the last identifier `word_around` found

    def code_until(self, offset: int) -> int:
        """Where the first quote or ``#`` of the line holding ``offset`` is (the line's end when it has
        none): a hit before it is code, outside every string and comment. Read once per line, as `at`
        reads a line (reading it again for each of a long line's hits was quadratic)."""
        line_start, line_end, special = self._code
        if not line_start <= offset < line_end:
            data = self.data
            line_start = data.rfind(b"\n", 0, offset) + 1
            line_end = data.find(b"\n", offset)
            line_end = len(data) if line_end < 0 else line_end
            found = _QUOTE_OR_HASH.search(data, line_start, line_end)
            special = found.start() if found is not None else line_end
            self._code = (line_start, line_end, special)
        return special

    def word_around(self, offset: int) -> tuple[int, int]:
        """The (start, end) of the identifier (maximal run of `IDENT_BYTE` bytes) around ``offset``,
        or ``(offset, offset)`` when the byte there is none: what `_Line.word_at` finds, without
        reading the line. The last one found is kept: a long identifier may hold many hits."""
        begin, end = self._word
        if begin <= offset < end:
            return begin, end
        data = self.data
        if offset >= len(data) or not IDENT_BYTE[data[offset]]:
            return offset, offset
        begin = offset
        while begin and IDENT_BYTE[data[begin - 1]]:
            begin -= 1
        found = _WORD.match(data, offset)
        end = found.end() if found is not None else offset + 1
        self._word = (begin, end)
        return begin, end

    def at(self, offset: int) -> _Line:
        last = self.last
        if last is not None and last.start <= offset < last.start + len(last.text):
            return last
        start = self.data.rfind(b"\n", 0, offset) + 1
        line = self.by_start.get(start)
        if line is None:
            end = self.data.find(b"\n", offset)
            line = self.by_start[start] = _Line(start, self.data[start : end if end >= 0 else len(self.data)])
        self.last = line
        return line


class _Line:
    """One line's comment start and one-line string literals, found in one left-to-right pass (judging
    each hit from the line's start instead was quadratic on long lines with many hits)."""

    __slots__ = ("start", "text", "comment", "starts", "spans", "verdicts", "words", "word_starts", "triple")

    def __init__(self, start: int, text: bytes) -> None:
        self.start = start
        self.text = text
        self.comment = len(text)
        spans: list[tuple[int, int]] = []
        quote, opened = 0, 0
        found = _SPECIAL.search(text)  # jumping from one quote, '#' or backslash to the next (a byte
        while found is not None:  # loop in Python cost more than the rest of the prefilter)
            position = found.start()
            char = text[position]
            if quote:
                if char == 0x5C:  # a backslash escapes the next byte
                    position += 1
                elif char == quote:
                    spans.append((opened, position))
                    quote = 0
            elif char in (0x22, 0x27):  # " or '
                quote, opened = char, position + 1
            elif char == 0x23:  # '#'
                self.comment = position
                break
            found = _SPECIAL.search(text, position + 1)
        if quote:
            spans.append((opened, len(text)))  # unclosed on this line: the rest of it
        self.spans = spans
        self.starts = [opened for opened, _ in spans]
        self.verdicts: dict[int, bool] = {}
        self.words: list[tuple[int, int]] | None = None
        self.word_starts: list[int] = []
        #: A triple quote on the line: its one-line reading of strings may be wrong either way (the
        #: closing ``"""`` of a docstring reads as an empty string and the opening of another).
        self.triple = b'"""' in text or b"'''" in text

    def word_at(self, offset: int) -> tuple[int, int]:
        """The (start, end) of the identifier around ``offset`` (all the line's identifiers are found
        once, with a regex, the first time one is asked for)."""
        if self.words is None:
            self.words = [m.span() for m in _WORD.finditer(self.text)]
            self.word_starts = [start for start, _ in self.words]
        index = bisect.bisect_right(self.word_starts, offset) - 1
        if index >= 0 and offset < self.words[index][1]:
            return self.words[index]
        return offset, offset

    def string_at(self, offset: int) -> tuple[int, int] | None:
        """The (start, end) of the string literal's content that holds ``offset``, if any."""
        index = bisect.bisect_right(self.starts, offset) - 1
        if index >= 0 and offset < self.spans[index][1]:
            return self.spans[index]
        return None


_INTERPOLATION = re.compile(r"\{[^{}]*\}")
#: The bytes `_Line` acts on: quotes, '#' and backslash (every other byte it steps over).
_SPECIAL = re.compile(rb"[\"'#\\]")
#: Quotes and '#': where none comes before a hit on its line, the hit is in code (`_relevant`).
_QUOTE_OR_HASH = re.compile(rb"[\"'#]")
#: An identifier, as `IDENT_BYTE` defines its bytes.
_WORD = re.compile(rb"[A-Za-z0-9_\x80-\xff]+")
#: Bytes that can continue a Python identifier (non-ASCII bytes included: UTF-8 identifiers).
IDENT_BYTE = [chr(b).isalnum() or b == ord("_") or b >= 0x80 for b in range(256)]
#: ``data.translate(WORD_BYTES).split()``: the file's identifier-like words (every other byte a space).
WORD_BYTES = bytes(b if IDENT_BYTE[b] else 0x20 for b in range(256))
