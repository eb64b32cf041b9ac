"""Optional imports of public names that nothing in the project imports, confirmed across the run.

`analyzers.python_fallback_imports` handles ``try: from triton.tools.disasm import extract as
_extract`` / ``except ImportError: _extract = None`` when the module never reads ``_extract``: the
import defines nothing the code runs. A public name (flash-attention's ``extract`` in
``flash_attn/cute/cute_dsl_utils.py``, judged false twice: seeds 8181 and 9191) can be imported by
another module, which one file cannot see; the file records it as a candidate
(`FileFacts.unused_imports`) and this pass handles its findings, noted "optional import, unused",
when no other Python file of the run may import it.

"May import" errs on the safe side and needs no parse: a file that spells the module's name (its
stem, or its package's for an ``__init__.py``) as a word, and then either spells the public name in
an import statement (``from ... import (a, extract)``), as an attribute (``utils.extract``), in
quotes (``getattr(utils, "extract")``), or star-imports (``from .utils import *``). A docstring that
uses the word (flash-attention's ``interface.py``: "extract dynamic num splits") is no import. A
file that does not spell the module's name cannot import from it (a re-export through a package's
``__init__`` spells it there, with the name or a star). Files outside the run are not seen: a
library whose users import the name would be wrongly handled, as for `project.rocm_callers`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..model import FileResult, Finding, Reader, UnusedImport, with_open_handled
from .pass_background import FILES_PER_TASK, Early, MapLater, early_answers, start_search

_PYTHON = (".py", ".pyi", ".ipynb")
#: Python files handed to one pool task when the search starts early.
_CHUNK = FILES_PER_TASK
_NOTE = "optional import, unused"
#: Patterns that start with a literal, which the regex engine searches for fast (no leading ``\b``).
_STAR = re.compile(rb"import\s+\*")
_FROM_IMPORT = re.compile(rb"from\s+[\w.]+\s+import\s+(\([^)]*\)|[^\n]*)")


def mark_unused_imports(results: list[FileResult], files: dict[str, str], read: Reader,
                        early: Early | None = None) -> list[FileResult]:
    """``results`` with the findings of optional imports no other file imports handled as unused
    (``early``: the search of the other files, started by `start_import_search`; used when it was for
    the same candidates)."""
    wanted = _candidates(results)
    if not wanted:
        return results
    answers = early_answers(early, wanted)
    imported = set().union(*answers) if answers is not None else _imported_in(None, read, (wanted, list(files.items())))
    output = []
    for result in results:
        unused = [c for c in result.facts.unused_imports
                  if not any((import_stem(result.path), n) in imported for n in c.names)] \
            if result.facts is not None and result.facts.unused_imports else []
        output.append(_mark(result, unused) if unused else result)
    return output


def start_import_search(results: list[FileResult], files: dict[str, str], map_later: MapLater) -> Early | None:
    """The search of the run's Python files for imports of the candidates, started in the pool
    (``map_later``), and the candidates; None when there are none, or one pool task's worth of files."""
    return start_search(_candidates(results), files, _PYTHON, _CHUNK, _imported_in, map_later)


def _candidates(results: list[FileResult]) -> tuple[tuple[str, UnusedImport], ...]:
    return tuple((r.path, c) for r in results if r.facts is not None for c in r.facts.unused_imports)


def _imported_in(engine: Any, read: Reader, task: tuple[tuple[tuple[str, UnusedImport], ...], list[tuple[str, str]]]
                 ) -> set[tuple[str, str]]:
    """(stem, name) pairs some other Python file of ``task``'s may import (the answers of several such
    tasks, in the pool or not, add up to the answer for all their files)."""
    wanted, work = task
    stems = {import_stem(path) for path, _ in wanted}
    words = {stem: re.compile(re.escape(stem.encode()) + rb"\b") for stem in stems}
    imported: set[tuple[str, str]] = set()
    for shown, path in work:
        if not shown.endswith(_PYTHON):
            continue
        data = read(path)
        spelled = {stem for stem, word in words.items() if _spells(data, stem.encode(), word)} \
            if data is not None else stems
        for owner, candidate in wanted:
            stem = import_stem(owner)
            if owner != shown and stem in spelled and (data is None or _may_import(data, candidate)):
                imported.update((stem, name) for name in candidate.names)
    return imported


def import_stem(path: str) -> str:
    """The name another module imports ``path`` by: its file name, or its package's for ``__init__``."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1].rsplit(".", 1)[0]
    return parts[-2] if name == "__init__" and len(parts) > 1 else name


def _spells(data: bytes, text: bytes, word: re.Pattern[bytes], dotted: bool = False) -> bool:
    """Does ``data`` hold ``text`` as a whole word (right after a dot when ``dotted``)? ``word`` is
    ``text`` followed by a word boundary. A plain search first: most files do not spell it."""
    needle = b"." + text if dotted else text
    start = data.find(needle)
    while start >= 0:
        at = start + 1 if dotted else start
        if (dotted or start == 0 or not _word_byte(data[start - 1])) and word.match(data, at):
            return True
        start = data.find(needle, start + 1)
    return False


def _word_byte(byte: int) -> bool:
    return chr(byte).isalnum() or byte == ord("_")


def _may_import(data: bytes, candidate: UnusedImport) -> bool:
    if _STAR.search(data):
        return True
    for name in candidate.names:
        text = name.encode()
        if text not in data:
            continue
        word = re.compile(re.escape(text) + rb"\b")
        if _spells(data, text, word, dotted=True) or any(quote + text + quote in data for quote in (b'"', b"'")):
            return True
        if any(_spells(names, text, word) for names in _FROM_IMPORT.findall(data)):
            return True
    return False


def _mark(result: FileResult, unused: list[UnusedImport]) -> FileResult:
    places = {place for candidate in unused for place in candidate.places}
    return replace(result, findings=tuple(_handled(f) if (f.rule_id, f.line) in places else f
                                          for f in result.findings))


def _handled(finding: Finding) -> Finding:
    return with_open_handled(finding, dict.fromkeys(finding.targets, _NOTE))
