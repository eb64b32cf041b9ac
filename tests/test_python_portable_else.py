"""An ``else`` that calls the rule's own portable rewrite handles every target
(analyzers/python_portable_else.py); anything less stays as it was."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import TARGETS, Finding

HEAD = '''import torch
from torch import nn
import torch.nn.functional as F
from xformers import ops as xops
USE_XFORMERS_OPS = True


def attend(q, k, v, mask):
'''


def _call(body: str, ruleset: RuleSet) -> Finding:
    result = check_bytes("pixtral.py", (HEAD + body).encode(), ruleset)
    [found] = [f for f in result.findings if f.rule_id == "LL518"]
    return found


def test_an_else_calling_sdpa_handles_every_target(ruleset: RuleSet) -> None:
    for sdpa in ("nn.functional.scaled_dot_product_attention", "F.scaled_dot_product_attention",
                 "torch.nn.functional.scaled_dot_product_attention"):
        found = _call("    if USE_XFORMERS_OPS:\n        out = xops.memory_efficient_attention(q, k, v)\n"
                      f"    else:\n        v = v.transpose(1, 2)\n        out = {sdpa}(q, k, v)\n", ruleset)
        assert {t: i.status for t, i in found.targets.items()} == {t: "native" for t in TARGETS}, sdpa
        assert dict(found.handled)["cpu"] == "else path calls scaled_dot_product_attention (pixtral.py:13)"


def test_other_elses_and_tests_handle_nothing(ruleset: RuleSet) -> None:
    xformers = "        out = xops.memory_efficient_attention(q, k, v)\n"
    for body in (
            f"    if USE_XFORMERS_OPS:\n{xformers}    else:\n        out = my_attention(q, k, v)\n",  # a helper
            f"    if USE_XFORMERS_OPS:\n{xformers}    else:\n        out = other.scaled_dot_product_attention(q)\n",
            f"    if USE_XFORMERS_OPS:\n{xformers}    elif fast:\n        pass\n"
            "    else:\n        out = F.scaled_dot_product_attention(q, k, v)\n",  # an elif between
            f"    if q.shape[0] > 8:\n{xformers}    else:\n        out = F.scaled_dot_product_attention(q, k, v)\n",
            f"    if not USE_XFORMERS_OPS:\n        out = F.scaled_dot_product_attention(q, k, v)\n"
            f"    else:\n{xformers}",  # the kernel in the else, the rewrite in the body
    ):
        found = _call(body, ruleset)
        assert found.targets["cpu"].status != "native" and not found.handled, body
