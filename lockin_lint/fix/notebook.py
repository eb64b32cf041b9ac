"""Fixing a notebook: each code cell's source is rewritten on its own, and only the JSON text of a
changed cell's ``source`` value is replaced, so outputs, metadata, key order, indentation and every
other byte of the ``.ipynb`` file stay as they were.

``json`` gives values but not where they are written; a small scanner over the JSON text finds the
span of each cell's ``source`` value (strings and scalars are decoded by ``json`` itself).
"""

from __future__ import annotations

import json
from typing import Callable

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


class NotebookFixError(Exception):
    """The notebook's JSON could not be scanned; nothing is changed."""


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _value_end(text: str, index: int) -> int:
    """The end of the JSON value starting at ``index``."""
    try:
        return _DECODER.raw_decode(text, index)[1]
    except json.JSONDecodeError as exc:
        raise NotebookFixError(f"line {exc.lineno}: invalid notebook JSON: {exc.msg}") from None


def _members(text: str, index: int) -> list[tuple[str, int, int]]:
    """(key, start, end) of each member of the object at ``index``."""
    members: list[tuple[str, int, int]] = []
    index = _skip(text, index + 1)
    while index < len(text) and text[index] != "}":
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        index = _skip(text, index + 1)  # the colon
        end = _value_end(text, index)
        members.append((key, index, end))
        index = _skip(text, end)
        if index < len(text) and text[index] == ",":
            index = _skip(text, index + 1)
    return members


def _elements(text: str, index: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each element of the array written at text[index:end]."""
    spans = []
    index = _skip(text, index + 1)
    while index < end - 1:
        stop = _value_end(text, index)
        spans.append((index, stop))
        index = _skip(text, stop)
        if text[index] == ",":
            index = _skip(text, index + 1)
    return spans


def _source_json(lines: list[str], original: str) -> str:
    """The new ``source`` list, laid out like the original one (Jupyter writes one line per row)."""
    if original.lstrip().startswith('"'):
        return json.dumps("".join(lines), ensure_ascii=False)
    if not lines:
        return "[]"
    first = _skip(original, 1)
    indent = original[original.rfind("\n", 0, first) + 1 : first] if "\n" in original[:first] else ""
    closing = original[original.rfind("\n") + 1 : -1] if "\n" in original else ""
    if not indent:
        return "[" + ", ".join(json.dumps(line, ensure_ascii=False) for line in lines) + "]"
    body = (",\n" + indent).join(json.dumps(line, ensure_ascii=False) for line in lines)
    return f"[\n{indent}{body}\n{closing}]"


def hide_magics(source: str) -> tuple[str, dict[str, str]] | None:
    """Cell source with each IPython magic (``%time``, ``!pip``) replaced by a placeholder call libcst
    can parse, and the placeholders' original lines; None for a cell magic (``%%bash``: not Python)."""
    if source.lstrip().startswith("%%"):
        return None
    lines = source.splitlines(keepends=True)
    hidden: dict[str, str] = {}
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            token = f"__lockin_magic_{number}__()"
            hidden[token] = line
            lines[number] = line[: len(line) - len(stripped)] + token + ("\n" if line.endswith("\n") else "")
    return "".join(lines), hidden


def restore_magics(source: str, hidden: dict[str, str]) -> str:
    if not hidden:
        return source
    lines = source.splitlines(keepends=True)
    return "".join(hidden.get(line.strip(), line) for line in lines)


def fix_notebook(text: str, fix_cell: Callable[[int, str], str]) -> str:
    """``text`` with each code cell's source replaced by ``fix_cell(cell number, source)``."""
    start = _skip(text, 0)
    if not text.startswith("{", start):
        raise NotebookFixError("line 1: not a notebook (no JSON object)")
    cells = next(((s, e) for key, s, e in _members(text, start) if key == "cells"), None)
    if cells is None or text[cells[0]] != "[":
        raise NotebookFixError("line 1: not a notebook (no 'cells' list)")
    edits: list[tuple[int, int, str]] = []
    for number, (cell_start, _cell_end) in enumerate(_elements(text, *cells), start=1):
        if text[cell_start] != "{":
            continue
        members = {key: (s, e) for key, s, e in _members(text, cell_start)}
        if "source" not in members or json.loads(text[slice(*members.get("cell_type", (0, 0)))] or "null") != "code":
            continue
        source_start, source_end = members["source"]
        raw = json.loads(text[source_start:source_end])
        source = "".join(raw) if isinstance(raw, list) else str(raw)
        fixed = fix_cell(number, source)
        if fixed != source:
            edits.append((source_start, source_end,
                          _source_json(fixed.splitlines(keepends=True), text[source_start:source_end])))
    for begin, end, new in reversed(edits):
        text = text[:begin] + new + text[end:]
    return text
