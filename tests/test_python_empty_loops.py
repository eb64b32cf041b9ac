"""A loop over ``range(torch.cuda.device_count())``, empty off CUDA, the other platforms handled
right after it (analyzers/python_empty_loops.py; docs/validation.md, #11, fifth session, f13c;
accelerate ``utils/modeling.py:818``); the near misses keep their old reading."""

from __future__ import annotations

from lockin_lint.analyzers.python_dispatch import BRANCH
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_SOURCE = ("import torch\ndef get_max_memory(max_memory):\n    if is_npu_available():\n"
           "        max_memory[0] = torch.npu.mem_get_info(0)[0]\n    else:\n"
           "        for i in {devices}:\n            max_memory[i] = torch.cuda.mem_get_info(i)[0]\n"
           "{between}    # the RAM is shared\n    if {test}:\n        max_memory['mps'] = available()\n"
           "    else:\n        max_memory[{name}] = available()\n    return max_memory\n")


def _handled(ruleset: RuleSet, devices: str = "range(torch.cuda.device_count())", between: str = "",
             test: str = "torch.backends.mps.is_available()", name: str = "'cpu'") -> dict[str, str]:
    source = _SOURCE.format(devices=devices, between=between, test=test, name=name)
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == 7 and f.rule_id == "LL103"]
    return dict(found.handled)


def test_the_statement_after_the_device_loop_handles_mps_and_cpu(ruleset: RuleSet) -> None:
    handled = _handled(ruleset)
    assert handled["mps"] == f"{BRANCH} (m.py:9)" and handled["cpu"] == f"{BRANCH} (m.py:11)"
    assert handled["ascend"] == BRANCH and "xpu" not in handled


def test_an_else_naming_no_cpu_handles_only_what_its_if_tests(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, name="'rest'")
    assert "mps" in handled and "cpu" not in handled


def test_an_if_testing_no_platform_handles_no_mps(ruleset: RuleSet) -> None:
    assert "mps" not in _handled(ruleset, test="shared_ram")


def test_a_loop_over_anything_else_is_no_device_loop(ruleset: RuleSet) -> None:
    for devices in ("range(n)", "devices"):
        handled = _handled(ruleset, devices=devices)
        assert "mps" not in handled and "cpu" not in handled, devices


def test_a_statement_between_is_what_runs_next(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, between="    log(max_memory)\n")
    assert "mps" not in handled and "cpu" not in handled
