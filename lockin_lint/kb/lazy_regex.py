"""A regular expression compiled on first use, and pickled as its source alone.

The compiled C/C++ index (`cuda_index.CudaIndex`) holds about 90 regexes (the byte prefilter's
groups, the include paths, the catch-all names) and is cached with the C/C++ rules. A compiled
``re.Pattern`` pickles as its source and is compiled again on every load, which is what made
caching the index not pay; most runs need only some of them (a ``.cu`` file is never prefiltered,
so a one-file run never compiles the prefilter's 60 groups). This wrapper compiles each the first
time it is asked for, so a load from the cache costs the unpickling of a string.
"""

from __future__ import annotations

import re
import sys
from typing import Any, AnyStr, Generic, Iterator


class LazyPattern(Generic[AnyStr]):
    """What the index asks of a ``re.Pattern`` (search, fullmatch, finditer), compiled on first use."""

    __slots__ = ("pattern", "flags", "_compiled")

    def __init__(self, pattern: AnyStr, flags: int = 0) -> None:
        self.pattern: AnyStr = pattern
        self.flags = flags
        self._compiled: re.Pattern[AnyStr] | None = None

    @property
    def compiled(self) -> re.Pattern[AnyStr]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def search(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[AnyStr] | None:
        return self.compiled.search(string, pos, endpos)

    def fullmatch(self, string: AnyStr) -> re.Match[AnyStr] | None:
        return self.compiled.fullmatch(string)

    def finditer(self, string: AnyStr) -> Iterator[re.Match[AnyStr]]:
        return self.compiled.finditer(string)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LazyPattern) and (self.pattern, self.flags) == (other.pattern, other.flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # the source only: compiled again when first used
        return (LazyPattern, (self.pattern, self.flags))
