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

The save side of the same file has a second shape (judged false by h3, eighth session)::

    if is_xpu_available():
        states["torch_xpu_manual_seed"] = torch.xpu.get_rng_state_all()
    if is_mlu_available():
        states["torch_mlu_manual_seed"] = torch.mlu.get_rng_state_all()
    elif is_musa_available():
        ...
    if is_cuda_available():
        states["torch_cuda_manual_seed"] = torch.cuda.get_rng_state_all()

Independent ``if``s, one per device, the CUDA one without ``else``: xpu, mlu and musa save their
own state in their own ``if``, so each is handled there (`_sibling_if_notes`). As narrow: only for
a ``torch.cuda.<name>(...)`` call that is a statement, or the value a statement assigns, directly in
the body of an ``if`` with no ``elif``/``else`` whose test is a positive CUDA test; only the run of
``if`` statements right before it (comments apart; any other statement ends the run); only their
``if``/``elif`` clauses with a positive test of platforms off CUDA; and only the platforms whose
own ``torch.<module>.<name>(...)`` is such a statement of that clause's body. A chain that counts
devices into a shared setting and ends in a CPU ``else`` (accelerate's ``config/default.py``)
puts the CUDA call in an ``elif``, not in a lone ``if``, and keeps its reading.
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
        return _sibling_if_notes(node, path, platforms_of)
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
    if call is not None and call.type == "assignment":  # states["seed"] = torch.xpu.get_rng_state_all()
        call = call.child_by_field_name("right")
    function = call.child_by_field_name("function") if call is not None and call.type == "call" else None
    parts = node_text(function).split(".") if function is not None and function.type == "attribute" else []
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "torch" else (None, None)


def _sibling_if_notes(node: ts.Node, path: str,
                      platforms_of: Callable[[ts.Node | None], Platforms | None]) -> dict[str, str]:
    """The second shape above: target -> ``device/platform branch (path:line)`` of the clause of an
    ``if`` before the lone CUDA ``if`` around ``node`` that calls the same function on its own
    ``torch.<module>``."""
    current: ts.Node | None = node
    while current is not None and current.type != "expression_statement":
        if current.type in ("block", "function_definition", "class_definition", "lambda"):
            return {}
        current = current.parent
    module, name = _torch_call(current) if current is not None else (None, None)
    block = current.parent if current is not None else None
    stmt = block.parent if block is not None else None
    if module != "cuda" or name is None or stmt is None or stmt.type != "if_statement" \
            or stmt.child_by_field_name("consequence") != block or stmt.children_by_field_name("alternative"):
        return {}
    condition = stmt.child_by_field_name("condition")
    may = platforms_of(condition)
    if not may or not may <= _CUDA_BUILDS or not is_positive(condition):
        return {}
    found: dict[str, str] = {}
    before = stmt.prev_named_sibling
    while before is not None and before.type in ("if_statement", "comment"):
        clauses = [before] + [a for a in before.children_by_field_name("alternative") if a.type == "elif_clause"]
        for clause in clauses if before.type == "if_statement" else []:
            test, body = clause.child_by_field_name("condition"), clause.child_by_field_name("consequence")
            platforms = platforms_of(test)
            if not platforms or platforms & _CUDA_BUILDS or not is_positive(test) or body is None:
                continue
            called = {_MODULES.get(m or "") for m, function in map(_torch_call, body.named_children)
                      if function == name}
            line = clause.start_point[0] + 1
            found.update({t: f"{PLATFORM_BRANCH} ({path}:{line})" for t in TARGETS
                          if t in platforms and t in called and t not in found})
        before = before.prev_named_sibling
    return found
