"""A platform's own call in a separate ``if`` right before a chain whose ``else`` is the CUDA call.

Drawn debatable twice (j16A, and at seed 9191): accelerate's ``checkpointing.py`` restores the RNG
state of each device with::

    if is_xpu_available():
        torch.xpu.set_rng_state_all(states["torch_xpu_manual_seed"])
    if is_mlu_available():
        torch.mlu.set_rng_state_all(...)
    elif ...:
        ...
    else:
        torch.cuda.set_rng_state_all(states["torch_cuda_manual_seed"])

The CUDA call in the ``else`` was reported as ``rename`` on XPU although the ``if`` just before the
chain calls XPU's own ``set_rng_state_all``: the project has that platform's path, written as a
sibling of the chain instead of one of its branches. (On XPU the CUDA ``else`` still runs; in
accelerate it fails inside a ``try`` that swallows it, which is why a reader may still call it
debatable.) Narrow on purpose, so that an unrelated platform block before a CUDA fallback credits
nothing: only for a match inside a ``torch.cuda.<name>(...)`` call that is a statement of the
``else`` block of an ``if``/``elif`` chain; only the statement right before that chain (comments
apart); that statement an ``if`` without ``else``/``elif``, whose condition is a positive test of
platforms off CUDA; and only the platforms among those whose ``torch.<module>.<name>(...)`` — the
same function name — is a statement of its body.
"""

from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from ..model import TARGETS
from .findings import PLATFORM_BRANCH
from .matching import node_text
from .python_platform_tests import is_positive

Platforms = frozenset[str]
_CUDA_BUILDS = frozenset({"cuda", "rocm"})
#: The ``torch.<module>`` of each target that has its own device module.
_MODULES = {"xpu": "xpu", "npu": "ascend", "mlu": "mlu", "musa": "musa", "mps": "mps"}


def prior_branch_notes(node: ts.Node, path: str,
                       platforms_of: Callable[[ts.Node | None], Platforms | None]) -> dict[str, str]:
    """Target -> ``device/platform branch (path:line)`` for the platforms the ``if`` right before
    the chain around ``node`` calls the same function for (empty when the shape above is not there)."""
    found = _cuda_call_in_else(node)
    if found is None:
        return {}
    name, chain = found
    before = chain.prev_named_sibling
    while before is not None and before.type == "comment":
        before = before.prev_named_sibling
    if before is None or before.type != "if_statement" or before.children_by_field_name("alternative"):
        return {}
    condition = before.child_by_field_name("condition")
    may = platforms_of(condition)
    body = before.child_by_field_name("consequence")
    if not may or may & _CUDA_BUILDS or not is_positive(condition) or body is None:
        return {}
    called = {_MODULES.get(module or "") for module, function in map(_torch_call, body.named_children)
              if function == name}
    line = before.start_point[0] + 1
    return {t: f"{PLATFORM_BRANCH} ({path}:{line})" for t in TARGETS if t in may and t in called}


def _cuda_call_in_else(node: ts.Node) -> tuple[str, ts.Node] | None:
    """The function name of the ``torch.cuda.<name>(...)`` statement ``node`` is in and the ``if``
    statement whose ``else`` block holds that statement directly, else None."""
    current: ts.Node | None = node
    while current is not None and current.type != "expression_statement":
        if current.type in ("block", "function_definition", "class_definition", "lambda"):
            return None
        current = current.parent
    if current is None:
        return None
    module, name = _torch_call(current)
    block = current.parent
    clause = block.parent if block is not None else None
    if module != "cuda" or name is None or clause is None or clause.type != "else_clause" \
            or clause.parent is None or clause.parent.type != "if_statement":
        return None
    return name, clause.parent


def _torch_call(statement: ts.Node) -> tuple[str | None, str | None]:
    """``("xpu", "set_rng_state_all")`` for the statement ``torch.xpu.set_rng_state_all(...)``."""
    call = statement.named_children[0] if statement.type == "expression_statement" and statement.named_children \
        else None
    function = call.child_by_field_name("function") if call is not None and call.type == "call" else None
    parts = node_text(function).split(".") if function is not None and function.type == "attribute" else []
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "torch" else (None, None)
