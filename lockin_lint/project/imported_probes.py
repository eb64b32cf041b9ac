"""Optional imports behind an availability flag computed one module over, confirmed across the project.

`analyzers.python_imported_flags` finds, in one file, ``if TYPE_CHECKING or HAS_TRITON: import triton
... else: <placeholders>`` with ``HAS_TRITON`` imported ``from vllm.triton_utils.importing``. Whether
the flag is False where Triton is missing only the flag's module says. This pass finds that module
and asks the same probe reading that handles the module's own import (`python_probes`); when it
accepts the flag for the package imported, the candidate's matches are handled on every target,
noted "availability probe HAS_TRITON (importing.py:12)".

The module is a file of the run when it is one (``vllm/triton_utils/importing.py`` under the nearest
folder of the importing file that holds it); else it is looked for on disk the same way, beside the
importing file's real path, so ``check FILE`` and the editor (which check one file) see what a run
over the tree sees. What is read or looked for outside the run is recorded by the caller's reader
(`passes.PassContext`), so a cached result is reused only while that file is unchanged. A module
that cannot be found or parsed leaves the findings as they were.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import replace
from typing import Callable

import tree_sitter as ts

from ..analyzers.python_imported_flags import probe_line
from ..model import TARGETS, FileResult, Finding, FlagImport, Reader, with_handled


def mark_imported_probes(results: list[FileResult], files: dict[str, str], read: Reader,
                         is_file: Callable[[str], bool], parser: Callable[[], ts.Parser]) -> list[FileResult]:
    """``results`` with the imports behind another module's availability probe handled everywhere."""
    output = []
    lines: dict[tuple[str, str, str], tuple[str, int] | None] = {}  # (module path, flag, package) -> note parts
    for result in results:
        candidates = result.facts.flag_imports if result.facts is not None else ()
        notes: dict[tuple[str, int], str] = {}
        for candidate in candidates:
            where = _module_path(result.path, files, candidate.module, is_file)
            if where is None:
                continue
            key = (where, candidate.flag, candidate.package)
            if key not in lines:
                lines[key] = _probe(where, candidate, read, parser)
            found = lines[key]
            if found is not None:
                note = f"availability probe {candidate.flag} ({found[0]}:{found[1]})"
                notes.update(dict.fromkeys(candidate.places, note))
        output.append(_mark(result, notes) if notes else result)
    return output


def _probe(path: str, candidate: FlagImport, read: Reader, parser: Callable[[], ts.Parser]) -> tuple[str, int] | None:
    data = read(path)
    if data is None:
        return None
    line = probe_line(parser().parse(data).root_node, candidate.flag, candidate.package)
    return (os.path.basename(path), line) if line is not None else None


def _module_path(shown: str, files: dict[str, str], module: str, is_file: Callable[[str], bool]) -> str | None:
    """The file (a path to open) that ``from module import ...`` in the file ``shown`` names: a file
    of the run, else one on disk beside the importing file's real path."""
    dots = len(module) - len(module.lstrip("."))
    parts = [part for part in module.lstrip(".").split(".") if part]
    if not parts:
        return None
    tails = ["/".join(parts) + ".py", "/".join(parts) + "/__init__.py"]
    for folder in _folders(posixpath.dirname(shown), dots, posixpath.dirname):
        for tail in tails:
            candidate = posixpath.join(folder, tail)
            if candidate in files:
                return files[candidate]
    own = files.get(shown)
    for folder in _folders(os.path.dirname(own), dots, os.path.dirname) if own is not None else []:
        for tail in tails:
            candidate = os.path.join(folder, *tail.split("/"))
            if is_file(candidate):
                return candidate
    return None


def _folders(folder: str, dots: int, up: Callable[[str], str]) -> list[str]:
    """Where a module may sit: for a relative import (``dots`` > 0) the one folder it names (one up per
    extra dot); for an absolute one the file's folder and each folder above it, nearest first."""
    if dots:
        for _ in range(dots - 1):
            folder = up(folder)
        return [folder]
    found = [folder]
    while folder and up(folder) != folder:
        folder = up(folder)
        found.append(folder)
    return found


def _mark(result: FileResult, notes: dict[tuple[str, int], str]) -> FileResult:
    return replace(result, findings=tuple(_handled(f, notes) for f in result.findings))


def _handled(finding: Finding, notes: dict[tuple[str, int], str]) -> Finding:
    note = notes.get((finding.rule_id, finding.line))
    if note is None:
        return finding
    noted = dict(finding.handled)
    return with_handled(finding, {target: note for target in TARGETS if target not in noted})
