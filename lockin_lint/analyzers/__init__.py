"""One analyzer per kind of file, looked up by file name.

Adding a kind of file is one module with a class that follows `base.Analyzer` and one entry in
`ANALYZERS` below (see docs/architecture.md). Nothing else dispatches on languages.
"""

from __future__ import annotations

import os

from .base import Analyzer, globs_regex
from .build_files import BuildFileAnalyzer
from .cuda import C_CPP_SUFFIXES, CUDA_SUFFIXES, CudaAnalyzer
from .manifests import ManifestAnalyzer
from .notebook import NotebookAnalyzer
from .python import PYTHON_SUFFIXES, PythonAnalyzer

#: Asked in this order; the first that takes a file gets it. A file no analyzer takes is only
#: checked when named explicitly, and is then read as Python (`FALLBACK`).
ANALYZERS: tuple[Analyzer, ...] = (PythonAnalyzer(), CudaAnalyzer(), NotebookAnalyzer(), ManifestAnalyzer(),
                                   BuildFileAnalyzer())
FALLBACK: Analyzer = ANALYZERS[0]
#: The suffixes of source code (what benchmarks and fixture tests pick up).
SOURCE_SUFFIXES = PYTHON_SUFFIXES | CUDA_SUFFIXES | C_CPP_SUFFIXES
_BY_LANGUAGE = {a.language: a for a in ANALYZERS}


def analyzer_for(path: str) -> Analyzer:
    posix = path.replace(os.sep, "/")
    suffix = os.path.splitext(posix)[1]
    return next((a for a in ANALYZERS if a.takes(posix, suffix)), FALLBACK)


def analyzer_named(language: str) -> Analyzer:
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
    return globs_regex(tuple(pattern for analyzer in ANALYZERS for pattern in analyzer.patterns))


__all__ = ["ANALYZERS", "SOURCE_SUFFIXES", "Analyzer", "analyzer_for", "analyzer_named", "files_regex", "is_source",
           "language_of"]
