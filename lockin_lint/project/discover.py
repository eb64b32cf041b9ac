"""Walk the paths a user named and decide which files each analyzer gets.

Directories and files that a ``.gitignore`` (in the tree, or above it up to the repository top)
ignores are skipped, as Ruff does. Directory symlinks are never followed (that is what makes symlink loops harmless); file symlinks
are, and a broken or looping one becomes an error entry rather than a silently dropped file.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..analyzers import is_source
from ..limits import MAX_FILE_BYTES
from ..model import FileError

if TYPE_CHECKING:  # imported when a walk meets a .gitignore: files named one by one never need it
    import pathspec

#: Directories that never hold a project's own source (VCS data, caches, virtualenvs).
DEFAULT_EXCLUDES = frozenset(
    {".git", ".hg", ".svn", ".bzr", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
     ".tox", ".nox", ".venv", "venv", ".eggs", "node_modules", ".direnv", "__pypackages__"}
)


@dataclass
class Discovery:
    #: (display path, path to open) pairs, sorted by display path
    files: list[tuple[str, str]] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


def display_path(path: Path, cwd: Path) -> str:
    """Relative, ``/``-separated path as shown in every output (stable across machines)."""
    try:
        return text_name(path.relative_to(cwd).as_posix())
    except ValueError:
        return text_name(Path(os.path.relpath(path, cwd)).as_posix() if path.is_absolute() else path.as_posix())


def text_name(name: str) -> str:
    """A file name as valid text: bytes that are not UTF-8 (``bad\\xffname.py``, which Python holds as
    lone surrogates that no output can encode) are shown as ``\\xff`` escapes. Only the shown name
    changes; the file is still opened by its real name."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def discover(paths: list[str], cwd: Path | None = None, extend_exclude: tuple[str, ...] = (),
             exclude: tuple[str, ...] | None = None, force_exclude: bool = False,
             respect_gitignore: bool = True, root: Path | None = None) -> Discovery:
    """Files to check, sorted by display path.

    ``paths`` are relative to ``cwd``; display paths are relative to ``root`` (the project root: the
    configuration file's directory), so that a run from a subdirectory reports, excludes and
    fingerprints every file the same way as a run from the top. ``exclude`` replaces the default
    directory excludes, ``extend_exclude`` adds to them; both are globs over names and display paths.
    Files named explicitly are checked whatever they are, as Ruff does, unless ``force_exclude``
    (pre-commit names every staged file).
    """
    cwd = cwd or Path.cwd()
    base = Path(os.path.abspath(root)) if root is not None else cwd
    walker = _Walker(_Excluder(extend_exclude), DEFAULT_EXCLUDES if exclude is None else frozenset(), exclude or (),
                     respect_gitignore)
    for raw in paths:
        path = Path(raw)
        absolute = _lexical(path if path.is_absolute() else cwd / path)
        shown = display_path(absolute, base)
        try:
            _named(walker, absolute, shown, force_exclude)
        except OSError as exc:  # a directory on the way that cannot be searched
            walker.errors.append(FileError(shown, f"cannot access: {exc.strerror or exc}"))
    errors = sorted(set(walker.errors), key=lambda e: (e.path, e.message))  # a path named twice: one error
    return Discovery(sorted(walker.files.items()), errors)


def _lexical(path: Path) -> Path:
    """``sub/../ok.py`` as ``ok.py``, so that one file named twice is checked once, unless a symlink
    makes the two spellings different files (then the path is kept as written)."""
    normal = Path(os.path.normpath(path))
    return normal if normal == path or os.path.realpath(normal) == os.path.realpath(path) else path


def _named(walker: _Walker, absolute: Path, shown: str, force_exclude: bool) -> None:
    """Add one path named on the command line: a directory to walk, or a file checked whatever it is."""
    if absolute.is_symlink() and not absolute.exists():
        walker.errors.append(FileError(shown, "broken symlink or symlink loop"))
    elif not os.path.lexists(absolute):
        walker.errors.append(FileError(shown, "no such file or directory"))
    elif absolute.is_dir():
        walker.walk(str(absolute), shown)
    elif absolute.is_file():
        if not (force_exclude and walker.is_excluded(absolute.name, shown)):
            walker.add(shown, str(absolute))  # named explicitly: checked whatever its suffix
    else:
        walker.errors.append(FileError(shown, "not a regular file"))


class _Excluder:
    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns

    def __call__(self, name: str, shown: str) -> bool:
        return bool(self.patterns) and any(
            fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(shown, p) for p in self.patterns
        )


class _Walker:
    """Walks with plain strings: pathlib objects per entry cost more than the prefilter on big trees."""

    def __init__(self, excluded: _Excluder, default_dirs: frozenset[str], exclude: tuple[str, ...],
                 respect_gitignore: bool = True) -> None:
        self.respect_gitignore = respect_gitignore
        self.excluded = excluded
        self.default_dirs = default_dirs
        self.replacing = _Excluder(exclude)
        self.files: dict[str, str] = {}
        self.errors: list[FileError] = []

    def is_excluded(self, name: str, shown: str) -> bool:
        if name in self.default_dirs or self.excluded(name, shown) or self.replacing(name, shown):
            return True
        parts = shown.split("/")[:-1]  # a file under an excluded directory, named explicitly
        return any(p in self.default_dirs or self.excluded(p, p) or self.replacing(p, p) for p in parts)

    def add(self, shown: str, path: str) -> None:
        self.files.setdefault(shown, path)

    def walk(self, root: str, root_shown: str) -> None:
        ancestors = _ancestor_ignores(root) if self.respect_gitignore else None
        in_repository = ancestors is not None
        stack = [(root, "" if root_shown == "." else root_shown + "/", ancestors or ())]
        while stack:
            directory, prefix, ignores = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError as exc:
                self.errors.append(FileError(prefix.rstrip("/") or ".", f"cannot list directory: {exc.strerror}"))
                continue
            if in_repository and any(e.name == ".gitignore" for e in entries):
                ignores = (*ignores, *_load_gitignore(directory))
            for entry in entries:
                shown = prefix + text_name(entry.name)
                is_dir = entry.is_dir(follow_symlinks=False)
                if ignores and _git_ignored(ignores, entry.path, is_dir):
                    continue
                if is_dir:
                    if entry.name not in self.default_dirs and not self.excluded(entry.name, shown) \
                            and not self.replacing(entry.name, shown):
                        stack.append((entry.path, shown + "/", ignores))
                elif is_source(shown) and not self.excluded(entry.name, shown) \
                        and not self.replacing(entry.name, shown):
                    self._file(entry, shown)

    def _file(self, entry: os.DirEntry[str], shown: str) -> None:
        if entry.is_symlink() and not os.path.exists(entry.path):  # exists() follows, and survives loops
            self.errors.append(FileError(shown, "broken symlink or symlink loop"))
        elif entry.is_file():
            self.add(shown, entry.path)
        elif not entry.is_symlink() or not os.path.isdir(entry.path):
            self.errors.append(FileError(shown, "not a regular file"))


_Ignore = tuple[str, "pathspec.GitIgnoreSpec"]


def _load_gitignore(directory: str) -> tuple[_Ignore, ...]:
    import pathspec  # 20 ms: a pre-commit run names its files and never walks

    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as handle:
            lines = handle.read(MAX_FILE_BYTES).split("\n")
    except OSError:
        return ()
    try:
        return ((directory, pathspec.GitIgnoreSpec.from_lines(lines)),)
    except Exception:  # noqa: BLE001 - pathspec rejects lines git accepts (a lone "!", "[z-a]")
        return ((directory, pathspec.GitIgnoreSpec.from_lines([line for line in lines if _pattern_ok(line)])),)


def _pattern_ok(line: str) -> bool:
    """Whether pathspec accepts one ``.gitignore`` line; git ignores a pattern it cannot use, and so
    does discovery, instead of failing the run."""
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except Exception:  # noqa: BLE001 - pathspec raises several types for a bad pattern
        return False
    return True


def _ancestor_ignores(root: str) -> tuple[_Ignore, ...] | None:
    """``.gitignore`` files above the scan root, up to the repository's top (where ``.git`` is).

    None when the root is in no git repository: like git and Ruff, ``.gitignore`` files mean nothing
    there (a virtualenv's ``.gitignore`` of ``*`` must not hide an installed package being scanned).
    """
    found: list[_Ignore] = []
    current = os.path.abspath(root)
    while not os.path.exists(os.path.join(current, ".git")):
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
        found.extend(_load_gitignore(current))
    return tuple(reversed(found))


def _git_ignored(ignores: tuple[_Ignore, ...], path: str, is_dir: bool) -> bool:
    """Git's precedence: the deepest ``.gitignore`` with a matching pattern (``!`` included) decides."""
    for base, spec in reversed(ignores):
        relative = os.path.relpath(path, base).replace(os.sep, "/") + ("/" if is_dir else "")
        verdict = spec.check_file(relative).include
        if verdict is not None:
            return verdict
    return False
