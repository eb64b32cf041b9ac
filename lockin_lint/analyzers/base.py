"""The analyzer protocol: what a front end for one kind of file declares and does.

An analyzer says which files it takes (by suffix or by name glob) and turns ``(path, bytes,
context)`` into a `FileResult`. The engine and discovery ask the registry in `analyzers/__init__.py`
and know nothing else about any analyzer.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Protocol

from ..model import FileResult
from .context import FileContext


class Analyzer(Protocol):
    #: The key rules list under ``languages:`` (``python``, ``cuda``, ``deps``, ...).
    language: str
    #: The file-name globs ``takes`` accepts (``*.py``, ``requirements*.txt``, ``.github/workflows/*.yml``),
    #: for tools that pick files by name before calling us: the pre-commit hook's ``files`` regex.
    patterns: tuple[str, ...]

    def takes(self, path: str, suffix: str) -> bool:
        """Whether this analyzer reads a file of this ``/``-separated path (``suffix`` with its dot)."""
        ...

    def check(self, path: str, data: bytes, ctx: FileContext) -> FileResult:
        """Findings, errors and cross-file facts of one file's bytes. Never touches the file system."""
        ...


class NameGlobs:
    """File-name globs, matched the way users expect: a glob without ``/`` against the name alone
    (so ``conda*.yml`` never matches ``conda/recipe/meta.yaml``), one with a directory
    (``.github/workflows/*.yml``) against the end of the path."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns
        names = [fnmatch.translate(p) for p in patterns if "/" not in p] or ["(?!)"]
        paths = [fnmatch.translate(q) for p in patterns if "/" in p for q in (p, "*/" + p)] or ["(?!)"]
        self._names = re.compile("|".join(f"(?:{p})" for p in names))
        self._paths = re.compile("|".join(f"(?:{p})" for p in paths))

    def match(self, path: str) -> bool:
        return bool(self._names.match(path.rsplit("/", 1)[-1]) or ("/" in path and self._paths.match(path)))


def _glob_regex(glob: str) -> str:
    """One glob as a regex over a ``/``-separated path: ``*`` and ``?`` stay within one component."""
    parts = []
    for char in glob:
        parts.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
    return "".join(parts)


def globs_regex(patterns: tuple[str, ...]) -> str:
    """A regex that ``re.search`` matches against a relative path exactly when the path's name (or,
    for a glob with a directory, its tail) matches one of ``patterns``: pre-commit's ``files`` syntax,
    verbose (``(?x)``), one glob a line, so a diff of the hook file shows which kind of file changed."""
    lines = "\n  | ".join(_glob_regex(p) for p in patterns)
    return f"(?x)(^|/)(\n    {lines}\n)$"
