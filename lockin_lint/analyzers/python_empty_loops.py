"""A loop over the CUDA devices that is empty off CUDA, the other platforms handled right after it.

Judged debatable in the fifth session's second round (j11A; j7A's reading): accelerate's
``get_max_memory`` (``utils/modeling.py:814``) ends its device chain with::

    else:
        for i in range(torch.cuda.device_count()):
            max_memory[i] = torch.cuda.mem_get_info(i)[0]
    if is_mps_available():
        max_memory["mps"] = psutil.virtual_memory().available
    else:
        max_memory["cpu"] = psutil.virtual_memory().available

On MPS or a CPU-only machine ``torch.cuda.device_count()`` is 0, the loop runs zero times, and the
next statement does those platforms' work: they are handled there, not "missing". Narrow on
purpose: only a match in the iterable or body of ``for ... in range(torch.cuda.device_count())``
(spelled so, one argument); only the statement right after the loop (comments apart), or, when the
loop ends its clause of an ``if`` chain, the statement right after that chain; that statement
handles the non-CUDA platforms its ``if`` tests, and cpu when it (or that ``if``'s ``else``) uses the
string ``"cpu"``.
"""

from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from ..model import TARGETS
from .findings import PLATFORM_BRANCH
from .matching import node_text

Platforms = frozenset[str]
_CUDA_BUILDS = frozenset({"cuda", "rocm"})
_SCOPES = frozenset({"function_definition", "class_definition", "module", "lambda"})
_CLAUSES = frozenset({"if_statement", "elif_clause", "else_clause"})
_CUDA_DEVICES = "range(torch.cuda.device_count())"


def empty_loop_notes(node: ts.Node, path: str,
                     platforms_of: Callable[[ts.Node | None], Platforms | None]) -> dict[str, str]:
    """Target -> ``device/platform branch (path:line)`` for the platforms the statement after the
    CUDA device loop around ``node`` handles (empty when the shape above is not there)."""
    loop = _device_loop(node)
    after = _next_statement(loop) if loop is not None else None
    if after is None:
        return {}
    handled: dict[str, int] = {}
    searched: ts.Node | None = after
    if after.type == "if_statement":
        may = platforms_of(after.child_by_field_name("condition"))
        if may and not may & _CUDA_BUILDS:
            handled |= dict.fromkeys(may, after.start_point[0] + 1)
        alternatives = after.children_by_field_name("alternative")
        searched = alternatives[0] if len(alternatives) == 1 and alternatives[0].type == "else_clause" else None
    if searched is not None and _names_cpu(searched):
        handled.setdefault("cpu", searched.start_point[0] + 1)
    return {t: f"{PLATFORM_BRANCH} ({path}:{handled[t]})" for t in TARGETS if t in handled}


def _device_loop(node: ts.Node) -> ts.Node | None:
    """The nearest ``for`` around ``node`` when it loops over ``range(torch.cuda.device_count())``."""
    parent = node.parent
    while parent is not None and parent.type not in _SCOPES:
        if parent.type == "for_statement":
            iterable = parent.child_by_field_name("right")
            return parent if iterable is not None and node_text(iterable) == _CUDA_DEVICES \
                and not parent.children_by_field_name("alternative") else None
        parent = parent.parent
    return None


def _next_statement(statement: ts.Node) -> ts.Node | None:
    """The statement run right after ``statement``: its next sibling, or, when it ends its clause of
    an ``if`` chain, the statement after that chain."""
    following = _sibling(statement)
    if following is not None:
        return following
    block = statement.parent
    clause = block.parent if block is not None and block.type == "block" else None
    if clause is None or clause.type not in _CLAUSES:
        return None
    chain = clause if clause.type == "if_statement" else clause.parent
    return _sibling(chain) if chain is not None and chain.type == "if_statement" else None


def _sibling(statement: ts.Node) -> ts.Node | None:
    following = statement.next_named_sibling
    while following is not None and following.type == "comment":
        following = following.next_named_sibling
    return following


def _names_cpu(node: ts.Node) -> bool:
    """Does ``node`` hold the string literal ``"cpu"`` (nested scopes apart)?"""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "string" and node_text(current)[1:-1] == "cpu" and node_text(current)[0] in "\"'":
            return True
        if current.type not in _SCOPES:
            stack.extend(current.named_children)
    return False
