"""Shared fixtures: the bundled rule set is loaded once per test session (it is immutable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.ruleset import RuleSet, load_rules

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_rules()
