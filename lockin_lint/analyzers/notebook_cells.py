"""Jupyter notebooks: their code cells analysed as one Python file, findings mapped back to cells.

Experiments live in notebooks, and so does much of a project's ``.cuda()``. The code cells are joined
(one line per source line, magics blanked rather than removed so line numbers survive) and run through
the Python matcher; each finding is then located twice: by cell and line in cell (what a user follows
in Jupyter) and by line in the ``.ipynb`` JSON (a valid region for SARIF and JSON consumers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


class NotebookError(Exception):
    """The file is not notebook JSON; the message names the line where parsing failed."""


@dataclass(frozen=True, slots=True)
class CellLine:
    cell: int  # 1-based index among all cells, as Jupyter numbers them
    line: int  # 1-based line within the cell
    json_line: int  # 1-based line in the .ipynb file
    json_column: int  # 1-based column where that source line's string starts in the file


@dataclass(frozen=True)
class Notebook:
    source: str
    lines: list[CellLine]  # one per line of ``source``


def _is_magic(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("%", "!"))


def read_notebook(text: str) -> Notebook:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"line {exc.lineno}: invalid notebook JSON: {exc.msg}") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("line 1: not a notebook (no 'cells' list)")
    raw_lines = text.splitlines()
    cursor = 0
    source_lines: list[str] = []
    mapping: list[CellLine] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        lines = "".join(source).splitlines() if isinstance(source, list) else str(source).splitlines()
        cell_magic = bool(lines) and lines[0].lstrip().startswith("%%")
        for index, line in enumerate(lines, start=1):
            json_line, json_column, cursor = _find(raw_lines, line, cursor)
            source_lines.append("" if cell_magic or _is_magic(line) else line)
            mapping.append(CellLine(number, index, json_line, json_column))
        source_lines.append("")  # cells are separate statements
        mapping.append(mapping[-1] if mapping else CellLine(number, 1, 1, 1))
    return Notebook("\n".join(source_lines) + "\n", mapping)


def _find(raw_lines: list[str], line: str, cursor: int) -> tuple[int, int, int]:
    """Where a cell's source line is written in the JSON file (Jupyter writes one per line)."""
    encoded = json.dumps(line)[1:-1]
    if not encoded:
        return max(cursor, 1), 1, cursor
    for index in range(cursor, len(raw_lines)):
        column = raw_lines[index].find('"' + encoded)
        if column >= 0:
            rest = raw_lines[index][column + 1 + len(encoded):]
            whole = rest.startswith(('\\n"', '"'))  # a list element: the next line is on the next row
            return index + 1, column + 2, index + 1 if whole else index
    for index in range(cursor, len(raw_lines)):  # a cell whose source is one string, not a list
        column = raw_lines[index].find(encoded)
        if column >= 0:
            return index + 1, column + 1, index
    return max(cursor, 1), 1, cursor
