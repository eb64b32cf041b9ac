"""A small on-disk cache of compiled artefacts, keyed by the content they were built from.

Entries are pickles, because unpickling the compiled rule set is what keeps start-up fast; but
unpickling runs code, and a cache directory may be shared or writable by others. So every entry is
signed with an HMAC keyed by a per-user secret (``.key`` in the cache directory: created with 0600
permissions, used only when it is a regular file owned by this user that nobody else can read or
write), and an entry is unpickled only after its signature checks out. A planted, truncated or
foreign entry is simply rebuilt; with no usable key there is no cache. Entries are written
atomically (temp file + rename) so concurrent runs never read half a file. Set
``LOCKIN_LINT_CACHE_DIR`` to move the cache; ``--no-cache`` bypasses it. The per-file result cache
(`project.result_cache`) stores its entries the same way (`read_signed`, `write_signed`).
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import pickle
import stat
import time
from pathlib import Path
from typing import Any

_KEY_FILE = ".key"
_KEY_BYTES = 32
_TAG_BYTES = hashlib.sha256().digest_size
#: A file modified this close to when its stat was recorded may change again within the same mtime
#: tick: it is read again, never vouched for by its stat (git's "racy" rule, as in the result cache).
_RACY_SECONDS = 2.0

Stats = list[tuple[str, int, int, int, int]]


def cache_dir() -> Path:
    explicit = os.environ.get("LOCKIN_LINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lockin-lint"


def _secret(directory: Path, create: bool) -> bytes | None:
    """The per-user signing key, or None when there is none that only this user controls."""
    path = directory / _KEY_FILE
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return _new_secret(path) if create else None
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        owned = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
        if not stat.S_ISREG(info.st_mode) or not owned or info.st_mode & 0o077:
            return None
        key = handle.read(_KEY_BYTES + 1)
    return key if len(key) == _KEY_BYTES else None


def _new_secret(path: Path) -> bytes | None:
    import secrets  # only the first run makes a key

    key = secrets.token_bytes(_KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:  # another run made one first: use that one
        return _secret(path.parent, create=False)
    except OSError:
        return None
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def load(key: str) -> Any | None:
    """A compiled part of the rules. What it loads lives as long as the run, so it is moved out of
    the collector's way (``gc.freeze``): each full collection that a run's allocations (the C/C++
    analyzer's imports, a file's parse) triggered walked all of them again (48,000 objects once both
    parts are loaded)."""
    value = read_signed(cache_dir() / f"rules-{key}.pickle")
    if value is not None:
        gc.freeze()
    return value


def stored(key: str) -> bool:
    """Whether a compiled part is on disk (`load` may still find it unsigned or stale)."""
    return (cache_dir() / f"rules-{key}.pickle").is_file()


def store(key: str, value: Any) -> None:
    write_signed(cache_dir() / f"rules-{key}.pickle", value)


def file_stats(paths: list[Path]) -> Stats | None:
    """Each file's size, mtime, ctime (a chmod changes it) and inode; None when one is missing."""
    found = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            return None
        found.append((str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return found


def known_key(name: str, stats: Stats | None) -> str | None:
    """The key `remember_key` stored under ``name`` when the files still have the stats it recorded
    and none had been modified shortly before (so their content cannot have changed unseen)."""
    stored = read_signed(cache_dir() / f"{name}.stats")
    if stats is None or not isinstance(stored, dict) or stored.get("stats") != stats:
        return None
    written_at, key = stored.get("written_at"), stored.get("key")
    if not isinstance(written_at, float) or not isinstance(key, str):
        return None
    return key if all(s[2] / 1e9 < written_at - _RACY_SECONDS for s in stats) else None


def remember_key(name: str, stats: Stats | None, key: str) -> None:
    """Store ``key`` as what the files with these ``stats`` (taken before they were read) hash to."""
    if stats is not None:
        write_signed(cache_dir() / f"{name}.stats", {"stats": stats, "key": key, "written_at": time.time()})


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new private file beside ``path`` (what ``tempfile.mkstemp`` makes, without importing
    ``tempfile``, 7 ms of every run's start-up, for the one file each run writes)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temp = str(path.parent / f".entry-{os.urandom(8).hex()}.tmp")
        try:
            return os.open(temp, flags, 0o600), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary name in {path.parent}")


def read_signed(path: Path) -> Any | None:
    """The value a `write_signed` stored at ``path`` (a file in the cache directory), or None when it
    is missing, unsigned, tampered with, foreign or of an older layout."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    secret = _secret(cache_dir(), create=False)
    if secret is None or not hmac.compare_digest(data[:_TAG_BYTES], _tag(secret, data[_TAG_BYTES:])):
        return None  # unsigned, tampered with or foreign: never unpickled
    collecting = gc.isenabled()
    gc.disable()  # unpickling allocates only live objects: collections meanwhile would find nothing
    try:
        return pickle.loads(data[_TAG_BYTES:])
    except Exception:  # a stale entry of an older layout is rebuilt, never an error
        return None
    finally:
        if collecting:
            gc.enable()


def write_signed(path: Path, value: Any) -> None:
    """Pickle and sign ``value`` into ``path`` (under the cache directory) atomically; never fatal."""
    directory = cache_dir()
    temp = None
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = _secret(directory, create=True)
        if secret is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        fd, temp = _temp_beside(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_tag(secret, payload) + payload)
        os.replace(temp, path)
        temp = None
    except OSError:
        pass  # a read-only home or full disk only costs speed
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
