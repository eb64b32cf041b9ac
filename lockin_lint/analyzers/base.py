"""The analyzer protocol: what a front end for one kind of file declares and does.

An analyzer turns ``(path, bytes, context)`` into a `FileResult`; its entry in the registry
(`analyzers/__init__.py`) says which files it takes (by suffix or by name glob, from `file_kinds`).
The engine and discovery ask the registry and know nothing else about any analyzer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..model import FileResult

if TYPE_CHECKING:
    from .context import FileContext


class Analyzer(Protocol):
    #: The key rules list under ``languages:`` (``python``, ``cuda``, ``deps``, ...).
    language: str

    def check(self, path: str, data: bytes, ctx: FileContext) -> FileResult:
        """Findings, errors and cross-file facts of one file's bytes. Never touches the file system."""
        ...
