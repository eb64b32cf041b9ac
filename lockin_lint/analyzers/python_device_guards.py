"""An operator method behind a test that its own tensor is not on the CPU: the CPU never runs it.

DeepSpeed's ``compile/passes/offload_adam_states.py`` holds a block for a copy stream with::

    if state[key].device.type != "cpu":
        state[key].record_stream(copy_stream)

``record_stream`` has no CPU kernel, so LL904 called the CPU ``missing`` ("no CPU kernel"), yet a
CPU tensor never reaches the call: the guard sends it past. Judges found it false (docs/validation.md,
#11, eighth session, t23C). So an operator match (LL9xx) on a method whose receiver is the very
tensor the enclosing guard tests is handled on the CPU, noted "tensor-device guard (path:line)".
Only the CPU: an MPS or XPU tensor passes the same guard and still needs the kernel.

Narrow on purpose: the guard is one of ``<t>.device.type != "cpu"``, ``<t>.device != "cpu"`` /
``torch.device("cpu")`` (either side), alone or as an operand of an ``and`` (the dispatch already
reads ``not <t>.is_cpu`` as a platform branch), on an ``if``/``elif`` whose own body holds the match
(not its ``else``); ``<t>`` is spelled exactly as the method's receiver, and the body does not rebind
that name before the call. An unguarded sibling call, or a guard on another tensor, keeps its reading.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from .matching import RawMatch
from .matching import node_text as _text
from .python_other_paths import note_line

_CPU = frozenset({'"cpu"', "'cpu'", 'torch.device("cpu")', "torch.device('cpu')"})


def apply_device_guards(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with the CPU handled for an operator method called behind a guard that its receiver
    is not on the CPU."""
    kept = []
    for match in raw:
        guard = _cpu_excluding_guard(match) if match.rule.category == "operator" else None
        if guard is not None and all(target != "cpu" for target, _ in match.handled):
            status = match.rule.info_for(match.symbol.lstrip(".")).targets.get("cpu")
            if status is None or status.status != "native":
                note = f"tensor-device guard ({path}:{note_line(guard)})"
                match = replace(match, handled=match.handled + (("cpu", note),))
        kept.append(match)
    return kept


def _receiver(node: ts.Node) -> ts.Node | None:
    """The object of the method call ``node`` names (``state[key]`` in ``state[key].record_stream(s)``)."""
    attribute = node if node.type == "attribute" else node.parent
    if attribute is None or attribute.type != "attribute":
        return None
    call = attribute.parent
    if call is None or call.type != "call" or call.child_by_field_name("function") != attribute:
        return None
    return attribute.child_by_field_name("object")


def _cpu_excluding_guard(match: RawMatch) -> ts.Node | None:
    """The condition of the nearest enclosing ``if``/``elif`` body that tests the match's receiver
    off the CPU, if any (up to the enclosing function)."""
    receiver = _receiver(match.node)
    if receiver is None:
        return None
    name = _text(receiver)
    child, parent = match.node, match.node.parent
    while parent is not None and parent.type not in ("function_definition", "class_definition", "module"):
        if parent.type in ("if_statement", "elif_clause") and parent.child_by_field_name("consequence") == child:
            condition = parent.child_by_field_name("condition")
            if condition is not None and _excludes_cpu(condition, name) and not _rebinds(child, name, match.node):
                return condition
        child, parent = parent, parent.parent
    return None


def _excludes_cpu(condition: ts.Node, name: str) -> bool:
    """Is ``condition`` false for a CPU tensor spelled ``name``?"""
    if condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        return _excludes_cpu(condition.named_children[0], name)
    if condition.type == "boolean_operator":
        operator = condition.child_by_field_name("operator")
        return operator is not None and operator.type == "and" and any(
            _excludes_cpu(side, name) for side in (condition.child_by_field_name("left"),
                                                    condition.child_by_field_name("right")) if side is not None)
    if condition.type != "comparison_operator" or condition.named_child_count != 2:
        return False
    operators = [c.type for c in condition.children if not c.is_named]
    if operators != ["!="]:
        return False
    left, right = (_text(c) for c in condition.named_children)
    devices = {f"{name}.device.type", f"{name}.device"}
    return (left in devices and right in _CPU) or (right in devices and left in _CPU)


def _rebinds(body: ts.Node, name: str, before: ts.Node) -> bool:
    """Does ``body`` assign ``name`` before ``before``? Then the call's receiver is no longer the
    tensor the guard tested."""
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        if node.start_byte >= before.start_byte:
            continue
        if node.type in ("assignment", "augmented_assignment"):
            left = node.child_by_field_name("left")
            if left is not None and _text(left) == name:
                return True
        stack.extend(node.named_children)
    return False
