"""Files written in HIP, whatever their name: none of their code is CUDA lock-in.

vLLM's QuickReduce (``csrc/quickreduce/base.h``, ``quick_reduce.h``, ``quick_reduce_impl.cuh``) is
AMD's all-reduce, built only for ROCm; its folder does not say so (`backend_paths` reads names), but
its first lines do: ``#include <hip/hip_runtime.h>``, outside any ``#if``, and no CUDA header.
``base.h`` even declares ``typedef __hip_bfloat16 nv_bfloat16;``, so the CUDA-looking names in it are
HIP's. A file that includes a HIP header only in a branch (``#ifdef USE_ROCM #include <hip/...>``) is
a CUDA file with a ROCm side, which `preprocessor` reads instead.
"""

from __future__ import annotations

import re

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.MULTILINE)
_CONDITIONAL = re.compile(rb"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b[ \t]*(\w*)", re.MULTILINE)
_DEFINE = re.compile(rb"[ \t]*#[ \t]*define[ \t]+(\w+)")
#: Headers of the CUDA toolkit and of PyTorch's CUDA side: a file including one is CUDA code.
_CUDA_HEADER = re.compile(rb"(?:cuda|cublas|cudnn|curand|cufft|cusparse|nccl|nvrtc|nvtx|cooperative_groups)\w*\.h|"
                          rb"(?:cub|thrust|ATen/cuda|c10/cuda|cutlass|cute)/")


def written_for_hip(data: bytes) -> bool:
    """Whether the file includes a ``hip/`` header on a line every build reads and no CUDA header."""
    if b"hip/" not in data:
        return False
    includes = [(data.count(b"\n", 0, m.start()), m.group(1)) for m in _INCLUDE.finditer(data)]
    if any(_CUDA_HEADER.match(path) for _, path in includes):
        return False
    open_lines = _unconditional_lines(data)
    return any(path.startswith(b"hip/") and line in open_lines for line, path in includes)


def _unconditional_lines(data: bytes) -> set[int]:
    """0-based lines inside no ``#if`` group but an include guard (``#ifndef X`` then ``#define X``)."""
    lines = data.split(b"\n")
    outside: set[int] = set()
    depth, guard = 0, False
    for number, line in enumerate(lines):
        match = _CONDITIONAL.match(line)
        if match is None:
            if depth == (1 if guard else 0):
                outside.add(number)
            continue
        keyword = match.group(1)
        if keyword in (b"if", b"ifdef", b"ifndef"):
            following = next((l for l in lines[number + 1:] if l.strip()), b"")
            define = _DEFINE.match(following)
            if depth == 0 and keyword == b"ifndef" and define is not None and define.group(1) == match.group(2):
                guard = True
            depth += 1
        elif keyword == b"endif":
            depth = max(0, depth - 1)
    return outside
