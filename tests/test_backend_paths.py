"""Files dedicated to another backend, and the per-target ``handled`` mark both languages use."""

from __future__ import annotations

import pytest

from lockin_lint.analyzers.backend_paths import dedicated_backend, dedicated_target
from lockin_lint.model import Finding, TargetInfo, finding_dict, with_handled


@pytest.mark.parametrize("path, backend", [
    ("csrc/rocm/attention.cu", "rocm"),
    ("vllm/platforms/rocm.py", "rocm"),
    ("csrc/quantization/gemm_hip.cu", "rocm"),
    ("tests/kernels/test_amd_fp8.py", "rocm"),
    ("src/RocmAllocator.cpp", "rocm"),
    ("deepspeed/accelerator/xpu_accelerator.py", "xpu"),
    ("ops/npu/flash.py", "ascend"),
    ("ext/hpu/ops.py", "hpu"),
    ("C:\\proj\\csrc\\rocm\\k.cu", "rocm"),
    ("xformers/csrc/attention/hip_fmha/ck_fmha_util.h", "rocm"),
    ("csrc/rocm_kernels/gemm.cu", "rocm"),
    # Composable Kernel folders: flash-attention's CK backend, torch's, a vendored CK checkout
    ("csrc/flash_attn_ck/mha_varlen_fwd.cpp", "rocm"),
    ("aten/src/ATen/native/transformers/hip/flash_attn/ck/me_ck_api.h", "rocm"),
    ("kernels/ck/gemm.cpp", "rocm"),
    ("csrc/flashAttnCK/fwd.cpp", "rocm"),
    ("third_party/composable_kernel/include/ck/ck.hpp", "rocm"),
    ("third_party/composable_kernel_tiled/example/fmha.cpp", "rocm"),
])
def test_paths_dedicated_to_another_backend(path: str, backend: str) -> None:
    assert dedicated_backend(path) == backend


@pytest.mark.parametrize("path", [
    "csrc/chip.cu",             # "hip" inside a word is not a token
    "csrc/hipster_utils/x.cu",  # nor a folder that merely starts with it
    "csrc/amd_perf/x.cu",       # a weaker first token does not take a whole folder
    "offload/cpu.py",           # CPU-named files move tensors to the GPU: no evidence
    "csrc/block_sparse/x.cu",   # "ck" inside a word is not a token
    "csrc/ck_utils/x.cu",       # nor a leading "ck" (only a trailing one names CK's users)
    "csrc/attn_ck_old/x.cu",    # nor one in the middle
    "csrc/flash_attn/ck_fmha.cu",                        # a file's "ck" token is not a backend
    "torch/distributed/_composable/fsdp/fully_shard.py", # "composable" alone is not Composable Kernel
    "csrc/kernel_composable/x.cu",
    "csrc/attention/attention_kernels.cu",
    "",
])
def test_near_misses(path: str) -> None:
    assert dedicated_backend(path) is None


def test_only_lockin_targets_are_targets() -> None:
    assert dedicated_target("ext/hpu/ops.py") is None
    assert dedicated_target("csrc/rocm/x.cu") == "rocm"


def _finding() -> Finding:
    return Finding("LC1010", "device-api", "warning", "a.cu", 1, 1, 1, 9, "cudaMalloc", "m",
                   {"rocm": TargetInfo("rename", "hipMalloc"), "xpu": TargetInfo("equivalent")})


def test_handled_targets_become_native_and_are_listed_in_json() -> None:
    plain = _finding()
    assert "handled" not in finding_dict(plain) and "extra_symbols" not in finding_dict(plain)
    marked = with_handled(plain, {"rocm": "preprocessor branch", "ascend": "not shown"})
    assert marked.targets["rocm"].status == "native"
    assert marked.targets["xpu"].status == "equivalent"  # other targets unchanged
    assert finding_dict(marked)["handled"] == {"rocm": "preprocessor branch"}


def test_handled_without_a_shown_target_changes_nothing() -> None:
    plain = _finding()
    assert with_handled(plain, {"mlu": "x"}) is plain
