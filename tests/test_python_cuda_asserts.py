"""Fallbacks a later CUDA ``assert`` rejects (analyzers/python_cuda_asserts.py): llm.c's
``train_llama3.py`` picks ``device`` with a cuda / mps / cpu chain, derives ``device_type`` and
asserts ``device_type in {'cuda'}``; the chain's mps and cpu notes, and those of every dispatch after
the assert, handle nothing. The findings stay, with the rule's own statuses and no CPU sentence."""

from __future__ import annotations

import pytest

from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

#: The shape of llm.c's main(), rewritten: {guard} is the line after the derived device_type.
_MAIN = """import torch
def main(args):
    if args.device:
        device = args.device
    else:
        device = "cpu"
        if torch.cuda.is_available():
            device = "cuda"
        elif torch.backends.mps.is_available():
            device = "mps"
    device_type = 'cuda' if 'cuda' in device else 'cpu'
    {guard}
    print(device)
    if torch.cuda.is_available():
        torch.cuda.manual_seed(42)
    if device == "mps":
        torch.mps.synchronize()
    elif device == "cuda":
        torch.cuda.synchronize()
"""
#: (line, rule) of the findings the chain and the later dispatches note as handled.
_NOTED = ((7, "LL101"), (8, "LL201"), (11, "LL201"), (14, "LL101"), (15, "LL104"), (18, "LL201"), (19, "LL101"))


def _at(source: str, ruleset: RuleSet, line: int, rule: str) -> Finding:
    result = check_bytes("train.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and f.rule_id == rule]
    return found


@pytest.mark.parametrize("guard", [
    "assert device_type in {'cuda'}, \"GPU required to run LLaMA 3\"",
    "assert device_type == 'cuda'",
    "assert device_type in ('cuda',)",
    "if device_type != 'cuda':\n        raise RuntimeError('GPU required')",
])
def test_a_cuda_guard_leaves_the_chain_and_what_follows_unhandled(ruleset: RuleSet, guard: str) -> None:
    source = _MAIN.format(guard=guard)
    for line, rule in _NOTED:
        found = _at(source, ruleset, line + guard.count("\n"), rule) if line > 12 else _at(source, ruleset, line, rule)
        assert found.handled == (), (line, found.handled)
        assert "silently" not in found.message
        assert found.targets["cpu"].status != "native" or rule == "LL104"


@pytest.mark.parametrize("guard", [
    "assert device_type in {'cuda', 'cpu'}",  # admits the CPU
    "if device_type != 'cuda':\n        print('no GPU: slow')",  # only warns
    "pass",
])
def test_a_guard_that_admits_another_device_keeps_the_notes(ruleset: RuleSet, guard: str) -> None:
    source = _MAIN.format(guard=guard)
    assert dict(_at(source, ruleset, 7, "LL101").handled) == {"cpu": FALLBACK, "mps": BRANCH}
    shift = guard.count("\n")
    assert dict(_at(source, ruleset, 14 + shift, "LL101").handled) == {"cpu": FALLBACK}
    assert "silently" in _at(source, ruleset, 19 + shift, "LL101").message


def test_a_guard_in_another_function_keeps_the_notes(ruleset: RuleSet) -> None:
    source = ("import torch\ndef pick():\n    device = 'cpu'\n    if torch.cuda.is_available():\n"
              "        device = 'cuda'\n    return device\n"
              "def require(device):\n    assert device == 'cuda'\n")
    assert dict(_at(source, ruleset, 4, "LL101").handled) == {"cpu": FALLBACK}


def test_a_guard_of_another_name_keeps_the_chain_notes(ruleset: RuleSet) -> None:
    """Only the statements that set the guarded name (or the one it derives from) are its chain."""
    source = ("import torch\ndef main(x):\n    backend = 'cpu'\n    if torch.cuda.is_available():\n"
              "        backend = 'cuda'\n    kind = x.device.type\n    assert kind == 'cuda'\n")
    assert dict(_at(source, ruleset, 4, "LL101").handled) == {"cpu": FALLBACK}


def test_a_nested_function_after_the_guard_keeps_its_notes(ruleset: RuleSet) -> None:
    source = ("import torch\ndef main(device):\n    assert device == 'cuda'\n    def later():\n"
              "        if torch.cuda.is_available():\n            torch.cuda.synchronize()\n    return later\n")
    assert dict(_at(source, ruleset, 6, "LL101").handled) == {"cpu": FALLBACK}


def test_module_level_guard(ruleset: RuleSet) -> None:
    """The same at module level: a script's top-level chain and its assert."""
    source = ("import torch\ndevice = 'cuda' if torch.cuda.is_available() else 'cpu'\n"
              "assert 'cuda' in device, 'GPU required'\n")
    found = _at(source, ruleset, 2, "LL201")  # joined with the LL101 test on the same line
    assert found.handled == ()
    assert "silently" not in found.message


def test_the_derived_name_is_read_through_calls_and_keywords(ruleset: RuleSet) -> None:
    """``device_type = torch.device(type=device).type``: derived from ``device`` (not from the
    keyword ``type`` or the attribute ``.type``)."""
    source = ("import torch\ndef main():\n    device = 'cpu'\n    if torch.cuda.is_available():\n"
              "        device = 'cuda'\n    device_type = torch.device(type=device).type\n"
              "    assert device_type == 'cuda'\n")
    assert _at(source, ruleset, 4, "LL101").handled == ()
