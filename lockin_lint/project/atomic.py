"""Write a file the user named without ever destroying something else.

``--write-baseline PATH`` replaces PATH with a complete new file or leaves it as it was. The naive
recipe (write ``PATH.tmp``, rename it over PATH) turned a symlink into a regular file, replaced a
FIFO or a device node (as root, ``/dev/full`` itself), reset the file's permissions, and made
concurrent writers trip over each other's fixed temp name. Here: a symlink is followed to its target
(the link stays a link), anything but a regular file is refused with a clear error, the temp file
has a unique name in the target's own directory (so the rename is atomic and never crosses file
systems), it is flushed to disk before the rename, and the target keeps its permission bits.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class WriteError(Exception):
    """The file cannot be written safely; the message says why, in a few words (the caller names the file)."""


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text`` (UTF-8) atomically; raises WriteError."""
    if "\0" in str(path):
        raise WriteError("invalid file name (it holds a NUL byte)")
    target = Path(os.path.realpath(path))  # through symlinks, to the file they name
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise WriteError(str(exc.strerror)) from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise WriteError(f"{kind}; refusing to replace it")
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    import tempfile  # only a run that writes a baseline needs it

    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
        temp = None
    except OSError as exc:
        raise WriteError(str(exc.strerror or exc)) from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)


def _umask() -> int:
    """The process umask (read by setting it, then restoring it: the only portable way)."""
    current = os.umask(0o022)
    os.umask(current)
    return current
