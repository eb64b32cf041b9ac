"""What the C/C++ word gate (`analyzers.cpp_gate`) needs compiled from the rules beyond the lookup tables.

Kept apart from `cuda_index` (the tables and the byte prefilter) so that each stays small: where a
namespace word stands in the scoped names it stands for (`NamespaceShape`), and which catch-all
patterns can be searched over newline-joined words at once (`line_safe`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping


@dataclass(frozen=True)
class NamespaceShape:
    """Where a namespace word stands in the scoped names and namespaces whose token it is: the parts
    written before it (``b""`` when it comes first), the parts after it (None: anything, it ends a
    namespace prefix), and whether it ends a scoped name (``kCUDA`` of ``c10::kCUDA``)."""

    before: frozenset[bytes]
    after: frozenset[bytes] | None
    last: bool


def namespace_shapes(scoped: Iterable[str], prefixes: Iterable[str],
                     tokens: Mapping[str, bytes]) -> dict[bytes, NamespaceShape]:
    """The shape of each namespace word (``tokens``: name -> its namespace word, for the names that have one)."""
    namespaces = set(prefixes)
    before: dict[bytes, set[bytes]] = defaultdict(set)
    after: dict[bytes, set[bytes] | None] = {}
    last: set[bytes] = set()
    for name in (*scoped, *namespaces):
        token = tokens.get(name)
        if token is None:
            continue
        parts = [part.encode() for part in name.split("::")]
        following = after.setdefault(token, set())
        for position, part in enumerate(parts):
            if part != token:
                continue
            before[token].add(parts[position - 1] if position else b"")
            if position + 1 < len(parts):
                if following is not None:
                    following.add(parts[position + 1])
            elif name in namespaces:
                following = after[token] = None  # a namespace: any member may follow
            else:
                last.add(token)
    return {token: NamespaceShape(frozenset(before[token]), None if following is None else frozenset(following),
                                  token in last)
            for token, following in after.items()}


def line_safe(pattern: str) -> bool:
    """Searched over newline-joined words (``re.M``), does the pattern match exactly the lines it
    fullmatches? Yes when anchored at both ends (no top-level ``|``) and unable to match a newline
    (no ``.``, negated class, escape but ``\\w``/``\\d``/punctuation, or inline flag)."""
    if not (pattern.startswith("^") and pattern.endswith("$")) or "(?" in pattern.replace("(?:", ""):
        return False
    depth, position, in_class = 0, 0, False
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            escaped = pattern[position + 1:position + 2]
            if not escaped or (escaped.isalnum() and escaped not in ("w", "d")):
                return False  # ``\\s``, ``\\n``, ``\\x0a``, ``\\b``...: only ``\\w``, ``\\d`` and punctuation
            position += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[position + 1:position + 2] == "^":
                return False
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "." or (char == "|" and depth == 0):
            return False
        position += 1
    return True
