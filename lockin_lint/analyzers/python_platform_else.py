"""An ``else`` after platform tests that goes through the project's own platform object.

vLLM's ``current_stream`` (``utils/torch_utils.py``)::

    if current_platform.is_rocm() or current_platform.is_cuda():
        torch.cuda.set_stream(torch.cuda.Stream())
    elif current_platform.is_cpu():
        ...
    else:
        current_stream = current_platform.current_stream

The dispatch reading (`python_dispatch`) hands CUDA/ROCm and CPU to their clauses, but every other
target runs the ``else``, and vLLM's ``Platform.__getattr__`` forwards an unknown attribute to
``torch.<device_type>``: the ``else`` is that target's own path, written device-agnostically. The
targets no clause may be true on are handled, noted with the line of that access.

Narrow on purpose: every clause before the ``else`` must be a platform test, the match must sit in
one of their bodies, and the ``else`` body must read an attribute (not an ``is_*`` test) of
``current_platform`` imported from the project's ``platforms`` package, and must spell no ``cuda`` and
no ``cpu`` at all. mps is left out: ``torch.mps`` has no stream API for the forwarding to reach.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .matching import RawMatch
from .matching import node_text as _text
from .python_dispatch import AGNOSTIC
from .python_platform_tests import classify

_NAME = b"current_platform"
#: Targets the forwarding credits: mps has no ``torch.mps`` stream module to forward to.
_CREDITED = tuple(t for t in TARGETS if t != "mps")


def _chain_else(node: ts.Node) -> tuple[ts.Node, frozenset[str]] | None:
    """The ``else`` body of the chain of platform tests whose ``if`` or ``elif`` body holds ``node``,
    and the platforms its clauses may be true on."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in ("function_definition", "class_definition", "module"):
        if parent.type == "elif_clause" and child == parent.child_by_field_name("consequence"):
            child, parent = parent, parent.parent
        if parent is not None and parent.type == "if_statement":
            if child != parent.child_by_field_name("consequence") and child.type != "elif_clause":
                return None
            alternatives = parent.children_by_field_name("alternative")
            conditions = [parent.child_by_field_name("condition")] + [
                a.child_by_field_name("condition") for a in alternatives if a.type == "elif_clause"]
            tests = [classify(c) for c in conditions if c is not None]
            body = alternatives[-1].child_by_field_name("body") if alternatives else None
            if body is None or alternatives[-1].type != "else_clause" or len(tests) != len(conditions) \
                    or not all(t.known for t in tests):
                return None
            return body, frozenset().union(*(t.may for t in tests))
        if parent is None:
            return None
        child, parent = parent, parent.parent
    return None


def _imports_platform(root: ts.Node) -> bool:
    """Does the file (anywhere, a function's local import included) bind ``current_platform`` from a
    ``platforms`` package (``from vllm.platforms import current_platform``)?"""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "import_from_statement":
            module = node.child_by_field_name("module_name")
            names = [_text(n) for n in node.children_by_field_name("name")]
            if module is not None and "platforms" in _text(module).split(".") and "current_platform" in names:
                return True
        else:
            stack.extend(node.children)
    return False


def _platform_read(body: ts.Node) -> int | None:
    """The line of the ``else`` body's first ``current_platform.<attr>`` read, if the body spells
    neither ``cuda`` nor ``cpu``."""
    text = (body.text or b"").lower()
    if _NAME not in text or b"cuda" in text or b"cpu" in text:
        return None
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "attribute":
            owner, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
            if owner is not None and attr is not None and _text(owner) == "current_platform" \
                    and not _text(attr).startswith("is_"):
                return node.start_point.row + 1
        stack.extend(reversed(node.children))
    return None


def apply_platform_else(raw: list[RawMatch], path: str, source: bytes, root: ts.Node) -> list[RawMatch]:
    """``raw`` with the targets no clause names handled where the chain's ``else`` goes through the
    project's platform object."""
    if _NAME not in source:
        return raw
    imported: bool | None = None
    kept = []
    for match in raw:
        chain = _chain_else(match.node)
        line = _platform_read(chain[0]) if chain is not None else None
        if line is not None and imported is None:
            imported = _imports_platform(root)
        if line is not None and imported:
            noted = dict(match.handled)
            note = f"{AGNOSTIC} ({path.rsplit('/', 1)[-1]}:{line})"
            added = tuple((t, note) for t in _CREDITED if t not in noted and chain is not None and t not in chain[1])
            if added:
                match = replace(match, handled=tuple(match.handled) + added)
        kept.append(match)
    return kept
