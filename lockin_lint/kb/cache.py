"""A small on-disk cache of compiled artefacts, keyed by the content they were built from.

Entries are pickles written atomically (temp file + rename) so concurrent runs (pre-commit, editors,
``--jobs``) never read half a file; any unreadable entry is simply rebuilt. Set ``LOCKIN_LINT_CACHE_DIR``
to move the cache; ``--no-cache`` bypasses it.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    explicit = os.environ.get("LOCKIN_LINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lockin-lint"


def load(key: str) -> Any | None:
    try:
        with open(cache_dir() / f"rules-{key}.pickle", "rb") as handle:
            return pickle.load(handle)
    except Exception:  # a missing, stale or foreign entry is rebuilt, never an error
        return None


def store(key: str, value: Any) -> None:
    directory = cache_dir()
    temp = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=".rules-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, directory / f"rules-{key}.pickle")
        temp = None
    except OSError:
        pass  # a read-only home or full disk only costs speed
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
