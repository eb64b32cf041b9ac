"""The C/C++ pre-pass takes time in proportion to the file, whatever its ``#define`` lines hold.

Why: the regex that finds a file's own device macros once tried every way to split a long word of a
``#define`` body into several words before failing (2^n for an n-letter word), and torch's 2.8 KB
``ATen/core/TensorAccessor.h`` took 75 s. The check runs in a child process with a time limit, so a
relapse fails instead of hanging the suite.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from lockin_lint.analyzers.cpp_prepass import prepare

PROGRAM = """
from lockin_lint.analyzers.cpp_prepass import prepare
source = b"#define AT_X " + b"GenericPacked" * 8 + b"TensorAccessor<T, N, PtrTraits, index_t>\\nint x;\\n"
assert prepare(source, lambda text: False) == source
"""


def test_a_long_word_in_a_define_body_is_read_in_linear_time() -> None:
    # with the old pattern this takes 2^120 steps; now milliseconds (most of the limit is start-up)
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()[-500:]


@pytest.mark.parametrize("body, device", [
    (b"__host__ __device__", True),
    (b"__host__   __device__  ", True),
    (b"__host__ __device__ inline", True),
    (b"__host__ 1", False),
    (b"__host__ __device__(x)", False),
    (b"__host____device__", False),  # one word, not two qualifiers
])
def test_own_device_macros_are_still_found(body: bytes, device: bool) -> None:
    define = b"#define MY_HOST_DEVICE " + body + b"\n"
    prepared = prepare(define + b"MY_HOST_DEVICE int f(int x) { return x; }\n", lambda text: False)
    assert prepared[len(define):].startswith(b"__device__") is device
