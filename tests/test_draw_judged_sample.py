"""The judged-sample drawer (scripts/draw_judged_sample.py): a sample is only evidence if it can be redrawn."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import REPO, load_script

DRAW = load_script(REPO / "scripts" / "draw_judged_sample.py")


def _finding(rule: str, line: int) -> dict[str, object]:
    return {"rule_id": rule, "path": "a.cu", "line": line, "column": 1, "symbol": f"s{line}", "message": "m",
            "targets": {"rocm": {"status": "rename", "replacement": "x"}}}


def test_strata_are_families_and_the_same_seed_draws_the_same_sample(tmp_path: Path) -> None:
    findings = [_finding(rule, n) for n, rule in enumerate(["LC1011", "LC1036", "LC4001", "LC9000", "LC9000"] * 5)]
    scan = tmp_path / "proj.json"
    scan.write_text(json.dumps({"findings": findings + [{**_finding("LL100", 99)}]}))
    loaded = DRAW.load([scan])
    assert {f["rule_id"] for f in loaded} == {"LC1011", "LC1036", "LC4001", "LC9000"}  # LL rules are not C++
    first = DRAW.draw(loaded, seed=5, per_family=3)
    assert [DRAW.family(f["rule_id"]) for f in first] == ["LC1"] * 3 + ["LC4"] * 3 + ["LC9000"] * 3
    assert first == DRAW.draw(DRAW.load([scan]), seed=5, per_family=3)
    assert first != DRAW.draw(loaded, seed=6, per_family=3)


def test_the_enclosing_if_chain_is_shown_with_its_current_branch() -> None:
    lines = ["#ifdef USE_ROCM", "a", "#else", "#if X", "#endif", "b", "#endif"]
    assert DRAW.enclosing_conditions(lines, 6) == ["1: #ifdef USE_ROCM / 3: #else"]
    assert DRAW.enclosing_conditions(lines, 2) == ["1: #ifdef USE_ROCM"]
