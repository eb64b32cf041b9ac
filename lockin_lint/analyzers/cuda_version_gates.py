"""Which ``#if CUDART_VERSION >= ...`` groups a ROCm build of the same file sees as false.

bitsandbytes' ``pythonInterface.cpp`` is built for CUDA and for ROCm (``#if BUILD_HIP`` aliases the
runtime calls it needs; ``cuda_runtime_api.h`` is included only under ``#if BUILD_CUDA``). Its
``#if CUDART_VERSION >= 13000 ... #else ... #endif`` takes the ``#else`` in a ROCm build, where nothing
defines ``CUDART_VERSION``: the CUDA 13 side is not compiled there. The model keeps such a macro unknown
elsewhere: a file that never tests a ROCm flag may be hipified (or include a compatibility header that
defines it), and a version gate without an ``#else`` is often a feature switch a port fills in later.
So the runtime version macros count as undefined in a ROCm build only in a group that has an
``#else``/``#elif``, in a file that tests a ROCm build flag itself. ``CUBLAS_VERSION`` is not one of
them: hipBLAS compatibility headers define it.
"""

from __future__ import annotations

import re
from typing import Iterable

#: The CUDA runtime/driver version macros a ROCm build does not define (unless the project does).
RUNTIME_VERSION_MACROS = frozenset({"CUDART_VERSION", "CUDA_VERSION"})
_WORD = re.compile(r"[A-Za-z_]\w*")


def gated_groups(directives: Iterable[tuple[int, str, str]], rocm_flags: frozenset[str]) -> frozenset[int]:
    """The first lines of the ``#if`` groups whose conditions may read `RUNTIME_VERSION_MACROS` as
    undefined in a ROCm build, from the file's conditional directives (first line, keyword, rest).

    A group qualifies when its ``#if`` names one of those macros and it has an ``#else`` or ``#elif``;
    none does unless some condition of the file names one of ``rocm_flags``."""
    listed = list(directives)
    if not any(keyword in ("if", "ifdef", "ifndef", "elif") and rocm_flags.intersection(_WORD.findall(rest))
               for _, keyword, rest in listed):
        return frozenset()
    found: set[int] = set()
    stack: list[tuple[int, bool]] = []  # per open group: (first line, its #if names a version macro)
    for first, keyword, rest in listed:
        if keyword in ("if", "ifdef", "ifndef"):
            stack.append((first, bool(RUNTIME_VERSION_MACROS.intersection(_WORD.findall(rest)))))
        elif keyword in ("elif", "else") and stack and stack[-1][1]:
            found.add(stack[-1][0])
        elif keyword == "endif" and stack:
            stack.pop()
    return frozenset(found)
