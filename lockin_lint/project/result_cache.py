"""Per-file results kept between runs, so an unchanged file is neither read nor parsed again (Ruff's
cache is the model).

One JSON file per (tool version, model shape, rule fingerprint, result-changing settings, working
directory) in the user cache directory (``LOCKIN_LINT_CACHE_DIR`` or ``~/.cache/lockin-lint``), not in
the project: lockin-lint promises never to write into the trees it scans, pre-commit and CI already
know how to keep a user cache directory, and nothing needs adding to a ``.gitignore``. An entry holds a
file's first-pass result (with the facts the cross-file passes need) and its size, mtime and inode: a
matching stat is a hit without reading the file; otherwise the content hash decides. The cross-file
passes always run again on the (cached) facts, so a run gives exactly the cold result.

Writes are atomic (temp file + rename); concurrent runs (pre-commit, an editor, CI) each write a
whole, valid file and the last one wins. A corrupt or foreign file is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from ..kb.cache import cache_dir
from ..model import FileResult, Settings
from .result_codec import CodecError, decode, encode

#: A file modified this close to the moment its entry was written may have changed again within the
#: same mtime tick; such entries are confirmed by content hash, never by stat alone (git's "racy" rule).
_RACY_SECONDS = 2.0
_FORMAT = 1

Stat = tuple[int, int, int]


def file_stat(path: str) -> Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def run_key(rules_fingerprint: str, settings: Settings, cwd: Path) -> str:
    """What a cached result depends on besides the file itself."""
    key = hashlib.sha256()
    key.update(f"{_FORMAT}\0{__version__}\0{rules_fingerprint}\0{cwd.resolve()}\0".encode())
    key.update(repr(replace(settings, jobs=0)).encode())
    key.update(resources.files("lockin_lint").joinpath("model.py").read_bytes())  # the shape of a result
    return key.hexdigest()[:32]


class ResultCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._old: dict[str, Any] = {}
        self._written_at = 0.0
        self._new: dict[str, Any] = {}
        self._old_linked: dict[str, Any] = {}
        self._linked: dict[str, Any] | None = None
        self.hits = 0
        self._changed = False
        try:
            stored = json.loads(path.read_bytes())
            if isinstance(stored, dict) and stored.get("format") == _FORMAT and isinstance(stored.get("files"), dict):
                self._old = stored["files"]
                self._written_at = float(stored.get("written_at", 0.0))
                if isinstance(stored.get("linked"), dict):
                    self._old_linked = stored["linked"]
        except (OSError, ValueError, TypeError):
            pass  # missing or corrupt: start empty

    @classmethod
    def for_run(cls, rules_fingerprint: str, settings: Settings, cwd: Path) -> ResultCache | None:
        """The run's cache, or None when the rules carry no fingerprint (built in memory by a test)."""
        if not rules_fingerprint:
            return None
        return cls(cache_dir() / "results" / f"{run_key(rules_fingerprint, settings, cwd)}.json")

    def _trusted_stat(self, entry: dict[str, Any], stat: Stat) -> bool:
        return (entry.get("stat") == list(stat)
                and stat[1] / 1e9 < self._written_at - _RACY_SECONDS)

    def get(self, shown: str, stat: Stat | None, content_hash: str | None = None) -> FileResult | None:
        """The cached result when the file is unchanged: by stat alone, or by its content hash."""
        entry = self._old.get(shown)
        if not isinstance(entry, dict) or stat is None:
            return None
        if not self._trusted_stat(entry, stat) and (content_hash is None or entry.get("hash") != content_hash):
            return None
        try:
            result = decode(FileResult, entry.get("result"))
        except CodecError:
            return None
        if entry.get("stat") != list(stat):
            self._changed = True
        self._new[shown] = {**entry, "stat": list(stat)}
        self.hits += 1
        return result

    def known_hash(self, shown: str) -> str | None:
        """The content hash of the cached entry, for a worker to compare with what it reads."""
        entry = self._old.get(shown)
        value = entry.get("hash") if isinstance(entry, dict) else None
        return value if isinstance(value, str) else None

    def put(self, shown: str, stat: Stat | None, content_hash: str, result: FileResult) -> None:
        if stat is not None:
            self._changed = True
            self._new[shown] = {"stat": list(stat), "hash": content_hash, "result": encode(result)}

    def tree_digest(self, hashes: dict[str, str]) -> str:
        """One hash of every file of the run and its content: the cross-file pass's whole input."""
        return digest("\0".join(f"{shown}\0{h}" for shown, h in sorted(hashes.items())).encode())

    def linked(self, tree: str) -> dict[str, FileResult] | None:
        """The results the extension-linking pass replaced, when it ran on exactly this tree before."""
        if self._old_linked.get("tree") != tree or not isinstance(self._old_linked.get("results"), dict):
            return None
        try:
            found = {shown: decode(FileResult, data) for shown, data in self._old_linked["results"].items()}
        except CodecError:
            return None
        self._linked = self._old_linked
        return found

    def put_linked(self, tree: str, results: dict[str, FileResult]) -> None:
        self._changed = True
        self._linked = {"tree": tree, "results": {shown: encode(r) for shown, r in results.items()}}

    def save(self) -> None:
        """Write the entries of this run (files gone since are dropped), atomically; never fatal.
        A run that changed nothing writes nothing."""
        if not self._changed and self._new.keys() == self._old.keys() and self._linked == self._old_linked:
            return
        document = {"format": _FORMAT, "version": __version__, "written_at": time.time(), "files": self._new,
                    "linked": self._linked or {}}
        temp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(document, separators=(",", ":")))  # dumps: the C encoder
            os.replace(temp, self.path)
            temp = None
        except OSError:
            pass  # a read-only home or a full disk only costs speed
        finally:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)
