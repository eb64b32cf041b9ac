"""Progress on stderr while a long run works: the file scan, then the phases after it.

Only on a terminal (a CI log or a pipe gets nothing extra), only once the run has taken a moment (a
small project never flickers), and for every output format, since the report goes to stdout or a
file and stderr stays free. After the scan come phases that used to be silent (linking files across
the project, building the report: about 5 s on vLLM), so each is named, with the elapsed time.
"""

from __future__ import annotations

import time
from typing import TextIO


#: Seconds of quiet before progress shows: a small project never flickers.
DELAY = 1.0


class Progress:
    """``files(done, total)`` during the scan, ``phase(name)`` after it, ``done()`` at the end."""

    def __init__(self, stream: TextIO, delay: float = DELAY) -> None:
        self.stream = stream
        self.delay = delay
        self.started = time.monotonic()
        self.shown = False
        self.width = 0

    def _show(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        if elapsed < self.delay:
            return
        line = f"{text} ({elapsed:.1f} s)"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = max(self.width, len(line))
        self.shown = True

    def files(self, done: int, total: int) -> None:
        self._show(f"scanning {done}/{total} files")

    def phase(self, name: str) -> None:
        self._show(name)

    def done(self) -> None:
        """Clear the progress line, so the summary that follows starts on a clean line."""
        if self.shown:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.shown = False


def progress_for(stream: TextIO) -> Progress | None:
    """A `Progress` when ``stream`` is a terminal, else None (nothing extra in logs and pipes). A stream
    that copies what it is given (`cli_memo`) names the stream progress goes to instead."""
    stream = getattr(stream, "progress_stream", stream)
    isatty = getattr(stream, "isatty", None)
    return Progress(stream, DELAY) if isatty is not None and isatty() else None
