"""The codemod table stands on the rules: every entry names a rule that matches its symbols, writes one
of that rule's ``portable`` replacements for the symbol, never needs an older torch than the fact says,
and only names PyTorch APIs that torch 2.13 has (``scripts/data/torch``, copied from the wheel)."""

from __future__ import annotations

import json
import re

import pytest

from lockin_lint.fix.plan import version_tuple
from lockin_lint.fix.table import ACCELERATOR_GUARD, DEVICE_DEFINITION, DEVICE_MIN_TORCH, ENTRIES, Entry
from lockin_lint.kb.ruleset import RuleSet

from .conftest import REPO

NAMESPACES = json.loads((REPO / "scripts/data/torch/torch-2.13.0-namespaces.json").read_text())["modules"]
#: namespace -> name -> [first release, last release] over the torch 2.0 ... 2.13 wheels (the kb's table).
HISTORY = json.loads((REPO / "scripts/data/torch/torch-api-history.json").read_text())["namespaces"]
#: Device modules get_device_module() may return; an attribute used through it must exist in each.
DEVICE_MODULES = ("torch.cpu", "torch.mps", "torch.xpu", "torch.mtia")


def _id(entry: Entry) -> str:
    return f"{entry.rule_id}:{entry.symbols[0]}:{entry.min_torch}"


def _exists(dotted: str) -> bool:
    """Known to torch 2.13; a module the dump does not cover (``torch.distributed``) is not judged."""
    module, _, name = dotted.rpartition(".")
    covered = module in NAMESPACES or any(module.startswith(m + ".") for m in NAMESPACES if m != "torch")
    return not covered or (module in NAMESPACES and name in NAMESPACES[module]["names"])


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_entry_matches_its_rule(entry: Entry, ruleset: RuleSet) -> None:
    rule = ruleset.by_id()[entry.rule_id]
    match = rule.match
    for symbol in entry.symbols:
        if entry.kind == "method":
            assert symbol.lstrip(".") in match.methods
        elif entry.kind == "attribute":
            assert symbol.lstrip(".") in match.attributes
        elif entry.kind == "string":
            assert match.string_pattern and re.search(match.string_pattern, symbol)
        elif entry.kind == "fstring":  # the analyzer reads f"cuda:{x}" as "cuda:0"
            assert match.string_pattern and re.search(match.string_pattern, symbol.replace("{...}", "0"))
        else:
            assert symbol in match.qualified


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_entry_writes_a_portable_fact_of_its_rule_at_its_version(entry: Entry, ruleset: RuleSet) -> None:
    rule = ruleset.by_id()[entry.rule_id]
    for symbol in entry.symbols:
        facts = {p.replacement: p.min_torch for p in rule.info_for(symbol.lstrip(".")).portable}
        assert entry.portable in facts, f"{symbol}: the rule's portable facts are {sorted(facts)}"
        fact_version = facts[entry.portable]
        if fact_version is not None:
            assert entry.min_torch is not None
            assert version_tuple(entry.min_torch) >= version_tuple(fact_version)
    if entry.needs_device:
        assert entry.min_torch is not None and version_tuple(entry.min_torch) >= version_tuple(DEVICE_MIN_TORCH)


def _apis(entry: Entry) -> list[str]:
    texts = [entry.template, *entry.insert] + ([ACCELERATOR_GUARD] if entry.guard else [])
    names = []
    for text in texts:
        names += ["torch.get_device_module." + a for a in re.findall(r"get_device_module\(\)\.(\w+)", text)]
        names += ["torch" + dotted for dotted in re.findall(r"\{torch\}((?:\.\w+)+)", text)]
    return names


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_entry_names_only_apis_torch_has(entry: Entry) -> None:
    for name in _apis(entry):
        if name.startswith("torch.get_device_module."):
            attribute = name.split(".")[-1]
            assert all(attribute in NAMESPACES[m]["names"] for m in DEVICE_MODULES), attribute
        else:
            assert _exists(name), name


def _first_release(dotted: str) -> str | None:
    """The first torch release that has ``dotted`` (None: the history does not cover its module)."""
    module, _, name = dotted.rpartition(".")
    if module not in HISTORY:
        return None
    assert name in HISTORY[module], f"{dotted} is in no torch release from 2.0 on"
    first, last = HISTORY[module][name]
    assert last == "2.13", f"{dotted} is gone after torch {last}"
    return str(first)


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_entry_never_writes_an_api_newer_than_its_gate(entry: Entry) -> None:
    for name in _apis(entry):
        if name.startswith("torch.get_device_module."):
            name = "torch.get_device_module"
        first = _first_release(name)
        if first is not None:
            assert version_tuple(first) <= version_tuple(entry.min_torch or "2.0"), (name, first)


def test_the_device_definition_uses_apis_of_its_version() -> None:
    for dotted in re.findall(r"\{torch\}((?:\.\w+)+)", DEVICE_DEFINITION):
        assert _exists("torch" + dotted)
        first = _first_release("torch" + dotted)
        assert first is None or version_tuple(first) <= version_tuple(DEVICE_MIN_TORCH)


def test_a_planted_wrong_entry_is_caught(ruleset: RuleSet) -> None:
    """The checks above can fail: an entry older than its fact, or naming an API torch lacks."""
    wrong = Entry("LL101", ("torch.cuda.synchronize",), "call", "{torch}.accelerator.synchronise",
                  "torch.accelerator.synchronize()", "2.4")
    with pytest.raises(AssertionError):
        test_entry_writes_a_portable_fact_of_its_rule_at_its_version(wrong, ruleset)
    with pytest.raises(AssertionError):
        test_entry_names_only_apis_torch_has(wrong)
    too_early = Entry("LL103", ("torch.cuda.empty_cache",), "call", "{torch}.accelerator.memory.empty_cache",
                      "torch.accelerator.memory.empty_cache()", "2.6")
    with pytest.raises(AssertionError):
        test_entry_never_writes_an_api_newer_than_its_gate(too_early)
