"""``TORCH_CUDA_ARCH_LIST`` in a function that also names a ROCm architecture list has rocm handled
(analyzers/python_rocm_arch.py); anywhere else it stays a rename."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_SETUP = '''import os
import torch
{before}
def get_extensions():
    if (torch.version.cuda is not None) or os.getenv("FORCE_CUDA", "0") == "1" \\
            or os.getenv("TORCH_CUDA_ARCH_LIST", "") != "":
        kind = "cuda"
    elif torch.version.hip:
        kind = {rocm}
    return kind
'''


def _arch_list(ruleset: RuleSet, before: str = "", rocm: str = '"hip"') -> Finding:
    result = check_bytes("setup.py", _SETUP.format(before=before, rocm=rocm).encode(), ruleset)
    [found] = [f for f in result.findings if f.rule_id == "LL804"]
    return found


def test_a_rocm_architecture_list_beside_it_handles_rocm(ruleset: RuleSet) -> None:
    # xformers' setup.py: the hip elif reads HIP_ARCHITECTURES
    for name in ("HIP_ARCHITECTURES", "PYTORCH_ROCM_ARCH"):
        found = _arch_list(ruleset, rocm=f'os.getenv("{name}", "native")')
        # cpu: the fall-through every operand of the forced-CUDA test shares (python_fall_through)
        assert dict(found.handled) == {"rocm": f"{name} beside it (setup.py:9)", "cpu": "fallback path (cpu)"}
        assert found.targets["rocm"].status == "native"
        assert found.targets["mlu"].status == "rename"  # only rocm


def test_no_rocm_list_in_the_function_keeps_the_rename(ruleset: RuleSet) -> None:
    for before, rocm in (("", '"hip"'),  # none at all
                         ('def rocm():\n    return os.getenv("PYTORCH_ROCM_ARCH")\n', '"hip"'),  # another function
                         ("", '"PYTORCH_ROCM_ARCH is not read here"')):  # a message, not the variable
        found = _arch_list(ruleset, before=before, rocm=rocm)
        assert "rocm" not in dict(found.handled) and found.targets["rocm"].status == "rename", (before, rocm)
