"""A flag stored once from an ``or`` with a negated CUDA test (vLLM's ``nccl_symm_mem_context.disabled``)
reads like the inline test: its false side gets the cpu fallback note the inline form gets
(`python_compound_flags`); the near misses keep cpu missing."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_CLASS = """import torch
from vllm.platforms import current_platform


class Ctx:
    def __init__(self, disabled, comm):
        self.disabled = (
            {value}
        )
{extra}
    def enter(self):
        if {use}:
            self.ctx = None
        else:
            self.ctx = torch.cuda.use_mem_pool(get_pool())
"""
_OR = "disabled or comm.world_size == 1 or not current_platform.is_cuda() or get_pool() is None"
_LOCAL = """import torch
from vllm.platforms import current_platform


def enter(disabled, comm):
    off = disabled or not current_platform.is_cuda()
{extra}
    if {use}:
        return None
    else:
        return torch.cuda.use_mem_pool(get_pool())
"""


def _cpu(source: str, ruleset: RuleSet) -> tuple[str, str | None]:
    result = check_bytes("ctx.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.symbol == "torch.cuda.use_mem_pool"]
    return found.targets["cpu"].status, dict(found.handled).get("cpu")


def _direct(ruleset: RuleSet) -> tuple[str, str | None]:
    inline = _CLASS.format(value="None", extra="", use=_OR.replace("disabled", "self.d", 1))
    return _cpu(inline, ruleset)


def test_the_false_side_of_a_stored_compound_flag_reads_like_the_inline_test(ruleset: RuleSet) -> None:
    direct = _direct(ruleset)
    assert direct == ("native", "fallback path (cpu)")
    for use in ("self.disabled", "(self.disabled)"):
        assert _cpu(_CLASS.format(value=_OR, extra="", use=use), ruleset) == direct, use
    # `if not flag:` runs its body where the flag is false
    negated = _CLASS.format(value=_OR, extra="", use="not self.disabled").replace(
        "            self.ctx = None\n        else:\n            self.ctx = torch",
        "            self.ctx = torch").replace("(get_pool())\n", "(get_pool())\n        else:\n            self.ctx = None\n")
    assert _cpu(negated, ruleset) == direct
    # a local bound once in the function, read only in `if` tests
    assert _cpu(_LOCAL.format(extra="", use="off"), ruleset) == direct


def test_a_flag_that_may_be_false_elsewhere_keeps_cpu_missing(ruleset: RuleSet) -> None:
    near_misses = [
        # an `and` chain: false on every target
        _CLASS.format(value="disabled and not current_platform.is_cuda()", extra="", use="self.disabled"),
        # no negated CUDA test among the operands
        _CLASS.format(value="disabled or comm.world_size == 1", extra="", use="self.disabled"),
        # written again in another method
        _CLASS.format(value=_OR, extra="    def reset(self):\n        self.disabled = False\n", use="self.disabled"),
        # a local rebound later
        _LOCAL.format(extra="    off = False", use="off"),
        # a local read elsewhere than an `if` test
        _LOCAL.format(extra="    print(off)", use="off"),
    ]
    for source in near_misses:
        assert _cpu(source, ruleset)[0] == "missing", source
