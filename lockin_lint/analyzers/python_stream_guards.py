"""Stream bookkeeping behind a test that the tensor is on CUDA is no lock-in.

vLLM's ``parallel_state.py`` sends each tensor, then::

    if tensor.is_cuda:
        tensor.record_stream(torch.cuda.current_stream(tensor.device))

with no ``else``. ``record_stream`` only tells the CUDA caching allocator that another stream still
uses the memory; a tensor that is not on CUDA has no such allocator and needs nothing, so skipping the
call is right for it. Every target is handled, yet the dispatch read the test as a CUDA branch with
a CPU fall-through: mps stayed ``missing`` and the message said the code "may silently run on the
CPU", which nothing does. So a stream-only call (the stream/event API of LL102, or the tensor method
``record_stream`` of LL904) in such a branch is handled on every target the rule does not call
``native``, noted "stream bookkeeping only for CUDA tensors (path:line)".

Narrow on purpose (one such branch in the eleven real projects of docs/validation.md): the test is
exactly ``<expr>.is_cuda`` (not an ``and``/``or``, not ``torch.cuda.is_available()``, which tests
the machine rather than the tensor); the ``if`` has no ``elif`` and no ``else`` beyond ``pass``; and
every statement of its body is a call of a stream method (``x.record_stream(...)``,
``s.wait_stream(...)``, ``e.record()``...), so the branch does nothing but bookkeeping. A branch that
also computes (a kernel under ``if x.is_cuda:``) skips real work off CUDA and stays as it was.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .matching import RawMatch
from .matching import node_text as _text
from .python_other_paths import note_line

#: Stream-only tensor methods (LL904): the other operator names do work a skipped call would lose.
_STREAM_METHODS = frozenset({"record_stream"})
#: Methods a stream-bookkeeping body may call (on a tensor, a stream or an event).
_BOOKKEEPING = frozenset({"record_stream", "wait_stream", "wait_event", "record_event", "record", "wait",
                          "synchronize"})


def apply_stream_guards(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with the stream-only matches inside an ``if <tensor>.is_cuda:`` bookkeeping branch
    handled on every target."""
    kept = []
    for match in raw:
        branch = _bookkeeping_branch(match.node) if _stream_only(match) else None
        if branch is not None:
            note = f"stream bookkeeping only for CUDA tensors ({path}:{note_line(branch)})"
            noted = {target for target, _ in match.handled}  # a dispatch's notes stay
            statuses = match.rule.info_for(match.symbol.lstrip(".")).targets
            match = replace(match, handled=match.handled + tuple(  # a native target (rocm) needs no note
                (t, note) for t in TARGETS if t not in noted and (t not in statuses or statuses[t].status != "native")))
        kept.append(match)
    return kept


def _stream_only(match: RawMatch) -> bool:
    """Is the match a stream or event API (LL102) or a stream-only tensor method?"""
    return match.rule.id == "LL102" or (match.rule.id == "LL904" and match.symbol.lstrip(".") in _STREAM_METHODS)


def _bookkeeping_branch(node: ts.Node) -> ts.Node | None:
    """The ``if <expr>.is_cuda:`` statement whose body holds ``node`` and only stream calls, if any."""
    parent = node.parent
    while parent is not None and parent.type not in ("block", "module"):
        parent = parent.parent
    statement = parent.parent if parent is not None and parent.type == "block" else None
    if parent is None or statement is None or statement.type != "if_statement" \
            or statement.child_by_field_name("consequence") != parent:
        return None
    condition = statement.child_by_field_name("condition")
    attribute = condition.child_by_field_name("attribute") if condition is not None else None
    if condition is None or condition.type != "attribute" or attribute is None or _text(attribute) != "is_cuda":
        return None
    alternatives = statement.children_by_field_name("alternative")
    if any(a.type != "else_clause" or not _does_nothing(a.child_by_field_name("body")) for a in alternatives):
        return None
    body = [s for s in parent.named_children if s.type != "comment"]
    return statement if body and all(_stream_call(s) for s in body) else None


def _does_nothing(body: ts.Node | None) -> bool:
    """Is ``body`` only ``pass`` (and comments)?"""
    return body is not None and all(s.type in ("pass_statement", "comment") for s in body.named_children)


def _stream_call(statement: ts.Node) -> bool:
    """Is ``statement`` only a call of a stream method, ``x.record_stream(...)``?"""
    call = statement.named_children[0] if statement.type == "expression_statement" \
        and statement.named_child_count == 1 else None
    function = call.child_by_field_name("function") if call is not None and call.type == "call" else None
    name = function.child_by_field_name("attribute") if function is not None and function.type == "attribute" else None
    return name is not None and _text(name) in _BOOKKEEPING
