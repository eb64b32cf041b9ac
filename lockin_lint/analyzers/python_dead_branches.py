"""Code in a branch a literal constant rules out: never run, so never lock-in.

apex's ``tests/distributed/synced_batchnorm/single_gpu_unit_test.py`` opens with ``if True: import
syncbn`` and keeps the JIT build it replaced in the ``else`` (``load(..., sources=[...welford.cu])``);
that ``else`` never runs, and an independent judge called its LL601 finding false (docs/validation.md,
#11, fifth session). The C/C++ reading already drops branches no build compiles
(`preprocessor`); this is the Python counterpart, for literal tests only: ``True``, ``False``, ``0``,
``1`` and their ``not``. A name (``TYPE_CHECKING``, ``DEBUG``, ``USE_JIT``) is never read as a
constant: a project or a reader may set it.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from .matching import RawMatch, node_text

#: A cheap test of the whole file: an ``if``/``elif`` on a literal constant somewhere. It starts with
#: the literal ``if`` (no ``\b``, which made ``re`` try every byte: 0.3 s over torch's files); a
#: superset is harmless, the tree decides.
_LITERAL_IF = re.compile(rb"if[ \t(]+(?:not[ \t(]+)?(?:True|False|0|1)[ \t)]*:")
_TRUTH = {"True": True, "1": True, "False": False, "0": False}


def literal_truth(condition: ts.Node | None) -> bool | None:
    """The truth of a literal test (``True``, ``(0)``, ``not False``), or None for anything else."""
    if condition is None:
        return None
    if condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        return literal_truth(condition.named_children[0])
    if condition.type == "not_operator":
        inner = literal_truth(condition.child_by_field_name("argument"))
        return None if inner is None else not inner
    if condition.type in ("true", "false", "integer"):
        return _TRUTH.get(node_text(condition))
    return None


def _clauses(statement: ts.Node) -> list[tuple[ts.Node | None, ts.Node | None]]:
    """The ``if`` statement's clauses in order, each as (its test, or None for ``else``; its block)."""
    clauses = [(statement.child_by_field_name("condition"), statement.child_by_field_name("consequence"))]
    for clause in statement.children_by_field_name("alternative"):
        if clause.type == "elif_clause":
            clauses.append((clause.child_by_field_name("condition"), clause.child_by_field_name("consequence")))
        else:
            clauses.append((None, clause.child_by_field_name("body")))
    return clauses


def _dead_in(statement: ts.Node, node: ts.Node) -> bool:
    """Is ``node`` in a block of ``statement`` that no run reaches: after a clause whose test is
    literally true, or under a test that is literally false?"""
    earlier_true = False
    for condition, block in _clauses(statement):
        truth = literal_truth(condition) if condition is not None else None
        if block is not None and block.start_byte <= node.start_byte and node.end_byte <= block.end_byte:
            return earlier_true or truth is False
        earlier_true = earlier_true or truth is True
    return False


def in_dead_branch(node: ts.Node) -> bool:
    """Is ``node`` inside a branch a literal test rules out, at any depth?"""
    current = node.parent
    while current is not None:
        if current.type == "if_statement" and _dead_in(current, node):
            return True
        current = current.parent
    return False


def drop_dead_branches(raw: list[RawMatch], source: bytes) -> list[RawMatch]:
    """``raw`` without the matches in branches a literal constant rules out."""
    if not raw or _LITERAL_IF.search(source) is None:
        return raw
    return [m for m in raw if not in_dead_branch(m.node)]
