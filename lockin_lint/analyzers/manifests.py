"""Dependency manifests (requirements files, ``pyproject.toml``, ``setup.cfg``, conda environments):
each requirement parsed with real parsers (`manifest_reader`) and judged by the package rules, plus
the line rules, and the ``-r``/``-c`` includes the cross-file pass follows."""

from __future__ import annotations

from ..model import FileError, FileFacts, FileResult
from .base import NameGlobs
from .build_rules import match_lines
from .context import FileContext
from .findings import finish, line_findings, with_facts
from .manifest_reader import ManifestError, dependencies, manifest_includes, match_dependencies
from .source import decode_text

#: Dependency manifests, read with real parsers (``packaging``, TOML, INI, YAML).
DEPS_NAMES = NameGlobs(("requirements*.txt", "*requirements*.txt", "requirements/*.txt", "constraints*.txt",
                        "pyproject.toml", "setup.cfg", "environment.yml", "environment.yaml", "conda*.yml",
                        "conda*.yaml"))


class ManifestAnalyzer:
    language = "deps"
    patterns: tuple[str, ...] = DEPS_NAMES.patterns

    def takes(self, path: str, suffix: str) -> bool:
        return DEPS_NAMES.match(path)

    def check(self, path: str, data: bytes, ctx: FileContext) -> FileResult:
        run, kind = ctx.run, ctx.kind
        decoded, text, errors = decode_text(path, data)
        matches = match_lines(kind, text, run.line_rules(self.language))
        problems: list[str] = []
        facts = FileFacts(includes=manifest_includes(kind, text))
        try:
            found = dependencies(kind, text, problems)
        except ManifestError as exc:
            errors.append(FileError(path, str(exc)))
            found = []
        errors += [FileError(path, problem, partial=True) for problem in problems]
        matches += match_dependencies(found, run.package_rules(self.language))
        result = finish(run, path, decoded.data, line_findings(run, path, text, matches), errors, ctx.lines)
        return with_facts(result, facts)
