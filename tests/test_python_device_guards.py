"""An operator method behind a test that its own tensor is not on the CPU handles the CPU
(analyzers/python_device_guards.py); other targets, unguarded calls and guards on another tensor
keep their reading."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_SOURCE = ("import torch\n\n\ndef offload(state, key, other, copy_stream):\n"
           "    state[key + '_cpu'].copy_(state[key], non_blocking=True)\n"
           "    if {test}:\n{extra}        {receiver}.record_stream(copy_stream)\n"
           "    state[key] = None\n")
_PARTS = {"test": 'state[key].device.type != "cpu"', "extra": "", "receiver": "state[key]"}
_NOTE = "tensor-device guard (offload.py:6)"


def _offload(ruleset: RuleSet, **parts: str) -> Finding:
    result = check_bytes("offload.py", _SOURCE.format(**(_PARTS | parts)).encode(), ruleset)
    found = [f for f in result.findings if f.rule_id == "LL904"]
    assert len(found) == 1, parts
    return found[0]


def test_a_guard_that_the_tensor_is_off_the_cpu_handles_the_cpu(ruleset: RuleSet) -> None:
    for test in ('state[key].device.type != "cpu"', "'cpu' != state[key].device.type",
                 'state[key].device != torch.device("cpu")',
                 '(state[key].device.type != "cpu") and copy_stream is not None'):
        finding = _offload(ruleset, test=test)
        handled = dict(finding.handled)
        assert handled.get("cpu") == _NOTE, test
        assert "mps" not in handled, test  # an MPS tensor passes the guard and still needs the kernel
        assert finding.targets["mps"].status == "missing", test


def test_near_misses_of_the_device_guard_keep_the_cpu_missing(ruleset: RuleSet) -> None:
    for parts in ({"test": "copy_stream is not None"},  # no device guard
                  {"test": 'other.device.type != "cpu"'},  # a guard on another tensor
                  {"test": 'state[key].device.type != "mps"'},  # excludes another device
                  {"extra": "        state[key] = state[key].cpu()\n"}):  # rebound before the call
        finding = _offload(ruleset, **parts)
        assert "cpu" not in dict(finding.handled), parts
        assert finding.targets["cpu"].status == "missing", parts
