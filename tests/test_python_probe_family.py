"""The CUDA member of a module's availability probes (analyzers/python_probe_family.py): its own
``torch.cuda.is_available()`` is set apart (info, every open target handled), and only there."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

IMPORTS = '''import torch


def is_cuda_available():
    """Checks if `cuda` is available without initialising it."""
    with patch_environment(PYTORCH_NVML_BASED_CUDA_CHECK="1"):
        found = torch.cuda.is_available()
    return found


def is_npu_available():
    return hasattr(torch, "npu") and torch.npu.is_available()


def is_xpu_available():
    return hasattr(torch, "xpu") and torch.xpu.is_available()


def pick():
    return torch.cuda.is_available()
'''


def _at(ruleset: RuleSet, text: str, line: int) -> Finding:
    [found] = [f for f in check_bytes("utils/imports.py", text.encode(), ruleset).findings if f.line == line]
    return found


def test_the_cuda_probe_beside_two_others_is_set_apart(ruleset: RuleSet) -> None:
    found = _at(ruleset, IMPORTS, 7)
    assert found.rule_id == "LL101" and found.severity == "info"
    note = "CUDA member of the project's availability probes (imports.py: is_npu_available, is_xpu_available)"
    handled = dict(found.handled)
    assert handled and set(handled.values()) == {note}
    assert all(info.status == "native" for info in found.targets.values())  # no target left open


def test_the_same_call_outside_the_probe_keeps_firing(ruleset: RuleSet) -> None:
    found = _at(ruleset, IMPORTS, 20)
    assert found.severity != "info" and "probes" not in str(found.handled)


@pytest.mark.parametrize("change", [
    ("def is_xpu_available():", "def xpu_ready():"),  # one sibling only
    ("def is_cuda_available():", "def cuda_ready():"),  # not named as a probe
    ("    return found\n", "    torch.cuda.set_device(0)\n    return found\n"),  # other CUDA work
    ("def is_npu_available():", "def is_triton_available():"),  # no platform word
])
def test_near_misses_keep_the_finding(ruleset: RuleSet, change: tuple[str, str]) -> None:
    assert change[0] in IMPORTS
    found = _at(ruleset, IMPORTS.replace(*change), 7)
    assert found.severity != "info" and "probes" not in str(found.handled)
