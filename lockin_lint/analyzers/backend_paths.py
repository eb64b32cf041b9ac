"""Which other backend a file is dedicated to, judged from its path alone.

Projects that already run elsewhere keep the other backend's code apart: ``csrc/rocm/``,
``platforms/rocm.py``, ``attention_hip.cu``, ``tests/test_amd_fp8.py``. Such a file is that backend's
code, not CUDA lock-in, even when it spells CUDA names (hipified sources keep many). Both the Python and
the C/C++/CUDA analyzers ask this one function, so the two languages cannot disagree about a path.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: A path token that names a backend, and the target it is (None: a backend lockin-lint does not judge,
#: whose code is still not CUDA lock-in). CPU is absent on purpose: ``offload/cpu.py`` moves tensors to
#: and from the GPU, so a CPU-named file is no evidence that its CUDA calls are handled.
BACKEND_TOKENS: dict[str, str | None] = {
    "rocm": "rocm", "hip": "rocm", "amd": "rocm", "amdgpu": "rocm", "hipify": "rocm", "hipified": "rocm",
    "xpu": "xpu", "sycl": "xpu",
    "npu": "ascend", "ascend": "ascend", "cann": "ascend",
    "mlu": "mlu", "cambricon": "mlu",
    "musa": "musa",
    "mps": "mps", "metal": "mps",
    "hpu": None, "gaudi": None, "habana": None, "tpu": None, "neuron": None,
}
#: First tokens that make a whole folder another backend's (``hip_fmha/``, ``rocm_kernels/``).
_FOLDER_PREFIXES = frozenset({"hip", "rocm"})
#: Composable Kernel (CK), AMD's ROCm-only kernel library, names its users' folders: flash-attention's
#: ``csrc/flash_attn_ck/`` (built only for ROCm: it calls ``hipLaunchKernelGGL`` unguarded), torch's
#: ``transformers/hip/flash_attn/ck/``. A folder counts when its last token is ``ck`` or its name starts
#: with ``composable_kernel``; ``ck`` inside a word (``block``, ``stack``) is no token, and a leading
#: ``composable`` alone (torch's ``distributed/_composable/``) is not CK.
_CK_LAST_TOKEN = "ck"
_CK_FIRST_TOKENS = ["composable", "kernel"]
_TARGETS = frozenset(t for t in BACKEND_TOKENS.values() if t)
#: What a path that is dedicated to a backend spells somewhere, lower-cased: each token below is a
#: lower-cased piece of the path (``amdgpu`` holds ``amd``; a Composable Kernel folder ``ck`` or
#: ``composable``).
_HINTS = re.compile("|".join(sorted({*BACKEND_TOKENS, _CK_LAST_TOKEN, _CK_FIRST_TOKENS[0]})))
#: Tokens of a file or folder name: split at ``_ - .`` and at lower-to-upper case changes.
_SPLIT = re.compile(r"[_\-.]+|(?<=[a-z0-9])(?=[A-Z])")
#: Suffixes dropped from the last path part before it is split (``rocm.py``, ``attn_hip.cu``).
_SUFFIX = re.compile(r"\.[A-Za-z0-9]+$")


def _tokens(part: str) -> list[str]:
    return [token.lower() for token in _SPLIT.split(part) if token]


#: The lower-cased words of a name (``FastLinearROCm`` -> fast, linear, rocm), for the Python dispatch
#: reading of classes and functions named for a backend.
name_tokens = _tokens


@lru_cache(maxsize=1 << 16)  # asked again per path by several whole-project passes (per target, per part)
def dedicated_backend(path: str) -> str | None:
    """The backend a file is dedicated to by its path (``"rocm"``, ``"xpu"``, ``"hpu"``...), or None.

    A folder counts when its whole name is a backend token (``csrc/rocm/``, ``ops/hip/``); the file
    counts when one token of its name is (``rocm.py``, ``attention_hip.cu``, ``test_amd_gemm.py``,
    ``RocmAllocator.cpp``). Folder names are matched whole, or by their first token when it is
    ``hip``/``rocm`` (xformers' ``attention/hip_fmha/`` and ``hip_decoder/`` hold only Composable
    Kernel code); weaker first tokens (``amd_``, ``npu_``) are not enough for a whole folder. A
    Composable Kernel folder (``flash_attn_ck/``, ``composable_kernel/``) is ROCm's too.
    """
    if _HINTS.search(path.lower()) is None:
        return None  # no token below can be spelled: most paths, and much cheaper than splitting them
    parts = [p for p in path.replace("\\", "/").split("/") if p and p not in (".", "..")]
    if not parts:
        return None
    for folder in parts[:-1]:
        if folder.lower() in BACKEND_TOKENS:
            return _name(folder.lower())
        tokens = _tokens(folder)
        if tokens and tokens[0] in _FOLDER_PREFIXES:
            return _name(tokens[0])
        if tokens and (tokens[-1] == _CK_LAST_TOKEN or tokens[:2] == _CK_FIRST_TOKENS):
            return "rocm"
    for token in _tokens(_SUFFIX.sub("", parts[-1])):
        if token in BACKEND_TOKENS:
            return _name(token)
    return None


def _name(token: str) -> str:
    target = BACKEND_TOKENS[token]
    return target if target is not None else token


def dedicated_target(path: str) -> str | None:
    """The lockin-lint target a file is dedicated to (``rocm`` for ``csrc/rocm/x.cu``), or None."""
    backend = dedicated_backend(path)
    return backend if backend in _TARGETS else None
