"""An instance flag that can be True only where an attribute of the accelerator object is not None.

DeepSpeed's ``runtime/activation_checkpointing/offload_activations.py`` says, in ``__init__``::

    stream_cls = get_accelerator().Stream          # None on the CPU and MPS accelerators
    self.s1 = stream_cls() if (use_streams and stream_cls is not None) else None
    self.use_streams = bool(use_streams and self.s1 is not None)

and later ``if self.use_streams: tensor.record_stream(self.s1)``. The flag is True only where
``self.s1`` is not None, which is only where ``get_accelerator().Stream`` is not None: a backend whose
``Stream`` property returns None never reaches the call. This module turns such a flag into the
capability test ``get_accelerator().Stream is not None`` (recorded as the member ``.Stream``, value
True), which `python_capabilities` records and `project.accelerator_capabilities` answers from the
backend classes, as it answers ``not get_accelerator().is_synchronized_device()``.

Narrow on purpose; any doubt leaves the flag unread:
- every write of ``self.<flag>`` in the file (`python_instance_flags.attribute_writes`: no augmented,
  tuple, loop, ``del`` or ``setattr`` write) is in a method of the class, and is ``False``, ``None``
  or an ``and`` (possibly inside ``bool(...)``) with an operand ``X is not None``; at least one is;
- ``X`` is ``R().attr``/``R.attr`` itself, a local name its function assigns exactly once, from such
  an attribute (no parameter, loop or other binding of the name), or another ``self.<attribute>``
  whose every write is ``None`` or ``value if <test with such an operand> else None``;
- every write must lead to the same attribute, within two instance attributes.
"""

from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from .matching import PYTHON_SCOPES, conjuncts, node_text
from .python_instance_flags import attribute_writes, owner_class

#: (receiver, ``.attribute``, True): the attribute must not be None for the branch to run.
Requirement = tuple[str, str, bool]
_MAX_DEPTH = 2
#: Parents that bind a local name other than a plain ``name = value``.
_OTHER_BINDINGS = frozenset({"augmented_assignment", "for_statement", "for_in_clause", "pattern_list",
                             "tuple_pattern", "list_pattern", "as_pattern_target", "named_expression",
                             "global_statement", "nonlocal_statement", "parameters", "default_parameter",
                             "typed_parameter", "typed_default_parameter", "list_splat_pattern",
                             "import_from_statement", "aliased_import", "dotted_name"})


def attribute_requirement(operand: ts.Node) -> Requirement | None:
    """For an ``if`` operand ``self.<flag>``: the accelerator attribute that must not be None for the
    flag to be True, when only that can make it so."""
    return _self_requirement(operand, _MAX_DEPTH, _flag_value)


def _self_requirement(node: ts.Node, depth: int,
                      read_value: Callable[[ts.Node, ts.Node, int], Requirement | None]) -> Requirement | None:
    """What every value ``read_value`` reads in the writes of ``self.<attribute>`` requires, when they
    agree (``False`` and ``None`` require nothing: the attribute is then no flag / None)."""
    receiver, attribute = node.child_by_field_name("object"), node.child_by_field_name("attribute")
    if depth <= 0 or node.type != "attribute" or receiver is None or attribute is None \
            or receiver.type != "identifier" or node_text(receiver) != "self":
        return None
    owner = owner_class(node)
    writes = attribute_writes(owner, node_text(attribute)) if owner is not None else None
    found: set[Requirement | None] = set()
    for write in writes or ():
        target = write.child_by_field_name("left")
        holder = target.child_by_field_name("object") if target is not None else None
        if holder is None or node_text(holder) != "self" or owner_class(write) != owner:
            return None
        value = _unwrap(write.child_by_field_name("right"))
        if value is not None and value.type in ("false", "none"):
            continue
        found.add(read_value(value, write, depth) if value is not None else None)
    return found.pop() if len(found) == 1 else None


def _unwrap(value: ts.Node | None) -> ts.Node | None:
    while value is not None and value.type == "parenthesized_expression" and value.named_child_count == 1:
        value = value.named_children[0]
    return value


def _flag_value(value: ts.Node, write: ts.Node, depth: int) -> Requirement | None:
    """``bool(A and X is not None)`` or ``A and X is not None``: what ``X`` requires."""
    if value.type == "call" and node_text(value.child_by_field_name("function")) == "bool":
        arguments = value.child_by_field_name("arguments")
        if arguments is None or arguments.named_child_count != 1:
            return None
        value = _unwrap(arguments.named_children[0]) or value
    if value.type != "boolean_operator" or node_text(value.child_by_field_name("operator")) != "and":
        return None
    return _not_none_operand(value, write, depth)


def _guarded_value(value: ts.Node, write: ts.Node, depth: int) -> Requirement | None:
    """``<v> if <test> else None``: not None only where ``test`` is true, so what its operand
    ``X is not None`` requires."""
    otherwise = _unwrap(value.named_children[2]) if value.named_child_count == 3 else None
    if value.type != "conditional_expression" or otherwise is None or otherwise.type != "none":
        return None
    return _not_none_operand(value.named_children[1], write, depth)


def _not_none_operand(test: ts.Node, write: ts.Node, depth: int) -> Requirement | None:
    """The one requirement among the ``X is not None`` operands of ``test``'s ``and``."""
    found = {_not_none(operand.named_children[0], write, depth) for operand in conjuncts(test)
             if operand.type == "comparison_operator" and operand.named_child_count == 2
             and operand.named_children[1].type == "none"
             and [node_text(c) for c in operand.children if not c.is_named] == ["is not"]}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def _not_none(node: ts.Node, write: ts.Node, depth: int) -> Requirement | None:
    """What ``node is not None`` requires: an accelerator attribute, through a local name assigned
    once or another instance attribute."""
    node = _unwrap(node) or node
    if node.type == "identifier":
        value = _single_assignment(node_text(node), write)
        return _accelerator_attribute(value) if value is not None else None
    direct = _accelerator_attribute(node)
    if direct is not None:
        return direct
    return _self_requirement(node, depth - 1, _guarded_value)


def _accelerator_attribute(node: ts.Node) -> Requirement | None:
    """``R().attr`` or ``R.attr``, R a name."""
    node = _unwrap(node) or node
    receiver, attribute = node.child_by_field_name("object"), node.child_by_field_name("attribute")
    if node.type != "attribute" or receiver is None or attribute is None:
        return None
    if receiver.type == "call":
        arguments = receiver.child_by_field_name("arguments")
        if arguments is None or arguments.type != "argument_list" or arguments.named_child_count:
            return None
        receiver = receiver.child_by_field_name("function")
    if receiver is None or receiver.type != "identifier" or node_text(receiver) == "self":
        return None
    return node_text(receiver), "." + node_text(attribute), True


def _single_assignment(name: str, inside: ts.Node) -> ts.Node | None:
    """The value of the one ``name = value`` in the function around ``inside``, when nothing else in
    it binds ``name``."""
    function = inside.parent
    while function is not None and function.type not in PYTHON_SCOPES:
        function = function.parent
    if function is None or function.type != "function_definition":
        return None
    values = []
    waiting = [function]
    while waiting:
        node = waiting.pop()
        if node.type == "identifier" and node_text(node) == name and node.parent is not None:
            parent = node.parent
            if parent.type == "assignment" and parent.child_by_field_name("left") == node:
                values.append(parent.child_by_field_name("right"))
            elif parent.type in _OTHER_BINDINGS:
                return None
        elif node.type not in ("function_definition", "class_definition", "lambda") or node == function:
            waiting.extend(node.children)
    return values[0] if len(values) == 1 else None
