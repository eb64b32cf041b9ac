"""An op whose schema the file itself defines, with no kernel, fails on every target alike.

DeepSpeed's ``tests/unit/v1/compile/test_list_schedule.py`` builds FX graphs whose nodes target
``torch.ops.dc.release_param.default``; when the DeepCompile extension is absent, its autouse
fixture defines every ``dc`` schema itself::

    lib = torch.library.Library("dc", "DEF")
    for schema in ("allgather_param(Tensor a, ...) -> Tensor", "release_param(...) -> Tensor(a)", ...):
        lib.define(schema)

The tests only build graphs and run the scheduler: no op executes, and a schema with no kernel
would fail on CUDA as on the CPU. The judges called LL710 there false (ascend/mlu/mps/cpu
``missing``; docs/validation.md, #11, seventh session). So a match on ``torch.ops.<ns>.<op>`` in a
file that creates ``Library("<ns>", "DEF")`` (or ``"FRAGMENT"``) and calls ``.define`` on it with a
schema naming ``<op>`` (the literal, or the loop variable over a tuple or list of literals) gets every
target handled: ``schema defined in this file (test_list_schedule.py:36)``, the ``Library`` line.
The finding stays (`apply_defined_ops`).

Near misses, kept as they are: an op of another namespace, or one the file does not define; a
namespace the file only opens with ``"IMPL"``; and any op of a namespace the file also registers a
kernel for (``lib.impl(...)``, ``torch.library.impl(...)``, ``register_kernel(...)``): that kernel
may be CUDA-only, so the file's schema proves nothing about the other targets.
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .matching import RawMatch, descendants, node_text
from .python_strings import string_value

_KINDS = frozenset({"DEF", "FRAGMENT"})
#: A call that registers a kernel: the namespace it names is no longer kernel-less.
_KERNELS = re.compile(rb"\b(?:impl|register_kernel)\s*\(")
_OP = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_]+)?\s*\(")


def apply_defined_ops(raw: list[RawMatch], path: str, source: bytes, root: ts.Node) -> list[RawMatch]:
    """``raw`` with every target handled for the matches on an op whose schema this file defines
    (see the module's docstring)."""
    if not raw or b"Library" not in source or b"define" not in source \
            or not any(m.symbol.startswith("torch.ops.") for m in raw):
        return raw
    defined = defined_ops(root)
    if not defined:
        return raw
    name = path.rsplit("/", 1)[-1]
    kept = []
    for match in raw:
        parts = match.symbol.split(".")
        line = defined.get((parts[2], parts[3])) if len(parts) >= 4 and parts[:2] == ["torch", "ops"] else None
        if line is not None:
            note = f"schema defined in this file ({name}:{line})"
            match = replace(match, handled=tuple((t, note) for t in TARGETS))
        kept.append(match)
    return kept


def defined_ops(root: ts.Node) -> dict[tuple[str, str], int]:
    """(namespace, op) -> the line of the ``Library`` that defines its schema, for the namespaces
    this file registers no kernel for."""
    libraries: dict[str, tuple[str, int]] = {}  # variable -> (namespace, line)
    calls = [n for n in descendants(root) if n.type == "call"]
    for call in calls:
        opened = _library(call)
        holder = call.parent
        if opened is not None and holder is not None and holder.type == "assignment" \
                and holder.child_by_field_name("right") == call:
            target = holder.child_by_field_name("left")
            if target is not None and target.type in ("identifier", "attribute"):
                libraries[node_text(target)] = (opened, call.start_point.row + 1)
    if not libraries:
        return {}
    found: dict[tuple[str, str], int] = {}
    kernels: set[str] = set()
    for call in calls:
        function = call.child_by_field_name("function")
        arguments = call.child_by_field_name("arguments")
        if function is None or arguments is None:
            continue
        if _KERNELS.search(node_text(function).encode() + b"("):
            kernels.update(_namespaces(arguments, libraries, function))
            continue
        if function.type != "attribute" or node_text(function.child_by_field_name("attribute")) != "define":
            continue
        library = libraries.get(node_text(function.child_by_field_name("object")))
        if library is None or not arguments.named_children:
            continue
        for schema in _schemas(arguments.named_children[0]):
            op = _OP.match(schema)
            if op is not None:
                found.setdefault((library[0], op.group(1)), library[1])
    return {key: line for key, line in found.items() if key[0] not in kernels}


def _library(call: ts.Node) -> str | None:
    """The namespace of ``Library("<ns>", "DEF")`` (or ``"FRAGMENT"``), or None."""
    function, arguments = call.child_by_field_name("function"), call.child_by_field_name("arguments")
    if function is None or arguments is None or node_text(function).rsplit(".", 1)[-1] != "Library":
        return None
    values = arguments.named_children
    if len(values) < 2 or values[0].type != "string" or values[1].type != "string":
        return None
    return string_value(values[0]) if string_value(values[1]) in _KINDS else None


def _namespaces(arguments: ts.Node, libraries: dict[str, tuple[str, int]], function: ts.Node) -> set[str]:
    """The namespaces a kernel registration may name: its library's, or every one when unsure."""
    receiver = function.child_by_field_name("object") if function.type == "attribute" else None
    if receiver is not None and node_text(receiver) in libraries:
        return {libraries[node_text(receiver)][0]}
    first = arguments.named_children[0] if arguments.named_children else None
    if first is not None and first.type == "string" and "::" in string_value(first):
        return {string_value(first).split("::", 1)[0]}
    return {namespace for namespace, _ in libraries.values()}  # an unknown registration: trust none


def _schemas(argument: ts.Node) -> list[str]:
    """The schema strings ``.define(argument)`` may receive: a literal, or the literals of the
    tuple or list a ``for`` loop binds ``argument`` to."""
    if argument.type == "string":
        return [string_value(argument)]
    if argument.type != "identifier":
        return []
    loop = argument.parent
    while loop is not None and loop.type not in ("for_statement", "function_definition", "module"):
        loop = loop.parent
    if loop is None or loop.type != "for_statement" \
            or node_text(loop.child_by_field_name("left")) != node_text(argument):
        return []
    items = loop.child_by_field_name("right")
    if items is None or items.type not in ("tuple", "list"):
        return []
    return [string_value(item) for item in items.named_children if item.type == "string"]
