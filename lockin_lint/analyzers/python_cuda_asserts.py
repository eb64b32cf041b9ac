"""Fallbacks that a later ``assert`` rejects: a program that requires CUDA handles no other target.

llm.c's ``train_llama3.py`` picks its device with the usual chain (``device = "cpu"; if
torch.cuda.is_available(): device = "cuda" elif ...mps.is_available(): device = "mps"``), derives
``device_type = 'cuda' if 'cuda' in device else 'cpu'`` and at once asserts ``device_type in
{'cuda'}, "GPU required to run LLaMA 3"``. `python_dispatch` reads the chain alone and notes mps as
handled by its branch and cpu by the fallback, with "may silently run on the CPU"; yet every
non-CUDA value fails the assert two lines down, and every dispatch after the assert (``if device ==
"cuda":``, ``if torch.cuda.is_available():``) runs where CUDA is already required. An independent
judge called those findings false (docs/validation.md, seed 7171): nothing is handled there and
nothing runs silently on the CPU.

So, after `python_dispatch`, this pass drops the dispatch's notes for every target but ROCm (whose
builds spell their device ``cuda`` too) on the matches that

- sit in the statements just before such a guard in the same block that assign the guarded name
  (or the name the guarded one is derived from in the statement before it): the chain whose values
  the guard rejects; or
- sit after the guard in the same block (not in a nested function): code only CUDA reaches.

A guard is ``assert NAME == "cuda"`` / ``assert NAME in {"cuda"}`` / ``assert "cuda" in NAME``, or
the same as ``if NAME != "cuda": raise ...``, when the values it admits are CUDA builds only; one
that admits another device (``in {"cuda", "cpu"}``), a test that only warns, and a guard in another
function or block leave every note as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import tree_sitter as ts

from .matching import PYTHON_SCOPES, RawMatch, descendants, node_text
from .python_dispatch import AGNOSTIC, BRANCH, FALLBACK
from .python_platform_tests import classify
from .python_mentions import only_raises

_CUDA_BUILDS = frozenset({"cuda", "rocm"})
_VALUES = frozenset({"string", "set", "tuple", "list"})
_ADMITS = (["=="], ["in"])
_REJECTS = (["!="], ["not", "in"])


def _dispatch_note(note: str) -> bool:
    return note in (BRANCH, FALLBACK) or note.startswith(AGNOSTIC)


def _moot(handled: tuple[tuple[str, str], ...]) -> bool:
    return any(target != "rocm" and _dispatch_note(note) for target, note in handled)


def _subject(condition: ts.Node | None, operators: tuple[list[str], ...]) -> str | None:
    """The name a comparison with CUDA device values tests (``device_type`` in ``device_type in
    {'cuda'}``), when its operator is one of ``operators`` and the values are CUDA builds only."""
    while condition is not None and condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        condition = condition.named_children[0]
    if condition is None or condition.type != "comparison_operator" or condition.named_child_count != 2:
        return None
    if [node_text(child) for child in condition.children if not child.is_named] not in operators:
        return None
    left, right = condition.named_children
    names = [side for side in (left, right) if side.type in ("identifier", "attribute")]
    values = [side for side in (left, right) if side.type in _VALUES]
    if len(names) != 1 or len(values) != 1:
        return None
    test = classify(condition)
    if operators is _REJECTS:
        test = test.negated()
    return node_text(names[0]) if test.known and test.may <= _CUDA_BUILDS else None


def guarded_name(stmt: ts.Node) -> str | None:
    """The name ``stmt`` requires to be a CUDA device: ``assert NAME in {'cuda'}, "GPU required"``
    or ``if NAME != 'cuda': raise ...``; None for any other statement."""
    if stmt.type == "assert_statement" and stmt.named_children:
        return _subject(stmt.named_children[0], _ADMITS)
    if stmt.type == "if_statement" and not stmt.children_by_field_name("alternative") \
            and only_raises(stmt.child_by_field_name("consequence")):
        return _subject(stmt.child_by_field_name("condition"), _REJECTS)
    return None


def _assigned(stmt: ts.Node) -> set[str]:
    """The names ``stmt`` assigns (in its nested blocks too: every branch of a chain)."""
    found = set()
    for node in descendants(stmt, PYTHON_SCOPES):
        left = node.child_by_field_name("left") if node.type in ("assignment", "augmented_assignment") else None
        if left is not None:
            found.add(node_text(left))
    return found


def _read(value: ts.Node) -> set[str]:
    """The plain names ``value`` reads (``device`` in ``'cuda' if 'cuda' in device else 'cpu'``)."""
    return {node_text(node) for node in descendants(value, PYTHON_SCOPES) if node.type == "identifier" and not _label(node)}


def _label(identifier: ts.Node) -> bool:
    """Is ``identifier`` no name read: the ``device`` of ``args.device`` or of ``f(device=x)``?"""
    parent = identifier.parent
    field = {"attribute": "attribute", "keyword_argument": "name"}.get(parent.type) if parent is not None else None
    return field is not None and parent is not None and parent.child_by_field_name(field) == identifier


def _derived_from(statements: list[ts.Node], name: str) -> set[str]:
    """The names the statement just before the guard derives ``name`` from, when it assigns it."""
    if not statements or statements[-1].type != "expression_statement" or not statements[-1].named_children:
        return set()
    assignment = statements[-1].named_children[0]
    left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
    if assignment.type != "assignment" or left is None or right is None or node_text(left) != name:
        return set()
    return _read(right)


def _chain(before: list[ts.Node], name: str) -> list[ts.Node]:
    """The statements just before a guard of ``name`` (``before``, in order) that set it or the name
    it is derived from; calls between them (``print(device)``) neither count nor break the chain."""
    names = {name} | _derived_from(before, name)
    found = []
    for stmt in reversed(before):
        if _assigned(stmt) & names:
            found.append(stmt)
        elif not (stmt.type == "expression_statement" and stmt.named_children
                  and stmt.named_children[0].type == "call"):
            break
    return found


class _Guards:
    """Per block, memoized: the statements whose dispatch notes a CUDA guard makes moot."""

    def __init__(self) -> None:
        self._blocks: dict[int, Callable[[ts.Node], bool]] = {}

    def moot(self, node: ts.Node) -> bool:
        child, parent = node, node.parent
        while parent is not None and child.type not in PYTHON_SCOPES:
            if parent.type in ("block", "module") and self._of(parent)(child):
                return True
            child, parent = parent, parent.parent
        return False

    def _of(self, block: ts.Node) -> Callable[[ts.Node], bool]:
        found = self._blocks.get(block.id)
        if found is None:
            found = self._blocks[block.id] = _block_guards(block)
        return found


def _block_guards(block: ts.Node) -> Callable[[ts.Node], bool]:
    statements = [s for s in block.named_children if s.type != "comment"]
    chains: set[int] = set()
    first_end = None
    for index, stmt in enumerate(statements):
        name = guarded_name(stmt) if stmt.type in ("assert_statement", "if_statement") else None
        if name is None:
            continue
        chains |= {s.id for s in _chain(statements[:index], name)}
        first_end = stmt.end_byte if first_end is None else first_end
    if first_end is None:
        return _nothing
    end = first_end
    return lambda stmt: stmt.id in chains or stmt.start_byte >= end


def _nothing(_: ts.Node) -> bool:
    return False


def drop_rejected_fallbacks(raw: list[RawMatch]) -> list[RawMatch]:
    """``raw`` with the dispatch notes of non-ROCm targets dropped where a CUDA guard rejects them."""
    if not any(_moot(m.handled) for m in raw):
        return raw
    guards = _Guards()
    kept = []
    for match in raw:
        if _moot(match.handled) and guards.moot(match.node):
            match = replace(match, handled=tuple((t, n) for t, n in match.handled
                                                 if t == "rocm" or not _dispatch_note(n)))
        kept.append(match)
    return kept
