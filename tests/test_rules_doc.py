"""``docs/rules.md`` is generated from the rule files and must not drift from them.

Why: the page is what users read before enabling a rule; a stale page documents rules, statuses or
replacements the tool no longer has. ``scripts/gen_rules_doc.py`` writes it; this test regenerates in
memory and compares.
"""

from __future__ import annotations


import pytest

from lockin_lint.model import TargetInfo
from lockin_lint.kb.ruleset import RuleSet

from .conftest import REPO, load_script

GENERATOR = REPO / "scripts" / "gen_rules_doc.py"
PAGE = REPO / "docs" / "rules.md"


GEN = load_script(GENERATOR)


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_committed_page_matches_the_generator(page: str) -> None:
    assert GEN.generate() == page, "docs/rules.md is stale: run `python scripts/gen_rules_doc.py`"


def test_every_rule_has_a_section_in_id_order(page: str, ruleset: RuleSet) -> None:
    headings = [line[3:] for line in page.splitlines() if line.startswith("## ")]
    assert headings == [f"{r.id} {r.name}" for r in sorted(ruleset.rules, key=lambda r: r.id)]


def test_symbol_rows_are_capped_with_a_pointer_to_explain(page: str, ruleset: RuleSet) -> None:
    big = max(ruleset.rules, key=lambda r: len(r.symbols))
    assert len(big.symbols) > GEN.MAX_SYMBOL_ROWS
    section = page.split(f"## {big.id} ", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) == GEN.MAX_SYMBOL_ROWS
    assert f"{len(big.symbols) - GEN.MAX_SYMBOL_ROWS} more: `lockin-lint explain {big.id}`" in section
    assert len(page.encode()) < 1_000_000, "the page must stay readable on GitHub"


def test_rule_docs_headings_nest_under_the_rule(page: str) -> None:
    section = page.split("## LL101 ", 1)[1].split("\n## ", 1)[0]
    assert "### What it does" in section and "### Use instead" in section and "### Targets" in section
    assert "| (default) | native |" in section


def test_table_cells_cannot_break_rows() -> None:
    assert GEN._target_cell(TargetInfo("equivalent", "a | b\nc")) == "equivalent -> a \\| b c"

