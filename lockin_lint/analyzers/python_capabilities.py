"""Branches on a capability of the project's own accelerator abstraction: the file's half.

DeepSpeed asks its accelerator object what the device can do, then branches on the answer::

    if not get_accelerator().is_synchronized_device():
        param.grad.record_stream(get_accelerator().current_stream())

Each backend class answers with a constant (``cuda_accelerator.py``: ``return False``;
``cpu_accelerator.py``: ``return True``), so the CPU never reaches the stream call, while MPS
(``False``) does. The test names no platform, so the dispatch reading (`python_dispatch`) cannot tell;
only the backend classes, in other files, can. Here the file records, per match, the capability
tests its branch requires: a zero-argument method called on a zero-argument call or a bare name
(``get_accelerator().resolves_data_dependency()``, ``current_platform.use_host_timers()``), alone or
negated, as an operand of the ``and`` that guards an ``if``/``elif`` body, or as the whole test of an
``if``/``else`` or a conditional expression whose other side holds the match. The whole-project pass
`project.accelerator_capabilities` reads the backend classes and handles the targets whose class
answers so that the branch is never taken.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from .matching import PYTHON_SCOPES, RawMatch, conjuncts, node_text
from .python_attribute_flags import attribute_requirement

#: A zero-argument method call on a zero-argument call or a name: files without one are not walked.
_SPELLED = re.compile(rb"\.[A-Za-z_]\w*\(\s*\)")  # no leading class: 10 times faster
#: One capability test: (receiver name, method, the method's value for which the match's branch runs);
#: an attribute that must not be None is the member ``.name`` with True (`python_attribute_flags`).
Capability = tuple[str, str, bool]


def _capability(node: ts.Node | None) -> Capability | None:
    """``R.m()`` (true when m is) or ``not R.m()`` (true when m is False), R a name or a call ``f()``."""
    wanted = True
    while node is not None and node.type in ("not_operator", "parenthesized_expression"):
        if node.type == "not_operator":
            wanted, node = not wanted, node.child_by_field_name("argument")
        elif node.named_child_count == 1:
            node = node.named_children[0]
        else:
            return None
    if node is None or node.type != "call" or _has_arguments(node):
        return None
    method = node.child_by_field_name("function")
    if method is None or method.type != "attribute":
        return None
    receiver, name = method.child_by_field_name("object"), method.child_by_field_name("attribute")
    if receiver is not None and receiver.type == "call" and not _has_arguments(receiver):
        receiver = receiver.child_by_field_name("function")
    if receiver is None or receiver.type != "identifier" or name is None:
        return None
    return node_text(receiver), node_text(name), wanted


def _has_arguments(call: ts.Node) -> bool:
    arguments = call.child_by_field_name("arguments")
    return arguments is None or arguments.type != "argument_list" or arguments.named_child_count > 0


def _required(node: ts.Node, flags: dict[int, Capability | None]) -> list[Capability]:
    """The capability tests the branches around ``node`` (in its function) require to reach it;
    ``flags`` keeps what each ``if`` operand ``self.<flag>`` was read to require."""
    found: list[Capability] = []
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type in ("if_statement", "elif_clause") and child == parent.child_by_field_name("consequence"):
            for operand in conjuncts(parent.child_by_field_name("condition")):
                test = _capability(operand)
                if test is None and operand.type == "attribute":
                    if operand.id not in flags:
                        flags[operand.id] = attribute_requirement(operand)
                    test = flags[operand.id]
                found += [test] if test is not None else []
        elif parent.type == "else_clause" and parent.parent is not None \
                and parent.parent.children_by_field_name("alternative") == [parent]:
            test = _capability(parent.parent.child_by_field_name("condition"))
            found += [(test[0], test[1], not test[2])] if test is not None else []
        elif parent.type == "conditional_expression" and parent.named_child_count == 3 \
                and child in (parent.named_children[0], parent.named_children[2]):
            test = _capability(parent.named_children[1])
            if test is not None:
                found.append(test if child == parent.named_children[0] else (test[0], test[1], not test[2]))
        child, parent = parent, parent.parent
    return found


def capability_branches(source: bytes, kept: list[RawMatch]) -> tuple[tuple[str, int, str, str, bool], ...]:
    """(rule, line, receiver, method, value) for each capability test a match's branch requires
    (candidates for `project.accelerator_capabilities`)."""
    if not kept or not (_SPELLED.search(source) or b" is not None" in source):
        return ()
    flags: dict[int, Capability | None] = {}
    found = {(match.rule.id, match.node.start_point.row + 1, *capability)
             for match in kept for capability in _required(match.node, flags)}
    return tuple(sorted(found))
