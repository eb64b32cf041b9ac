"""An instance flag only a CUDA test can set True keeps its body off every other target.

vLLM's ``fused_moe/runner/default_moe_runner.py`` says, in its class's methods::

    self.use_shared_experts_stream = False                       # __init__
    ...
    self.use_shared_experts_stream = (                           # forward
        current_platform.is_cuda() and self.has_separate_shared_experts and ...)
    ...
    if self.use_shared_experts_stream:                           # another method
        shared_experts_input.record_stream(self.shared_experts_stream)

The flag's name says nothing about the platform, but the only value it can hold that is not
``False`` is an ``and`` one of whose operands is the CUDA test, so the body of ``if
self.use_shared_experts_stream:`` runs only where that test may be true: every other target never
reaches the call, and is handled, noted ``CUDA-only flag use_shared_experts_stream
(default_moe_runner.py:779)`` (the line of the assignment). The module-level counterpart (a global set
``True`` under a CUDA ``if``) is `python_cuda_flags`.

Narrow on purpose, so that a flag something else can turn on stays unknown: every write of the
attribute in the file is ``self.<attr> = <value>`` in a method of the class whose ``if`` reads it,
each value is ``False``, ``None`` or an ``and`` that `classify` reads as true only on CUDA builds,
and at least one is such an ``and``. Any other write cancels it: an assignment of anything else (a
parameter, ``True``, a test naming no platform), a write on another receiver (``x.<attr> = ...``) or
from another class, an augmented assignment, a tuple or loop target, a ``del``, or a ``setattr``
call whose name is not a string literal of another name. The flag must be required by the ``if``
(the whole test, or an operand of its ``and``); ``if not self.flag:`` and ``or`` say nothing.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .findings import CPU_FALLBACK as FALLBACK
from .matching import PYTHON_SCOPES, RawMatch, conjuncts, enclosing_function, node_text
from .python_platform_tests import CUDA_BUILDS, Test, classify

#: Parents that make an attribute the target of a write other than ``self.<attr> = <value>``.
_OTHER_WRITES = frozenset({"augmented_assignment", "pattern_list", "tuple_pattern", "list_pattern",
                           "delete_statement", "for_statement", "for_in_clause", "as_pattern_target",
                           "list_splat_pattern"})


def apply_instance_flags(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with every target a CUDA-only instance flag guarding the match is never True on handled."""
    flags: dict[tuple[int, str], tuple[Test, int] | None] = {}
    kept = []
    for match in raw:
        found = _guarding_flag(match.node, flags) if match.node.type != "module" else None
        if found is not None:
            attribute, (test, line) = found
            note = f"CUDA-only flag {attribute} ({path.rsplit('/', 1)[-1]}:{line})"
            notes = dict(match.handled)
            notes.update({t: note for t in TARGETS if t not in test.may and notes.get(t, FALLBACK) == FALLBACK})
            match = replace(match, handled=tuple(sorted(notes.items())))
        kept.append(match)
    return kept


def _guarding_flag(node: ts.Node, flags: dict[tuple[int, str], tuple[Test, int] | None]
                   ) -> tuple[str, tuple[Test, int]] | None:
    """The CUDA-only instance flag an ``if`` around ``node`` (in its body, within the method) requires."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type == "if_statement" and child == parent.child_by_field_name("consequence"):
            for attribute in _self_flags(parent.child_by_field_name("condition")):
                owner = owner_class(parent)
                if owner is None:
                    return None
                key = (owner.id, attribute)
                if key not in flags:
                    flags[key] = _flag_test(owner, attribute)
                found = flags[key]
                if found is not None:
                    return attribute, found
        child, parent = parent, parent.parent
    return None


def _self_flags(condition: ts.Node | None) -> list[str]:
    """The ``self.<attr>`` operands ``condition`` requires to be true: itself, or those of an ``and``."""
    names = []
    for operand in conjuncts(condition):
        receiver, attribute = operand.child_by_field_name("object"), operand.child_by_field_name("attribute")
        if operand.type == "attribute" and receiver is not None and attribute is not None \
                and receiver.type == "identifier" and node_text(receiver) == "self":
            names.append(node_text(attribute))
    return names


def owner_class(node: ts.Node) -> ts.Node | None:
    """The class whose method ``node`` is in (directly: a nested function is another ``self``)."""
    _, body = enclosing_function(node)
    owner = body.parent if body is not None and body.type == "block" else None
    return owner if owner is not None and owner.type == "class_definition" else None


def _flag_test(owner: ts.Node, attribute: str) -> tuple[Test, int] | None:
    """Where ``attribute`` may be True and the line of its first CUDA assignment, when only that can set it."""
    writes = attribute_writes(owner, attribute)
    tests: list[tuple[Test, int]] = []
    for written in writes if writes is not None else ():
        found = _written_value(written, owner)
        if found is False:
            return None
        if isinstance(found, tuple):
            tests.append(found)
    if not tests:
        return None
    return Test(frozenset().union(*(t.may for t, _ in tests)), frozenset(),
                frozenset().union(*(t.named for t, _ in tests))), min(line for _, line in tests)


def attribute_writes(owner: ts.Node, attribute: str) -> list[ts.Node] | None:
    """Every assignment in the file whose whole target is ``<x>.<attribute>``; None when anything else
    may write it (an augmented assignment, a tuple or loop target, a ``del``, a ``setattr``).
    ``python_attribute_flags`` reads the same writes."""
    root = owner
    while root.parent is not None:
        root = root.parent
    source = root.text or b""
    if _setattr_may_write(source, root, attribute):
        return None
    writes: list[ts.Node] = []
    name = b"." + attribute.encode()
    start = source.find(name)
    while start >= 0:
        end = start + len(name)
        if end < len(source) and (source[end:end + 1].isalnum() or source[end:end + 1] == b"_"):
            start = source.find(name, end)
            continue
        node = root.descendant_for_byte_range(start + 1, end)
        written = _write(node) if node is not None and node.type == "identifier" else None
        if written is False:
            return None
        if isinstance(written, ts.Node):
            writes.append(written)
        start = source.find(name, end)
    return writes


def _write(identifier: ts.Node) -> ts.Node | bool | None:
    """The assignment whose whole target is the attribute ``identifier`` names, False for any other
    write of it, None for a read."""
    attribute = identifier.parent
    if attribute is None or attribute.type != "attribute" or attribute.child_by_field_name("attribute") != identifier:
        return None
    parent = attribute.parent
    if parent is None:
        return None
    if parent.type == "assignment":
        return parent if parent.child_by_field_name("left") == attribute else None
    if parent.type in _OTHER_WRITES:
        return None if parent.type in ("for_statement", "for_in_clause", "augmented_assignment") \
            and parent.child_by_field_name("left") != attribute else False
    return None


def _written_value(assignment: ts.Node, owner: ts.Node) -> tuple[Test, int] | bool | None:
    """For ``self.<attr> = value`` in a method of ``owner``: None for ``False``/``None``, the test
    and line of a CUDA-only ``and``, False for anything else (another receiver or class too)."""
    target = assignment.child_by_field_name("left")
    receiver = target.child_by_field_name("object") if target is not None else None
    if receiver is None or receiver.type != "identifier" or node_text(receiver) != "self" \
            or owner_class(assignment) != owner:
        return False
    value = assignment.child_by_field_name("right")
    while value is not None and value.type == "parenthesized_expression" and value.named_child_count == 1:
        value = value.named_children[0]
    if value is not None and value.type in ("false", "none"):
        return None
    if value is None or value.type != "boolean_operator" or node_text(value.child_by_field_name("operator")) != "and":
        return False
    test = classify(value)
    if not test.known or "cuda" not in test.may or not test.may <= CUDA_BUILDS:
        return False
    return test, assignment.start_point.row + 1


def _setattr_may_write(source: bytes, root: ts.Node, attribute: str) -> bool:
    """Is there a ``setattr`` whose name is ``attribute`` or not a string literal at all?"""
    start = source.find(b"setattr(")
    while start >= 0:
        node = root.descendant_for_byte_range(start, start + len("setattr"))
        call = node.parent if node is not None else None
        arguments = call.child_by_field_name("arguments") if call is not None and call.type == "call" else None
        if arguments is not None:
            parts = arguments.named_children
            if len(parts) < 2 or parts[1].type != "string" or node_text(parts[1]).strip("\"'") == attribute:
                return True
        start = source.find(b"setattr(", start + 1)
    return False
