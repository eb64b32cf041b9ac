"""Python packages that exist only for ROCm: code built on one is ROCm's code, not CUDA lock-in.

vLLM's MoRIIO KV connector (``kv_connector/v1/moriio/``) drives ``mori.io`` and spells
``torch.cuda.Event()``, which on ROCm is HIP's event; no other platform reaches it. An independent
judge called its LL102 findings false (docs/validation.md, #11, fifth session). The path names no
backend (`analyzers.backend_paths`), but the package does. `project.rocm_package_folders` reads a
folder named for one of these packages, holding a module that imports it, as ROCm's.

Each entry is a top-level import name with where it is documented as ROCm-only. A package that also
runs elsewhere (``amdsmi`` is AMD's SMI, but reports only; ``quark`` quantizes on any device) does not
belong here. ``aiter`` is ROCm-only, but vLLM imports it from modules that also run on CUDA
(``vit_attn_wrappers.py``, ``topk_topp_sampler.py``, behind ``is_rocm()`` tests): an import alone
proves nothing about a module, which is why the folder must be named for the package too.
"""

from __future__ import annotations

#: Import name -> provenance (where the package is documented as built only for AMD GPUs).
ROCM_ONLY_PACKAGES: dict[str, str] = {
    "mori": "MORI (Modular RDMA Interface), github.com/ROCm/mori; PyPI amd-mori: 'GPU communication "
            "library' (MORI-EP, MORI-IO) for AMD GPUs, built for gfx targets only (MORI_GPU_ARCHS="
            "gfx942;gfx950 in vLLM's docker/Dockerfile.rocm_base:33, :192-201); vLLM documents it only in "
            "docs/getting_started/installation/gpu.rocm.inc.md:123-130",
    "aiter": "AITER, 'AI Tensor Engine for ROCm', github.com/ROCm/aiter (README: AMD's operator library "
             "for ROCm; Triton, Composable Kernel and ASM backends); built in vLLM's "
             "docker/Dockerfile.rocm_base:12-13 with AITER_ROCM_ARCH=gfx942;gfx950 (:32), documented in "
             "docs/getting_started/installation/gpu.rocm.inc.md:108-112",
}
