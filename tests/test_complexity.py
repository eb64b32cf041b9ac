"""Complexity guards: for each analyzer, grow one dimension of the input (line length, line count,
nesting, hits per line, calls) eightfold and fail when the time grows much faster than linearly.

Each of these inputs once took minutes (issue #18: 8,000 prefilter hits on one line, 254 s; a
module with 40 ``CUDAExtension`` calls, 87 s). Time on a shared 2-core CI machine is noisy, so the
guard is a ratio with a generous bound: linear growth gives about 8x, quadratic about 64x, and the
test fails above 24x. Each size is timed a few times, small and big interleaved, and the best time of
each is compared. The time is this process's CPU time, not wall time: under a load average of 11-15
the wall-clock ratio of a linear case reached 31-37x (a neighbour's work landing inside the big
run), while its CPU ratio stayed at 7-10x.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Callable

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

FACTOR = 8
BOUND = 3 * FACTOR
REPEATS = 3
#: Below this, a time is mostly constant overhead; clamping keeps tiny times from inflating the ratio.
FLOOR = 0.005


def _best(name: str, data: bytes, ruleset: RuleSet, times: list[float]) -> None:
    start = time.process_time()
    check_bytes(name, data, ruleset)
    times.append(time.process_time() - start)


def growth(name: str, make: Callable[[int], bytes], n: int, ruleset: RuleSet) -> float:
    small_data, big_data = make(n), make(n * FACTOR)
    small: list[float] = []
    big: list[float] = []
    for _ in range(REPEATS):
        _best(name, small_data, ruleset, small)
        _best(name, big_data, ruleset, big)
    return max(min(big), FLOOR) / max(min(small), FLOOR)


def _notebook(n: int) -> bytes:
    cells = [{"cell_type": "code", "source": [f"s{i} = 'é'; x.cuda()\n" for i in range(n)]}]
    return json.dumps({"cells": cells}, indent=1).encode()


def _setup_py(n: int) -> bytes:
    body = b"".join(b"X%d = %d\n" % (i, i) for i in range(n))
    calls = b"".join(b"CUDAExtension('m%d', sources=SRC)\n" % i for i in range(max(1, n // 100)))
    return b"from torch.utils.cpp_extension import CUDAExtension\nSRC = ['a.cu']\n" + body + calls


CASES: dict[str, tuple[str, Callable[[int], bytes], int]] = {
    "python: hits in one identifier-filled line": ("a.py", lambda n: b"x = [" + b"xcudax, " * n + b"]\n", 1000),
    "python: hits in one string": ("a.py", lambda n: b"x = 'a" + b" nocuda" * n + b"'\n", 4000),
    "python: one long identifier": ("a.py", lambda n: b"x = a" + b"cuda" * n + b"\n", 1000),
    "python: line count": ("a.py", lambda n: b"import torch\n" + b"torch.cuda.synchronize()\n" * n, 200),
    "python: nesting": ("a.py", lambda n: b"import torch\nx = " + b"[" * n + b"torch.cuda" + b"]" * n + b"\n", 20),
    "setup.py: module size and extension calls": ("setup.py", _setup_py, 1000),
    "notebook: non-ASCII lines": ("nb.ipynb", _notebook, 150),
    "requirements: spaces before a comment": ("requirements.txt", lambda n: b"cupy" + b" " * n + b"# c\n", 1200),
    "requirements: line count": ("requirements.txt", lambda n: b"cupy==1\n" * n, 200),
    "pyproject: dependency count": ("pyproject.toml", lambda n: b"[project]\ndependencies = [" +
                                    b"".join(b'"pkg%d",' % i for i in range(n)) + b'"cupy"]\n', 150),
    "cuda: line count": ("a.cu", lambda n: b"void f() {\n" + b"  cudaMalloc(&p, 1); cudaFree(p);\n" * n + b"}\n",
                         100),
    "cmake: line count": ("CMakeLists.txt", lambda n: b"project(x LANGUAGES CXX CUDA)\n" * n, 150),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_time_grows_about_linearly(ruleset: RuleSet, case: str) -> None:
    name, make, n = CASES[case]
    ratio = growth(name, make, n, ruleset)
    assert ratio < BOUND, f"{case}: {FACTOR}x the input took {ratio:.1f}x the time"


def test_the_guard_catches_a_quadratic_path(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard itself must be able to fail: a deliberately quadratic step is caught."""
    real = check_bytes

    def quadratic(path: str, data: bytes, rules: RuleSet) -> object:
        for index in range(0, len(data), 64):
            data[:index].count(b"x")  # quadratic in the input, like re-reading a line per hit
        return real(path, data, rules)

    monkeypatch.setattr(sys.modules[__name__], "check_bytes", quadratic)
    ratio = growth("a.py", lambda n: b"x = 1\n" * n, 4000, ruleset)
    assert ratio >= BOUND
