"""Stream bookkeeping behind ``if <tensor>.is_cuda:`` with no else handles every target
(analyzers/python_stream_guards.py); near misses keep their statuses and the CPU-fallback sentence."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_SOURCE = ("import torch\n\n\ndef send(tensors, group):\n    handles = []\n    for tensor in tensors:\n"
           "        handles.append(torch.distributed.isend(tensor, dst=1, group=group))\n"
           "        if {test}:\n            tensor.record_stream(torch.cuda.current_stream(tensor.device))\n"
           "{extra}{orelse}    return handles\n")
_PARTS = {"test": "tensor.is_cuda", "extra": "", "orelse": ""}
_NOTE = "stream bookkeeping only for CUDA tensors (comm.py:8)"


def _send(ruleset: RuleSet, **parts: str) -> list[Finding]:
    result = check_bytes("comm.py", _SOURCE.format(**(_PARTS | parts)).encode(), ruleset)
    return [f for f in result.findings if f.rule_id in ("LL102", "LL904")]


def test_stream_bookkeeping_for_cuda_tensors_is_handled_everywhere(ruleset: RuleSet) -> None:
    for parts in ({}, {"orelse": "        else:\n            pass\n"},
                  {"extra": "            torch.cuda.current_stream().wait_stream(torch.cuda.default_stream())\n"}):
        found = _send(ruleset, **parts)
        # record_stream misses nowhere once handled: the operator finding goes; the stream API stays, handled
        assert [f.rule_id for f in found] == ["LL102"] * len(found) and found, parts
        for finding in found:
            handled = dict(finding.handled)
            assert handled["mps"] == _NOTE and handled["ascend"] == _NOTE and "rocm" not in handled, parts
            assert "silently run on the CPU" not in finding.message, parts


def test_near_misses_of_stream_bookkeeping_stay(ruleset: RuleSet) -> None:
    for parts in ({"test": "torch.cuda.is_available()"},  # the machine, not the tensor
                  {"test": "tensor.is_cuda and group is not None"},  # more than the tensor test
                  {"extra": "            tensor = tensor.mul(2)\n"},  # the branch also computes
                  {"orelse": "        else:\n            tensor = tensor.cpu()\n"}):  # an else that does something
        found = _send(ruleset, **parts)
        assert found, parts
        for finding in found:
            assert _NOTE not in dict(finding.handled).values(), parts
