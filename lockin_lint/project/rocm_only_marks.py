"""A ROCm-only skip mark used by name as a decorator, confirmed across the project.

`analyzers.python_rocm_only_marks` records, per file, the module-level names bound to a skip mark
whose test runs only on ROCm (xformers' ``tests/utils.py``: ``rocm_only = pytest.mark.skipif(not
torch.cuda.is_available() or not torch.version.hip, ...)``) and the matches in definitions decorated
by a bare name the file binds or imports (``@rocm_only`` on ``test_dropout_ck``). This pass joins the
two: when the name's binding is such a mark, every target but rocm of those matches is handled, noted
``ROCm-only test (@rocm_only, utils.py:26)``.

The module is found as `imported_probes` finds it; a file of the run answers from the facts its check
recorded, and only a module outside the run (or one the prefilter skipped) is read and parsed here,
so one file checked alone reads as the whole tree does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import tree_sitter as ts

from ..analyzers.python_rocm_only_marks import rocm_only_marks
from ..model import FileFacts, FileResult, Finding, Reader, with_open_handled
from .imported_probes import _module_path
from .imported_rocm_flags import module_names


def mark_rocm_only_tests(results: list[FileResult], files: dict[str, str], read: Reader,
                         is_file: Callable[[str], bool], parser: Callable[[], ts.Parser]) -> list[FileResult]:
    """``results`` with the matches in a test decorated by a ROCm-only mark handled off ROCm."""
    shown_of = {real: shown for shown, real in files.items()}
    facts: dict[str, FileFacts | None] = {r.path: r.facts for r in results}
    marks: dict[str, tuple[str, dict[str, int]]] = {}  # module path -> (how notes name it, name -> line)
    output = []
    for result in results:
        uses = result.facts.rocm_only_mark_uses if result.facts is not None else ()
        notes: dict[tuple[str, int], str] = {}
        for name, module, places in uses:
            where = files.get(result.path) if not module else _module_path(result.path, files, module, is_file)
            if where is None:
                continue
            if where not in marks:
                marks[where] = module_names(where, shown_of.get(where), facts, read, parser,
                                            lambda known: known.rocm_only_marks, rocm_only_marks)
            shown, bound = marks[where]
            if name in bound:
                for place in places:
                    notes.setdefault(place, f"ROCm-only test (@{name}, {shown}:{bound[name]})")
        output.append(replace(result, findings=tuple(_handled(f, notes) for f in result.findings))
                      if notes else result)
    return output


def _handled(finding: Finding, notes: dict[tuple[str, int], str]) -> Finding:
    note = notes.get((finding.rule_id, finding.line))
    if note is None:
        return finding
    return with_open_handled(finding, {target: note for target in finding.targets if target != "rocm"})
