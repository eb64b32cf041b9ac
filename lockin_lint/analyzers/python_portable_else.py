"""An ``else`` that already is the portable path.

vLLM's ``pixtral.py`` calls xFormers' kernel only where xFormers imported::

    if USE_XFORMERS_OPS:
        out = xops.memory_efficient_attention(q, k, v, attn_bias=mask)
    else:
        out = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)

The flag is a library's availability, not a platform, so the dispatch reading (`python_dispatch`)
names no target; yet every target without xFormers takes the ``else``, which calls exactly the
rewrite the finding's rule suggests (its ``portable`` replacement). The port is done: every target
is handled, noted with the line of that call.

Narrow on purpose: the test must be a plain flag (a name or attribute, ``USE_XFORMERS_OPS``,
``self.use_xformers``), the match must be in the ``if`` body of an ``if``/``else`` with no ``elif``,
the dispatch must not have noted anything already, and the ``else`` must call the replacement's own
function (``F.scaled_dot_product_attention`` and ``torch.nn.functional.scaled_dot_product_attention``
both spell ``torch.nn.functional.scaled_dot_product_attention``; a helper that may do the same does
not count).
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .matching import RawMatch
from .matching import node_text as _text

#: The dotted function name a portable replacement starts with.
_CALLED = re.compile(r"^[A-Za-z_][\w.]*")
_FLAGS = frozenset({"identifier", "attribute"})


def _flag_if(node: ts.Node) -> tuple[ts.Node, ts.Node] | None:
    """The ``if FLAG: ... else: ...`` whose body holds ``node``, and its else block."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in ("function_definition", "class_definition", "module"):
        if parent.type == "if_statement":
            if child != parent.child_by_field_name("consequence"):
                return None
            condition = parent.child_by_field_name("condition")
            alternatives = parent.children_by_field_name("alternative")
            if condition is None or condition.type not in _FLAGS or len(alternatives) != 1 \
                    or alternatives[0].type != "else_clause":
                return None
            body = alternatives[0].child_by_field_name("body")
            return (parent, body) if body is not None else None
        child, parent = parent, parent.parent
    return None


def _bindings(root: ts.Node) -> dict[str, str]:
    """What the file's imports bind each name to: ``F`` -> ``torch.nn.functional``, ``nn`` -> ``torch.nn``."""
    bound: dict[str, str] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "import_statement":
            for item in node.named_children:
                if item.type == "dotted_name":
                    bound.setdefault(_text(item).split(".")[0], _text(item).split(".")[0])
                elif item.type == "aliased_import" and item.named_child_count == 2:
                    bound[_text(item.named_children[1])] = _text(item.named_children[0])
        elif node.type == "import_from_statement":
            module = node.child_by_field_name("module_name")
            for item in node.children_by_field_name("name"):
                name, alias = (item.named_children[0], item.named_children[1]) \
                    if item.type == "aliased_import" and item.named_child_count == 2 else (item, item)
                if module is not None:
                    bound[_text(alias)] = f"{_text(module)}.{_text(name)}"
        elif node.type not in ("function_definition", "class_definition"):
            stack.extend(node.children)
    return bound


def _spells(callee: str, function: str, bound: dict[str, str]) -> bool:
    """``callee`` names ``function`` through the file's imports (``F.sdpa`` after ``import
    torch.nn.functional as F``, ``nn.functional.sdpa`` after ``from torch import nn``)."""
    first, _, rest = callee.partition(".")
    full = bound.get(first, first) + (f".{rest}" if rest else "")
    return full == function


def _calls_of(block: ts.Node, function: str, bound: dict[str, str]) -> int | None:
    """The line of the first call of ``function`` in ``block``, if any."""
    last = function.rsplit(".", 1)[-1].encode()
    if last not in (block.text or b""):
        return None
    stack = [block]
    while stack:
        node = stack.pop()
        if node.type == "call":
            callee = node.child_by_field_name("function")
            if callee is not None and _spells(_text(callee), function, bound):
                return node.start_point.row + 1
        stack.extend(reversed(node.children))
    return None


def _root(node: ts.Node) -> ts.Node:
    while node.parent is not None:
        node = node.parent
    return node


def _portable_function(match: RawMatch) -> str | None:
    for portable in match.rule.info_for(match.symbol.lstrip(".")).portable:
        called = _CALLED.match(portable.replacement)
        if called is not None and called.group(0).startswith("torch."):  # a library function, not `x.to`
            return called.group(0)
    return None


def apply_portable_else(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with the matches whose flag's ``else`` calls their portable replacement handled on
    every target."""
    kept = []
    bound: dict[str, str] | None = None
    for match in raw:
        function = _portable_function(match) if not match.handled else None
        found = _flag_if(match.node) if function is not None else None
        if found is not None and function is not None and bound is None:
            bound = _bindings(_root(found[0]))
        line = _calls_of(found[1], function, bound) if found is not None and function is not None and bound is not None else None
        if line is not None and function is not None:
            note = f"else path calls {function.rsplit('.', 1)[-1]} ({path.rsplit('/', 1)[-1]}:{line})"
            match = replace(match, handled=tuple((target, note) for target in TARGETS))
        kept.append(match)
    return kept
