"""Jupyter notebooks: their code cells analysed as one Python file, findings mapped back to cells.

Experiments live in notebooks, and so does much of a project's ``.cuda()``. The code cells are joined
(one line per source line, magics blanked rather than removed so line numbers survive) and run through
the Python matcher; each finding is then located twice: by cell and line in cell (what a user follows
in Jupyter) and by line in the ``.ipynb`` JSON (a valid region for SARIF and JSON consumers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..limits import LimitError, load_json
from .source import text_lines


class NotebookError(Exception):
    """The file is not notebook JSON; the message names the line where parsing failed."""


@dataclass(frozen=True, slots=True)
class CellLine:
    cell: int  # 1-based index among all cells, as Jupyter numbers them
    line: int  # 1-based line within the cell
    json_line: int  # 1-based line in the .ipynb file
    json_column: int  # 1-based column where that source line's string starts in the file
    text: str = ""  # the source line itself
    ascii_escaped: bool = False  # written with non-ASCII characters as \\u escapes

    def column(self, column: int) -> int:
        """Where 1-based ``column`` of the source line sits in the file, where the line is written as
        a JSON string (quotes, backslashes and, when escaped, non-ASCII characters take more room)."""
        prefix = json.dumps(self.text[: column - 1], ensure_ascii=self.ascii_escaped)[1:-1]
        return self.json_column + len(prefix)


@dataclass(frozen=True)
class Notebook:
    source: str
    lines: list[CellLine]  # one per line of ``source``


#: Cell magics whose body is Python that IPython runs (timed, captured or profiled): only their first
#: line is a magic. The body of any other cell magic (``%%bash``, ``%%writefile``) is not Python.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit", "mprun"})


def _is_magic(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("%", "!"))


def _python_body(first_line: str) -> bool:
    """Whether a cell that starts with ``first_line`` is Python after that line."""
    stripped = first_line.lstrip()
    if not stripped.startswith("%%"):
        return True
    words = stripped[2:].split(None, 1)
    return bool(words) and words[0] in PYTHON_CELL_MAGICS


def _cell_lines(number: int, source: object) -> list[str]:
    """A code cell's source lines; nbformat allows a string or a list of strings, nothing else."""
    if isinstance(source, str):
        lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return lines[:-1] if lines[-1] == "" else lines
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return _cell_lines(number, "".join(source))
    raise NotebookError(f"cell {number}: 'source' must be a string or a list of strings")


def read_notebook(text: str) -> Notebook:
    try:
        data = load_json(text.removeprefix("\ufeff"), "notebook JSON")
    except json.JSONDecodeError as exc:
        raise NotebookError(f"line {exc.lineno}: invalid notebook JSON: {exc.msg}") from None
    except LimitError as exc:
        raise NotebookError(f"line 1: {exc}") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("line 1: not a notebook (no 'cells' list)")
    locator = _Locator(text_lines(text))
    source_lines: list[str] = []
    mapping: list[CellLine] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        lines = _cell_lines(number, cell.get("source", ""))
        python_body = not lines or _python_body(lines[0])
        for index, line in enumerate(lines, start=1):
            json_line, json_column, escaped = locator.find(line)
            source_lines.append("" if not python_body or _is_magic(line) else line)
            mapping.append(CellLine(number, index, json_line, json_column, line, escaped))
        source_lines.append("")  # cells are separate statements
        mapping.append(mapping[-1] if mapping else CellLine(number, 1, 1, 1))
    return Notebook("\n".join(source_lines) + "\n", mapping)


class _Locator:
    """Finds each cell line, in order, in the rows of the ``.ipynb`` file.

    Jupyter writes one source line per row, as a JSON string, with non-ASCII text either literal or
    ``\\u``-escaped depending on the writer; both spellings are tried. Rows are searched from where the
    previous line was found, and a line found nowhere costs a bounded search (``_BUDGET`` rows in
    all), so a large notebook whose lines cannot be found stays linear instead of rescanning the file
    for each line.
    """

    _BUDGET = 200_000

    def __init__(self, rows: list[str]) -> None:
        self.rows = rows
        self.cursor = 0
        self.budget = self._BUDGET

    def find(self, line: str) -> tuple[int, int, bool]:
        """1-based row and column where ``line``'s string starts, and whether it is ASCII-escaped."""
        spellings = list(dict.fromkeys((json.dumps(line, ensure_ascii=False)[1:-1], json.dumps(line)[1:-1])))
        if not spellings[0]:
            return max(self.cursor, 1), 1, False
        for quoted in (True, False):  # a list element first; then a cell whose source is one string
            stop = min(len(self.rows), self.cursor + self.budget)
            for index in range(self.cursor, stop):
                row = self.rows[index]
                for encoded in spellings:
                    column = row.find('"' + encoded) if quoted else row.find(encoded)
                    if column < 0:
                        continue
                    escaped = encoded is not spellings[0]
                    if not quoted:
                        self.cursor = index
                        return index + 1, column + 1, escaped
                    rest = row[column + 1 + len(encoded):]
                    whole = rest.startswith(('\\n"', '"'))  # a list element: the next line is on the next row
                    self.cursor = index + 1 if whole else index
                    return index + 1, column + 2, escaped
            self.budget -= stop - self.cursor  # only misses are charged: hits move the cursor forward
        return max(self.cursor, 1), 1, False
