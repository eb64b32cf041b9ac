"""Backends registered by sibling ``if`` statements, each testing one platform.

Judged false in the fifth session's second round (j11A): bitsandbytes' ``__init__.py`` registers
one backend per platform with separate ``if`` statements written without ``elif``::

    if torch.cuda.is_available():
        from .backends.cuda import ops as cuda_ops
    if hasattr(torch, "xpu") and torch.xpu.is_available():
        from .backends.xpu import ops as xpu_ops
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        from .backends.mps import ops as mps_ops

The CUDA test said "no test names xpu, mps" although the very next statements do: they are the
branches of the same dispatch, so the platforms they test are handled. Narrow on purpose, because
sibling tests can follow a CUDA block that is no alternative to them: only for a match in the
condition or body of a CUDA-availability ``if`` without ``else``/``elif``; only the ``if``
statements right after it (comments apart; any other statement ends the run); each without
``else``/``elif``, testing platforms off CUDA only, and whose body only imports, assigns or
passes (a body that does other work, returns or raises is no registration). Availability tests
only, on both sides: a condition with a comparison (``x.device.type == "musa"``) tests a subject,
which `python_dispatch` reads for siblings on the same subject.
"""

from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from ..model import TARGETS
from .findings import PLATFORM_BRANCH

Platforms = frozenset[str]
_CUDA_BUILDS = frozenset({"cuda", "rocm"})
_SCOPES = frozenset({"function_definition", "class_definition", "module", "lambda"})
_IMPORTS = frozenset({"import_statement", "import_from_statement", "pass_statement", "comment"})


def sibling_backend_notes(node: ts.Node, path: str,
                          platforms_of: Callable[[ts.Node | None], Platforms | None]) -> dict[str, str]:
    """Target -> ``device/platform branch (path:line)`` for the platforms the sibling registrations
    after the CUDA ``if`` around ``node`` test (empty when the shape above is not there)."""
    statement = _cuda_if(node, platforms_of)
    if statement is None:
        return {}
    tested: dict[str, int] = {}
    following = statement.next_named_sibling
    while following is not None:
        if following.type != "comment":
            may = _registration(following, platforms_of)
            if may is None:
                break
            tested |= {t: following.start_point[0] + 1 for t in may if t not in tested}
        following = following.next_named_sibling
    return {t: f"{PLATFORM_BRANCH} ({path}:{tested[t]})" for t in TARGETS if t in tested}


def _cuda_if(node: ts.Node, platforms_of: Callable[[ts.Node | None], Platforms | None]) -> ts.Node | None:
    """The nearest ``if`` around ``node`` (in its condition or body) that has no alternative and
    whose condition is true on CUDA builds only, else None."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in _SCOPES:
        if parent.type == "if_statement":
            if child not in (parent.child_by_field_name("condition"), parent.child_by_field_name("consequence")):
                return None
            condition = parent.child_by_field_name("condition")
            may = platforms_of(condition) if _availability(condition) else None
            if parent.children_by_field_name("alternative") or may is None or "cuda" not in may \
                    or not may <= _CUDA_BUILDS:
                return None
            return parent
        child, parent = parent, parent.parent
    return None


def _registration(statement: ts.Node, platforms_of: Callable[[ts.Node | None], Platforms | None]) -> Platforms | None:
    """The platforms ``statement`` tests when it is ``if <platform test off CUDA>:`` whose body only
    imports or assigns, else None."""
    if statement.type != "if_statement" or statement.children_by_field_name("alternative"):
        return None
    condition = statement.child_by_field_name("condition")
    may = platforms_of(condition) if _availability(condition) else None
    body = statement.child_by_field_name("consequence")
    if may is None or not may or may & _CUDA_BUILDS or body is None:
        return None
    return may if all(_registers(s) for s in body.named_children) else None


def _availability(condition: ts.Node | None) -> bool:
    """Is ``condition`` free of comparisons (``torch.xpu.is_available()``, ``hasattr(torch, "xpu")
    and ...``)? A comparison such as ``name == "xccl"`` tests a subject, and siblings comparing
    different subjects are no dispatch (`python_dispatch._sibling_platforms` reads same-subject ones)."""
    stack = [condition] if condition is not None else []
    while stack:
        current = stack.pop()
        if current.type == "comparison_operator":
            return False
        stack.extend(current.named_children)
    return condition is not None


def _registers(statement: ts.Node) -> bool:
    """An import, ``pass`` or plain assignment (no call on its right: the call would be other work)."""
    if statement.type in _IMPORTS:
        return True
    if statement.type != "expression_statement" or statement.named_child_count != 1:
        return False
    assignment = statement.named_children[0]
    right = assignment.child_by_field_name("right") if assignment.type == "assignment" else None
    return right is not None and right.type != "call"
