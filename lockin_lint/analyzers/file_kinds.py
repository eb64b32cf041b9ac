"""Which files each analyzer reads, by suffix or by name glob.

Kept apart from the analyzers themselves, which import tree-sitter and the parsers: discovery and a
run whose results all come from the result cache need to know what a file is, not how to read it.
"""

from __future__ import annotations

import fnmatch
import re

PYTHON_SUFFIXES = frozenset({".py", ".pyi"})
#: CUDA sources proper; ``__global__`` code and ``PYBIND11_MODULE`` there are CUDA by definition.
CUDA_SUFFIXES = frozenset({".cu", ".cuh"})
#: C and C++ files are parsed with the CUDA grammar (a superset) when the prefilter lets them through.
C_CPP_SUFFIXES = frozenset({".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inl", ".inc"})
NOTEBOOK_SUFFIXES = frozenset({".ipynb"})


class NameGlobs:
    """File-name globs, matched the way users expect: a glob without ``/`` against the name alone
    (so ``conda*.yml`` never matches ``conda/recipe/meta.yaml``), one with a directory
    (``.github/workflows/*.yml``) against the end of the path."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns
        self._compiled: tuple[re.Pattern[str], re.Pattern[str]] | None = None

    def _regexes(self) -> tuple[re.Pattern[str], re.Pattern[str]]:
        """Compiled on first use: a run that names only Python or C/C++ files never asks (its suffix
        decides first), and compiling both sets took 2 ms of every start-up."""
        if self._compiled is None:
            names = [fnmatch.translate(p) for p in self.patterns if "/" not in p] or ["(?!)"]
            paths = [fnmatch.translate(q) for p in self.patterns if "/" in p for q in (p, "*/" + p)] or ["(?!)"]
            self._compiled = (re.compile("|".join(f"(?:{p})" for p in names)),
                              re.compile("|".join(f"(?:{p})" for p in paths)))
        return self._compiled

    def match(self, path: str) -> bool:
        names, paths = self._regexes()
        return bool(names.match(path.rsplit("/", 1)[-1]) or ("/" in path and paths.match(path)))


#: Dependency manifests, read with real parsers (``packaging``, TOML, INI, YAML).
DEPS_NAMES = NameGlobs(("requirements*.txt", "*requirements*.txt", "requirements/*.txt", "constraints*.txt",
                        "pyproject.toml", "setup.cfg", "environment.yml", "environment.yaml", "conda*.yml",
                        "conda*.yaml"))

#: Build, container and CI files, read line by line.
CONFIG_NAMES = NameGlobs(("CMakeLists.txt", "*.cmake", "Makefile", "makefile", "GNUmakefile", "*.mk", "Dockerfile",
                          "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*",
                          "docker-compose*.yml", "docker-compose*.yaml", "compose*.yml", "compose*.yaml",
                          ".github/workflows/*.yml", ".github/workflows/*.yaml", ".gitlab-ci.yml"))


def _glob_regex(glob: str) -> str:
    """One glob as a regex over a ``/``-separated path: ``*`` and ``?`` stay within one component."""
    parts = []
    for char in glob:
        parts.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
    return "".join(parts)


def globs_regex(patterns: tuple[str, ...]) -> str:
    """A regex that ``re.search`` matches against a relative path exactly when the path's name (or,
    for a glob with a directory, its tail) matches one of ``patterns``: pre-commit's ``files`` syntax,
    verbose (``(?x)``), one glob a line, so a diff of the hook file shows which kind of file changed."""
    lines = "\n  | ".join(_glob_regex(p) for p in patterns)
    return f"(?x)(^|/)(\n    {lines}\n)$"
