"""Jupyter notebooks: the code cells (joined by `notebook_cells`) go through the Python matcher, and
each finding is placed back at its cell and at its line in the ``.ipynb`` JSON."""

from __future__ import annotations

from dataclasses import replace

from ..kb.prefilter import is_candidate, present_triggers
from ..model import FileError, FileFacts, FileResult, Finding
from .context import FileContext
from .extensions import extension_builds
from .findings import finish, node_findings, skipped, syntax_error, with_facts
from .notebook_cells import CellLine, NotebookError, read_notebook
from .python import python_matches, reported


class NotebookAnalyzer:
    language = "notebook"

    def check(self, path: str, data: bytes, ctx: FileContext) -> FileResult:
        run = ctx.run
        try:
            notebook = read_notebook(data.decode("utf-8", "replace"))
        except NotebookError as exc:
            return FileResult(path, errors=(FileError(path, str(exc)),), lines=ctx.lines)
        source = notebook.source.encode("utf-8")
        present = present_triggers(run.python, source)

        def place(line: int) -> CellLine:
            """Where a line of the joined cell source sits in the .ipynb."""
            return notebook.lines[min(line, len(notebook.lines)) - 1]

        def json_line(line: int) -> int:
            return place(line).json_line

        if ctx.prefilter and not is_candidate(run.python, source, present):
            return skipped(run, path, source, ctx.lines, run.python_parser, json_line)
        tree = run.python_parser.parse(source)
        raw = python_matches(run, path, source, tree, present, ctx.links)
        errors = [FileError(path, syntax_error(tree.root_node), partial=True)] if tree.root_node.has_error else []

        def relocate(finding: Finding) -> Finding:
            at = place(finding.line)
            end = at.column(finding.end_column) if finding.end_line == finding.line \
                else finding.end_column + at.json_column - 1
            return replace(finding, line=at.json_line, end_line=at.json_line, column=at.column(finding.column),
                           end_column=end, cell=at.cell, cell_line=at.line)

        builds = tuple(replace(b, line=place(b.line).json_line, column=place(b.line).column(b.column))
                       for b in extension_builds(raw))
        joined = [replace(m, joined_lines=tuple(map(json_line, m.joined_lines))) if m.joined_lines else m
                  for m in reported(run, raw)]  # the lines a message names, as the finding's own: in the .ipynb
        result = finish(run, path, source, node_findings(run, path, source, joined), errors, ctx.lines,
                        relocate, tree, json_line)
        return with_facts(result, FileFacts(builds=builds))
