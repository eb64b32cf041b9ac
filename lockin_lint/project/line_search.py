"""Line-anchored searches tried only on the lines that spell a word.

A ``^``-anchored ``re.MULTILINE`` pattern (``#include "x.h"``) is tried by the regex engine at every
line of a file; the passes run such patterns over every C/C++/CUDA file of a run (on vLLM, 40 ms of
the build-level dispatch alone). Every match of such a pattern lies within one line, and the lines
that can hold one spell a fixed word (``include``): a byte search finds them, and the pattern is tried
there only, which gives the same matches in the same order.
"""

from __future__ import annotations

import re
from typing import Any


def findall_on_lines(pattern: re.Pattern[bytes], data: bytes, word: bytes) -> list[Any]:
    """``pattern.findall(data)``, for a ``^``-anchored multi-line ``pattern`` whose every match lies
    within one line (no newline matched, nothing looked at past the line's end) and spells ``word``."""
    found: list[Any] = []
    at = data.find(word)
    while at != -1:
        end = data.find(b"\n", at)
        end = len(data) if end == -1 else end
        found.extend(pattern.findall(data, data.rfind(b"\n", 0, at) + 1, end))
        at = data.find(word, end)
    return found
