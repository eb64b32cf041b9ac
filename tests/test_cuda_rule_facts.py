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


def test_cluster_groups_share_the_cluster_members_statuses(ruleset: RuleSet) -> None:
    """`cg::this_cluster()` / `cg::cluster_group` reach the hand-written LC7030 (the generated LC4010
    lists only the group's members); their rocm/xpu statuses must be the members' (no cluster on HIP
    or SYCL), not LC7030's generic `equivalent`."""
    member = ruleset.by_id()["LC4010"].info_for("cooperative_groups::cluster_group::sync").targets
    rule = ruleset.by_id()["LC7030"]
    for symbol in ("cooperative_groups::this_cluster", "cooperative_groups::cluster_group"):
        assert symbol in rule.match.scoped
        targets = rule.info_for(symbol).targets
        for target in ("rocm", "xpu"):
            assert targets[target].status == member[target].status == "missing", (symbol, target)
    # near miss: the rest of the namespace keeps the generic fact
    assert rule.info_for("cooperative_groups::some_future_group").targets["rocm"].status == "equivalent"
