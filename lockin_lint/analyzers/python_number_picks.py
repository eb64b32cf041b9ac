"""Backend comparisons that only pick a number, which lock nothing in.

accelerate's ``seconds = 1800 if self.backend != "nccl" else 600`` (j8A, third round, judged false
for LL300) compares with the ``"nccl"`` name only to choose a timeout: both arms are plain numbers,
so the code runs the same on every backend and only waits longer on some. `python_strings` asks this
module before it reads such a comparison as a place that names a backend. Narrow on purpose: the
comparison must be the test of a conditional expression whose two arms are numeric literals (signed
or not) or ``timedelta(...)`` calls with literal numeric arguments; anything else keeps firing.
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import node_text

_NUMBERS = frozenset({"integer", "float"})


def picks_a_number(comparison: ts.Node) -> bool:
    """Is ``comparison`` the test of ``A if comparison else B`` with ``A`` and ``B`` plain numbers?"""
    test, parent = comparison, comparison.parent
    while parent is not None and parent.type == "parenthesized_expression":
        test, parent = parent, parent.parent
    if parent is None or parent.type != "conditional_expression" or parent.named_child_count != 3:
        return False
    value, condition, other = parent.named_children
    return condition == test and _number(value) and _number(other)


def _number(node: ts.Node) -> bool:
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    if node.type in _NUMBERS:
        return True
    if node.type == "unary_operator":
        operand = node.child_by_field_name("argument")
        return operand is not None and operand.type in _NUMBERS
    if node.type != "call":
        return False
    function = node.child_by_field_name("function")
    name = node_text(function).rsplit(".", 1)[-1] if function is not None else ""
    arguments = node.child_by_field_name("arguments")
    if name != "timedelta" or arguments is None or not arguments.named_children:
        return False
    for argument in arguments.named_children:
        literal = argument.child_by_field_name("value") if argument.type == "keyword_argument" else argument
        if literal is None or not _number(literal) or literal.type == "call":
            return False
    return True
