"""Two classes judged false in the seventh session's fourth round (docs/validation.md, #11, f22a):
the expression form of the ``torch.accelerator`` fallback (`python_chain_shapes.accelerator_ternary`,
bitsandbytes ``backends/triton/ops.py:13``) and a match on a name its function only annotates
(`python_unbound_names`, xformers ``stubs/torch_stub_tests.py:1644``); each with near misses."""

from __future__ import annotations

from lockin_lint.analyzers.python_chain_shapes import ACCELERATOR
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_TERNARY = ('import torch\n'
            'device_type = torch.accelerator.current_accelerator().type if hasattr(torch, "accelerator") else "cuda"\n')


def _findings(source: str, ruleset: RuleSet) -> list[Finding]:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return result.findings


def _at(source: str, ruleset: RuleSet, line: int, rule: str) -> Finding:
    [found] = [f for f in _findings(source, ruleset) if f.line == line and f.rule_id == rule]
    return found


def test_the_cuda_else_of_an_accelerator_ternary_is_all_native(ruleset: RuleSet) -> None:
    found = _at(_TERNARY, ruleset, 2, "LL201")
    assert all(t.status == "native" for t in found.targets.values())
    assert dict(found.handled)["mps"] == f"{ACCELERATOR} (m.py:2)"


def test_an_is_available_ternary_leaves_the_cpu_open(ruleset: RuleSet) -> None:
    source = _TERNARY.replace('hasattr(torch, "accelerator")',
                              'hasattr(torch, "accelerator") and torch.accelerator.is_available()')
    found = _at(source, ruleset, 2, "LL201")
    assert found.targets["mps"].status == "native" and found.targets["cpu"].status != "native"


def test_other_ternaries_handle_nothing(ruleset: RuleSet) -> None:
    other_test = _TERNARY.replace('hasattr(torch, "accelerator")', "fast")
    cuda_value = _TERNARY.replace("torch.accelerator.current_accelerator().type", 'torch.device("cuda").type')
    for source in (other_test, cuda_value):
        found = _at(source, ruleset, 2, "LL201")
        assert found.targets["mps"].status != "native", source
        assert ACCELERATOR not in str(found.handled), source


_STUB = "import torch\ndef test_is_cuda() -> None:\n    x: Tensor[torch.float32, L[2]]\n    y: bool = x.is_cuda\n"


def test_a_name_only_annotated_is_no_receiver(ruleset: RuleSet) -> None:
    assert not [f for f in _findings(_STUB, ruleset) if f.rule_id == "LL121"]


def test_a_bound_name_keeps_its_finding(ruleset: RuleSet) -> None:
    parameter = "import torch\ndef f(x: Tensor) -> None:\n    y: bool = x.is_cuda\n"
    valued = _STUB.replace("L[2]]\n", "L[2]] = make()\n")
    later = _STUB.replace("    y: bool", "    x = make()\n    y: bool")
    looped = _STUB.replace("    y: bool = x.is_cuda\n", "    for x in xs:\n        y = x.is_cuda\n")
    for source in (parameter, valued, later, looped):
        assert [f for f in _findings(source, ruleset) if f.rule_id == "LL121"], source
