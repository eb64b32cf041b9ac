"""A flag stored once from an ``or`` with a negated CUDA test reads like that test inline.

vLLM's ``pynccl_allocator.py`` says, in ``nccl_symm_mem_context.__init__``::

    self.disabled = (disabled or not is_symmetric_memory_enabled() or ...
                     or not current_platform.is_cuda() or get_nccl_mem_pool() is None)
    if self.disabled:
        self._mem_pool_ctx = contextlib.nullcontext()
    else:
        self._mem_pool_ctx = torch.cuda.use_mem_pool(get_nccl_mem_pool())

Written inline (``if disabled or ... or not current_platform.is_cuda(): ... else: <CUDA>``) the
dispatch reads the ``else`` as reached only where the CUDA test holds, and the ``if`` as the path
every other target takes: cpu handled by that fallback. Through the stored flag it saw a name that
says nothing and left cpu ``missing`` (an independent judge's false finding, docs/validation.md,
#11, eighth session, v1 V1-a). `apply_compound_flags` gives a match on the flag's false side (the
``else`` of ``if flag:``, the body of ``if not flag:``) the cpu note the inline form gets.

Narrow on purpose: the flag is a local bound exactly once in its function (or module) by a plain
``name = <or>`` statement before the ``if``, every other occurrence being read in an ``if``/``elif``
test of the same scope, or ``self.<attr>`` written exactly once in the file, in ``__init__`` of the
class whose method reads it (`python_instance_flags`' `attribute_writes`). The value is an ``or``
chain one of whose operands is ``not <CUDA test>``. An ``and`` chain, a flag rebound, written in
another method or read elsewhere keeps the old reading, and so does the flag's true side.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from .findings import CPU_FALLBACK
from .matching import PYTHON_SCOPES, RawMatch, descendants, node_text, scope_of, unparenthesized
from .python_cuda_branches import operands
from .python_instance_flags import attribute_writes, owner_class
from .python_platform_tests import CUDA_BUILDS, classify

_TEST_PARTS = ("not_operator", "boolean_operator", "parenthesized_expression")


def apply_compound_flags(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with cpu handled (the inline form's fallback note) for each match on the false side of
    such a flag; ``path`` is unused but kept for the pipeline's shape."""
    del path
    kept = []
    for match in raw:
        if "cpu" not in dict(match.handled) and match.node.type != "module" and _false_side_of_flag(match.node):
            match = replace(match, handled=match.handled + (("cpu", CPU_FALLBACK),))
        kept.append(match)
    return kept


def _false_side_of_flag(node: ts.Node) -> bool:
    """Is ``node`` in the nearest ``if``'s branch taken when a compound flag is false?"""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type == "elif_clause":
            return False
        if parent.type == "if_statement":
            alternatives = parent.children_by_field_name("alternative")
            if len(alternatives) > 1 or (alternatives and alternatives[0].type != "else_clause"):
                return False
            condition = unparenthesized(parent.child_by_field_name("condition"))
            negated = condition is not None and condition.type == "not_operator"
            flag = unparenthesized(condition.child_by_field_name("argument")) if negated and condition else condition
            in_else = bool(alternatives) and child == alternatives[0]
            if child != parent.child_by_field_name("consequence") and not in_else:
                return False  # the test itself
            return in_else != negated and flag is not None and _compound_value(flag, parent) is not None
        child, parent = parent, parent.parent
    return False


def _compound_value(flag: ts.Node, statement: ts.Node) -> ts.Node | None:
    """The ``or`` the flag read by ``statement``'s test was bound to, when it has the shape the module
    docstring says."""
    if flag.type == "identifier":
        value = _local_value(flag, statement)
    elif flag.type == "attribute":
        value = _init_value(flag, statement)
    else:
        return None
    value = unparenthesized(value)
    if value is None or value.type != "boolean_operator" or node_text(value.child_by_field_name("operator")) != "or":
        return None
    if not any(_negated_cuda(part) for part in operands(value, "or")):
        return None
    test = classify(value).negated()
    return value if test.known and test.may <= CUDA_BUILDS else None


def _negated_cuda(part: ts.Node) -> bool:
    """``not <test true only on CUDA builds>`` (``not current_platform.is_cuda()``)."""
    part = unparenthesized(part) or part
    if part.type != "not_operator":
        return False
    test = classify(part.child_by_field_name("argument"))
    return test.known and "cuda" in test.may and test.may <= CUDA_BUILDS


def _local_value(flag: ts.Node, statement: ts.Node) -> ts.Node | None:
    """The value of the one plain binding of the local ``flag``, when every other spelling of it in
    its scope is read in an ``if``/``elif`` test of that scope and the binding comes first."""
    scope, name = scope_of(flag), node_text(flag)
    value = None
    for occurrence in descendants(scope):
        if occurrence.type != "identifier" or node_text(occurrence) != name:
            continue
        parent = occurrence.parent
        if parent is not None and parent.type == "attribute" and parent.child_by_field_name("attribute") == occurrence:
            continue  # `x.flag` is another thing
        if scope_of(occurrence) != scope:
            return None
        if parent is not None and parent.type == "assignment" and parent.child_by_field_name("left") == occurrence \
                and parent.parent is not None and parent.parent.type == "expression_statement":
            if value is not None or parent.start_byte > statement.start_byte:
                return None
            value = parent.child_by_field_name("right")
        elif not _tested(occurrence):
            return None
    return value


def _tested(node: ts.Node) -> bool:
    child, parent = node, node.parent
    while parent is not None and parent.type in _TEST_PARTS:
        child, parent = parent, parent.parent
    return parent is not None and parent.type in ("if_statement", "elif_clause") \
        and parent.child_by_field_name("condition") == child


def _init_value(flag: ts.Node, statement: ts.Node) -> ts.Node | None:
    """The value of the one write of ``self.<attr>`` in the file, made in ``__init__`` of the class
    whose method holds ``statement``."""
    receiver, attribute = flag.child_by_field_name("object"), flag.child_by_field_name("attribute")
    owner = owner_class(statement)
    if receiver is None or attribute is None or node_text(receiver) != "self" or owner is None:
        return None
    writes = attribute_writes(owner, node_text(attribute))
    if writes is None or len(writes) != 1:
        return None
    write = writes[0]
    target = write.child_by_field_name("left")
    target_receiver = target.child_by_field_name("object") if target is not None else None
    method = scope_of(write)
    if target_receiver is None or node_text(target_receiver) != "self" or owner_class(write) != owner \
            or method.type != "function_definition" or node_text(method.child_by_field_name("name")) != "__init__":
        return None
    return write.child_by_field_name("right")
