"""Build, container and CI files (CMake, Makefiles, Dockerfiles, compose files, CI workflows), read
line by line against the line rules of `build_rules`."""

from __future__ import annotations

from ..model import FileResult
from .base import NameGlobs
from .build_rules import match_lines
from .context import FileContext
from .findings import finish, line_findings
from .source import decode_text

#: Build, container and CI files, read line by line.
CONFIG_NAMES = NameGlobs(("CMakeLists.txt", "*.cmake", "Makefile", "makefile", "GNUmakefile", "*.mk", "Dockerfile",
                          "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*",
                          "docker-compose*.yml", "docker-compose*.yaml", "compose*.yml", "compose*.yaml",
                          ".github/workflows/*.yml", ".github/workflows/*.yaml", ".gitlab-ci.yml"))


class BuildFileAnalyzer:
    language = "config"
    patterns: tuple[str, ...] = CONFIG_NAMES.patterns

    def takes(self, path: str, suffix: str) -> bool:
        return CONFIG_NAMES.match(path)

    def check(self, path: str, data: bytes, ctx: FileContext) -> FileResult:
        run = ctx.run
        decoded, text, errors = decode_text(path, data)
        matches = match_lines(ctx.kind, text, run.line_rules(self.language))
        return finish(run, path, decoded.data, line_findings(run, path, text, matches), errors, ctx.lines)
