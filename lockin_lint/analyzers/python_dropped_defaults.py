"""A class field's default that the class's own "diff against defaults" method drops: no string finding.

accelerate's ``InitProcessGroupKwargs`` declares ``backend: Optional[str] = "nccl"``, but reaches the
process group only through its base's ``KwargsHandler.to_kwargs()``::

    default_dict = self.__class__().to_dict()
    this_dict = self.to_dict()
    return {k: v for k, v in this_dict.items() if default_dict[k] != v}

which keeps only the fields that differ from a fresh instance's, so the default (or the same value
given explicitly) never leaves the class, and accelerate picks the backend per device. The ``"nccl"``
is not a backend anyone passes on: reporting it was judged false (j18A, docs/validation.md; judged
true six times before by readers who did not read ``to_kwargs``). No finding rather than every target
handled: the literal is never used as a value, like the default of a class's own ``cuda()``
(`python_cuda_defaults`), so there is nothing to credit.

Narrow on purpose. The string must be the whole value of a field declared directly in a class body
(``name = "..."`` or ``name: T = "..."``); that class, or a base class defined in the same file
(by its plain name), must have a method that builds a fresh instance of its own class
(``self.__class__(...)`` or ``type(self)(...)``) and compares something with ``!=`` or ``==`` in
the same method (the diff). And the class that declares the field must not read ``self.<field>``
in any method but ``__post_init__`` (whose value a fresh instance computes the same way): a class
that also passes the field on itself (``init_process_group(backend=self.backend)``) keeps its
finding, as does one whose ``to_dict`` merely copies the fields (``asdict(self)``, no fresh
instance) or builds one without comparing.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from .matching import node_text

#: A fresh instance of the receiver's own class.
_FRESH = re.compile(r"\b(?:self\.__class__|type\(\s*self\s*\))\s*\(")
#: Methods that may read the field without passing the default on.
_INERT_READERS = frozenset({"__post_init__"})


def is_dropped_default(string: ts.Node) -> bool:
    """Is ``string`` a class field's default that the class's diff-against-defaults method drops?"""
    assignment = string.parent
    if assignment is None or assignment.type != "assignment" or assignment.child_by_field_name("right") != string:
        return False
    field = assignment.child_by_field_name("left")
    statement = assignment.parent
    body = statement.parent if statement is not None and statement.type == "expression_statement" else None
    cls = body.parent if body is not None and body.type == "block" else None
    if field is None or field.type != "identifier" or cls is None or cls.type != "class_definition":
        return False
    if _reads_field(cls, node_text(field)):
        return False
    classes = _file_classes(cls)
    return any(_diffs_against_fresh(other) for other in _lineage(cls, classes))


def _file_classes(cls: ts.Node) -> dict[str, ts.Node]:
    """Name -> class of the classes defined at the top level of ``cls``'s file."""
    root = cls
    while root.parent is not None:
        root = root.parent
    found: dict[str, ts.Node] = {}
    for statement in root.named_children:
        node = statement.child_by_field_name("definition") if statement.type == "decorated_definition" else statement
        name = node.child_by_field_name("name") if node is not None and node.type == "class_definition" else None
        if node is not None and name is not None:
            found.setdefault(node_text(name), node)
    return found


def _lineage(cls: ts.Node, classes: dict[str, ts.Node]) -> list[ts.Node]:
    """``cls`` and the base classes the same file defines, by plain name (a few levels, no cycles)."""
    seen: set[int] = set()
    todo: list[ts.Node] = [cls]
    order: list[ts.Node] = []
    while todo and len(order) < 8:
        node = todo.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        order.append(node)
        bases = node.child_by_field_name("superclasses")
        for base in bases.named_children if bases is not None else ():
            if base.type == "identifier" and node_text(base) in classes:
                todo.append(classes[node_text(base)])
    return order


def _methods(cls: ts.Node) -> list[ts.Node]:
    body = cls.child_by_field_name("body")
    methods = []
    for statement in body.named_children if body is not None else ():
        node = statement.child_by_field_name("definition") if statement.type == "decorated_definition" else statement
        if node is not None and node.type == "function_definition":
            methods.append(node)
    return methods


def _diffs_against_fresh(cls: ts.Node) -> bool:
    """Does a method of ``cls`` build a fresh instance of its class and compare values?"""
    for method in _methods(cls):
        text = node_text(method)
        if _FRESH.search(text) and _compares(method):
            return True
    return False


def _compares(node: ts.Node) -> bool:
    todo = [node]
    while todo:
        current = todo.pop()
        if current.type == "comparison_operator" and any(
                child.type in ("!=", "==") for child in current.children if not child.is_named):
            return True
        todo.extend(current.named_children)
    return False


def _reads_field(cls: ts.Node, field: str) -> bool:
    """Does a method of ``cls`` (other than ``__post_init__``) read ``self.<field>``?"""
    pattern = re.compile(r"\bself\." + re.escape(field) + r"\b")
    for method in _methods(cls):
        name = method.child_by_field_name("name")
        if name is not None and node_text(name) in _INERT_READERS:
            continue
        if pattern.search(node_text(method)):
            return True
    return False
