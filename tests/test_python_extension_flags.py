"""A CUDA extension used only behind its own optional import's flag, with a portable ``else``, is
handled on every target (analyzers/python_extension_flags.py); near misses stay as they were."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import TARGETS, Finding

# apex's contrib/optimizers/distributed_fused_adam.py, rewritten
_MODULE = '''import torch
import warnings

_HAVE_FUSED_COPY: bool = False
try:
    import fused_copy_ext

    _HAVE_FUSED_COPY = True
except ImportError:
    warnings.warn("fused copy kernels not found")


def copy_all(pairs, fast):
    scratch = None
    if {test}:
        if scratch is None:
            scratch = torch.zeros([1], device="cuda")
        fused_copy_ext.{called}(scratch, pairs)
    else:
        for src, dst in pairs:
            {portable}
'''
_LINE = 17  # the ``device="cuda"`` of the scratch buffer
_NOTE = "optional extension import (copy.py:6), portable else"


def _scratch(ruleset: RuleSet, test: str = "fast and _HAVE_FUSED_COPY", called: str = "copy_mt",
             portable: str = "dst.copy_(src)", module: str = _MODULE) -> Finding:
    source = module.format(test=test, called=called, portable=portable)
    result = check_bytes("copy.py", source.encode(), ruleset)
    [found] = [f for f in result.findings if f.line == _LINE and f.rule_id == "LL200"]
    return found


def test_the_extension_flag_with_a_portable_else_handles_every_target(ruleset: RuleSet) -> None:
    for test in ("fast and _HAVE_FUSED_COPY", "_HAVE_FUSED_COPY", "(_HAVE_FUSED_COPY and fast) and len(pairs)"):
        found = _scratch(ruleset, test=test)
        assert dict(found.handled) == dict.fromkeys(TARGETS, _NOTE), test


def test_near_misses_stay(ruleset: RuleSet) -> None:
    for kwargs in ({"test": "fast or _HAVE_FUSED_COPY"},  # runs without the extension too
                   {"test": "fast and not _HAVE_FUSED_COPY"},
                   {"test": "fast"},  # not the flag
                   {"called": "copy_mt", "portable": "fused_copy_ext.slow_copy(src, dst)"},  # else uses it
                   {"portable": "torch.cuda.synchronize()"},  # else spells CUDA
                   {"portable": 'dst.copy_(src.to("cuda"))'},
                   {"module": _MODULE.replace("fused_copy_ext.{called}", "other_ext.{called}")},  # another one
                   {"module": _MODULE.replace("except ImportError", "except Exception")},  # no probe
                   {"module": _MODULE.replace("    else:\n        for src, dst in pairs:\n            {portable}\n",
                                              "")}):  # no else
        found = _scratch(ruleset, **kwargs)
        assert not found.handled, kwargs
