"""Notebooks the client sends as notebook documents (LSP 3.17 notebook sync, VS Code's Jupyter editor).

Such a client sends each cell as its own text document. The CLI reads a notebook as one ``.ipynb``
file whose code cells share imports, so the server writes the open cells back into notebook JSON,
checks that exactly as ``check`` checks the file, and moves each finding from its place in the JSON to
its cell and line: the notebook analyzer already records the cell, the line in it, and (through
`notebook_cells.read_notebook`) where that line's text starts in the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from lsprotocol import types

from ..analyzers.notebook_cells import read_notebook
from ..model import Finding


def notebook_json(notebook: types.NotebookDocument, cell_text: Callable[[str], tuple[str, str | None]]) -> str:
    """The notebook as Jupyter writes it (one source line per row), from its cells' current text.

    ``cell_text(uri)`` gives a cell's text and language; only Python code cells are code here.
    """
    cells: list[dict[str, object]] = []
    for cell in notebook.cells:
        text, language = cell_text(cell.document)
        source = text.splitlines(keepends=True)
        if cell.kind == types.NotebookCellKind.Code and language in (None, "python"):
            cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                          "source": source})
        else:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": source})
    document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def by_cell(text: str, findings: tuple[Finding, ...]) -> dict[int, list[Finding]]:
    """The findings of the notebook ``text`` per cell index (0-based), placed in the cell's own text
    (1-based line and column, as in a Python file)."""
    starts = {(at.cell, at.line): at.json_column for at in read_notebook(text).lines}
    placed: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.cell is None or finding.cell_line is None:
            continue
        shift = starts.get((finding.cell, finding.cell_line), 1) - 1
        placed.setdefault(finding.cell - 1, []).append(replace(
            finding, line=finding.cell_line, end_line=finding.cell_line, column=finding.column - shift,
            end_column=finding.end_column - shift))
    return placed
