"""A ``CUDA_HOME is None`` test whose body is the project's path without the CUDA toolkit.

DeepSpeed's ``AsyncIOBuilder.extra_ldflags`` binds ``CUDA_HOME = torch.utils.cpp_extension.CUDA_HOME``
and then ``if CUDA_HOME is None: ldflags = ['-laio']  # the ROCM case`` / ``else:`` links
``-lcuda -lcudart``. On a ROCm build torch's ``CUDA_HOME`` is None, so the project takes its own
ROCm path there; an LL602 finding that still says "rename to ROCM_HOME" for rocm was judged false
(j17B, docs/validation.md, #11). `rocm_toolkit_note` gives such a finding the ROCm note, beside the
older ``ROCM_HOME beside it`` reading (`python_other_paths.rocm_home_beside`).

Narrow on purpose: the ``None`` body must not refuse (no ``raise``/``assert``/exit, no bare
``return``, ``return False``/``None`` or a returned message, DeepSpeed's ``gds.py`` and
``env_report.py``) and must do real work (an assignment, or a return of a value that is no message);
the name must be ``CUDA_HOME`` itself or a local bound once from it; only the binding, the test and
the test's other (CUDA) side are credited.
"""

from __future__ import annotations

from collections.abc import Iterator

import tree_sitter as ts

from .matching import PYTHON_SCOPES, descendants, node_text
from .python_other_paths import note_line, rocm_home_beside

#: How `Finding.handled` names the two readings, each followed by where.
ROCM_HOME = "ROCM_HOME beside it"
NONE_BRANCH = "`CUDA_HOME is None` branch"

_REFUSALS = frozenset({"raise_statement", "assert_statement"})
_MESSAGES = frozenset({"string", "concatenated_string", "none", "false"})


def rocm_toolkit_note(node: ts.Node, symbol: str, path: str) -> str | None:
    """The rocm note for a ``CUDA_HOME`` match the ROCm toolkit has its own path beside, or None."""
    rocm = rocm_home_beside(node, symbol)
    if rocm is not None:
        return f"{ROCM_HOME} ({path}:{note_line(rocm)})"
    test = none_branch(node, symbol)
    return f"{NONE_BRANCH} ({path}:{note_line(test)})" if test is not None else None


def none_branch(node: ts.Node, symbol: str) -> ts.Node | None:
    """For a ``CUDA_HOME`` match: the ``if <name> is None:`` (or ``if not <name>:``) with a
    non-refusing body that the match binds, tests, or is on the other side of; else None."""
    if not symbol.endswith("CUDA_HOME"):
        return None
    name, start, binding = _bound_name(node)
    if name is None:
        return None
    scope = node
    while scope.parent is not None and scope.parent.type not in PYTHON_SCOPES:
        scope = scope.parent
    scope = scope.parent or scope  # the function (or class), else the module
    if name != "CUDA_HOME" and _assigned(scope, name) != 1:
        return None  # a local rebound elsewhere: keep the plain reading
    for stmt in _inside(scope):
        if stmt.type != "if_statement" or stmt.end_byte <= start or not _none_test(stmt, name):
            continue
        body = stmt.child_by_field_name("consequence")
        if body is None or not _does_work(body):
            continue
        condition = stmt.child_by_field_name("condition")
        others = stmt.children_by_field_name("alternative")
        if _within(node, condition) or any(_within(node, c) for c in others) or binding:
            return stmt
    return None


def _bound_name(node: ts.Node) -> tuple[str | None, int, bool]:
    """The name the match is read through, where that reading starts, and whether the match is the
    binding: ``x`` for the right side of ``x = torch.utils.cpp_extension.CUDA_HOME`` (a binding),
    ``CUDA_HOME`` for the bare imported name (only its test and the test's other side count)."""
    parent = node.parent
    if parent is not None and parent.type == "assignment" and parent.child_by_field_name("right") == node:
        left = parent.child_by_field_name("left")
        if left is not None and left.type == "identifier":
            return node_text(left), parent.end_byte, True
        return None, 0, False
    if node.type == "identifier" and node_text(node) == "CUDA_HOME":
        return "CUDA_HOME", node.start_byte, False
    return None, 0, False


def _inside(scope: ts.Node) -> Iterator[ts.Node]:
    """The nodes of ``scope`` outside the functions and classes it defines."""
    for child in scope.named_children:
        yield from descendants(child, PYTHON_SCOPES)


def _assigned(scope: ts.Node, name: str) -> int:
    return sum(1 for n in _inside(scope) if n.type in ("assignment", "augmented_assignment")
               and (left := n.child_by_field_name("left")) is not None and node_text(left) == name)


def _none_test(stmt: ts.Node, name: str) -> bool:
    """``if name is None:`` / ``if not name:`` (parentheses allowed), nothing else."""
    condition = stmt.child_by_field_name("condition")
    while condition is not None and condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        condition = condition.named_children[0]
    if condition is None:
        return False
    if condition.type == "not_operator":
        argument = condition.child_by_field_name("argument")
        return argument is not None and argument.type == "identifier" and node_text(argument) == name
    operators = [node_text(c) for c in condition.children if not c.is_named]
    return (condition.type == "comparison_operator" and operators == ["is"] and condition.named_child_count == 2
            and node_text(condition.named_children[0]) == name and condition.named_children[1].type == "none")


def _does_work(body: ts.Node) -> bool:
    """Does the ``None`` body do work of its own (an assignment, a returned value that is no message)
    and refuse nothing (no ``raise``/``assert``/exit, no empty, false or message return)?"""
    work = False
    for node in descendants(body):
        if node.type in _REFUSALS:
            return False
        function = node.child_by_field_name("function") if node.type == "call" else None
        if function is not None and node_text(function) in ("sys.exit", "exit", "quit"):
            return False
        if node.type == "return_statement":
            value = node.named_children[0] if node.named_children else None
            if value is None or value.type in _MESSAGES:
                return False
            work = True
        if node.type in ("assignment", "augmented_assignment"):
            work = True
    return work


def _within(node: ts.Node, outer: ts.Node | None) -> bool:
    return outer is not None and outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte
