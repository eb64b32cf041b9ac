"""Targets handled by a path that is no branch naming them (analyzers/python_other_paths.py): the
device-agnostic ``else`` of a CUDA branch, another platform set up later in the function, and
``ROCM_HOME`` beside ``CUDA_HOME`` (the debatable classes of docs/validation.md, #11)."""

from __future__ import annotations

from lockin_lint.analyzers.python_dispatch import AGNOSTIC, BRANCH, FALLBACK, ROCM_HOME
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_OTHERS = {"ascend", "mlu", "musa", "xpu", "mps", "cpu"}


def _at(source: str, ruleset: RuleSet, line: int, path: str = "m.py") -> Finding:
    result = check_bytes(path, source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line]
    return found


def test_a_device_agnostic_else_handles_every_other_target(ruleset: RuleSet) -> None:
    """pytorch/examples' imagenet: ``model.cuda()`` / ``else: model.to(device)``; the test and the
    CUDA code are still reported, but no target is left to rename and the message says no target
    silently runs on the CPU."""
    source = ("import torch\ndef f(model, device):\n    if device.type == 'cuda':\n        model.cuda()\n"
              "    else:\n        model.to(device)\n")
    for line in (3, 4):
        found = _at(source, ruleset, line, "ex/main.py")
        assert dict(found.handled) == dict.fromkeys(_OTHERS, f"{AGNOSTIC} (ex/main.py:5)")
        assert all(found.targets[t].status == "native" for t in _OTHERS)
        assert "fallback" not in found.message


def test_the_code_after_an_early_return_can_be_the_agnostic_side(ruleset: RuleSet) -> None:
    source = ("import torch\ndef f(x, device):\n    if torch.cuda.is_available():\n        return x.cuda()\n"
              "    return x.to(device, non_blocking=True)\n")
    assert dict(_at(source, ruleset, 4).handled)["xpu"] == f"{AGNOSTIC} (m.py:5)"


def test_a_cpu_fallback_is_not_device_agnostic(ruleset: RuleSet) -> None:
    """``device = "cuda" if ... else "cpu"``, ``.to("cpu")``, CUDA code in the ``else``: cpu only."""
    choice = ('import torch\ndef f(x):\n    device = "cuda" if torch.cuda.is_available() else "cpu"\n'
              "    if torch.cuda.is_available():\n        return x.cuda()\n    return x.to(device)\n")
    assert dict(_at(choice, ruleset, 5).handled) == {"cpu": FALLBACK}
    literal = ("import torch\ndef f(x):\n    if torch.cuda.is_available():\n        return x.cuda()\n"
               "    return x.to('cpu')\n")
    assert dict(_at(literal, ruleset, 4).handled) == {"cpu": FALLBACK}
    cuda_else = ("import torch\ndef f(x, device):\n    if x.device.type == 'cuda':\n        x = x.cuda()\n"
                 "    else:\n        torch.cuda.synchronize()\n        x = x.to(device)\n")
    assert dict(_at(cuda_else, ruleset, 4).handled) == {"cpu": FALLBACK}


def test_an_accelerator_device_beside_a_cpu_one_is_agnostic(ruleset: RuleSet) -> None:
    """imagenet builds ``device`` from ``torch.accelerator`` or ``torch.device("cpu")``: generic."""
    source = ("import torch\ndef f(model, accel):\n    if accel:\n"
              "        device = torch.accelerator.current_accelerator()\n    else:\n"
              "        device = torch.device('cpu')\n    if device.type == 'cuda':\n        model.cuda()\n"
              "    else:\n        model.to(device)\n")
    assert dict(_at(source, ruleset, 8).handled)["mps"].startswith(AGNOSTIC)


def test_a_branch_for_another_platform_keeps_its_note(ruleset: RuleSet) -> None:
    source = ("import torch\ndef f(x, device):\n    if x.device.type == 'cuda':\n        x = x.cuda()\n"
              "    elif x.device.type == 'npu':\n        x = x.npu()\n    else:\n        x = x.to(device)\n")
    handled = dict(_at(source, ruleset, 4).handled)
    assert handled["ascend"] == BRANCH and handled["xpu"] == f"{AGNOSTIC} (m.py:7)"


def test_another_platform_set_up_later_in_the_function_is_handled(ruleset: RuleSet) -> None:
    """TGI's utils/dist.py: NCCL first, XPU further down under ``SYSTEM == "ipex"``."""
    source = ('import torch\ndef f(n):\n    if torch.cuda.is_available():\n        backend = "nccl"\n'
              '    else:\n        backend = "gloo"\n    if n > 1:\n        if torch.xpu.is_available():\n'
              '            backend = "xccl"\n    return backend\n')
    found = _at(source, ruleset, 4)
    assert dict(found.handled) == {"xpu": BRANCH, "cpu": FALLBACK}
    assert "names ascend, mlu, musa, mps in" in found.message
    printed = source.replace('            backend = "xccl"', '            print("xpu")')
    assert "xpu" not in dict(_at(printed, ruleset, 4).handled)  # a branch that only prints sets nothing up
    before = ('import torch\ndef f():\n    if torch.xpu.is_available():\n        print("xpu")\n        x = 1\n'
              '    if torch.cuda.is_available():\n        backend = "nccl"\n')
    assert "xpu" not in dict(_at(before, ruleset, 7).handled)  # only later setups count
    compared = source.replace("if torch.xpu.is_available():", 'if kind == "xpu":')
    assert "xpu" not in dict(_at(compared, ruleset, 4).handled)  # a value of some subject: not the platform


def test_rocm_home_beside_cuda_home(ruleset: RuleSet) -> None:
    """vLLM's setup.py imports both: the ROCm toolkit has its path; CUDA_HOME alone does not."""
    both = "from torch.utils.cpp_extension import CUDA_HOME, ROCM_HOME\n"
    assert dict(_at(both, ruleset, 1, "setup.py").handled) == {"rocm": f"{ROCM_HOME} (setup.py:1)"}
    alone = "from torch.utils.cpp_extension import CUDA_HOME\n"
    assert _at(alone, ruleset, 1).handled == ()
    used = ("from torch.utils import cpp_extension\ndef f():\n    if cpp_extension.CUDA_HOME:\n        return 1\n"
            "    return cpp_extension.ROCM_HOME\n")
    assert dict(_at(used, ruleset, 3).handled) == {"rocm": f"{ROCM_HOME} (m.py:5)"}


def test_rocm_home_helper_imported_beside_cuda_home(ruleset: RuleSet) -> None:
    """FA3's hopper/setup.py imports ``CUDA_HOME`` in one statement and torch's ``_join_rocm_home``
    (``hipcc`` under ROCM_HOME) in another: the ROCm toolkit has its path. A helper of some other
    module, or one imported inside a function, is not torch's ROCm path."""
    source = ("from torch.utils.cpp_extension import BuildExtension, CUDA_HOME\n"
              "from torch.utils.cpp_extension import (\n    IS_HIP_EXTENSION,\n    _join_rocm_home,\n)\n")
    assert dict(_at(source, ruleset, 1, "setup.py").handled) == {"rocm": f"{ROCM_HOME} (setup.py:4)"}
    other = source.replace("from torch.utils.cpp_extension import (", "from build_helpers import (")
    assert _at(other, ruleset, 1).handled == ()
    nested = source.replace("from torch.utils.cpp_extension import (", "def f():\n    from torch.utils.cpp_extension import (")
    assert _at(nested, ruleset, 1).handled == ()
    cuda_only = source.replace("_join_rocm_home", "_join_cuda_home")
    assert _at(cuda_only, ruleset, 1).handled == ()


def test_a_chain_over_backend_names_has_no_cpu_fallback(ruleset: RuleSet) -> None:
    """DeepSpeed's 1-bit LAMB: ``nccl`` / ``mpi`` / ``hccl`` with no ``else``; MPI is another backend
    (on the GPU there), not the CPU path. Without the ``mpi`` clause the fall-through is the fallback."""
    source = ("def f(self, comm_backend_name):\n    if comm_backend_name == 'nccl':\n        self.h = Nccl()\n"
              "    elif comm_backend_name == 'mpi':\n        self.h = Mpi()\n"
              "    elif comm_backend_name == 'hccl':\n        self.h = Hccl()\n")
    assert dict(_at(source, ruleset, 2).handled) == {"ascend": BRANCH}
    platforms = source.replace("    elif comm_backend_name == 'mpi':\n        self.h = Mpi()\n", "")
    assert dict(_at(platforms, ruleset, 2).handled) == {"ascend": BRANCH, "cpu": FALLBACK}
    with_else = source + "    else:\n        self.h = None\n"
    assert dict(_at(with_else, ruleset, 2).handled) == {"ascend": BRANCH, "cpu": FALLBACK}
    devices = ("import torch\ndef f(device):\n    if device.type == 'cuda':\n        return torch.cuda\n"
               "    elif device.type == 'mtia':\n        return torch.mtia\n")
    assert dict(_at(devices, ruleset, 3).handled) == {"cpu": FALLBACK}  # torch's fsdp: mtia is a device
