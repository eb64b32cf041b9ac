"""The fixture harness of DESIGN.md: annotated source files are the rule tests.

A comment line ``# ruleid: ID[,ID]`` (``//`` in C/C++/CUDA) says the next code line must produce a finding of each
listed rule; ``# ok: ID`` says it must not. Any finding on a line without a matching ``ruleid`` is an
unexpected hit, so fixtures catch false positives as well as misses (Semgrep's convention).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Iterable

from .analyzers import language_of
from .model import Finding

_ANNOTATION = {
    "python": re.compile(r"^\s*#\s*(ruleid|ok)\s*:(.*)$"),
    "cuda": re.compile(r"^\s*//\s*(ruleid|ok)\s*:(.*)$"),
}
#: Rule ids separated by commas, optionally followed by a note in parentheses.
_IDS = re.compile(r"^\s*([A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*)\s*(?:\(.*\))?\s*$")
#: In C/C++ a line starting with ``#`` is a preprocessor directive (code), not a comment.
_COMMENT_ONLY = {"python": re.compile(r"^\s*#"), "cuda": re.compile(r"^\s*//")}
#: Manifests, build files and notebook cells use ``#`` comments like Python.
for _kind in ("deps", "config", "notebook"):
    _ANNOTATION[_kind], _COMMENT_ONLY[_kind] = _ANNOTATION["python"], _COMMENT_ONLY["python"]
_JSON_STRING_LINE = re.compile(r'^\s*("(?:[^"\\]|\\.)*")\s*,?\s*$')


def _notebook_lines(text: str) -> list[str]:
    """A notebook's lines with each cell source line decoded, so annotations in cells read as
    comments at the .ipynb line where the findings are reported; other JSON lines become blank."""
    decoded = []
    for line in text.splitlines():
        match = _JSON_STRING_LINE.match(line)
        try:
            value = json.loads(match.group(1)) if match else ""
        except ValueError:
            value = ""
        decoded.append(value.rstrip("\n") if isinstance(value, str) else "")
    return decoded


@dataclass
class Expectations:
    expected: dict[int, set[str]] = field(default_factory=dict)
    forbidden: dict[int, set[str]] = field(default_factory=dict)
    dangling: list[int] = field(default_factory=list)  # annotation lines with no code line after them
    malformed: list[int] = field(default_factory=list)  # ``ruleid:``/``ok:`` lines that name no ids


def parse_annotations(text: str, language: str = "python") -> Expectations:
    result = Expectations()
    pending: list[tuple[int, str, set[str]]] = []
    annotation, comment_only = _ANNOTATION[language], _COMMENT_ONLY[language]
    lines = _notebook_lines(text) if language == "notebook" else text.splitlines()
    for number, line in enumerate(lines, start=1):
        match = annotation.match(line)
        if match:
            ids_match = _IDS.match(match.group(2))
            if ids_match is None:
                result.malformed.append(number)
                continue
            ids = {part.strip() for part in ids_match.group(1).split(",")}
            pending.append((number, match.group(1), ids))
            continue
        if not line.strip() or comment_only.match(line):
            continue
        for _, kind, ids in pending:
            table = result.expected if kind == "ruleid" else result.forbidden
            table.setdefault(number, set()).update(ids)
        pending.clear()
    result.dangling = [number for number, _, _ in pending]
    return result


def compare(path: str, text: str, findings: Iterable[Finding], known_rules: set[str]) -> list[str]:
    """Every way the findings disagree with the annotations, one readable line each."""
    exp = parse_annotations(text, language_of(path))
    problems = [f"{path}:{n}: annotation is not followed by a code line" for n in exp.dangling]
    problems += [f"{path}:{n}: malformed annotation (expected rule ids, then an optional (note))"
                 for n in exp.malformed]
    for table in (exp.expected, exp.forbidden):
        for line, ids in table.items():
            problems += [f"{path}:{line}: annotation names unknown rule {i}" for i in sorted(ids - known_rules)]
    actual: dict[int, set[str]] = {}
    for finding in findings:
        actual.setdefault(finding.line, set()).add(finding.rule_id)
    for line, ids in sorted(exp.expected.items()):
        for rule_id in sorted(ids - actual.get(line, set())):
            problems.append(f"{path}:{line}: missed {rule_id}")
    for line, ids in sorted(actual.items()):
        for rule_id in sorted(ids - exp.expected.get(line, set())):
            kind = "false hit (marked ok)" if rule_id in exp.forbidden.get(line, set()) else "unexpected"
            problems.append(f"{path}:{line}: {kind} {rule_id}")
    return problems


def annotated_rules(text: str, language: str = "python") -> tuple[set[str], set[str]]:
    """(rules with a ``ruleid`` line, rules with an ``ok`` line) in one fixture."""
    exp = parse_annotations(text, language)
    fired = set().union(*exp.expected.values()) if exp.expected else set()
    ok = set().union(*exp.forbidden.values()) if exp.forbidden else set()
    return fired, ok
