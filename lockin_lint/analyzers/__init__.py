"""One analyzer per kind of file, looked up by file name.

Adding a kind of file is one module with a class that follows `base.Analyzer` and one entry in
`ANALYZERS` below (see docs/architecture.md). Nothing else dispatches on languages. An entry names
its implementation by module and class and imports it on first use: discovery, and a run whose
results all come from the result cache, never import tree-sitter or a parser.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .file_kinds import (C_CPP_SUFFIXES, CONFIG_NAMES, CUDA_SUFFIXES, DEPS_NAMES, NOTEBOOK_SUFFIXES, PYTHON_SUFFIXES,
                         NameGlobs, globs_regex)

if TYPE_CHECKING:
    from ..model import FileResult
    from .base import Analyzer
    from .context import FileContext


@dataclass
class Entry:
    """A registry entry: the files an analyzer takes, and where its class is (imported lazily)."""

    language: str
    implementation: str  # "module:Class", relative to this package
    suffixes: frozenset[str] = frozenset()
    names: NameGlobs | None = None
    _analyzer: Analyzer | None = field(default=None, repr=False, compare=False)

    def takes(self, path: str, suffix: str) -> bool:
        return suffix in self.suffixes or (self.names is not None and self.names.match(path))

    @property
    def patterns(self) -> tuple[str, ...]:
        """The file-name globs `takes` accepts (``*.py``, ``requirements*.txt``), for tools that pick
        files by name before calling us: the pre-commit hook's ``files`` regex."""
        return tuple(f"*{suffix}" for suffix in sorted(self.suffixes)) + (self.names.patterns if self.names else ())

    def analyzer(self) -> Analyzer:
        if self._analyzer is None:
            module, _, cls = self.implementation.partition(":")
            self._analyzer = getattr(importlib.import_module(f".{module}", __name__), cls)()
        return self._analyzer

    def check(self, path: str, data: bytes, ctx: FileContext) -> FileResult:
        return self.analyzer().check(path, data, ctx)


#: Asked in this order; the first that takes a file gets it. A file no analyzer takes is only
#: checked when named explicitly, and is then read as Python (`FALLBACK`).
ANALYZERS: tuple[Entry, ...] = (
    Entry("python", "python:PythonAnalyzer", PYTHON_SUFFIXES),
    Entry("cuda", "cuda:CudaAnalyzer", CUDA_SUFFIXES | C_CPP_SUFFIXES),
    Entry("notebook", "notebook:NotebookAnalyzer", NOTEBOOK_SUFFIXES),
    Entry("deps", "manifests:ManifestAnalyzer", names=DEPS_NAMES),
    Entry("config", "build_files:BuildFileAnalyzer", names=CONFIG_NAMES),
)
FALLBACK: Entry = ANALYZERS[0]
#: The suffixes of source code (what benchmarks and fixture tests pick up).
SOURCE_SUFFIXES = PYTHON_SUFFIXES | CUDA_SUFFIXES | C_CPP_SUFFIXES
_BY_LANGUAGE = {a.language: a for a in ANALYZERS}


def analyzer_for(path: str) -> Entry:
    posix = path.replace(os.sep, "/")
    suffix = os.path.splitext(posix)[1]
    return next((a for a in ANALYZERS if a.takes(posix, suffix)), FALLBACK)


def analyzer_named(language: str) -> Entry:
    return _BY_LANGUAGE[language]


def language_of(path: str) -> str:
    """Which analyzer reads the file: ``python``, ``cuda`` (C, C++ and CUDA), ``notebook``, ``deps``
    or ``config``. Unknown names read as Python, since only files named explicitly get here."""
    return analyzer_for(path).language


def is_source(shown: str) -> bool:
    """Whether walking a tree should pick this file up (by display path: workflow files need it)."""
    posix = shown.replace(os.sep, "/")
    suffix = os.path.splitext(posix)[1]
    return any(a.takes(posix, suffix) for a in ANALYZERS)


def files_regex() -> str:
    """Every file name some analyzer takes, as one regex (the pre-commit hook's ``files``)."""
    return globs_regex(tuple(pattern for entry in ANALYZERS for pattern in entry.patterns))


__all__ = ["ANALYZERS", "SOURCE_SUFFIXES", "Entry", "analyzer_for", "analyzer_named", "files_regex", "is_source",
           "language_of"]
