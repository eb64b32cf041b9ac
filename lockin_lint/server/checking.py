"""Check one editor buffer exactly as ``lockin-lint check FILE`` checks the file on disk.

The text comes from the editor, not the disk; everything else is the CLI's pipeline for a single
named file: the pure core (`api.check_bytes`, whose engine compiles the rules once per settings), the
cross-file passes restricted to this one file (a requirements file's ``-r`` includes are read from
disk, as pip would, and so is the module an imported availability flag comes from), the configuration's per-file-ignores and its baseline, and the fix stage's marks (which findings
``--fix`` can rewrite, and how safely). ``tests/test_server.py``
holds the result equal to the CLI's JSON.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..analyzers import is_source
from ..api import _ignored_for_file, _read, engine_for  # the CLI's own per-file-ignores and reader
from ..fix.plan import FixOptions, mark
from ..kb.ruleset import RuleSet
from ..model import FileError, FileResult, Finding, UnusedSuppression
from ..project.includes import follow_includes
from ..project.imported_probes import mark_imported_probes
from ..project.linker import link_extensions
from .workspace import Resolved

#: File names for buffers that have none yet (an untitled editor tab), by LSP language id, so the
#: registry picks the analyzer the language would get on disk.
UNTITLED_NAMES: dict[str, str] = {
    "python": "untitled.py",
    "cuda-cpp": "untitled.cu",
    "cuda": "untitled.cu",
    "cpp": "untitled.cpp",
    "c": "untitled.c",
    "dockerfile": "Dockerfile",
    "cmake": "CMakeLists.txt",
    "makefile": "Makefile",
    "pip-requirements": "requirements.txt",
    "jupyter": "untitled.ipynb",
}


@dataclass(frozen=True)
class DocumentResult:
    """What one check of a buffer found: the reported findings, problems, and stale suppressions."""

    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    unused_suppressions: tuple[UnusedSuppression, ...] = ()


def checked_name(path: Path | None, language_id: str | None) -> str | None:
    """The name the analyzers dispatch on, or None for a buffer lockin-lint does not read.

    A file the CLI would pick up when walking a tree is checked; so is any buffer the editor calls
    Python. Other files (a README, a JSON file) are left alone, although ``check`` named explicitly
    would read them as Python: an editor opens far more files than anyone would name to the CLI.
    """
    if path is None:
        return UNTITLED_NAMES.get(language_id or "")
    name = path.as_posix()
    return name if is_source(name) or language_id == "python" else None


def check_document(text: str, path: Path | None, shown: str, resolved: Resolved, ruleset: RuleSet) -> DocumentResult:
    """Findings for one buffer: ``shown`` is its display path (relative to ``resolved.root``)."""
    engine = engine_for(ruleset, resolved.settings)
    data = text.encode("utf-8", "surrogateescape")
    result: FileResult = engine.check(shown, data)
    if result.facts is not None and path is not None:  # the cross-file passes, over this file alone
        own = os.fspath(path)
        files = {shown: own}

        def read(name: str) -> bytes | None:  # the buffer, not the disk, for the document itself
            return data if name == own else _read(name)

        results = follow_includes([result], files, engine, read)
        results = link_extensions(results, files, engine, read)
        result = mark_imported_probes(results, files, read, os.path.isfile, lambda: engine.run.python_parser)[0]
    findings = result.findings
    if resolved.settings.per_file_ignores:
        names = {entry.id: entry.name for entry in ruleset.catalog}
        findings = tuple(f for f in findings
                         if not _ignored_for_file(f, names.get(f.rule_id, ""), resolved.settings.per_file_ignores))
    if resolved.baseline:
        findings = tuple(f for f in findings if f.fingerprint not in resolved.baseline)
    marked = mark(sorted(findings, key=lambda f: f.sort_key()), ruleset.lookup(), fix_options(resolved))
    return DocumentResult(tuple(marked), result.errors, result.unused_suppressions)


def fix_options(resolved: Resolved, unsafe: bool = False) -> FixOptions:
    """The fixes ``check`` marks and ``check --fix`` applies under this configuration (portable code)."""
    return FixOptions(unsafe=unsafe, torch_version=resolved.settings.torch_version)
