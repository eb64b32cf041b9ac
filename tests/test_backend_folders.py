"""A backend abstraction kept as one folder per backend (project/backend_modules.py): bitsandbytes'
``backends/cuda/ops.py`` beside ``backends/xpu/ops.py`` and ``backends/cpu/ops.py`` is the CUDA
backend doing its job, reported as ``info`` with every target handled, like DeepSpeed's
``accelerator/cuda_accelerator.py`` beside ``xpu_accelerator.py``. (A cross-file pass: the fixture
annotations cannot say a finding's severity, so these tests hold it.)"""

from __future__ import annotations

from pathlib import Path

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

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



def test_an_nccl_module_beside_another_platforms_collective_module_is_credited_to_that_platform(
        tmp_path: Path, ruleset: RuleSet) -> None:
    # DeepSpeed's deepspeed/runtime/comm/nccl.py beside hccl.py, mpi.py and compressed.py: the 1-bit
    # optimizers pick one by ``comm_backend_name``, so only Ascend (hccl) has another backend here.
    _write(tmp_path, {"pkg/comm/nccl.py": _CUDA, "pkg/comm/hccl.py": "x = 1\n", "pkg/comm/mpi.py": "x = 1\n",
                      "pkg/comm/compressed.py": "x = 1\n"})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    [found] = [f for f in run.findings if f.path == "pkg/comm/nccl.py"]
    assert dict(found.handled) == {"ascend": "NCCL backend among the project's collective communication backends "
                                             "(beside hccl, named for ascend)"}
    assert found.severity == "warning"  # cpu, mps, mlu, musa, xpu still have no other backend
    assert found.targets["ascend"].status == "native" and found.targets["cpu"].status != "native"


_NCCL_BACKEND = "import cupy\n\nclass NcclBackend:\n    def use(self, rank):\n        cupy.cuda.Device(rank).use()\n"


def _comm_project(tmp_path: Path, ruleset: RuleSet, compressed: str, builders: dict[str, str]) -> list[Finding]:
    _write(tmp_path, {"pkg/comm/nccl.py": _NCCL_BACKEND, "pkg/comm/mpi.py": "import cupy\n\nclass MpiBackend:\n    pass\n",
                      "pkg/comm/hccl.py": "import torch_npu\n\nclass HcclBackend:\n    pass\n",
                      "pkg/comm/compressed.py": compressed, "pkg/comm/utils.py": "from pkg.ops import Helper\n"}
           | builders)
    run = check_paths(["."], ruleset, cwd=tmp_path)
    return [f for f in run.findings if f.path == "pkg/comm/nccl.py"]


_COMPRESSED = "from pkg.ops import PackbitsBuilder\n\nclass CompressedBackend:\n    packer = PackbitsBuilder()\n"


def test_a_generic_comm_backend_serves_the_targets_whose_folders_alone_define_what_it_loads(tmp_path: Path, ruleset: RuleSet) -> None:
    """``compressed.py`` loads ``PackbitsBuilder``, which only ``op_builder/xpu/`` defines: xpu is
    credited with ascend; cpu, mps, mlu and musa keep the rule's statuses (``mpi.py`` is CuPy again,
    ``utils.py`` defines no backend class)."""
    found = _comm_project(tmp_path, ruleset, _COMPRESSED, {"op_builder/xpu/packbits.py": "class PackbitsBuilder:\n    pass\n",
                                                  "op_builder/cpu/no_impl.py": "class NotImplementedBuilder:\n    pass\n",
                                                  "pkg/ops/helper.py": "class Helper:\n    pass\n"})
    assert found and all(set(dict(f.handled)) == {"ascend", "xpu"} for f in found)
    notes = dict(found[0].handled)
    assert notes["xpu"].endswith("(beside compressed: loads PackbitsBuilder, which only op_builder/xpu/ defines)")
    assert notes["ascend"].endswith("(beside hccl, named for ascend)")
    assert all(f.targets["cpu"].status != "native" for f in found)
    assert [f.severity for f in found if f.symbol == "cupy"] == ["warning"]  # as ``import cupy`` in mpi.py


def test_a_loaded_class_defined_outside_a_target_folder_credits_no_target(tmp_path: Path, ruleset: RuleSet) -> None:
    """Near misses: the builder also defined outside a target's folder (``ops/``: any target may load it),
    or defined for two targets, credits neither to the generic sibling."""
    top = _comm_project(tmp_path / "top", ruleset, _COMPRESSED, {"op_builder/xpu/packbits.py": "class PackbitsBuilder:\n    pass\n",
                                                       "ops/packbits.py": "class PackbitsBuilder:\n    pass\n"})
    two = _comm_project(tmp_path / "two", ruleset, _COMPRESSED, {"op_builder/xpu/packbits.py": "class PackbitsBuilder:\n    pass\n",
                                                       "op_builder/mlu/packbits.py": "class PackbitsBuilder:\n    pass\n"})
    assert top and two and all(set(dict(f.handled)) == {"ascend"} for f in top + two)


def test_a_module_that_is_no_backend_class_sibling_credits_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    """A module loading an xpu-only class but defining no ``*Backend`` class beside ``NcclBackend``
    is no sibling backend (DeepSpeed's ``utils.py``, ``coalesced_collectives.py``)."""
    helper = "from pkg.ops import PackbitsBuilder\n\ndef pack(x):\n    return PackbitsBuilder()\n"
    found = _comm_project(tmp_path, ruleset, helper, {"op_builder/xpu/packbits.py": "class PackbitsBuilder:\n    pass\n"})
    assert found and all(set(dict(f.handled)) == {"ascend"} for f in found)


def test_a_comm_backend_importing_a_targets_plugin_serves_that_target(tmp_path: Path, ruleset: RuleSet) -> None:
    """A generically named sibling (``ascend_free.py`` would be named; ``fast.py`` is not) that
    imports ``torch_mlu`` serves mlu."""
    found = _comm_project(tmp_path, ruleset, "import torch_mlu\n\nclass CompressedBackend:\n    pass\n", {})
    assert found and all(set(dict(f.handled)) == {"ascend", "mlu"} for f in found)
    assert dict(found[0].handled)["mlu"].endswith("(beside compressed: imports torch_mlu)")


def test_an_nccl_module_beside_cpu_or_mpi_only_is_lock_in(tmp_path: Path, ruleset: RuleSet) -> None:
    _write(tmp_path, {"pkg/comm/nccl.py": _CUDA, "pkg/comm/mpi.py": "x = 1\n", "pkg/comm/cpu.py": "x = 1\n"})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    [found] = [f for f in run.findings if f.path == "pkg/comm/nccl.py"]
    assert found.severity == "warning" and found.handled == ()
