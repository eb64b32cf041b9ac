"""A tensor held in a dict slot that the function only ever fills on the CPU.

DeepSpeed's ``DeepSpeedCPUAdagrad.step`` creates its optimizer state with ``state['exp_avg_sq'] =
torch.zeros_like(p.data, dtype=..., device='cpu')`` and later calls
``state['exp_avg_sq'].sparse_mask(p.grad)``: the operator runs torch's CPU kernel whatever the
machine's accelerator, exactly as the ``p.sparse_mask(p.grad)`` beside it (`python_host_asserts`),
and an independent judge called the LL904 finding false (docs/validation.md, #11). A subscript is
no name, so `python_cpu_tensors` cannot follow it; this module proves such a receiver ``X['key']``
(a literal key) on the CPU when, in the function:

- ``X`` is a local bound once, by a plain ``X = ...``, and used only through subscripts, as
  ``len(X)``, ``not X``, in an ``in`` test, or through methods that cannot write a slot;
- every ``X['key'] = value`` (there is at least one) builds the value on the CPU: a torch call with a
  literal ``device='cpu'``, a ``.cpu()``, or what `python_cpu_tensors` proves;
- nothing moves or replaces the slot (``X['key'].to(...)``, ``.cuda()``, ``X['key'].data = ...``,
  ``+=``, ``del``, ``X[k] =`` with a key that is not a literal, ``X.update``/``setdefault``);

and nowhere else in the file is ``['key'] = ...`` written (another method filling the same slot on
an accelerator). Anything else keeps the finding.
"""

from __future__ import annotations

import re
from typing import Callable

import tree_sitter as ts

from .matching import node_text
from .python_receivers import enclosing

#: Methods that move a tensor or replace what it holds (`python_cpu_tensors._MOVES`, with in-place
#: writes from another tensor).
_MOVES = frozenset({"to", "cuda", "type", "xpu", "npu", "mlu", "musa", "hpu", "mps", "ipu", "xla", "to_device",
                    "copy_", "set_", "pin_memory", "share_memory_"})
#: Dict methods that may write a slot.
_WRITES = frozenset({"update", "setdefault", "__setitem__", "__ior__"})
#: Builtins that only read the dict they are given.
_READERS = frozenset({"len", "bool"})
_CPU_DEVICE = re.compile(r"""["']cpu["']|torch\.device\(\s*["']cpu["']\s*\)""")
_BINDINGS = frozenset({"pattern_list", "tuple_pattern", "list_pattern", "as_pattern_target", "for_statement",
                       "named_expression", "global_statement", "nonlocal_statement", "augmented_assignment",
                       "delete_statement", "parameters", "lambda_parameters", "with_item", "as_pattern"})


def slot_on_host(receiver: ts.Node, on_cpu: Callable[[ts.Node], bool]) -> bool:
    """Is ``receiver`` (``X['key']``) a slot its function fills only with CPU tensors and never moves?
    ``on_cpu`` is `python_cpu_tensors`' proof for a value that is none of the shapes read here."""
    holder, key = _slot(receiver)
    scope = enclosing(receiver, "function_definition") if holder is not None else None
    if holder is None or key is None or scope is None:
        return False
    word = node_text(holder)
    params = scope.child_by_field_name("parameters")
    if params is not None and word in re.findall(r"\w+", node_text(params)):
        return False
    body = scope.child_by_field_name("body")
    if body is None:
        return False
    bindings, fills = 0, 0
    for node in _identifiers(body, word):
        use = _use(node, key, on_cpu)
        if use is None:
            return False
        bindings += use == "bind"
        fills += use == "fill"
    return bindings == 1 and fills > 0 and _only_filled_in(scope, key)


def _slot(node: ts.Node) -> tuple[ts.Node | None, str | None]:
    """``(X, 'key')`` of a subscript ``X['key']`` with a plain name and one literal string key."""
    if node.type != "subscript":
        return None, None
    value, keys = node.child_by_field_name("value"), node.children_by_field_name("subscript")
    if value is None or value.type != "identifier" or len(keys) != 1:
        return None, None
    return value, _literal(keys[0])


def _literal(node: ts.Node) -> str | None:
    """The text of a plain string literal (no f-string, no concatenation); None otherwise."""
    if node.type != "string" or any(c.type == "interpolation" for c in node.children):
        return None
    found = re.fullmatch(r"""(['"])(\w+)\1""", node_text(node))
    return found.group(2) if found else None


def _identifiers(node: ts.Node, word: str) -> list[ts.Node]:
    found: list[ts.Node] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if item.type == "identifier":
            parent = item.parent
            if node_text(item) == word and not (parent is not None and parent.type == "attribute"
                                                and parent.child_by_field_name("attribute") == item):
                found.append(item)  # not ``self.X``: another thing of the same name
        else:
            stack.extend(item.children)
    return found


def _use(name: ts.Node, key: str, on_cpu: Callable[[ts.Node], bool]) -> str | None:
    """What one occurrence of the dict's name does: "bind" (``X = ...``), "fill" (``X['key'] =`` a CPU
    value), "read" (anything that leaves the slot as it is), or None (it may write or move the slot)."""
    parent = name.parent
    if parent is None:
        return None
    if parent.type == "assignment" and parent.child_by_field_name("left") == name:
        return "bind"
    if parent.type == "subscript" and parent.child_by_field_name("value") == name:
        return _slot_use(parent, key, on_cpu)
    if parent.type == "attribute" and parent.child_by_field_name("object") == name:
        return None if node_text(parent.child_by_field_name("attribute")) in _WRITES else "read"
    if parent.type == "argument_list" and parent.parent is not None and parent.parent.type == "call" \
            and node_text(parent.parent.child_by_field_name("function")) in _READERS:
        return "read"
    if parent.type == "not_operator" or (parent.type == "if_statement" and parent.child_by_field_name("condition") == name):
        return "read"  # ``if not X:``, an empty state
    if parent.type == "comparison_operator" and name != parent.named_children[0] \
            and re.search(r"\bin\b", node_text(parent)):
        return "read"  # 'key' in X
    return None


def _slot_use(subscript: ts.Node, key: str, on_cpu: Callable[[ts.Node], bool]) -> str | None:
    parent = subscript.parent
    written = parent is not None and (
        (parent.type in ("assignment", "augmented_assignment") and parent.child_by_field_name("left") == subscript)
        or parent.type in _BINDINGS)
    indexes = subscript.children_by_field_name("subscript")
    index = indexes[0] if len(indexes) == 1 else None  # ``X[a, b]`` is no literal key
    if index is None or _literal(index) is None:
        return None if written else "read"
    if _literal(index) != key:
        return "read"  # another slot, read or written
    if written:
        if parent is None or parent.type != "assignment":
            return None
        value = parent.child_by_field_name("right")
        return "fill" if value is not None and _cpu_value(value, on_cpu) else None
    if parent is not None and parent.type == "attribute" and parent.child_by_field_name("object") == subscript \
            and (node_text(parent.child_by_field_name("attribute")) in _MOVES or (
                parent.parent is not None and parent.parent.type in ("assignment", "augmented_assignment")
                and parent.parent.child_by_field_name("left") == parent)):
        return None  # moved, or its storage replaced (``X['key'].data = other``)
    return "read"


def _cpu_value(value: ts.Node, on_cpu: Callable[[ts.Node], bool]) -> bool:
    """A torch call given a literal ``device='cpu'``, a ``.cpu()``, or a value `python_cpu_tensors` proves."""
    function, args = value.child_by_field_name("function"), value.child_by_field_name("arguments")
    if value.type == "call" and function is not None and args is not None:
        if function.type == "attribute" and node_text(function.child_by_field_name("attribute")) == "cpu" \
                and not args.named_children:
            return True
        if re.fullmatch(r"torch\.\w+", node_text(function)) and any(
                a.type == "keyword_argument" and node_text(a.child_by_field_name("name")) == "device"
                and _CPU_DEVICE.fullmatch(node_text(a.child_by_field_name("value")))
                for a in args.named_children):
            return True
    return on_cpu(value)


def _only_filled_in(scope: ts.Node, key: str) -> bool:
    """Is every write of a ``['key']`` slot in the file inside ``scope`` (whose own writes were read)?"""
    root = scope
    while root.parent is not None:
        root = root.parent
    source = root.text or b""
    write = re.compile(rb"""\[\s*(['"])""" + re.escape(key.encode()) + rb"""\1\s*\]\s*(?://|\*\*|>>|<<|[-+*/@%&|^])?=(?!=)"""
                       rb"""|setdefault\(\s*['"]""" + re.escape(key.encode()) + rb"""['"]""")
    return all(scope.start_byte <= hit.start() < scope.end_byte for hit in write.finditer(source))
