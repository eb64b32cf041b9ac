"""A platform's own call in the ``if`` right before a chain whose ``else`` is the CUDA call
(analyzers/python_prior_branches.py; docs/validation.md, #11, sixth session, f17c; accelerate's
``checkpointing.py:313``): that platform is handled; the near misses keep their old reading."""

from __future__ import annotations

from lockin_lint.analyzers.python_dispatch import BRANCH
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_SOURCE = ("import torch\ndef load(states):\n    {test}\n        {call}\n{between}"
           "    if is_mlu_available():\n        torch.mlu.set_rng_state_all(states['m'])\n"
           "    else:\n        torch.cuda.set_rng_state_all(states['c'])\n")


def _handled(ruleset: RuleSet, test: str = "if is_xpu_available():",
             call: str = "torch.xpu.set_rng_state_all(states['x'])", between: str = "") -> dict[str, str]:
    source = _SOURCE.format(test=test, call=call, between=between)
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.rule_id == "LL104" and "torch.cuda" in f.message]
    return dict(found.handled)


def test_the_if_before_the_chain_handles_the_platform_whose_same_function_it_calls(ruleset: RuleSet) -> None:
    handled = _handled(ruleset)
    assert handled["xpu"] == f"{BRANCH} (m.py:3)"
    assert "musa" not in handled and "ascend" not in handled
    assert _handled(ruleset, between="    # xpu done\n")["xpu"] == f"{BRANCH} (m.py:3)"


def test_another_function_credits_nothing(ruleset: RuleSet) -> None:
    assert "xpu" not in _handled(ruleset, call="torch.xpu.manual_seed_all(0)")


def test_a_platform_the_condition_does_not_test_is_not_credited(ruleset: RuleSet) -> None:
    assert "musa" not in _handled(ruleset, call="torch.musa.set_rng_state_all(states['x'])")


def test_a_negated_or_non_platform_test_credits_nothing(ruleset: RuleSet) -> None:
    assert "xpu" not in _handled(ruleset, test="if not is_xpu_available():")
    assert "xpu" not in _handled(ruleset, test="if DEBUG:")


def test_a_statement_between_ends_the_shape(ruleset: RuleSet) -> None:
    assert "xpu" not in _handled(ruleset, between="    log('restored')\n")


def test_an_if_with_an_else_is_no_such_branch(ruleset: RuleSet) -> None:
    between = "    else:\n        pass\n"
    assert "xpu" not in _handled(ruleset, between=between)
