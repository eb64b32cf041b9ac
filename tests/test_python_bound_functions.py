"""A module function the file only binds in the CUDA branches of a platform chain takes the chain's
notes (analyzers/python_bound_functions.py); a function also called, bound to an attribute or
bound outside a chain keeps its reading."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_SOURCE = """import torch


def cuda_free_bytes(device):
    free, _ = torch.cuda.mem_get_info(device)
    return free


def xpu_free_bytes(device):
    free, _ = torch.xpu.mem_get_info(device)
    return free


def host_free_bytes(device):
    return 0


if torch.version.hip is not None:
    free_bytes = cuda_free_bytes
elif torch.version.cuda is not None and torch.cuda.is_available():
    free_bytes = cuda_free_bytes
elif hasattr(torch, "xpu") and torch.xpu.is_available():
    free_bytes = xpu_free_bytes
else:
    free_bytes = host_free_bytes
{extra}"""


def _inside(ruleset: RuleSet, extra: str = "", source: str = _SOURCE) -> Finding:
    result = check_bytes("memory.py", source.format(extra=extra).encode(), ruleset)
    found = [f for f in result.findings if f.line == 5]
    assert len(found) == 1, extra
    return found[0]


def test_a_function_only_bound_in_the_cuda_branches_takes_the_chains_notes(ruleset: RuleSet) -> None:
    finding = _inside(ruleset)
    handled = dict(finding.handled)
    assert handled.get("xpu") == "device/platform branch (memory.py:21)"
    assert handled.get("cpu") == "fallback path (cpu)"  # the chain's else, as its own lines read
    assert "rocm" not in handled  # the HIP branch binds it too: ROCm runs it
    assert finding.targets["cpu"].status != "missing" and finding.targets["mps"].status == "missing"


def test_near_misses_of_a_bound_function_keep_their_reading(ruleset: RuleSet) -> None:
    attribute = _SOURCE.replace("    free_bytes = cuda_free_bytes", "    torch.free_bytes = cuda_free_bytes")
    inside = _SOURCE.replace("if torch.version.hip", "def pick():\n  if torch.version.hip").replace(
        "\n    free_bytes", "\n      free_bytes").replace("\nelif", "\n  elif").replace("\nelse", "\n  else")
    for extra, source in (("print(cuda_free_bytes(0))\n", _SOURCE),  # also called
                          ("if True:\n    fallback = cuda_free_bytes\n", _SOURCE),  # bound in a second chain
                          ("", attribute),  # bound to an attribute: an implementation switch
                          ("", inside)):  # a chain inside a function
        finding = _inside(ruleset, extra, source)
        assert not dict(finding.handled), (extra, source)
        assert finding.targets["cpu"].status == "missing", (extra, source)
