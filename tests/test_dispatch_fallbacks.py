"""What a dispatch chain's fallback handles (analyzers/python_dispatch.py): the path taken when every
platform test is false handles the CPU only when it goes on; an ``else`` that only raises handles
nothing. fixtures/python/dispatch_raising_else.py holds which of these lines are reported."""

from __future__ import annotations

from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding


def _at(source: str, ruleset: RuleSet, line: int, rule: str) -> Finding:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and f.rule_id == rule]
    return found


_CHAIN = ("import torch\ndef f(model, device):\n    if device.type == \"cuda\":\n        model.cuda()\n"
          "    elif torch.xpu.is_available():\n        model.to(\"xpu\")\n    else:\n        {otherwise}\n")


def test_an_else_that_only_raises_is_no_cpu_fallback(ruleset: RuleSet) -> None:
    """accelerate's ``bnb.py``: ``cuda`` / ``xpu`` / ``else: raise RuntimeError("No GPU or Intel XPU
    found")`` handles XPU, not the CPU, and the message does not say the CPU path is taken."""
    raising = _CHAIN.format(otherwise='raise RuntimeError("No GPU or Intel XPU found")')
    for line, rule in ((3, "LL201"), (4, "LL120")):
        found = _at(raising, ruleset, line, rule)
        assert dict(found.handled) == {"xpu": BRANCH}
        assert found.targets["cpu"].status != "native"
        assert "fallback" not in found.message


def test_an_else_that_goes_on_is_the_cpu_fallback(ruleset: RuleSet) -> None:
    """The near miss: the same chain with an ``else`` that does something handles the CPU."""
    going_on = _CHAIN.format(otherwise="model.float()")
    found = _at(going_on, ruleset, 4, "LL120")
    assert dict(found.handled) == {"xpu": BRANCH, "cpu": FALLBACK}
    plain = "import torch\nif torch.cuda.is_available():\n    torch.cuda.synchronize()\nelse:\n    raise SystemExit\n"
    assert _at(plain, ruleset, 3, "LL101").handled == ()


def test_a_chain_naming_the_cpu_still_handles_it_when_its_else_raises(ruleset: RuleSet) -> None:
    """TGI's ``cuda`` / ``SYSTEM == "ipex"`` (Intel GPU or CPU) / ``else: raise``: the CPU has its branch."""
    source = ("import torch\nSYSTEM = 'cuda'\nif torch.cuda.is_available():\n    torch.cuda.synchronize()\n"
              "elif SYSTEM == \"ipex\":\n    pass\nelse:\n    raise NotImplementedError\n")
    assert dict(_at(source, ruleset, 4, "LL101").handled) == {"cpu": BRANCH, "xpu": BRANCH}
