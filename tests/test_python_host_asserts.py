"""A tensor operator on a name the function asserts is on the CPU is not reported
(analyzers/python_host_asserts.py); near misses keep their finding."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_HEAD = "import torch\ndef step(params, other):\n    device = torch.device('cpu')\n    for p in params:\n"


def _operators(body: str, ruleset: RuleSet) -> list[int]:
    result = check_bytes("optim.py", (_HEAD + body).encode(), ruleset)
    assert not result.errors, result.errors
    return [f.line for f in result.findings if f.rule_id == "LL904"]


@pytest.mark.parametrize("check", [
    "assert p.device == device, 'must be on the CPU'",
    "assert p.device == torch.device('cpu')",
    "assert torch.device(\"cpu\") == p.device",
    "assert p.device.type == 'cpu'",
    "assert p.is_cpu",
    "assert not p.is_cuda",
    "assert p.grad is not None and p.device.type == 'cpu'",
])
def test_an_operator_on_a_name_asserted_on_the_cpu_is_not_reported(check: str, ruleset: RuleSet) -> None:
    body = f"        {check}\n        state = {{}}\n        if p.grad.is_sparse:\n            x = p.sparse_mask(p.grad)\n"
    assert _operators(body, ruleset) == []


@pytest.mark.parametrize("body", [
    # the assertion is on another name, or after the use, or in a branch that does not hold the use
    "        assert other.device == device\n        x = p.sparse_mask(p.grad)\n",
    "        x = p.sparse_mask(p.grad)\n        assert p.device == device\n",
    "        if p.grad is None:\n            assert p.device == device\n        x = p.sparse_mask(p.grad)\n",
    # rebound between the assertion and the use
    "        assert p.device == device\n        p = p.to('cuda')\n        x = p.sparse_mask(p.grad)\n",
    "        assert p.device == device\n        for p in other:\n            x = p.sparse_mask(p.grad)\n",
    "        assert p.device == device\n        while other:\n            x = p.sparse_mask(p.grad)\n"
    "            p = p.to('cuda')\n",  # the next pass of the loop
    # the device compared with is no CPU device, or not provably one
    "        assert p.device == other\n        x = p.sparse_mask(p.grad)\n",
    "        assert p.device.type == 'cuda'\n        x = p.sparse_mask(p.grad)\n",
    "        assert p.device != device\n        x = p.sparse_mask(p.grad)\n",
    "        assert p.is_cuda\n        x = p.sparse_mask(p.grad)\n",
    "        assert p.device == device or p.is_cuda\n        x = p.sparse_mask(p.grad)\n",
    "        device = torch.device('cuda')\n        assert p.device == device\n        x = p.sparse_mask(p.grad)\n",
    # an if is no assertion
    "        if p.device == device:\n            pass\n        x = p.sparse_mask(p.grad)\n",
])
def test_an_operator_without_such_an_assertion_stays(body: str, ruleset: RuleSet) -> None:
    assert _operators(body, ruleset)


def test_an_assertion_in_an_outer_function_proves_nothing_inside_a_nested_one(ruleset: RuleSet) -> None:
    body = "        assert p.device == device\n        def later(p):\n            return p.sparse_mask(p.grad)\n"
    assert _operators(body, ruleset)
