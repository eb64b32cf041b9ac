"""Walk the paths a user named and decide which files each analyzer gets.

Directory symlinks are never followed (that is what makes symlink loops harmless); file symlinks
are, and a broken or looping one becomes an error entry rather than a silently dropped file.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .model import FileError

PYTHON_SUFFIXES = frozenset({".py", ".pyi"})

#: Directories that never hold a project's own source (VCS data, caches, virtualenvs).
DEFAULT_EXCLUDES = frozenset(
    {".git", ".hg", ".svn", ".bzr", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
     ".tox", ".nox", ".venv", "venv", ".eggs", "node_modules", ".direnv", "__pypackages__"}
)


@dataclass
class Discovery:
    files: list[tuple[str, Path]] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


def display_path(path: Path, cwd: Path) -> str:
    """Relative, ``/``-separated path as shown in every output (stable across machines)."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, cwd)).as_posix() if path.is_absolute() else path.as_posix()


def is_python(name: str) -> bool:
    return os.path.splitext(name)[1] in PYTHON_SUFFIXES


def discover(paths: list[str], cwd: Path | None = None, extend_exclude: tuple[str, ...] = ()) -> Discovery:
    """Files to check, sorted by display path; ``extend_exclude`` adds glob patterns for directory
    and file names found while walking (explicitly named files are always checked)."""
    base = cwd or Path.cwd()
    excluded = _Excluder(extend_exclude)
    found = Discovery()
    seen: set[str] = set()

    def add(path: Path) -> None:
        shown = display_path(path, base)
        if shown not in seen:
            seen.add(shown)
            found.files.append((shown, path))

    for raw in paths:
        path = Path(raw)
        absolute = path if path.is_absolute() else base / path
        shown = display_path(absolute, base)
        if path.is_symlink() and not path.exists():
            found.errors.append(FileError(shown, "broken symlink or symlink loop"))
        elif not os.path.lexists(absolute):
            found.errors.append(FileError(shown, "no such file or directory"))
        elif absolute.is_dir():
            _walk(absolute, base, add, found.errors, excluded)
        elif absolute.is_file():
            add(absolute)  # named explicitly: checked whatever its suffix, as Ruff does
        else:
            found.errors.append(FileError(shown, "not a regular file"))
    found.files.sort(key=lambda item: item[0])
    found.errors.sort(key=lambda e: e.path)
    return found


class _Excluder:
    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns

    def __call__(self, name: str, shown: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(shown, p) for p in self.patterns)


def _walk(root: Path, base: Path, add: Callable[[Path], None], errors: list[FileError],
          excluded: _Excluder) -> None:
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            errors.append(FileError(display_path(directory, base), f"cannot list directory: {exc.strerror}"))
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in DEFAULT_EXCLUDES and not (
                    excluded.patterns and excluded(entry.name, display_path(Path(entry.path), base))
                ):
                    stack.append(Path(entry.path))
                continue
            if not is_python(entry.name):
                continue
            path = Path(entry.path)
            if excluded.patterns and excluded(entry.name, display_path(path, base)):
                continue
            if entry.is_symlink() and not path.exists():
                errors.append(FileError(display_path(path, base), "broken symlink or symlink loop"))
            elif entry.is_file():
                add(path)
            elif not entry.is_symlink() or not path.is_dir():
                errors.append(FileError(display_path(path, base), "not a regular file"))
