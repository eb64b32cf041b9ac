"""A Triton kernel behind its import's availability flag whose launcher falls back to plain torch is
handled on mps, where Triton cannot be installed (analyzers/python_triton_fallbacks.py;
docs/validation.md, #11, seventh session, f19c): DeepSpeed's ``moe/ep_kernels.py``. cpu keeps
``missing`` (Triton installs on a CPU-only Linux host, and the kernel would then be launched); the
near misses keep the rule's statuses."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

# DeepSpeed's deepspeed/moe/ep_kernels.py:33-180, rewritten
_MODULE = '''import logging
import torch

logger = logging.getLogger(__name__)

_HAS_TRITON = False
try:
    import triton
    import triton.language as tl

    _HAS_TRITON = True
except ImportError:
    logger.info("no Triton; the torch reference is used")

if _HAS_TRITON:

    @triton.jit
    def _scatter_kernel(src_ptr, out_ptr, n: tl.constexpr):
        pid = tl.program_id(axis=0)
        tl.store(out_ptr + pid, tl.load(src_ptr + pid))


def scatter(src, n):
    """Launch the kernel, or the reference where Triton is missing."""
    if not _HAS_TRITON:
        # the host reference
        return scatter_reference(src, n)
    out = torch.empty_like(src)
    _scatter_kernel[(n,)](src, out, n)
    return out


def scatter_reference(src, n):
    out = torch.full((n,), -1, dtype=torch.int32)
    for i in range(n):
        out[i] = src[i].item()
    return out
'''
_KERNEL_LINE = 17
_NOTE = "portable fallback without Triton (ep_kernels.py:25)"


def _kernel(ruleset: RuleSet, source: str) -> Finding:
    result = check_bytes("ep_kernels.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.rule_id == "LL702"]
    assert found.line == source.splitlines().index("    @triton.jit") + 1
    return found


def test_mps_is_handled_by_the_launchers_fallback(ruleset: RuleSet) -> None:
    found = _kernel(ruleset, _MODULE)
    assert found.line == _KERNEL_LINE
    assert dict(found.handled) == {"mps": _NOTE}
    assert found.targets["mps"].status == "native"
    # Triton installs on a CPU-only Linux host, where the launch would fail: cpu stays as the rule says
    assert found.targets["cpu"].status == "missing"


def test_only_targets_the_rule_calls_missing_are_credited(ruleset: RuleSet) -> None:
    found = _kernel(ruleset, _MODULE)
    plain = _kernel(ruleset, _MODULE.replace("    if not _HAS_TRITON:\n        # the host reference\n"
                                             "        return scatter_reference(src, n)\n", ""))
    assert plain.targets["mps"].status == "missing" and not plain.handled
    assert {t: i for t, i in found.targets.items() if t != "mps"} == \
        {t: i for t, i in plain.targets.items() if t != "mps"}


@pytest.mark.parametrize("source", [
    # no fallback before the launch
    _MODULE.replace("    if not _HAS_TRITON:\n        # the host reference\n        return scatter_reference(src, n)\n",
                    ""),
    # the fallback comes after the launch
    _MODULE.replace("    if not _HAS_TRITON:\n        # the host reference\n        return scatter_reference(src, n)\n",
                    "").replace("    return out\n\n\ndef scatter_reference",
                                "    if not _HAS_TRITON:\n        return scatter_reference(src, n)\n    return out\n\n\n"
                                "def scatter_reference"),
    # a second launcher without the fallback
    _MODULE + "\n\ndef scatter_fast(src, n):\n    _scatter_kernel[(n,)](src, src, n)\n",
    # a launch at module level
    _MODULE + "\nif _HAS_TRITON:\n    _scatter_kernel[(1,)](torch.ones(1), torch.ones(1), 1)\n",
    # the fallback is CUDA again
    _MODULE.replace("dtype=torch.int32)", 'dtype=torch.int32, device="cuda")'),
    # the fallback is not this module's function
    _MODULE.replace("return scatter_reference(src, n)", "return other.scatter(src, n)"),
    # the kernel is defined whatever the flag says
    _MODULE.replace("if _HAS_TRITON:\n\n    @triton.jit", "if True:\n\n    @triton.jit"),
    # the probe imports something else
    _MODULE.replace("    import triton\n    import triton.language as tl\n",
                    "    import triton_helpers\n").replace("if _HAS_TRITON:\n\n    @triton.jit",
                                                          "import triton\nimport triton.language as tl\n"
                                                          "if _HAS_TRITON:\n\n    @triton.jit"),
    # no launcher reads the kernel
    _MODULE.replace("    _scatter_kernel[(n,)](src, out, n)\n", ""),
], ids=["no-fallback", "fallback-after", "second-launcher", "module-launch", "cuda-fallback", "foreign-fallback",
        "unconditional", "other-probe", "no-launcher"])
def test_near_misses_keep_the_rule_statuses(ruleset: RuleSet, source: str) -> None:
    found = _kernel(ruleset, source)
    assert "mps" not in dict(found.handled)
    assert found.targets["mps"].status == "missing"
