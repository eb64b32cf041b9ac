"""A tensor operator on a dict slot the function fills only on the CPU is not reported
(analyzers/python_host_slots.py); near misses keep their finding."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_HEAD = "import torch\ndef step(self, params, keys):\n    for p in params:\n        state = self.state[p]\n"
_USE = "        x = state['sq'].sparse_mask(p.grad)\n"


def _operators(body: str, ruleset: RuleSet, tail: str = "") -> list[int]:
    result = check_bytes("optim.py", (_HEAD + body + _USE + tail).encode(), ruleset)
    assert not result.errors, result.errors
    return [f.line for f in result.findings if f.rule_id == "LL904"]


@pytest.mark.parametrize("fill", [
    "        if len(state) == 0:\n            state['sq'] = torch.zeros_like(p.data, dtype=p.dtype, device='cpu')\n",
    "        if 'sq' not in state:\n            state['sq'] = torch.zeros_like(p, device=torch.device('cpu'))\n",
    "        if not state:\n            state['sq'] = p.detach().cpu()\n",
    "        state['sq'] = torch.zeros(4)\n        state['step'] = 0\n",  # a factory `python_cpu_tensors` proves
])
def test_a_slot_filled_only_on_the_cpu_is_not_reported(fill: str, ruleset: RuleSet) -> None:
    # in-place writes into the slot and other slots' writes keep it where it is
    tail = "        state['sq'][x.indices()] = x.values()\n        state['step'] = state['step'] + 1\n"
    assert _operators(fill, ruleset, tail) == []


@pytest.mark.parametrize("fill", [
    "",  # never filled here: another function's state
    "        state['sq'] = torch.zeros_like(p, device=p.device)\n",
    "        state['sq'] = torch.zeros_like(p)\n",  # on the parameter's device
    "        state['sq'] = torch.zeros_like(p, device='cuda')\n",
    "        state['sq'] = torch.zeros_like(p, device='cpu').to(p.device)\n",
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        state['sq'] = state['sq'].cuda()\n",
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        state['sq'] += p\n",
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        state[keys[0]] = p\n",
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        state['sq', 0] = p\n",  # no one literal key
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        state['sq'].data = p.data\n",
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        state.update(sq=p)\n",
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        reset(state)\n",  # handed to a callee
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        state = other[p]\n",  # bound twice
    "        state['sq'] = torch.zeros_like(p, device='cpu')\n        del state['sq']\n",
])
def test_a_slot_that_may_hold_a_device_tensor_is_reported(fill: str, ruleset: RuleSet) -> None:
    assert _operators(fill, ruleset) == [len((_HEAD + fill).splitlines()) + 1]


def test_another_function_filling_the_slot_keeps_the_finding(ruleset: RuleSet) -> None:
    fill = "        state['sq'] = torch.zeros_like(p, device='cpu')\n"
    other = "def load(self, p):\n    self.state[p]['sq'] = p.detach().clone()\n"
    assert _operators(fill, ruleset) == []
    assert _operators(fill, ruleset, other) == [len((_HEAD + fill).splitlines()) + 1]


def test_a_parameter_holder_keeps_the_finding(ruleset: RuleSet) -> None:
    source = "import torch\ndef step(state, p):\n    state['sq'] = torch.zeros_like(p, device='cpu')\n" + _USE[4:]
    result = check_bytes("optim.py", source.encode(), ruleset)
    assert [f.line for f in result.findings if f.rule_id == "LL904"] == [4]
