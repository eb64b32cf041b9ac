"""scripts/draw_sample.py: the judged samples of docs/validation.md can be drawn again, the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import REPO, load_script

DRAW = load_script(REPO / "scripts" / "draw_sample.py")


def _scan(directory: Path, project: str, rules: list[str]) -> None:
    findings = [{"rule_id": rule, "path": f"m{i % 7}.py", "line": i + 1, "column": 1, "end_line": i + 1,
                 "message": "m", "severity": "warning", "targets": {"rocm": {"status": "native"}}}
                for i, rule in enumerate(rules)]
    findings.append({**findings[0], "path": "notes.cu"})  # another language: never drawn with --suffix .py
    (directory / f"{project}.json").write_text(json.dumps({"findings": findings}), encoding="utf-8")


def test_the_same_seed_draws_the_same_sample_round_robin_over_projects(tmp_path: Path) -> None:
    _scan(tmp_path, "big", ["LL101"] * 40 + ["LL200"] * 40)
    _scan(tmp_path, "small", ["LL101"] * 3)
    projects = DRAW.load(tmp_path, ".py")
    first = DRAW.draw(projects, {"LL1": 8, "LL2": 5}, seed=7)
    assert first == DRAW.draw(projects, {"LL1": 8, "LL2": 5}, seed=7)
    assert first != DRAW.draw(projects, {"LL1": 8, "LL2": 5}, seed=8)
    family_1 = [name for name, f in first if f["rule_id"].startswith("LL1")]
    assert family_1[:6] == ["big", "small"] * 3 and family_1[6:] == ["big", "big"]  # small ran out
    assert sum(f["rule_id"].startswith("LL2") for _, f in first) == 5
    assert all(f["path"].endswith(".py") for _, f in first)


def test_a_bad_quota_is_a_clear_error() -> None:
    with pytest.raises(SystemExit, match="bad quota item 'LL1'"):
        DRAW.parse_quota("LL1,LL2=3")
