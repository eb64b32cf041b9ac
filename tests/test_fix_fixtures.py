"""Fixture pairs (Semgrep's harness): ``fixtures/fixes/NAME.py`` is annotated like every fixture, and
``NAME.fixed.py`` is what ``check --fix`` must make of it (the flags are on the first line, default
``--unsafe-fixes``). Set ``LOCKIN_UPDATE_FIXED=1`` to write the expected files, then review them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lockin_lint.fix.plan import FixOptions
from lockin_lint.fix.table import ENTRIES
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.testing import annotated_rules, compare

from .conftest import FIXTURES, REPO
from .fixhelp import fix_in_memory, options_of

FIX_FIXTURES = sorted(p for p in (FIXTURES / "fixes").iterdir()
                      if p.is_file() and p.suffix in (".py", ".ipynb") and ".fixed." not in p.name)


def _expected(path: Path) -> Path:
    return path.with_name(f"{path.stem}.fixed{path.suffix}")


@pytest.mark.parametrize("fixture", FIX_FIXTURES, ids=lambda p: p.name)
def test_fixture_is_fixed_as_expected(fixture: Path, ruleset: RuleSet) -> None:
    text = fixture.read_text(encoding="utf-8")
    name = fixture.relative_to(REPO).as_posix()
    fixed = fix_in_memory(name, text, ruleset, options_of(text))
    expected = _expected(fixture)
    if os.environ.get("LOCKIN_UPDATE_FIXED"):
        expected.write_text(fixed.after, encoding="utf-8")
    assert fixed.after == expected.read_text(encoding="utf-8")
    assert fixed.fixed, "a fix fixture where nothing is fixed"


@pytest.mark.parametrize("fixture", [p for p in FIX_FIXTURES if p.suffix == ".py"], ids=lambda p: p.name)
def test_fixture_annotations_hold_before_fixing(fixture: Path, ruleset: RuleSet) -> None:
    from lockin_lint.api import check_bytes
    from lockin_lint.model import Settings

    text = fixture.read_text(encoding="utf-8")
    settings = Settings(torch_version=options_of(text).torch_version)
    findings = check_bytes(fixture.name, text.encode(), ruleset, settings).findings
    assert not compare(fixture.name, text, findings, {r.id for r in ruleset.rules})


@pytest.mark.parametrize("fixture", FIX_FIXTURES, ids=lambda p: p.name)
def test_fixing_twice_changes_nothing(fixture: Path, ruleset: RuleSet) -> None:
    text = fixture.read_text(encoding="utf-8")
    options = options_of(text)
    once = fix_in_memory(fixture.name, text, ruleset, options).after
    assert fix_in_memory(fixture.name, once, ruleset, options).after == once


def test_every_rule_of_the_codemod_table_has_a_fixture_pair() -> None:
    fired: set[str] = set()
    for fixture in FIX_FIXTURES:
        if fixture.suffix == ".py" and options_of(fixture.read_text(encoding="utf-8")).target is None:
            fired |= annotated_rules(fixture.read_text(encoding="utf-8"), "python")[0]
    assert {entry.rule_id for entry in ENTRIES} <= fired


def test_unsafe_fixes_wait_for_the_flag(ruleset: RuleSet) -> None:
    text = "import torch\ntorch.cuda.manual_seed_all(0)\ntorch.cuda.synchronize()\n"
    safe = fix_in_memory("a.py", text, ruleset, FixOptions()).after
    assert "torch.cuda.manual_seed_all(0)" in safe and "torch.cuda.synchronize" not in safe
    assert "torch.cuda" not in fix_in_memory("a.py", text, ruleset, FixOptions(unsafe=True)).after
