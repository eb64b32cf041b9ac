"""The CUDA backend of a project's own accelerator abstraction: reported apart, kept out of the effort.

DeepSpeed keeps ``accelerator/cuda_accelerator.py`` beside ``xpu_accelerator.py`` and
``npu_accelerator.py``; vLLM keeps ``platforms/cuda.py`` beside ``rocm.py`` and ``xpu.py``;
bitsandbytes keeps one folder per backend, ``backends/cuda/ops.py`` beside ``backends/xpu/ops.py``
and ``backends/cpu/ops.py``; DeepSpeed's ``runtime/comm/nccl.py`` sits beside ``hccl.py`` (a
CUDA-only collective library beside another platform's, not beside a CPU one: ``mpi.py`` is no
platform; its note says it is one of the collective backends, which the project picks by name, not
by the accelerator, so only the targets a sibling evidently serves are credited there, read by
`collective_backends`: Ascend for ``hccl.py``, XPU for ``compressed.py``). Each module
implements one backend of an interface, so the CUDA calls in the CUDA one are that backend doing its
job, not lock-in of the project: porting to a new target means writing a sibling module, not editing
this one. Only the whole run shows the siblings, so this is a cross-file pass over the results: the
findings of such a module become ``info`` and every target is marked handled (status ``native``,
which keeps them out of the effort), with the siblings named in ``handled``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..analyzers.backend_paths import dedicated_backend
from ..model import TARGETS, FileResult, Finding, Reader, with_handled
from .collective_backends import COLLECTIVE_TARGETS, served_targets

#: Name parts that make a module the CUDA (NVIDIA) backend of an interface.
_CUDA_TOKENS = frozenset({"cuda", "nvidia", "nccl"})
#: Other platforms' collective libraries, which name a sibling backend module (``hccl.py``).
_COLLECTIVES = frozenset(COLLECTIVE_TARGETS)
_SPLIT = re.compile(r"[_\-]+")
_COLLECTIVE_KIND = "NCCL backend among the project's collective communication backends"


def _parts(name: str) -> list[str]:
    return [part.lower() for part in _SPLIT.split(name.removesuffix(".py")) if part]


def _shape(parts: list[str], backend: str) -> tuple[str, ...]:
    """The name with its backend word blanked: ``cuda_accelerator`` and ``xpu_accelerator`` agree."""
    return tuple("*" if part == backend else part for part in parts)


def _siblings(name: str, others: list[str]) -> list[str]:
    """The other backends beside a CUDA module ``name`` (``["npu", "xpu"]``), by files of its shape."""
    return sorted(sibling_modules(name, others))


def sibling_modules(name: str, others: list[str]) -> dict[str, str]:
    """Backend -> module for the modules beside a CUDA module ``name`` that share its shape
    (``cuda_accelerator.py``: ``{"cpu": "cpu_accelerator.py", "ascend": "npu_accelerator.py"}``)."""
    parts = _parts(name)
    cuda = next((part for part in parts if part in _CUDA_TOKENS), None)
    if cuda is None:
        return {}
    shape = _shape(parts, cuda)
    found: dict[str, str] = {}
    for other in others:
        other_parts = _parts(other)
        backend = next((part for part in other_parts if (part == "cpu" and cuda != "nccl")
                        or part in _COLLECTIVES or dedicated_backend(part) is not None), None)
        if backend is not None and other != name and _shape(other_parts, backend) == shape:
            found.setdefault(backend, other)
    return found


def _folder_siblings(path: str, folders: dict[str, list[str]]) -> list[str]:
    """The other backends beside a module in a CUDA-named folder (``backends/cuda/ops.py``): sibling
    folders of the same shape (``backends/xpu/``) that hold a module of the same name (``ops.py``)."""
    folder, _, name = path.rpartition("/")
    parent, _, folder_name = folder.rpartition("/")
    if not _CUDA_TOKENS & set(_parts(folder_name)):
        return []
    others = [other.rpartition("/")[2] for other, names in folders.items()
              if other != folder and other.rpartition("/")[0] == parent and name in names]
    return _siblings(folder_name, others)


def mark_backend_modules(results: list[FileResult], files: dict[str, str], read: Reader) -> list[FileResult]:
    """``results`` with the findings of CUDA backend modules (those with sibling backends) reported
    apart: every target handled and ``info`` severity; an NCCL module's only for the targets its
    siblings serve (``info`` when that is every target the finding shows)."""
    folders: dict[str, list[str]] = {}
    for result in results:
        if result.path.endswith(".py"):
            folder, _, name = result.path.rpartition("/")
            folders.setdefault(folder, []).append(name)
    marked = []
    for result in results:
        folder, _, name = result.path.rpartition("/")
        siblings = (_siblings(name, folders.get(folder, [])) or _folder_siblings(result.path, folders)
                    if result.findings and name.endswith(".py") else [])
        if siblings:
            kind = _kind(name)
            if kind == _COLLECTIVE_KIND:
                others = [f"{folder}/{other}" if folder else other for other in folders.get(folder, [])]
                named = sibling_modules(name, folders.get(folder, []))
                handled = {target: f"{kind} ({why})"
                           for target, why in served_targets(result.path, named, others, files, read).items()}
            else:
                handled = dict.fromkeys(TARGETS, f"{kind} (beside {', '.join(siblings)})")
            if handled:
                result = replace(result, findings=tuple(_as_backend(f, handled) for f in result.findings))
        marked.append(result)
    return marked


def _kind(name: str) -> str:
    """What the module is a backend of: an ``nccl.py`` beside ``hccl.py`` is one of the collective
    backends a project picks by name (DeepSpeed's 1-bit optimizers by ``comm_backend_name``), not the
    accelerator's backend, whatever machine runs it."""
    if "nccl" in _parts(name) and not {"cuda", "nvidia"} & set(_parts(name)):
        return _COLLECTIVE_KIND
    return "CUDA backend of the project's accelerator abstraction"


def _as_backend(finding: Finding, handled: dict[str, str]) -> Finding:
    """``finding`` with ``handled`` credited; ``info`` once no target it shows is left to port."""
    marked = with_handled(finding, handled)
    if all(info.status == "native" for info in marked.targets.values()):
        marked = replace(marked, severity="info")
    return marked
