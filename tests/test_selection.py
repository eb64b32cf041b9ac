"""Selection means what it says: an ignored rule's symbols are not reported by a catch-all instead."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Settings

PYTHON = (b"import torch\ntorch.cuda.current_device()\ns = torch.cuda.Stream()\ntorch.cuda.memory_allocated()\n"
          b"torch.cuda.amp.autocast()\ntorch.cuda.nvtx.range_push('x')\n")


@pytest.mark.parametrize("ignore", ["LL101", "LL102", "LL103", "LL105", "LL106", "torch-cuda-device", "LL10"])
def test_ignoring_a_specific_rule_does_not_move_its_symbols_to_the_catch_all(ruleset: RuleSet, ignore: str) -> None:
    every = check_bytes("t.py", PYTHON, ruleset).findings
    assert {f.rule_id for f in every} == {"LL101", "LL102", "LL103", "LL105", "LL106"}
    kept = check_bytes("t.py", PYTHON, ruleset, Settings(ignore=(ignore,))).findings
    assert "LL110" not in {f.rule_id for f in kept}
    assert len(kept) < len(every)


def test_selecting_only_the_catch_all_reports_only_unclaimed_symbols(ruleset: RuleSet) -> None:
    source = PYTHON + b"torch.cuda.some_future_api()\n"
    kept = check_bytes("t.py", source, ruleset, Settings(select=("LL110",))).findings
    assert [(f.rule_id, f.symbol) for f in kept] == [("LL110", "torch.cuda.some_future_api")]


def test_cuda_catch_all_does_not_report_an_ignored_rules_names(ruleset: RuleSet) -> None:
    source = b"void f() { cudaMalloc(0, 0); cudaFutureThing(); }\n"
    every = check_bytes("k.cu", source, ruleset).findings
    claimed = next(f.rule_id for f in every if f.symbol == "cudaMalloc")
    assert claimed != "LC9000"
    kept = check_bytes("k.cu", source, ruleset, Settings(ignore=(claimed,))).findings
    assert [(f.rule_id, f.symbol) for f in kept] == [("LC9000", "cudaFutureThing")]
