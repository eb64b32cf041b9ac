"""Product code, tests and vendored code, told apart by path.

A migration estimate is about the code a team ships: tests are ported too, but later and more
cheaply, and vendored code (``third_party/``, git submodules) is replaced by the upstream's own port
rather than ported by hand. The report keeps all three, with product code as the headline.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass

SCOPES: tuple[str, ...] = ("product", "tests", "vendored")

DEFAULT_TEST_GLOBS: tuple[str, ...] = (
    "tests/*", "*/tests/*", "test/*", "*/test/*", "test_*.py", "*/test_*.py", "*_test.py", "*/conftest.py",
    "conftest.py",
)
DEFAULT_VENDORED_GLOBS: tuple[str, ...] = (
    "third_party/*", "*/third_party/*", "third-party/*", "*/third-party/*", "thirdparty/*", "*/thirdparty/*",
    "3rdparty/*", "*/3rdparty/*", "vendor/*", "*/vendor/*", "vendored/*", "*/vendored/*", "external/*",
    "*/external/*", "extern/*", "*/extern/*",
)


@dataclass(frozen=True)
class ScopeRules:
    """Globs (``fnmatch``, matched against the ``/``-separated display path) for tests and vendored code.

    Vendored wins over tests: a vendored library's own tests are vendored code.
    """

    tests: tuple[str, ...] = DEFAULT_TEST_GLOBS
    vendored: tuple[str, ...] = DEFAULT_VENDORED_GLOBS

    def scope_of(self, path: str) -> str:
        return _scope_of(self.tests, self.vendored, path)

    def with_vendored(self, extra: tuple[str, ...]) -> ScopeRules:
        return ScopeRules(self.tests, self.vendored + tuple(g for g in extra if g not in self.vendored))


@functools.lru_cache(maxsize=1 << 16)
def _scope_of(tests: tuple[str, ...], vendored: tuple[str, ...], path: str) -> str:
    """A path's scope, remembered: a report asks once per finding and per file, with some 40 globs each."""
    clean = path.lstrip("./") if path.startswith("./") else path
    candidates = {clean, *_without_parents(clean)}
    if any(fnmatch.fnmatchcase(p, glob) for p in candidates for glob in vendored):
        return "vendored"
    if any(fnmatch.fnmatchcase(p, glob) for p in candidates for glob in tests):
        return "tests"
    return "product"


def _without_parents(path: str) -> list[str]:
    """``../../x/y.py`` also as ``x/y.py``: scans of a sibling directory keep their ``..`` prefix."""
    parts = path.split("/")
    while parts and parts[0] == "..":
        parts = parts[1:]
    return ["/".join(parts)] if parts else []
