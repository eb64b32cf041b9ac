"""A ROCm flag imported from another module of the project, confirmed across the project.

`analyzers.python_imported_rocm_flags` records, per file, the module-level names its ROCm build sets
True (bitsandbytes' ``cextension.py``: ``HIP_ENVIRONMENT = True`` under ``if torch.version.hip:``)
and the matches on the false side of such a name imported from another module (``diagnostics/cuda.py``:
``torch.version.hip if HIP_ENVIRONMENT else torch.version.cuda``). This pass joins the two: when the
module the name is imported from binds it so, the matches have rocm handled, noted
``HIP_ENVIRONMENT set True for the ROCm build (cextension.py:385)``.

The module is found as `imported_probes` finds it (a file of the run, else the file on disk the
import names). A file of the run answers from the facts its own check recorded: nothing is parsed
again. Only a module outside the run (``check FILE``, the editor), or one whose check recorded no
facts (the prefilter skipped it), is read and parsed here, so one file checked alone reads as the
whole tree does; what is read outside the run is recorded by the caller's reader.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable

import tree_sitter as ts

from ..analyzers.python_imported_rocm_flags import rocm_flag_bindings
from ..model import FileFacts, FileResult, Finding, Reader, with_open_handled
from .imported_probes import _module_path


def mark_imported_rocm_flags(results: list[FileResult], files: dict[str, str], read: Reader,
                             is_file: Callable[[str], bool], parser: Callable[[], ts.Parser]) -> list[FileResult]:
    """``results`` with the matches on the false side of an imported ROCm flag handled for rocm."""
    shown_of = {real: shown for shown, real in files.items()}
    facts: dict[str, FileFacts | None] = {r.path: r.facts for r in results}
    bindings: dict[str, tuple[str, dict[str, int]]] = {}  # module path -> (how notes name it, flag -> line)
    output = []
    for result in results:
        uses = result.facts.rocm_flag_uses if result.facts is not None else ()
        notes: dict[tuple[str, int], str] = {}
        for name, module, places in uses:
            where = _module_path(result.path, files, module, is_file)
            if where is None:
                continue
            if where not in bindings:
                bindings[where] = _bindings(where, shown_of.get(where), facts, read, parser)
            shown, flags = bindings[where]
            if name in flags:
                notes.update(dict.fromkeys(places, f"{name} set True for the ROCm build ({shown}:{flags[name]})"))
        output.append(_mark(result, notes) if notes else result)
    return output


def _bindings(where: str, shown: str | None, facts: dict[str, FileFacts | None], read: Reader,
              parser: Callable[[], ts.Parser]) -> tuple[str, dict[str, int]]:
    return module_names(where, shown, facts, read, parser, lambda known: known.rocm_flags, rocm_flag_bindings)


def module_names(where: str, shown: str | None, facts: dict[str, FileFacts | None], read: Reader,
                 parser: Callable[[], ts.Parser], recorded: Callable[[FileFacts], tuple[tuple[str, int], ...]],
                 parsed: Callable[[ts.Node], tuple[tuple[str, int], ...]]) -> tuple[str, dict[str, int]]:
    """How a note names the module (its file name, as other notes do, so that a file checked alone
    reads as the tree does), and the names it binds so, with their lines: from its facts
    (``recorded``) when it is a file of the run that has them, else from a parse of the file
    (``parsed``). `rocm_only_marks` reads its marks the same way."""
    known = facts.get(shown) if shown is not None else None
    name = os.path.basename(where)
    if known is not None:
        return name, dict(recorded(known))
    data = read(where)
    return name, dict(parsed(parser().parse(data).root_node)) if data is not None else {}


def _mark(result: FileResult, notes: dict[tuple[str, int], str]) -> FileResult:
    return replace(result, findings=tuple(_handled(f, notes) for f in result.findings))


def _handled(finding: Finding, notes: dict[tuple[str, int], str]) -> Finding:
    note = notes.get((finding.rule_id, finding.line))
    return with_open_handled(finding, {"rocm": note}) if note is not None else finding
