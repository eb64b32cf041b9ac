"""PyTorch's C++ op-registration vocabulary.

Shared by the C/C++ index (which derives prefilter tokens from it), the C/C++ matcher (LC5010) and the
extension scanner of the cross-file pass, so that the three never disagree on what registers an op.
"""

from __future__ import annotations

#: Op schema blocks and per-dispatch-key implementation blocks. libtorch's stable ABI spells them
#: ``STABLE_*`` (vLLM 0.33's bindings), and vLLM's ``registration.h`` wraps ``TORCH_LIBRARY`` as
#: ``TORCH_LIBRARY_EXPAND`` so that the name may be a macro.
LIBRARY_MACROS = frozenset({"TORCH_LIBRARY", "TORCH_LIBRARY_FRAGMENT", "STABLE_TORCH_LIBRARY",
                            "STABLE_TORCH_LIBRARY_FRAGMENT", "TORCH_LIBRARY_EXPAND"})
LIBRARY_IMPL_MACROS = frozenset({"TORCH_LIBRARY_IMPL", "STABLE_TORCH_LIBRARY_IMPL", "TORCH_LIBRARY_IMPL_EXPAND"})
#: Dispatch keys of CUDA implementations (LC5010 reports them; the linker treats such ops as CUDA-only).
CUDA_DISPATCH_KEYS = frozenset({"CUDA", "AutogradCUDA", "SparseCUDA", "QuantizedCUDA", "NestedTensorCUDA",
                                "SparseCsrCUDA"})
