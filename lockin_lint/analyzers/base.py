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
