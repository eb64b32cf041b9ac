"""Build, container and CI files (CMake, Makefiles, Dockerfiles, compose, workflows), line by line.

These formats have no shared grammar worth parsing for the facts that matter (``FROM nvidia/cuda``,
``enable_language(CUDA)``, ``-arch=sm_80``), and every rule names its files and line patterns in
YAML, so a line scan that skips ``#`` comments is both simpler and exact enough.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from .source import text_lines
from .matching import LineMatch
from ..model import Rule


@dataclass(frozen=True)
class LineRule:
    rule: Rule
    files: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def reads(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(path, g) or fnmatch.fnmatchcase(path, "*/" + g)
                   for g in self.files)


def compile_line_rules(rules: list[Rule]) -> list[LineRule]:
    return [LineRule(r, r.match.files, tuple(re.compile(p) for p in r.match.lines)) for r in rules if r.match.lines]


def match_lines(path: str, text: str, rules: list[LineRule]) -> list[LineMatch]:
    chosen = [r for r in rules if r.reads(path)]
    found: list[LineMatch] = []
    if not chosen:
        return found
    for number, line in enumerate(text_lines(text), start=1):
        if line.lstrip().startswith("#"):
            continue
        for rule in chosen:
            for pattern in rule.patterns:
                match = pattern.search(line)
                if match is None:
                    continue
                group = 1 if match.re.groups else 0
                start, end = match.span(group)
                found.append(LineMatch(rule.rule, match.group(group), number, start + 1, end + 1))
                break
    return found
