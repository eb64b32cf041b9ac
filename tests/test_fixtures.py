"""The fixture harness (DESIGN.md): annotated fixtures are the rule tests, misses and extra hits fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_bytes, check_paths
from lockin_lint.analyzers import SOURCE_SUFFIXES, language_of
from lockin_lint.project.discover import discover
from lockin_lint.kb.ruleset import RuleSet, load_rules
from lockin_lint.testing import annotated_rules, compare

from .conftest import FIXTURES, REPO

#: Projects checked as a whole, so that cross-file findings (calls into the project's own CUDA
#: extensions, ``-r`` includes) are part of what their annotations describe.
PROJECTS = [FIXTURES / "demo", FIXTURES / "repo"]
PROJECT_FILES = sorted(p for project in PROJECTS for p in project.rglob("*") if p.is_file() and p.suffix != ".md")
PYTHON_FIXTURES = sorted((FIXTURES / "python").rglob("*.py"))
OTHER_FIXTURES = sorted(
    p for folder in ("deps", "config", "notebooks") if (FIXTURES / folder).is_dir()
    for p in (FIXTURES / folder).rglob("*") if p.is_file() and not p.name.endswith(".md")
)
CUDA_FIXTURES = sorted(p for p in (FIXTURES / "cuda").rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES)


def _of_language(paths: list[Path], *languages: str) -> list[Path]:
    return [p for p in paths if language_of(p.relative_to(FIXTURES).as_posix()) in languages]


def _id(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


@pytest.mark.parametrize("fixture", PYTHON_FIXTURES + CUDA_FIXTURES + OTHER_FIXTURES, ids=_id)
def test_fixture_matches_annotations(fixture: Path, ruleset: RuleSet) -> None:
    data = fixture.read_bytes()
    result = check_bytes(fixture.relative_to(REPO).as_posix(), data, ruleset)
    assert not result.errors, result.errors
    problems = compare(_id(fixture), data.decode("utf-8"), result.findings, {r.id for r in ruleset.rules})
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("project", PROJECTS, ids=_id)
def test_project_matches_annotations(project: Path, ruleset: RuleSet) -> None:
    """Every file of the project, checked in one run, against its annotations (files without
    findings included: an unexpected hit anywhere fails)."""
    run = check_paths(["."], ruleset, cwd=project)
    assert not run.errors, run.errors
    assert not run.unused_suppressions, run.unused_suppressions
    scanned = {shown for shown, _ in discover(["."], project).files} | set(run.file_lines)
    known = {r.id for r in ruleset.rules}
    problems = []
    for shown in sorted(scanned):
        if shown.endswith(".md"):
            continue
        text = (project / shown).read_text(encoding="utf-8")
        problems += compare(f"{_id(project)}/{shown}", text, [f for f in run.findings if f.path == shown], known)
    assert not problems, "\n".join(problems)


def test_every_python_rule_fires_and_has_an_ok_line(ruleset: RuleSet) -> None:
    fired: set[str] = set()
    ok: set[str] = set()
    for fixture in PYTHON_FIXTURES + _of_language(PROJECT_FILES, "python", "notebook"):
        f, o = annotated_rules(fixture.read_text(encoding="utf-8"), language_of(fixture.name))
        fired |= f
        ok |= o
    python_rules = {r.id for r in ruleset.rules if "python" in r.languages}
    assert python_rules, "no Python rules loaded"
    assert not python_rules - fired, f"rules never fired by a fixture: {sorted(python_rules - fired)}"
    assert not python_rules - ok, f"rules without an ok line: {sorted(python_rules - ok)}"


def test_every_hand_written_cuda_rule_fires_and_has_an_ok_line(ruleset: RuleSet) -> None:
    fired: set[str] = set()
    ok: set[str] = set()
    for fixture in CUDA_FIXTURES + _of_language(PROJECT_FILES, "cuda"):
        f, o = annotated_rules(fixture.read_text(encoding="utf-8"), "cuda")
        fired |= f
        ok |= o
    hand_written = {r.id for r in ruleset.rules if "cuda" in r.languages and not r.source.endswith(".generated.yaml")}
    assert hand_written, "no hand-written C/C++ rules loaded"
    assert not hand_written - fired, f"rules never fired by a fixture: {sorted(hand_written - fired)}"
    assert not hand_written - ok, f"rules without an ok line: {sorted(hand_written - ok)}"


@pytest.mark.parametrize("language", ["deps", "config"])
def test_every_manifest_and_config_rule_fires_and_has_an_ok_line(ruleset: RuleSet, language: str) -> None:
    fired: set[str] = set()
    ok: set[str] = set()
    for fixture in OTHER_FIXTURES + _of_language(PROJECT_FILES, "deps", "config"):
        f, o = annotated_rules(fixture.read_text(encoding="utf-8"), language_of(fixture.relative_to(FIXTURES).as_posix()))
        fired |= f
        ok |= o
    rules = {r.id for r in ruleset.rules if language in r.languages}
    assert rules, f"no {language} rules loaded"
    assert not rules - fired, f"rules never fired by a fixture: {sorted(rules - fired)}"
    assert not rules - ok, f"rules without an ok line: {sorted(rules - ok)}"


def test_every_generated_cuda_file_has_a_fixture_sample(ruleset: RuleSet) -> None:
    """A sample of generated entries from every library family (every generated file) fires."""
    fired: set[str] = set()
    for fixture in CUDA_FIXTURES:
        fired |= annotated_rules(fixture.read_text(encoding="utf-8"), "cuda")[0]
    by_file: dict[str, set[str]] = {}
    for rule in ruleset.rules:
        if "cuda" in rule.languages and rule.source.endswith(".generated.yaml"):
            by_file.setdefault(rule.source, set()).add(rule.id)
    missing = sorted(source for source, ids in by_file.items() if not ids & fired)
    assert not missing, f"generated rule files without a fixture sample: {missing}"


def test_harness_reports_misses_and_unexpected_hits(tmp_path: Path) -> None:
    """The harness itself must fail on a missed line, an extra hit and an unknown rule id."""
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "r.yaml").write_text(
        "rules:\n"
        "  - id: LL990\n    name: sync\n    category: device-api\n    languages: [python]\n"
        "    severity: warning\n    message: m\n    match: {qualified: [torch.cuda.synchronize]}\n"
        "    targets: {rocm: {status: native}, ascend: {status: unknown}, mlu: {status: unknown},"
        " musa: {status: unknown}, xpu: {status: unknown}, mps: {status: unknown}, cpu: {status: unknown}}\n"
        "    docs: '## What it does\\nreports synchronize'\n",
        encoding="utf-8",
    )
    rules = load_rules(rules_dir)
    text = (
        "import torch\n"
        "# ruleid: LL990\n"
        "torch.cuda.device_count()\n"  # missed
        "torch.cuda.synchronize()\n"  # unexpected
        "# ok: LL990\n"
        "torch.cuda.synchronize()\n"  # false hit
        "# ruleid: LL999\n"
        "x = 1\n"
    )
    result = check_bytes("t.py", text.encode(), rules)
    problems = compare("t.py", text, result.findings, {"LL990"})
    assert problems == [
        "t.py:8: annotation names unknown rule LL999",
        "t.py:3: missed LL990",
        "t.py:8: missed LL999",
        "t.py:4: unexpected LL990",
        "t.py:6: false hit (marked ok) LL990",
    ]


def test_harness_rejects_malformed_annotations() -> None:
    text = "# ok: LL990 because it is fine\nx = 1\n# ruleid: LL990 (a note is fine)\ny = 2\n"
    problems = compare("t.py", text, [], {"LL990"})
    assert problems == [
        "t.py:1: malformed annotation (expected rule ids, then an optional (note))",
        "t.py:4: missed LL990",
    ]
