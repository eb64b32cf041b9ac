"""What both language matchers share: the raw match type and the hit-driven visit.

Each matcher turns its language's hits (byte offsets of tokens) into nodes and judges each node once;
keeping the loop here means the Python and C/C++ matchers cannot drift apart in how they dedupe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import tree_sitter as ts

from ..model import Location, Rule


def node_text(node: ts.Node | None) -> str:
    """A node's source text (empty for no node): how every matcher reads names and literals.
    (``Node.text`` copies the bytes each time it is read: it is read once.)"""
    if node is None:
        return ""
    text = node.text
    return text.decode("utf-8", "replace") if text is not None else ""


#: Python nodes that open a scope of their own: what a reading of one function or block stops at.
PYTHON_SCOPES = frozenset({"function_definition", "class_definition", "lambda"})


def scope_of(node: ts.Node) -> ts.Node:
    """The function, class or lambda ``node`` is in, else the module (the root): the scope a local's
    binding and its reads must share. The probe-local and compound-flag readings each had a copy."""
    scope = node.parent
    while scope is not None and scope.type not in PYTHON_SCOPES and scope.parent is not None:
        scope = scope.parent
    return scope if scope is not None else node


def enclosing_function(node: ts.Node) -> tuple[ts.Node | None, ts.Node | None]:
    """The function whose own body holds ``node`` (``None`` when the nearest scope is a class, a lambda
    or the module), and the node that holds that definition (past a ``decorated_definition``): the
    module-function and method readings each walked this with their own copy."""
    scope = node.parent
    while scope is not None and scope.type not in PYTHON_SCOPES:
        scope = scope.parent
    if scope is None or scope.type != "function_definition":
        return None, None
    holder = scope.parent
    if holder is not None and holder.type == "decorated_definition":
        holder = holder.parent
    return scope, holder


def descendants(node: ts.Node, stop_at: frozenset[str] = frozenset()) -> Iterator[ts.Node]:
    """``node`` and every named node inside it, not entering a node whose type is in ``stop_at``
    (that node itself is still yielded). The readings of Python branches each walked a subtree with
    their own copy of this loop."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current.type not in stop_at:
            stack.extend(current.named_children)


def conjuncts(condition: ts.Node | None) -> list[ts.Node]:
    """The operands ``condition`` requires to be true: itself, or those of its ``and`` chain, through
    parentheses. The module-flag and instance-flag readings each walked this with their own copy."""
    if condition is None:
        return []
    if condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        return conjuncts(condition.named_children[0])
    if condition.type == "boolean_operator" and node_text(condition.child_by_field_name("operator")) == "and":
        return conjuncts(condition.child_by_field_name("left")) + conjuncts(condition.child_by_field_name("right"))
    return [condition]


def unparenthesized(node: ts.Node | None) -> ts.Node | None:
    """``node`` without the parentheses around it (``((x))`` is ``x``)."""
    while node is not None and node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return node


@dataclass(frozen=True, slots=True)
class RawMatch:
    """A rule matched at a node: the core turns it into a `Finding` with positions and targets."""

    rule: Rule
    symbol: str
    node: ts.Node
    depends_on: tuple[Location, ...] = ()
    #: Other (rule, symbol) matches of the same construct, folded into this one (`joins`).
    joined: tuple[tuple[Rule, str], ...] = ()
    #: Targets the code around the match already handles, and how (`Finding.handled`).
    handled: tuple[tuple[str, str], ...] = ()
    #: Byte offsets of the match when it is only part of ``node`` (a name inside a ``#define`` body,
    #: which the grammar keeps as one raw-text node).
    span: tuple[int, int] | None = None
    #: Lines of joined parts the finding's message names: the save and restore of an environment
    #: setting (`python_env_joins`), which share its variable's name and so add no ``extra_symbols``.
    joined_lines: tuple[int, ...] = ()
    #: A tensor method (LL904) on a receiver of unknown type: reported only if no class of the
    #: project defines the method (`python_tensors`, `project.tensor_methods`).
    unproven: bool = False
    #: Whether the CPU fallback the dispatch notes visibly runs on the CPU (`python_fall_through`):
    #: the message's "may silently run on the CPU" sentence is said only then.
    cpu_run: bool = True
    #: The line of an ``except`` that swallows the match's error and what the code then does
    #: (`python_swallowed`): the message says so, for the targets still open.
    swallowed: tuple[int, str] | None = None

    @property
    def bounds(self) -> tuple[int, int]:
        """Start and end byte of what matched."""
        return self.span if self.span is not None else (self.node.start_byte, self.node.end_byte)


class SpanMatcher:
    """Base of the per-file matchers: one finding per (rule, node), nodes judged once."""

    def __init__(self, source: bytes, root: ts.Node) -> None:
        self.source = source
        self.root = root
        self.matches: dict[tuple[str, int, int], RawMatch] = {}

    def _add(self, rule: Rule, symbol: str, node: ts.Node, span: tuple[int, int] | None = None) -> None:
        key = (rule.id, *(span or (node.start_byte, node.end_byte)))
        if key not in self.matches:
            self.matches[key] = RawMatch(rule, symbol, node, span=span)

    def _visit(self, spans: Iterable[tuple[int, int]]) -> list[RawMatch]:
        seen: set[int] = set()
        for start, end in spans:
            node = self.root.descendant_for_byte_range(start, end)
            if node is None or node.id in seen:
                continue
            seen.add(node.id)
            self._judge(node)
        return list(self.matches.values())

    def _judge(self, node: ts.Node) -> None:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class LineMatch:
    """A rule matched in a file read line by line (manifests, build and container files).

    Positions are 1-based; columns count characters.
    """

    rule: Rule
    symbol: str
    line: int
    column: int
    end_column: int
