"""Files written in HIP (analyzers/hip_sources.py): told by their includes, not by their names."""

from __future__ import annotations

import pytest

from lockin_lint.analyzers.hip_sources import written_for_hip


@pytest.mark.parametrize("source, hip", [
    (b"#pragma once\n#include <hip/hip_runtime.h>\n__device__ int f();\n", True),
    (b"#ifndef BASE_H\n#define BASE_H\n#include <hip/hip_bf16.h>\n#endif\n", True),   # behind an include guard
    (b"#ifdef USE_ROCM\n#include <hip/hip_runtime.h>\n#endif\n", False),            # the ROCm side of a CUDA file
    (b"#ifndef BASE_H\n#define BASE_H\n#if X\n#include <hip/hip_runtime.h>\n#endif\n#endif\n", False),
    (b"#include <hip/hip_runtime.h>\n#include <cuda_fp16.h>\n", False),              # CUDA headers too
    (b"#include <hip/hip_runtime.h>\n#include <ATen/cuda/CUDAContext.h>\n", False),
    (b"#include <cuda_runtime.h>\n// see hip/hip_runtime.h\n", False),
])
def test_a_file_is_hip_when_it_includes_hip_unconditionally_and_no_cuda_header(source: bytes, hip: bool) -> None:
    assert written_for_hip(source) is hip
