"""Where a Python file's comments and string literals are, read from its bytes across lines.

Why: the prefilter judges a trigger's hit from its line alone (`prefilter._Line`), so a hit on a line
inside a multi-line string (a docstring naming ``torch.linalg.solve`` or ``.cuda()``) counts as code,
and the file is parsed for nothing: on the torch package about 270 of 670 parsed files report
nothing, most of them for words in docstrings. Reading the whole file once, as Python's tokenizer
does, tells those hits apart.

The reading is conservative: it stops (`Literals.known_until`) at the first place where it could
disagree with the parser, and every offset after that point is "unknown" (the caller keeps its own
verdict). It stops at
* a single-quoted string that reaches the end of its line, or a triple-quoted one the end of the
  file (a syntax error: the parser's recovery decides what follows);
* a formatted string (``f``/``t`` prefix) with a replacement field holding ``#``, a backslash, a
  triple quote or a string that holds a brace or a backslash, or with unbalanced braces (Python 3.12
  lets a field hold the string's own quote: the first closing quote need not end the string; when it
  does not, the reading ends inside a field and stops);
* anywhere, in a file that declares a source encoding and is not ASCII (a legacy multi-byte encoding
  can hide a quote's byte inside a character).
Otherwise strings are found the way Python finds them: a backslash escapes the next byte in every
kind of string (raw ones too, where ``r"\\""`` does not end at the second quote), a prefix is the
identifier right before the quote when it is one of Python's string prefixes, and a ``#`` outside a
string comments out the rest of its line. Tree-sitter's scanner reads valid code the same way.
"""

from __future__ import annotations

import bisect
import re

#: What starts a comment or a string (a prefix is read back from the quote: a pattern that matched
#: it too was tried at every byte of every identifier, and cost more than the rest of the reading).
_SPECIAL = re.compile(rb"[#\"']")
#: Bytes that continue an identifier, as the prefilter counts them (non-ASCII ones included).
_IDENT = [chr(b).isalnum() or b == 0x5F or b >= 0x80 for b in range(256)]
#: The rest of a string after its opening quote, up to and including the closing one.
_REST = {
    b'"""': re.compile(rb'[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""'),
    b"'''": re.compile(rb"[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''"),
    b'"': re.compile(rb'[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*"'),
    b"'": re.compile(rb"[^'\\\n]*(?:\\[\s\S][^'\\\n]*)*'"),
}
_PREFIXES = frozenset({b"r", b"u", b"b", b"br", b"rb", b"f", b"fr", b"rf", b"t", b"tr", b"rt"})
#: What a formatted string's fields are read for: braces, and what the field must not hold.
_FIELD_BYTES = re.compile(rb"[{}\"'#\\]")
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)

COMMENT, PLAIN, FORMATTED = 0, 1, 2


class Literals:
    """The comments and string literals of one file, read lazily in order: `known` reads as far as
    an offset (a file whose first hits are code is not read to its end)."""

    __slots__ = ("data", "starts", "ends", "kinds", "known_until", "position")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts: list[int] = []  # of each literal's content (after the quotes, or at the '#')
        self.ends: list[int] = []  # of its content (before the closing quotes, or the line's end)
        self.kinds: list[int] = []
        #: Where the reading stopped for good (the file's length when it never does).
        self.known_until = len(data)
        self.position = 0  # how far it has read
        if not data.isascii() and _CODING.search(data, 0, _second_line_end(data)):
            self.known_until = 0

    def known(self, offset: int) -> bool:
        """Is ``offset`` before the place the reading stops? Reads on until past ``offset``."""
        data = self.data
        while self.position <= offset < self.known_until:
            found = _SPECIAL.search(data, self.position)
            if found is None:
                self.position = len(data)
                break
            index = found.start()
            if index > offset:
                break  # ``offset`` is in code; read on from the same place next time
            if data[index] == 0x23:  # a comment
                end = data.find(b"\n", index)
                end = len(data) if end < 0 else end
                self._add(index, end, COMMENT)
                self.position = end
                continue
            self._string(index)
        return offset < self.known_until

    def _string(self, index: int) -> None:
        """Read the string whose opening quote is at ``index``."""
        data = self.data
        quote = data[index : index + 3]
        if quote not in _REST:
            quote = data[index : index + 1]
        size = 0  # the identifier right before the quote is its prefix when it is one of Python's
        while size < 3 and index > size and _IDENT[data[index - size - 1]]:
            size += 1
        prefix = data[index - size : index].lower() if size < 3 else b"?"
        formatted = prefix in _PREFIXES and (b"f" in prefix or b"t" in prefix)
        opened = index + len(quote)
        rest = _REST[quote].match(data, opened)
        close = rest.end() - len(quote) if rest is not None else -1
        if rest is None or (formatted and formatted_parts(data, opened, close) is None):
            self.known_until = index - size  # unterminated, or a field the parser may read otherwise
            return
        self._add(opened, close, FORMATTED if formatted else PLAIN)
        self.position = rest.end()

    def _add(self, start: int, end: int, kind: int) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.kinds.append(kind)

    def at(self, offset: int) -> tuple[int, int, int] | None:
        """The (kind, start, end) of the literal whose content holds ``offset``, if any; only
        meaningful when ``known(offset)``."""
        index = bisect.bisect_right(self.starts, offset) - 1
        if index >= 0 and offset < self.ends[index]:
            return self.kinds[index], self.starts[index], self.ends[index]
        return None


Span = tuple[int, int]


def formatted_parts(data: bytes, start: int, end: int) -> tuple[list[Span], list[Span]] | None:
    """The replacement fields (``{`` to ``}`` included) of the formatted string ``data[start:end]``
    and the strings inside them (quotes included), or None when a field holds ``#``, a backslash, a
    triple quote or a string holding a brace or a backslash, or when braces do not balance (``{{`` and
    ``}}`` outside a field are literal braces). Only then does its first closing quote end it under
    every Python version, as its plain reading found."""
    fields: list[Span] = []
    strings: list[Span] = []
    depth, position, opened = 0, start, start
    while True:
        found = _FIELD_BYTES.search(data, position, end)
        if found is None:
            return (fields, strings) if depth == 0 else None
        index = found.start()
        char = data[index]
        following = data[index + 1] if index + 1 < end else -1
        position = index + 1
        if char == 0x7B:  # {
            if depth == 0 and following == 0x7B:
                position += 1
            else:
                opened = index if depth == 0 else opened
                depth += 1
        elif char == 0x7D:  # }
            if not depth:
                if following != 0x7D:
                    return None  # a lone `}`: a syntax error
                position += 1
                continue
            depth -= 1
            if depth == 0:
                fields.append((opened, index + 1))
        elif depth and char in (0x22, 0x27) and data[index + 1 : index + 3] != bytes((char, char)):
            close = data.find(bytes((char,)), index + 1, end)  # a one-line string inside the field
            if close < 0 or _FIELD_BYTES.search(data[index + 1 : close].replace(b"'", b"").replace(b'"', b"")):
                return None  # unclosed before the string's end, or holding braces or a backslash
            strings.append((index, close + 1))
            position = close + 1
        elif depth:
            return None  # '#', a backslash or a triple quote inside a field
        elif char == 0x5C and following in (0x5C, 0x22, 0x27):
            position += 1  # an escaped backslash or quote in the literal text


def _second_line_end(data: bytes) -> int:
    first = data.find(b"\n")
    if first < 0:
        return len(data)
    second = data.find(b"\n", first + 1)
    return len(data) if second < 0 else second
