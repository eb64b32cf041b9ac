"""Hand-written C/C++ rules must agree with the vendor maps they cite (scripts/data/musa/*.json)."""

from __future__ import annotations

import json

from lockin_lint.kb.ruleset import RuleSet

from .conftest import REPO


def _port(name: str, mapping: dict[str, str]) -> str:
    """What torch_musa's SimplePorting makes of ``name``: it replaces map keys as substrings."""
    for key in sorted(mapping, key=len, reverse=True):
        if key in name:
            return name.replace(key, mapping[key])
    return name


def test_pytorch_cpp_musa_renames_match_torch_musa_map(ruleset: RuleSet) -> None:
    extra = json.loads((REPO / "scripts" / "data" / "musa" / "extra.json").read_text(encoding="utf-8"))
    checked = 0
    for rule in ruleset.rules:
        if rule.source != "rules/cuda/pytorch.yaml":
            continue
        for symbol, info in rule.symbols.items():
            musa = info.targets["musa"]
            if musa.status != "rename":
                continue
            last = symbol.rsplit("::", 1)[-1]
            ported = _port(last, extra)
            assert ported != last, f"{rule.id} {symbol}: torch_musa's extra.json does not rename it"
            assert ported == musa.replacement, f"{rule.id} {symbol}: {musa.replacement} != {ported}"
            checked += 1
    assert checked >= 8
