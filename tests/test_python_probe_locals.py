"""A platform probe kept in a local that only ``if`` tests read reads as the probe itself
(`python_probe_locals`): the chain on such locals credits the platforms its branches name (accelerate's
``commands/env.py``), and the probe's own line takes the notes of the chain that reads its local
(pytorch/examples' ``mnist_hogwild/main.py``, bitsandbytes' ``diagnostics/main.py``). A local used
any other way keeps the old reading."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_REPORT = """import torch
from accelerate.utils import is_mlu_available, is_xpu_available


def report(args):
    pt_cuda_available = torch.cuda.is_available()
    pt_xpu_available = is_xpu_available()
    pt_mlu_available = is_mlu_available()
    info = {}
    if pt_cuda_available:
        info["GPU type"] = torch.cuda.get_device_name()
    elif pt_xpu_available:
        info["XPU type"] = torch.xpu.get_device_name()
    elif pt_mlu_available:
        info["MLU type"] = torch.mlu.get_device_name()
    return info
"""
_INLINE_REPORT = (_REPORT.replace("if pt_cuda_available:", "if torch.cuda.is_available():")
                  .replace("elif pt_xpu_available:", "elif is_xpu_available():")
                  .replace("elif pt_mlu_available:", "elif is_mlu_available():"))

_PICK = """import torch


def pick(args):
    use_cuda = args.cuda and torch.cuda.is_available()
    use_mps = args.mps and torch.backends.mps.is_available()
    if use_cuda:
        device = torch.device("cuda")
    elif use_mps:
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    kwargs = {}
    if use_cuda:
        kwargs.update({"pin_memory": True})
    return device, kwargs
"""
_BRANCH = {"cpu": "fallback path (cpu)", "mlu": "device/platform branch", "xpu": "device/platform branch"}


def _at(source: str, ruleset: RuleSet, text: str, rule: str = "LL101") -> Finding:
    line = next(n for n, spelled in enumerate(source.splitlines(), 1) if text in spelled)
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and f.rule_id == rule]
    return found


def test_a_chain_on_probe_locals_reads_like_the_inline_chain(ruleset: RuleSet) -> None:
    local = _at(_REPORT, ruleset, "torch.cuda.get_device_name()")
    inline = _at(_INLINE_REPORT, ruleset, "torch.cuda.get_device_name()")
    assert dict(local.handled) == dict(inline.handled) == _BRANCH
    assert local.targets["xpu"].status == "native"


def test_the_probe_line_takes_the_notes_of_the_chain_on_its_local(ruleset: RuleSet) -> None:
    found = _at(_REPORT, ruleset, "pt_cuda_available = torch.cuda.is_available()")
    assert dict(found.handled) == _BRANCH
    assert found.targets["mlu"].status == "native" and found.targets["mps"].status != "native"


def test_a_lone_if_on_the_local_does_not_veto_the_chain(ruleset: RuleSet) -> None:
    # the second `if use_cuda:` only skips a CUDA tweak elsewhere; the chain names mps and falls to cpu
    found = _at(_PICK, ruleset, "use_cuda = args.cuda")
    assert dict(found.handled) == {"cpu": "fallback path (cpu)", "mps": "device/platform branch"}


def test_every_chain_reading_the_local_must_handle_a_target(ruleset: RuleSet) -> None:
    # a second chain without the mps branch: mps is handled by one reading only, so not at the probe
    source = _PICK.replace('    if use_cuda:\n        kwargs', '    if use_cuda:\n        kwargs').replace(
        '        kwargs.update({"pin_memory": True})\n',
        '        kwargs.update({"pin_memory": True})\n    else:\n        kwargs.update({"pin_memory": False})\n')
    found = _at(source, ruleset, "use_cuda = args.cuda")
    assert dict(found.handled) == {"cpu": "fallback path (cpu)"}


@pytest.mark.parametrize("change", [
    ("    return info\n", "    return info, pt_cuda_available\n"),  # returned
    ("    return info\n", "    log(pt_cuda_available)\n    return info\n"),  # passed on
    ("    return info\n", "    args.cuda = pt_cuda_available\n    return info\n"),  # stored
    ("    return info\n", "    pt_cuda_available = False\n    return info\n"),  # rebound
    ("    return info\n", "    while pt_cuda_available:\n        break\n    return info\n"),  # not an if
    ("    return info\n", "    def inner():\n        if pt_cuda_available:\n            pass\n    return info\n"),
    ("pt_cuda_available = torch.cuda.is_available()", "pt_cuda_available = str(torch.cuda.is_available())"),
    ("pt_cuda_available = torch.cuda.is_available()",
     "pt_cuda_available = torch.cuda.is_available() if args.gpu else False"),
])
def test_a_probe_local_used_otherwise_keeps_the_probe_line_as_it_was(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _REPORT.replace(*change)
    assert source != _REPORT
    found = _at(source, ruleset, "pt_cuda_available = ")
    assert "xpu" not in dict(found.handled) and "mlu" not in dict(found.handled)
    assert found.targets["xpu"].status != "native"


@pytest.mark.parametrize("change", [
    ("    return info\n", "    return info, pt_xpu_available\n"),  # the sibling local is returned
    ("    pt_mlu_available = is_mlu_available()\n",
     "    pt_mlu_available = is_mlu_available()\n    pt_xpu_available = args.xpu\n"),  # rebound
    ("    pt_xpu_available = is_xpu_available()\n", "    pt_xpu_available = check(args)\n"),  # no probe
])
def test_a_sibling_local_used_otherwise_names_no_platform(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _REPORT.replace(*change)
    assert source != _REPORT
    found = _at(source, ruleset, "torch.cuda.get_device_name()")
    assert "xpu" not in dict(found.handled)
    assert dict(found.handled).get("mlu") == "device/platform branch"
