"""One construct, one finding, in Python.

Two rules can describe one thing a user would fix in one edit: ``from apex import amp`` is the apex
import (LL500) and the apex.amp API (LL501); ``"cuda" if torch.cuda.is_available() else "cpu"`` is one
device choice, a device string (LL200/LL201) picked by an availability check (LL101). Reporting each
part on its own inflated the counts (and the effort) and made the same line read as several problems.
Here the parts join one finding: the import's, or the device string's, which lists the others'
symbols in ``extra_symbols`` and takes the worst status per target (`findings.node_findings`).
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..model import Rule
from .matching import RawMatch

_IMPORTS = frozenset({"import_statement", "import_from_statement", "future_import_statement"})


def import_of(node: ts.Node) -> ts.Node | None:
    """The import statement ``node`` is part of (a module or imported name), if any."""
    parent = node.parent
    for _ in range(3):
        if parent is None:
            return None
        if parent.type in _IMPORTS:
            return parent
        parent = parent.parent
    return None


def _choice_of(node: ts.Node) -> tuple[ts.Node, bool] | None:
    """The ``a if test else b`` around ``node``, and whether ``node`` is in its test."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in ("block", "module", "expression_statement"):
        if parent.type == "conditional_expression" and parent.named_child_count == 3:
            return parent, child == parent.named_children[1]
        child, parent = parent, parent.parent
    return None


def join_constructs(raw: list[RawMatch]) -> list[RawMatch]:
    """``raw`` with the matches that are part of another match's construct folded into it."""
    hosts: dict[int, int] = {}  # index of a joining match -> index of its host
    imports: dict[int, int] = {}  # import statement -> the match of its module (an ``imports`` rule)
    choices: dict[int, int] = {}  # conditional expression -> the device string in one of its values
    statements = [import_of(match.node) for match in raw]
    for position, match in enumerate(raw):
        statement = statements[position]
        if statement is not None and match.rule.match.imports:
            imports.setdefault(statement.id, position)
        if match.rule.category == "device-string":
            choice = _choice_of(match.node)
            if choice is not None and not choice[1]:
                choices.setdefault(choice[0].id, position)
    for position, match in enumerate(raw):
        statement = statements[position]
        host = imports.get(statement.id) if statement is not None else None
        if host is None and choices:
            choice = _choice_of(match.node)
            host = choices.get(choice[0].id) if choice is not None and choice[1] else None
        if host is not None and host != position:
            hosts[position] = host
    if not hosts:
        return raw
    joined: dict[int, list[tuple[Rule, str]]] = {}
    for position, host in sorted(hosts.items()):
        joined.setdefault(host, []).append((raw[position].rule, raw[position].symbol))
    return [replace(match, joined=match.joined + tuple(joined[position])) if position in joined else match
            for position, match in enumerate(raw) if position not in hosts]
