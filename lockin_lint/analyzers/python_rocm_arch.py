"""``TORCH_CUDA_ARCH_LIST`` beside a ROCm architecture list: the ROCm build already picks its own.

xformers' ``get_extensions()`` builds for CUDA under ``if (torch.cuda.is_available() and CUDA_HOME
... and torch.version.cuda ...) or os.getenv("FORCE_CUDA", "0") == "1" or
os.getenv("TORCH_CUDA_ARCH_LIST", "") != "":`` and for ROCm under ``elif torch.version.hip and ...``,
where it reads ``HIP_ARCHITECTURES`` (and later passes ``PYTORCH_ROCM_ARCH``). The dispatch cannot
let that ``elif`` handle ROCm for the first branch (its build flags are unknown tests, and
torchvision's ``FORCE_CUDA`` is set for ROCm builds too: docs/validation.md), so LL804 said rocm
``rename`` to ``PYTORCH_ROCM_ARCH`` with no note. Whatever the first test means on ROCm, the function
that reads the CUDA architecture list also names a ROCm one: the ROCm build's architectures are
already chosen there, which is what the rename asks for. So rocm is handled, noted "HIP_ARCHITECTURES
beside it (setup.py:243)", the way `python_other_paths.rocm_home_beside` handles ``CUDA_HOME`` next
to ``ROCM_HOME``.

Narrow on purpose: only LL804's variable, only a string that is exactly one of the ROCm architecture
variables (``PYTORCH_ROCM_ARCH``, torch's; ``HIP_ARCHITECTURES``, ``AMDGPU_TARGETS``, ``GPU_TARGETS``,
ROCm's CMake spellings), only in the same function (a module-level match has no such scope), and
only rocm: the other targets keep their statuses.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from .matching import RawMatch, node_text
from .python_other_paths import note_line
from .python_receivers import enclosing

#: The variables a ROCm extension build reads its GPU architectures from.
ROCM_ARCH_LISTS = frozenset({"PYTORCH_ROCM_ARCH", "HIP_ARCHITECTURES", "AMDGPU_TARGETS", "GPU_TARGETS"})
_RULE = "LL804"


def apply_rocm_arch_lists(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with rocm handled on each ``TORCH_CUDA_ARCH_LIST`` whose function names a ROCm list."""
    found: dict[int, ts.Node | None] = {}
    kept = []
    for match in raw:
        function = enclosing(match.node, "function_definition") if match.rule.id == _RULE else None
        if function is not None and function.id not in found:
            found[function.id] = _rocm_list(function)
        beside = found.get(function.id) if function is not None else None
        if beside is not None and "rocm" not in {target for target, _ in match.handled}:
            note = f"{_content(beside)} beside it ({path}:{note_line(beside)})"
            match = replace(match, handled=match.handled + (("rocm", note),))
        kept.append(match)
    return kept


def _rocm_list(function: ts.Node) -> ts.Node | None:
    """The first string in ``function`` that is exactly a ROCm architecture variable's name."""
    stack = [function]
    first: ts.Node | None = None
    while stack:
        node = stack.pop()
        if node.type == "string" and _content(node) in ROCM_ARCH_LISTS:
            if first is None or node.start_byte < first.start_byte:
                first = node
            continue
        stack.extend(node.named_children)
    return first


def _content(string: ts.Node) -> str:
    """The text of a plain string literal, without its quotes (empty for f-strings with parts)."""
    parts = [c for c in string.named_children if c.type not in ("string_start", "string_end")]
    return node_text(parts[0]) if len(parts) == 1 and parts[0].type == "string_content" else ""
