"""A backend abstraction kept as one folder per backend (project/backend_modules.py): bitsandbytes'
``backends/cuda/ops.py`` beside ``backends/xpu/ops.py`` and ``backends/cpu/ops.py`` is the CUDA
backend doing its job, reported as ``info`` with every target handled, like DeepSpeed's
``accelerator/cuda_accelerator.py`` beside ``xpu_accelerator.py``. (A cross-file pass: the fixture
annotations cannot say a finding's severity, so these tests hold it.)"""

from __future__ import annotations

from pathlib import Path

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet

from .test_python_dispatch import _write

_CUDA = "import torch\nprops = torch.cuda.get_device_properties(0)\n"


def test_a_cuda_folder_beside_other_backend_folders_is_a_backend_module(tmp_path: Path, ruleset: RuleSet) -> None:
    _write(tmp_path, {"pkg/backends/cuda/ops.py": _CUDA, "pkg/backends/xpu/ops.py": "x = 1\n",
                      "pkg/backends/cpu/ops.py": "x = 1\n", "pkg/backends/default/ops.py": "x = 1\n"})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    [found] = [f for f in run.findings if f.path == "pkg/backends/cuda/ops.py"]
    assert found.severity == "info"
    assert {info.status for info in found.targets.values()} == {"native"}
    assert "beside cpu, xpu" in dict(found.handled)["ascend"]


def test_a_cuda_folder_without_a_sibling_module_of_the_same_name_is_lock_in(tmp_path: Path, ruleset: RuleSet) -> None:
    """vLLM's ``tests/cuda/test_cuda_context.py`` beside ``tests/rocm/aiter/``: no module of the same
    name in a sibling backend folder, so nothing says the CUDA code has a counterpart."""
    _write(tmp_path, {"tests/cuda/test_context.py": _CUDA, "tests/rocm/aiter/test_fa.py": "x = 1\n",
                      "pkg/kernels/cuda/ops.py": _CUDA, "pkg/kernels/triton/ops.py": "x = 1\n"})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert {f.severity for f in run.findings} == {"warning"}
    assert all(f.handled == () for f in run.findings)



def test_an_nccl_module_beside_another_platforms_collective_module_is_a_backend_module(
        tmp_path: Path, ruleset: RuleSet) -> None:
    # DeepSpeed's deepspeed/runtime/comm/nccl.py beside hccl.py, mpi.py and compressed.py
    _write(tmp_path, {"pkg/comm/nccl.py": _CUDA, "pkg/comm/hccl.py": "x = 1\n", "pkg/comm/mpi.py": "x = 1\n",
                      "pkg/comm/compressed.py": "x = 1\n"})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    [found] = [f for f in run.findings if f.path == "pkg/comm/nccl.py"]
    assert found.severity == "info"
    assert dict(found.handled)["ascend"] == "NCCL backend among the project's collective communication backends " \
        "(beside hccl)"  # chosen by a backend name, not by the accelerator


def test_an_nccl_module_beside_cpu_or_mpi_only_is_lock_in(tmp_path: Path, ruleset: RuleSet) -> None:
    _write(tmp_path, {"pkg/comm/nccl.py": _CUDA, "pkg/comm/mpi.py": "x = 1\n", "pkg/comm/cpu.py": "x = 1\n"})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    [found] = [f for f in run.findings if f.path == "pkg/comm/nccl.py"]
    assert found.severity == "warning" and found.handled == ()
