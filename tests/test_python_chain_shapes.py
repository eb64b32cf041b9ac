"""The four dispatch shapes of analyzers/python_chain_shapes.py (docs/validation.md, #11, fourth
session): a CPU-build flag set from a CUDA test, a ``torch.accelerator`` branch earlier in the
function, a fall-through that crashes, and a CUDA test guarding only a skip or a failure; each with
the near misses that must keep their old reading."""

from __future__ import annotations

from lockin_lint.analyzers.python_chain_shapes import ACCELERATOR, CPU_FLAG, CUDA_ONLY_SKIP
from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_ACCELERATORS = ("ascend", "mlu", "musa", "mps")
_OTHERS = ("ascend", "mlu", "musa", "xpu", "mps", "cpu")


def _at(source: str, ruleset: RuleSet, line: int, rule: str = "") -> Finding:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and rule in f.rule_id]
    return found


def _handled(source: str, ruleset: RuleSet, line: int, rule: str = "") -> dict[str, str]:
    return dict(_at(source, ruleset, line, rule).handled)


# -- a CPU-build flag set from a CUDA test (DeepSpeed op_builder/builder.py:578) ---------------------
def test_a_cpu_build_flag_set_from_the_cuda_test_handles_cpu(ruleset: RuleSet) -> None:
    source = ("import torch\nclass B:\n    def load(self):\n        if not self.is_rocm_pytorch():\n"
              "            self.build_for_cpu = not torch.cuda.is_available()\n")
    found = _at(source, ruleset, 5)
    assert dict(found.handled)["cpu"] == f"{CPU_FLAG} (m.py:5)"
    assert found.targets["cpu"].status == "native"
    assert found.targets["xpu"].status != "native"  # the other targets are not the flag's


def test_other_assignments_of_the_cuda_test_are_not_a_cpu_flag(ruleset: RuleSet) -> None:
    for target in ("self.cpu_offload", "flag", "self.use_cuda"):
        source = f"import torch\ndef f(self):\n    {target} = not torch.cuda.is_available()\n"
        assert "cpu" not in _handled(source, ruleset, 3), target
    positive = "import torch\ndef f(self):\n    self.build_for_cpu = torch.cuda.is_available()\n"
    assert "cpu" not in _handled(positive, ruleset, 3)


# -- a torch.accelerator branch earlier in the function (bitsandbytes tests/fsdp_state_dict_save.py) --
_EARLIER = ('import torch\ndef kind():\n    if hasattr(torch, "accelerator") and torch.accelerator.is_available():\n'
            "        return str(torch.accelerator.current_accelerator())\n"
            '    if torch.xpu.is_available():\n        return "xpu"\n'
            '    if torch.cuda.is_available():\n        return "cuda"\n    return "cpu"\n')


def test_an_earlier_accelerator_branch_handles_every_accelerator(ruleset: RuleSet) -> None:
    found = _at(_EARLIER, ruleset, 7)
    handled = dict(found.handled)
    assert {t: handled[t] for t in _ACCELERATORS} == dict.fromkeys(_ACCELERATORS, f"{ACCELERATOR} (m.py:3)")
    assert handled["xpu"] == BRANCH and handled["cpu"] == FALLBACK  # a branch naming it keeps its note
    assert "silently run on the CPU" not in found.message


def test_an_earlier_accelerator_clause_of_the_chain_counts(ruleset: RuleSet) -> None:
    source = ("import torch\ndef kind():\n    if torch.accelerator.is_available():\n"
              "        d = torch.accelerator.current_accelerator()\n"
              '    elif torch.cuda.is_available():\n        d = "cuda"\n    else:\n        d = "cpu"\n    return d\n')
    assert _handled(source, ruleset, 5)["mps"] == f"{ACCELERATOR} (m.py:3)"


def test_an_accelerator_branch_after_or_not_returning_or_spelling_cuda_handles_nothing(ruleset: RuleSet) -> None:
    after = ('import torch\ndef kind():\n    if torch.cuda.is_available():\n        return "cuda"\n'
             "    if torch.accelerator.is_available():\n        return str(torch.accelerator.current_accelerator())\n"
             '    return "cpu"\n')
    assert "mps" not in _handled(after, ruleset, 3)
    going_on = _EARLIER.replace("        return str(torch.accelerator.current_accelerator())\n",
                                "        print(torch.accelerator.current_accelerator())\n")
    assert "mps" not in _handled(going_on, ruleset, 7)
    cuda_body = _EARLIER.replace("return str(torch.accelerator.current_accelerator())", 'return "cuda"')
    assert "mps" not in _handled(cuda_body, ruleset, 7)
    other_test = _EARLIER.replace('hasattr(torch, "accelerator") and torch.accelerator.is_available()', "fast")
    assert "mps" not in _handled(other_test, ruleset, 7)


# -- a fall-through that crashes (accelerate's TorchTracemalloc) --------------------------------------
_TRACEMALLOC = ("import torch\nclass Tracker:\n    def __enter__(self):\n        if torch.cuda.is_available():\n"
                "            self.begin = torch.cuda.memory_allocated()\n        elif is_xpu_available():\n"
                "            self.begin = torch.xpu.memory_allocated()\n        return self\n\n"
                "    def __exit__(self, *exc):\n        if torch.cuda.is_available():\n"
                "            self.end = torch.cuda.memory_allocated()\n        elif is_mlu_available():\n"
                "            self.end = torch.mlu.memory_allocated()\n            self.begin = 0\n"
                "        self.used = self.end - self.begin\n")


def test_a_fall_through_that_crashes_is_no_cpu_fallback(ruleset: RuleSet) -> None:
    for line in (4, 5, 11, 12):
        found = _at(_TRACEMALLOC, ruleset, line)
        assert "cpu" not in dict(found.handled), line
        assert dict(found.handled)["xpu" if line < 10 else "mlu"] == BRANCH
        assert "fallback" not in found.message


def test_a_fall_through_with_the_value_bound_elsewhere_keeps_its_fallback(ruleset: RuleSet) -> None:
    set_before = _TRACEMALLOC.replace("    def __enter__(self):\n", "    def __enter__(self):\n        self.begin = 0\n")
    assert _handled(set_before, ruleset, 6)["cpu"] == FALLBACK
    class_default = _TRACEMALLOC.replace("class Tracker:\n", "class Tracker:\n    begin = 0\n")
    assert _handled(class_default, ruleset, 6)["cpu"] == FALLBACK
    probed = _TRACEMALLOC.replace("self.end - self.begin", 'self.end - getattr(self, "begin", 0)')
    assert _handled(probed, ruleset, 5)["cpu"] == FALLBACK
    with_else = _TRACEMALLOC.replace("        return self\n", "        else:\n            self.begin = 0\n"
                                     "        return self\n")
    assert _handled(with_else, ruleset, 5)["cpu"] == FALLBACK  # the else is the CPU path
    never_read = _TRACEMALLOC.replace("        self.used = self.end - self.begin\n", "")
    assert _handled(never_read, ruleset, 5)["cpu"] == FALLBACK


def test_a_local_bound_only_in_the_chain_and_read_after_it(ruleset: RuleSet) -> None:
    source = ('import torch\ndef pick(model):\n    if torch.cuda.is_available():\n        device = "cuda"\n'
              '    elif torch.backends.mps.is_available():\n        device = "mps"\n    model.to(device)\n')
    assert "cpu" not in _handled(source, ruleset, 3)
    bound_before = source.replace("def pick(model):\n", 'def pick(model):\n    device = "cpu"\n')
    assert _handled(bound_before, ruleset, 4)["cpu"] == FALLBACK
    parameter = source.replace("def pick(model):", "def pick(model, device):")
    assert _handled(parameter, ruleset, 3)["cpu"] == FALLBACK


# -- a CUDA test guarding only a skip or a failure (bitsandbytes tests, accelerate state.py:319) -----
def test_a_cuda_test_that_only_skips_handles_every_target(ruleset: RuleSet) -> None:
    source = ("import pytest, torch\ndef test_x(device, mode):\n"
              '    if device == "cuda" and mode == "reduce-overhead":\n'
              '        pytest.xfail("regression in torch with CUDA graphs")\n    run(device)\n')
    found = _at(source, ruleset, 3)
    assert dict(found.handled) == dict.fromkeys(_OTHERS, f"{CUDA_ONLY_SKIP} (m.py:3)")
    assert all(found.targets[t].status == "native" for t in _OTHERS)
    parenthesized = ("import pytest, torch\ndef test_x(device):\n    if (\n        device == \"cuda\"\n"
                     "        and torch.cuda.get_device_capability() < (8, 0)\n    ):\n"
                     '        pytest.xfail("no compiled frames on SM75")\n')
    assert _handled(parenthesized, ruleset, 5)["mps"] == f"{CUDA_ONLY_SKIP} (m.py:3)"


def test_a_cuda_test_that_only_raises_under_a_nested_test(ruleset: RuleSet) -> None:
    source = ("import os\ndef check(self):\n    if self.device.type == \"cuda\" and not p2p_supported():\n"
              '        if "NCCL_P2P_DISABLE" not in os.environ:\n            raise NotImplementedError("set it")\n')
    assert _handled(source, ruleset, 3)["xpu"] == f"{CUDA_ONLY_SKIP} (m.py:3)"


def test_tests_that_need_cuda_or_do_more_than_skip_keep_their_reading(ruleset: RuleSet) -> None:
    negated = ("import pytest, torch\ndef test_x():\n    if not torch.cuda.is_available():\n"
               '        pytest.skip("needs CUDA")\n')
    assert CUDA_ONLY_SKIP not in str(_handled(negated, ruleset, 3))
    not_equal = 'import pytest\ndef test_x(device):\n    if device != "cuda":\n        pytest.skip("CUDA only")\n'
    assert all(CUDA_ONLY_SKIP not in how for how in _handled(not_equal, ruleset, 3).values())
    working = ("import pytest, torch\ndef test_x(device):\n    if device == \"cuda\":\n"
               "        torch.cuda.synchronize()\n        pytest.skip('flaky')\n")
    assert dict(_handled(working, ruleset, 3)) == {"cpu": FALLBACK}
    with_else = ("import pytest\ndef test_x(device):\n    if device == \"cuda\":\n        pytest.skip('x')\n"
                 "    else:\n        run(device)\n")
    assert all(CUDA_ONLY_SKIP not in how for how in _handled(with_else, ruleset, 3).values())
    other_platform = ("import pytest, torch\ndef test_x(device):\n"
                      "    if device == \"cuda\" or torch.xpu.is_available():\n        pytest.skip('x')\n")
    assert all(CUDA_ONLY_SKIP not in how for how in _handled(other_platform, ruleset, 3).values())
