"""A CUDA-only call whose error an ``except`` swallows: the message says what happens off CUDA.

DeepSpeed's ``deepspeed/compile/profilers/graph_profile.py`` says::

    adjust = 0
    try:
        import pynvml
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(current_dev_id)
        ...
        adjust = max(0, info.used - torch_held)
    except Exception:
        pass
    return adjust

Off NVIDIA the function never fails, but the value it exists for is silently 0. That is still
lock-in ("code that silently falls back ... is still lock-in, and the message can say so", #11),
so the statuses stay what the knowledge base says and nothing is handled; only the message gains a
clause naming the ``except`` and what it leaves: ``the `except` at line 171 swallows its error, so
on rocm, ..., cpu this silently does nothing``. The finding model has no per-target note that does
not credit the target (``handled`` is a credit), so the words go into the message (`RawMatch.swallowed`,
read by `findings.node_findings`), listing only the targets the finding still leaves open.

Narrow on purpose: the match is a call (what raises where its platform is missing; no import, no
attribute read) that no dispatch around it notes (off CUDA a test's path is taken before the
``except`` is: vLLM's ``if not torch.cuda.is_available(): return False`` before its ``try``), in
the body of the nearest ``try`` around it (no function, class or lambda between), that ``try`` has at least one ``except`` and every one catches broadly (bare,
``Exception`` or ``BaseException``: a call's own error is caught, whatever it is) and only swallows:
its statements are ``pass``, ``continue``, a bare ``return``, ``return <constant>`` or ``x =
<constant>``. A handler that logs, re-raises or calls anything, a narrower ``except ImportError``
(the call's own error would escape), or a bare ``try``/``finally`` changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from .matching import PYTHON_SCOPES, RawMatch, node_text

_BROAD = frozenset({"Exception", "BaseException"})
_CONSTANTS = frozenset({"integer", "float", "true", "false", "none"})


def apply_swallowed(raw: list[RawMatch]) -> list[RawMatch]:
    """``raw`` with the line and outcome of the ``except`` that swallows each match's error, where
    there is one (`RawMatch.swallowed`)."""
    seen: dict[int, tuple[int, str] | None] = {}
    kept = []
    for match in raw:
        # a match the dispatch noted (`if torch.cuda.is_available():` around it, an early return
        # before it) takes that path off CUDA, not the `except`
        statement = _try_around(match.node) if _fails(match.node) and not match.handled else None
        if statement is not None:
            if statement.id not in seen:
                seen[statement.id] = _swallowing(statement)
            found = seen[statement.id]
            if found is not None:
                match = replace(match, swallowed=found)
        kept.append(match)
    return kept


def _fails(node: ts.Node) -> bool:
    """Is the match a call's callee (what raises where its platform is missing)? ``torch.version.cuda``
    or a flag's assignment raises nothing, so no error of theirs is swallowed; an import in a ``try``
    is the optional-import shape other readings own (`python_probes`, `python_fallback_imports`), whose
    ``except`` often only records a flag that later code tests (TGI's ``mpt_modeling.py`` raises right
    after ``_installed = False``)."""
    parent = node.parent
    return parent is not None and parent.type == "call" and parent.child_by_field_name("function") == node


def _try_around(node: ts.Node) -> ts.Node | None:
    """The nearest ``try`` whose body holds ``node`` (None when ``node`` is first in a handler,
    ``else`` or ``finally`` of one, or a function, class or lambda comes between)."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type == "try_statement":
            return parent if child == parent.child_by_field_name("body") else None
        child, parent = parent, parent.parent
    return None


def _swallowing(statement: ts.Node) -> tuple[int, str] | None:
    """(the line of the first ``except``, what the code then does) when every ``except`` of the
    ``try`` catches broadly and only swallows the error; None otherwise."""
    clauses = [c for c in statement.named_children if c.type in ("except_clause", "except_group_clause")]
    if not clauses:
        return None
    outcome = ""
    for clause in clauses:
        if clause.type != "except_clause" or not _broad(clause):
            return None
        blocks = [c for c in clause.named_children if c.type == "block"]
        body = [s for s in blocks[0].named_children if s.type != "comment"] if blocks else []
        if not body:
            return None
        for line in body:
            said = _swallows(line)
            if said is None:
                return None
            outcome = outcome or said
    return clauses[0].start_point.row + 1, outcome or "does nothing"


def _broad(clause: ts.Node) -> bool:
    """Does the ``except`` catch every error a call raises (bare, ``Exception``, ``BaseException``)?"""
    caught = [c for c in clause.named_children if c.type not in ("block", "comment")]
    if not caught:
        return True
    what = caught[0]
    if what.type == "as_pattern" and what.named_children:
        what = what.named_children[0]
    names = what.named_children if what.type in ("tuple", "parenthesized_expression") else [what]
    return any(node_text(n) in _BROAD for n in names)


def _swallows(statement: ts.Node) -> str | None:
    """What a handler statement does when it only swallows the error (``""`` for ``pass``/``continue``),
    None when it does anything else."""
    if statement.type in ("pass_statement", "continue_statement"):
        return ""
    if statement.type == "return_statement":
        values = statement.named_children
        if not values:
            return "returns None"
        return f"returns {node_text(values[0])}" if len(values) == 1 and _constant(values[0]) else None
    if statement.type == "expression_statement" and statement.named_child_count == 1:
        assignment = statement.named_children[0]
        left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
        if assignment.type == "assignment" and left is not None and left.type == "identifier" \
                and right is not None and _constant(right):
            return f"falls back to {node_text(left)} = {node_text(right)}"
    return None


def _constant(node: ts.Node) -> bool:
    if node.type in _CONSTANTS:
        return True
    if node.type == "unary_operator":
        operand = node.child_by_field_name("argument")
        return operand is not None and operand.type in ("integer", "float")
    if node.type == "string":
        return not any(c.type == "interpolation" for c in node.children)
    return node.type in ("list", "dictionary", "tuple") and node.named_child_count == 0
