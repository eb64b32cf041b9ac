"""Turn a file's bytes into UTF-8 the parser can read, or say why it cannot be scanned.

Python source may legally declare another encoding (PEP 263); such files are transcoded rather than
rejected. Invalid UTF-8 without a declaration is still scanned (tree-sitter tolerates stray bytes) but
reported, so a user learns why a finding may be missing instead of losing the file silently.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from ..model import FileError

_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BINARY_PROBE = 8192


@dataclass(frozen=True, slots=True)
class Decoded:
    """UTF-8 bytes to parse, and a problem worth reporting."""

    data: bytes
    problem: str | None = None


def _declared_encoding(data: bytes) -> str | None:
    for line in data.split(b"\n", 2)[:2]:
        match = _COOKIE.match(line)
        if match:
            return match.group(1).decode("ascii", "replace")
    return None


BINARY_FILE = "binary file (contains NUL bytes), not scanned"


def is_binary(data: bytes) -> bool:
    """Checked for every file, before the prefilter: a binary ``.py`` is worth an error either way."""
    return b"\0" in data[:_BINARY_PROBE]


_LONE_CR = re.compile(rb"\r(?!\n)")


def normalize_bytes(data: bytes) -> bytes:
    """A UTF-16 file (it starts with its byte-order mark, as Windows editors write it) as UTF-8, and
    lone CR line ends (old Mac style, valid Python) as LF, before anything looks at the bytes.

    UTF-16 is full of NUL bytes and would be called binary; a lone CR is a line end to Python and to
    editors but not to tree-sitter, the prefilter or the suppressions, which would read the whole
    file as one line (a ``#`` early on would make the rest a comment). CR -> LF keeps every offset.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return data  # not UTF-16 after all: the binary sniff decides
    return _LONE_CR.sub(b"\n", data) if b"\r" in data else data


def text_lines(text: str) -> list[str]:
    """A text's lines as every other stage counts them: split at LF only.

    ``str.splitlines`` also splits at form feeds, vertical tabs and Unicode line separators, which
    tree-sitter, editors and the suppression comments do not count, so line numbers would drift.
    """
    return text.replace("\r\n", "\n").split("\n")


def decode_utf8(data: bytes) -> Decoded:
    """C, C++ and CUDA sources: UTF-8 (a BOM is dropped), or scanned anyway and reported."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Decoded(data, f"line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); scanned anyway")
    return Decoded(data)


def decode_python(data: bytes) -> Decoded:
    """Python sources: as declared by a PEP 263 cookie, else UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    declared = _declared_encoding(data)
    if declared is not None:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            return Decoded(data, f"unknown encoding {declared!r} declared; scanned as UTF-8")
        if codec != "utf-8":
            try:
                return Decoded(data.decode(codec).encode("utf-8"))
            except UnicodeDecodeError as exc:
                return Decoded(data, f"not valid {declared} as declared: {exc.reason}; scanned as UTF-8")
    return decode_utf8(data)


def decode_text(path: str, data: bytes) -> tuple[Decoded, str, list[FileError]]:
    """A manifest or build file as text, with its decoding problem as a partial-parse note."""
    decoded = decode_utf8(data)
    errors = [FileError(path, decoded.problem, partial=True)] if decoded.problem else []
    return decoded, decoded.data.decode("utf-8", "replace"), errors
