"""Another platform's test beside a CUDA test in an ``or`` that is no ``if`` condition.

In an ``if`` the dispatch (`python_dispatch.Dispatch.verdict`) already reads ``if x.is_cuda or
x.is_xpu:`` as a branch that XPU takes too. The same ``or`` written as a value was read as a bare CUDA
test, every target left to rename: judged false in the fifth session's third round (j12A,
docs/validation.md, #11), TGI's ``models/__init__.py``: ``FLASH_TRANSFORMERS_BACKEND =
torch.cuda.is_available() or SYSTEM == "ipex"``, whose ``ipex`` operand is the path of Intel's
extension (XPU and Intel CPUs) into the same backend.

Here, for a CUDA test that is an operand of an ``or`` whose value is assigned, returned or passed
(alone or in an ``and``), the other operands that are positive platform tests handle the targets they
are true on, as an ``elif`` would. Not read: an ``or`` under ``not`` (neither platform), a negated
CUDA operand (``not torch.cuda.is_available() or ...``: true off CUDA), an operand that is no platform
test (``os.getenv(...)``), and any ``or`` in an ``if``/``while``/``assert`` condition or a conditional
expression, which the dispatch reads itself.
"""

from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from ..model import TARGETS
from .findings import PLATFORM_BRANCH
from .matching import node_text
from .python_platform_tests import CUDA_BUILDS, is_positive

PlatformsOf = Callable[[ts.Node | None], frozenset[str] | None]
#: What may hold the CUDA match inside its operand (``torch.cuda.is_available`` in a call, ``"cuda"``
#: in a comparison); at most `_DEPTH` steps up.
_INSIDE_OPERAND = frozenset({"call", "attribute", "comparison_operator", "argument_list"})
_DEPTH = 3
#: Where the value of the ``or`` goes: a value, not a branch.
_VALUE_USES = frozenset({"assignment", "return_statement", "argument_list", "keyword_argument"})


def or_operand_notes(node: ts.Node, platforms_of: PlatformsOf) -> dict[str, str]:
    """Target -> `PLATFORM_BRANCH` for the targets the other operands of the ``or`` around the CUDA
    test at ``node`` are true on; empty when the shape is not the one above."""
    operand = _cuda_operand(node, platforms_of)
    if operand is None:
        return {}
    top = operand.parent
    while top is not None and top.parent is not None and (_is_or(top.parent) or _single_parens(top.parent)):
        top = top.parent
    if top is None or not _used_as_value(top):
        return {}
    own = platforms_of(operand) or frozenset()
    others: set[str] = set()
    for other in _operands(top):
        platforms = platforms_of(other) if other != operand and is_positive(other) else None
        others |= platforms or frozenset()
    return {t: PLATFORM_BRANCH for t in TARGETS if t in others and t not in own}


def _cuda_operand(node: ts.Node, platforms_of: PlatformsOf) -> ts.Node | None:
    """The operand of an ``or`` that holds ``node`` and is a positive CUDA test, if any."""
    candidate = node
    for _ in range(_DEPTH):
        parent = candidate.parent
        if parent is None:
            return None
        if _is_or(parent):
            platforms = platforms_of(candidate)
            cuda = platforms is not None and "cuda" in platforms and platforms <= CUDA_BUILDS
            return candidate if cuda and is_positive(candidate) else None
        if parent.type not in _INSIDE_OPERAND:
            return None
        candidate = parent
    return None


def _is_or(node: ts.Node) -> bool:
    return node.type == "boolean_operator" and node_text(node.child_by_field_name("operator")) == "or"


def _single_parens(node: ts.Node) -> bool:
    return node.type == "parenthesized_expression" and node.named_child_count == 1


def _used_as_value(expression: ts.Node) -> bool:
    """Is ``expression`` (through parentheses and ``and`` operators) assigned, returned or passed?"""
    current, parent = expression, expression.parent
    while parent is not None and (_single_parens(parent) or (
            parent.type == "boolean_operator" and node_text(parent.child_by_field_name("operator")) == "and")):
        current, parent = parent, parent.parent
    if parent is None or parent.type not in _VALUE_USES:
        return False
    return parent.type != "assignment" or parent.child_by_field_name("right") == current


def _operands(expression: ts.Node) -> list[ts.Node]:
    """The operands of an ``or`` chain (parentheses and nested ``or`` operators flattened)."""
    if _single_parens(expression):
        return _operands(expression.named_children[0])
    if _is_or(expression):
        left, right = expression.child_by_field_name("left"), expression.child_by_field_name("right")
        return [*(_operands(left) if left is not None else []), *(_operands(right) if right is not None else [])]
    return [expression]
