"""A match on a local name its function only annotates and never binds: code that never runs.

Judged false in the seventh session's fourth round: xformers' pyre stub tests
(``stubs/torch_stub_tests.py:1644``) declare ``x: Tensor[torch.float32, L[2], L[3], L[4]]`` and then
write ``y: bool = x.is_cuda`` to check the stubs' types. ``x`` is annotated with no value and bound
nowhere in the function, so the body would raise ``UnboundLocalError`` if it ever ran: the file is
type-checked, never executed, and ports nothing. Narrow on purpose: the receiver is a bare name, the
function has an annotation of it without a value, and nothing in the function binds it (parameter,
assignment with a value, ``for``/``with``/``except`` target, import, walrus, ``global``/``nonlocal``,
``del``). Any binding keeps the finding.
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import descendants, node_text
from .python_receivers import enclosing

#: Nodes whose names bind the name they hold (beside parameters and assignments).
_BINDERS = frozenset({"for_statement", "for_in_clause", "with_item", "except_clause", "import_statement",
                      "import_from_statement", "named_expression", "global_statement", "nonlocal_statement",
                      "delete_statement", "as_pattern", "augmented_assignment"})


def _receiver(node: ts.Node) -> ts.Node | None:
    """The bare name ``node`` (or the attribute it is the attribute of) is read on: ``x`` of ``x.is_cuda``."""
    current: ts.Node | None = node
    while current is not None and current.type != "attribute":
        if current.type != "identifier":
            return None
        current = current.parent
    owner = current.child_by_field_name("object") if current is not None else None
    return owner if owner is not None and owner.type == "identifier" else None


def never_bound(node: ts.Node) -> bool:
    """Is ``node``'s receiver a name its function annotates without a value and never binds?"""
    name = _receiver(node)
    function = enclosing(node, "function_definition") if name is not None else None
    if name is None or function is None:
        return False
    word = node_text(name)
    parameters = function.child_by_field_name("parameters")
    if parameters is not None and any(n.type == "identifier" and node_text(n) == word
                                      for n in descendants(parameters)):
        return False
    annotated = False
    for current in descendants(function.child_by_field_name("body") or function):
        if current.type == "assignment":
            left = current.child_by_field_name("left")
            if left is None or not any(n.type == "identifier" and node_text(n) == word for n in descendants(left)):
                continue
            if current.child_by_field_name("right") is not None or left.type != "identifier":
                return False
            annotated = annotated or current.child_by_field_name("type") is not None
        elif current.type in _BINDERS and any(n.type == "identifier" and node_text(n) == word
                                              for n in descendants(current) if n is not name):
            return False
    return annotated
