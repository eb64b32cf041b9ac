"""A setup.py dependency line gated on a CUDA device test: installed only on CUDA, no port elsewhere.

Judged debatable twice (j20A and j21A, class F): DeepSpeed's ``setup.py``::

    if torch_available and get_accelerator().device_name() == 'cuda' and not is_rocm_pytorch:
        install_requires.append('nvidia-ml-py')

(and at ``:103`` the ``cupy-cudaXX`` / ``cupy-rocm-X-Y`` pick for the 1-bit extras). The lead's
decision: such a gate only keeps a CUDA-only package off the other accelerators; nothing there needs
a port, so every target the gate is false on is handled, noted "a CUDA-only dependency, installed
only on CUDA (setup.py:99)"; the severity stays (the sixth session's decision 3). Narrow on purpose:
only in files named ``setup.py``; only the ``"cuda"`` compared in the test of an ``if`` without
``elif``/``else``; its body (nested ``if``/``else`` included) holds only appends/extends on, or
assignments to, a requirement list (``install_requires``, ``extras_require[...]``, a name ending
``requires`` or holding ``requirements``), and assignments to local names the body reads and nothing
after that ``if`` does (the ``cupy`` pick; a ``build_cuda_ext = True`` is a flag); nothing in it
spells a ``cuda.`` attribute, ``os.environ`` or ``putenv``. A body that also sets build flags or
environment variables (``TORCH_CUDA_ARCH_LIST``, DeepSpeed's ``setup.py:142``), calls a CUDA API, or
an ungated append keep their reading.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import PurePath

import tree_sitter as ts

from ..model import TARGETS
from .matching import node_text

Platforms = frozenset[str]
#: How `Finding.handled` names a target such a gate keeps the dependency off, then where.
CUDA_ONLY_DEPENDENCY = "a CUDA-only dependency, installed only on CUDA"
_SCOPES = frozenset({"function_definition", "class_definition", "module", "lambda"})
_ADDS = frozenset({"append", "extend"})
_REQUIREMENT_LISTS = frozenset({"install_requires", "extras_require", "setup_requires", "tests_require"})
_FORBIDDEN = ("os.environ", "putenv")


@functools.lru_cache(maxsize=64)
def _is_setup_py(path: str) -> bool:
    """Is the file a ``setup.py``? Asked for every match of a file (a `PurePath` per match was 7% of
    the dispatch's profiled time on vLLM), so remembered per path."""
    return PurePath(path).name == "setup.py"


def requirement_gate_notes(node: ts.Node, path: str,
                           platforms_of: Callable[[ts.Node | None], Platforms | None]) -> dict[str, str]:
    """Target -> ``a CUDA-only dependency, installed only on CUDA (setup.py:99)`` for the targets
    the ``if`` whose test holds ``node`` is false on, when that ``if`` is the shape above."""
    if not _is_setup_py(path):
        return {}
    gate = _gate(node)
    body = gate.child_by_field_name("consequence") if gate is not None else None
    if gate is None or body is None or gate.children_by_field_name("alternative"):
        return {}
    assigned: set[str] = set()
    if not _only_requirements(body, assigned) or not _adds_requirement(body) or _read_after(gate, assigned) \
            or not assigned <= _read_in(body):
        return {}
    may = platforms_of(gate.child_by_field_name("condition"))
    if may is None or "cuda" not in may:
        return {}
    line = gate.start_point[0] + 1
    return {t: f"{CUDA_ONLY_DEPENDENCY} ({path}:{line})" for t in TARGETS if t not in may}


def _gate(node: ts.Node) -> ts.Node | None:
    """The ``if`` whose test holds ``node`` (a ``"cuda"`` compared there), else None."""
    child, parent = node, node.parent
    compared = False
    while parent is not None and parent.type not in _SCOPES:
        compared = compared or parent.type == "comparison_operator"
        if parent.type == "if_statement":
            return parent if compared and child == parent.child_by_field_name("condition") else None
        if parent.type in ("block", "expression_statement"):
            return None
        child, parent = parent, parent.parent
    return None


def _requirement_list(target: ts.Node | None) -> bool:
    """``install_requires``, ``extras_require[...]`` or a name with requires/requirements in it."""
    if target is not None and target.type == "subscript":
        target = target.child_by_field_name("value")
    if target is None or target.type != "identifier":
        return False
    name = node_text(target).lower()
    return name in _REQUIREMENT_LISTS or name.endswith("requires") or "requirements" in name


def _only_requirements(block: ts.Node, assigned: set[str]) -> bool:
    """Does ``block`` only add requirements and assign locals (collected in ``assigned``)?"""
    if any(word in node_text(block) for word in _FORBIDDEN) or _cuda_attribute(block):
        return False
    for statement in block.named_children:
        if statement.type in ("comment", "pass_statement"):
            continue
        if statement.type == "if_statement":
            clauses = [statement] + statement.children_by_field_name("alternative")
            blocks = [c.child_by_field_name("consequence") if c.type != "else_clause" else c.child_by_field_name("body")
                      for c in clauses]
            if any(b is None or not _only_requirements(b, assigned) for b in blocks):
                return False
            continue
        expression = statement.named_children[0] if statement.type == "expression_statement" \
            and len(statement.named_children) == 1 else None
        if expression is not None and expression.type == "assignment":
            left = expression.child_by_field_name("left")
            if _requirement_list(left):
                continue
            names = [left] if left is not None and left.type == "identifier" else \
                left.named_children if left is not None and left.type == "pattern_list" else []
            if not names or any(n.type != "identifier" for n in names):
                return False
            assigned.update(node_text(n) for n in names)
            continue
        if expression is None or not _adds_to_requirements(expression):
            return False
    return True


def _adds_to_requirements(expression: ts.Node) -> bool:
    function = expression.child_by_field_name("function") if expression.type == "call" else None
    return function is not None and function.type == "attribute" \
        and node_text(function.child_by_field_name("attribute")) in _ADDS \
        and _requirement_list(function.child_by_field_name("object"))


def _adds_requirement(block: ts.Node) -> bool:
    """Does ``block`` (nested statements included) add to or assign a requirement list?"""
    stack = [block]
    while stack:
        current = stack.pop()
        if _adds_to_requirements(current) or current.type == "assignment" \
                and _requirement_list(current.child_by_field_name("left")):
            return True
        stack.extend(current.named_children)
    return False


def _cuda_attribute(block: ts.Node) -> bool:
    """Does ``block`` spell an attribute chain through ``cuda`` (``torch.cuda.x``, ``cp.cuda.x``)?"""
    stack = [block]
    while stack:
        current = stack.pop()
        if current.type == "attribute" and "cuda" in node_text(current).split(".")[:-1]:
            return True
        stack.extend(current.named_children)
    return False


def _read_in(block: ts.Node) -> set[str]:
    """The names ``block`` reads (an assignment's own target apart): a pick feeds a requirement."""
    read: set[str] = set()
    stack = [block]
    while stack:
        current = stack.pop()
        if current.type == "assignment":
            left = current.child_by_field_name("left")
            stack.extend(c for c in current.named_children if c != left)
            continue
        if current.type == "identifier":
            read.add(node_text(current))
        stack.extend(current.named_children)
    return read


def _read_after(gate: ts.Node, names: set[str]) -> bool:
    """Is one of ``names`` read after ``gate`` in its scope (so it may be a flag, not a pick)?"""
    if not names:
        return False
    scope = gate.parent
    while scope is not None and scope.type not in _SCOPES:
        scope = scope.parent
    stack = [scope] if scope is not None else []
    end = gate.end_byte
    while stack:
        current = stack.pop()
        if current.type == "identifier" and current.start_byte >= end and node_text(current) in names:
            return True
        stack.extend(current.named_children)
    return False
