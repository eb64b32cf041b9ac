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
