"""Git submodules of the scanned directories, as globs the report counts as vendored code.

A submodule is someone else's repository pinned inside this one (CUTLASS in ``third_party/`` is the
usual case): it is ported upstream or replaced, not ported by hand, so the report keeps it out of
the product-code headline. Only ``.gitmodules`` is read; git itself is never run.
"""

from __future__ import annotations

import re
from pathlib import Path

from .discover import display_path

_PATH = re.compile(r"^\s*path\s*=\s*(.+?)\s*$", re.MULTILINE)


def submodule_globs(paths: list[str], cwd: Path) -> tuple[str, ...]:
    """``<display path of the submodule>/*`` for every submodule of a scanned directory."""
    globs: list[str] = []
    for given in paths:
        root = (cwd / given) if not Path(given).is_absolute() else Path(given)
        modules = root / ".gitmodules"
        if not modules.is_file():
            continue
        try:
            text = modules.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for found in _PATH.findall(text):
            shown = display_path(root / found, cwd)
            globs.append(f"{shown.removeprefix('./')}/*")
    return tuple(dict.fromkeys(globs))
