"""How many worker processes a run may start, and making sure none outlives the run.

``--jobs 1000000`` once started a million workers (23 GB, thousands left behind), and a CI time-out
that kills the parent with SIGTERM or SIGKILL left the workers running. So the count is bounded by the
CPUs (unless the user forces more) and by the work there is, and each worker asks the kernel to kill
it when its parent dies (Linux ``PR_SET_PDEATHSIG``), with a watcher thread as the portable fallback.
"""

from __future__ import annotations

import os
import time

_PR_SET_PDEATHSIG = 1
#: How often the fallback watcher looks whether the parent is still there.
_WATCH_SECONDS = 0.5


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, which containers and ``taskset`` narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def bounded_jobs(requested: int, force: bool = False) -> int:
    """``--jobs`` as the run will use it: 0 stays "automatic", and more workers than CPUs only
    when forced (they would only compete for the same cores)."""
    return requested if force or requested <= 0 else min(requested, cpu_count())


def die_with_parent(parent: int) -> None:
    """Called in each worker as it starts: end this process when ``parent`` goes away."""
    import ctypes  # only workers need these three; start-up stays without them
    import signal
    import threading

    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols, libc's included
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the request was made
                os._exit(1)
            return
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="lockin-parent-watch").start()


def _watch(parent: int) -> None:  # pragma: no cover - only where prctl is missing
    while os.getppid() == parent:
        time.sleep(_WATCH_SECONDS)
    os._exit(1)
