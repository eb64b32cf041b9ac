"""Per-file results kept between runs, so an unchanged file is neither read nor parsed again (Ruff's
cache is the model).

Stored per (tool version, model shape, rule fingerprint, result-changing settings, working directory,
and whether the run names its files one by one or walks a tree: `scope_of`) in the user cache directory (``LOCKIN_LINT_CACHE_DIR`` or ``~/.cache/lockin-lint``), not in the
project: lockin-lint promises never to write into the trees it scans, pre-commit and CI already know
how to keep a user cache directory, and nothing needs adding to a ``.gitignore``.

Two files per key. The *index* holds each file's size, mtime and inode and its content hash: a
matching stat is a hit without reading the file; otherwise the content hash decides. It is small, so
a run that only needs to know whether anything changed (`project.output_memo`) loads nothing else.
The *results* file holds each file's first-pass result (with the facts the cross-file passes need),
pickled on its own (`stored_form`: a pool worker pickles it, the parent only writes the bytes), under
the content hash it was computed from, and what the whole-project passes gave last time
(`project.passes`; the index names the tree that output is for); it is loaded on the first hit. Both are signed pickles (`kb.cache.write_signed`):
loading vLLM's 9,000 findings from JSON took 0.5 s, from a pickle 0.07 s, and the signature means
only this user's own runs are ever unpickled.

Writes are atomic (temp file + rename); concurrent runs (pre-commit, an editor, CI) each write whole,
valid files and the last one wins. The two files may then come from different runs: a result is used
only when its content hash is the one the index vouches for, so a mixed pair costs a re-check, never a
wrong answer. A corrupt, foreign or unsigned file is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
import dataclasses
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..kb.cache import cache_dir, read_signed, write_signed
from ..model import TRANSIENT, FileResult, Settings

#: A file modified this close to the moment its entry was written may have changed again within the
#: same mtime tick; such entries are confirmed by content hash, never by stat alone (git's "racy" rule).
_RACY_SECONDS = 2.0
#: 4: each result is stored as its own pickle (`stored_form`), made where the file was checked.
_FORMAT = 4

Stat = tuple[int, int, int]


def file_stat(path: str) -> Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def scope_of(paths: list[str], cwd: Path | None = None) -> str:
    """``files`` for a run on files named one by one (a pre-commit hook, an editor), else ``tree``.

    The two keep apart caches: a run keeps only its own files' entries, so a one-file run sharing the
    whole tree's cache loaded its index (and the 3 MB results file, for the passes) only to replace
    it with one entry, and the next run of the whole tree started cold."""
    base = cwd or Path.cwd()
    return "files" if paths and all(os.path.isfile(base / p) for p in paths) else "tree"


def run_key(rules_fingerprint: str, settings: Settings, cwd: Path, scope: str = "tree") -> str:
    """What a cached result depends on besides the file itself."""
    key = hashlib.sha256()
    key.update(f"{_FORMAT}\0{__version__}\0{rules_fingerprint}\0{cwd.resolve()}\0{scope}\0".encode())
    key.update(repr(replace(settings, jobs=0)).encode())
    key.update((Path(__file__).parent.parent / "model.py").read_bytes())  # the shape of a result
    return key.hexdigest()[:32]


def tree_digest(hashes: dict[str, str]) -> str:
    """One hash of every file of a run and its content: the whole input of the cross-file passes."""
    return digest("\0".join(f"{shown}\0{h}" for shown, h in sorted(hashes.items())).encode())


class ResultCache:
    def __init__(self, stem: Path) -> None:
        self.key = stem.name
        self.index_path = stem.with_name(f"{stem.name}.index")
        self.results_path = stem.with_name(f"{stem.name}.results")
        self._old: dict[str, Any] = {}
        self._written_at = 0.0
        self._stored: dict[str, Any] | None = None  # the results file, loaded on the first hit
        self._new: dict[str, tuple[Stat, str]] = {}
        self._new_results: dict[str, tuple[str, bytes]] = {}  # shown -> (content hash, `stored_form`)
        self._passes: Any = None
        #: The tree digest the stored passes' output was computed on (kept in the index, so that a run
        #: on another tree knows it cannot use it without loading the results file).
        self._passes_tree: str | None = None
        self.hits = 0
        self._index_changed = False
        self._results_changed = False
        stored = read_signed(self.index_path)
        if isinstance(stored, dict) and stored.get("format") == _FORMAT and isinstance(stored.get("files"), dict):
            self._old = stored["files"]
            written_at = stored.get("written_at")
            self._written_at = written_at if isinstance(written_at, float) else 0.0
            passes_tree = stored.get("passes_tree")
            self._passes_tree = passes_tree if isinstance(passes_tree, str) else None

    @classmethod
    def for_run(cls, rules_fingerprint: str, settings: Settings, cwd: Path, scope: str = "tree") -> ResultCache | None:
        """The run's cache, or None when the rules carry no fingerprint (built in memory by a test)."""
        if not rules_fingerprint:
            return None
        return cls(cache_dir() / "results" / run_key(rules_fingerprint, settings, cwd, scope))

    def _results(self) -> dict[str, Any]:
        if self._stored is None:
            stored = read_signed(self.results_path)
            if isinstance(stored, dict) and stored.get("format") == _FORMAT and isinstance(stored.get("files"), dict):
                self._stored = stored
                self._passes = stored.get("passes")
            else:
                self._stored = {"files": {}}
        return self._stored

    def trusted_hash(self, shown: str, stat: Stat | None) -> str | None:
        """The file's content hash when its stat alone vouches for it (no need to read it)."""
        entry = self._old.get(shown)
        if stat is None or not isinstance(entry, tuple) or len(entry) != 2 or entry[0] != stat:
            return None
        return entry[1] if stat[1] / 1e9 < self._written_at - _RACY_SECONDS and isinstance(entry[1], str) else None

    def get(self, shown: str, stat: Stat | None, content_hash: str | None = None) -> FileResult | None:
        """The cached result when the file is unchanged: by stat alone, or by its content hash."""
        if stat is None:
            return None
        trusted = self.trusted_hash(shown, stat)
        wanted = trusted or content_hash
        if wanted is None or (trusted is None and self.known_hash(shown) != content_hash):
            return None
        stored = self._results()["files"].get(shown)
        if not isinstance(stored, tuple) or len(stored) != 2 or stored[0] != wanted \
                or not isinstance(stored[1], bytes):
            return None
        result = load_stored(stored[1])
        if result is None:
            return None
        if trusted is None:
            self._index_changed = True  # a new stat for the same content
        self._new[shown] = (stat, wanted)
        self._new_results[shown] = stored
        self.hits += 1
        return result

    def known_hash(self, shown: str) -> str | None:
        """The content hash of the cached entry, for a worker to compare with what it reads."""
        entry = self._old.get(shown)
        value = entry[1] if isinstance(entry, tuple) and len(entry) == 2 else None
        return value if isinstance(value, str) else None

    def put(self, shown: str, stat: Stat | None, content_hash: str, result: FileResult,
            stored: bytes | None = None) -> None:
        """Keep ``result``; ``stored`` is its `stored_form` when a pool worker made it already."""
        if stat is not None:
            self._index_changed = self._results_changed = True
            self._new[shown] = (stat, content_hash)
            self._new_results[shown] = (content_hash, stored if stored is not None else stored_form(result))

    def passes(self, tree: str) -> Any:
        """What `project.passes` stored last time, when the index says it was computed on ``tree``
        (it checks again that it applies); else None, without loading the results file."""
        if self._passes_tree != tree:
            return None
        self._results()
        return self._passes

    def put_passes(self, tree: str, value: Any) -> None:
        self._results()
        self._passes = value
        self._passes_tree = tree
        self._results_changed = self._index_changed = True

    def save(self) -> None:
        """Write the entries of this run (files gone since are dropped), atomically; never fatal.
        A run that changed nothing writes nothing."""
        gone = self._new.keys() != self._old.keys()
        if self._results_changed or (gone and self._stored is not None):
            write_signed(self.results_path, {"format": _FORMAT, "files": self._new_results, "passes": self._passes})
        if self._index_changed or gone:
            write_signed(self.index_path, {"format": _FORMAT, "written_at": time.time(), "files": self._new,
                                           "passes_tree": self._passes_tree})


def stored_form(result: FileResult) -> bytes:
    """What the results file keeps of ``result``: a pickle of it `without_transient`.

    Each entry is its own pickle so that a pool worker makes it where it checked the file, for a result
    with no transient field (`has_transient`; all but the C/C++ files whose code facts the passes
    use): it sends only these bytes, which the parent loads instead of the pool's own pickle of the
    result and writes as they are, instead of pickling every result after the run (its serial tail)."""
    return pickle.dumps(without_transient(result), protocol=pickle.HIGHEST_PROTOCOL)


def has_transient(result: FileResult) -> bool:
    """Whether ``result`` holds a field `model` marks `TRANSIENT` (the results file leaves it out)."""
    return bool(_transient_fields(result))


def load_stored(stored: bytes) -> FileResult | None:
    """An entry of the (signed) results file, or None when it does not load as a result."""
    try:
        result = pickle.loads(stored)
    except Exception:  # a stale entry of an older layout is rebuilt, never an error
        return None
    return result if isinstance(result, FileResult) else None


def without_transient(result: FileResult) -> FileResult:
    """``result`` without the fields `model` marks `TRANSIENT` (the parse's code facts): they are
    for this run's cross-file pass only, and would make every stored entry several times larger."""
    dropped = _transient_fields(result)
    if not dropped or result.facts is None:
        return result
    return dataclasses.replace(result, facts=dataclasses.replace(result.facts, **dropped))


def _transient_fields(result: FileResult) -> dict[str, Any]:
    """The `TRANSIENT` fields ``result`` holds, each mapped to None."""
    facts = result.facts
    if facts is None:
        return {}
    return {f.name: None for f in dataclasses.fields(facts) if f.metadata.get(TRANSIENT)
            and getattr(facts, f.name) is not None}
