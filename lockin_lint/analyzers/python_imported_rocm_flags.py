"""A ROCm flag one module binds and another imports: its false side is a path ROCm never takes.

bitsandbytes' ``cextension.py`` binds, at module level::

    HIP_ENVIRONMENT = False
    if torch.version.hip:
        HIP_ENVIRONMENT = True

and ``diagnostics/cuda.py`` imports it (``from bitsandbytes.cextension import HIP_ENVIRONMENT``) and
says ``runtime_version = torch.version.hip if HIP_ENVIRONMENT else torch.version.cuda``. In one file
the name is unknown, so ``torch.version.cuda`` read as a gap on ROCm; but ROCm builds always take
the other side. The lead's standard (#11): a name imported from a module of the same project where
it is bound at module level to a ROCm test is a ROCm test wherever it is imported; the side where it
is false (the ``else`` of a conditional expression or of ``if FLAG:``, the body of ``if not FLAG:``)
has rocm handled, noted with the flag's binding (``HIP_ENVIRONMENT set True for the ROCm build
(cextension.py:385)``). Only rocm: the flag says nothing about the other targets.

Two steps, as for `python_imported_flags`: each file records the flags it binds (`rocm_flag_bindings`,
the module-level reading of `python_rocm_skip_flags`: the last binding is ``True`` under a ROCm test or
a ROCm test itself, nothing else binds the name) and its matches on the false side of an imported
name (`imported_rocm_flag_uses`), both from the parse its check made anyway, carried in `FileFacts`;
the whole-project pass `project.imported_rocm_flags` joins them.

Narrow on purpose: the name is imported by ``from <module> import NAME`` at module level (no
alias) and every other spelling of it in the file is a read (no assignment, ``global``, parameter or
loop binds it); the test is the bare name (``not NAME`` for the body of an ``if``), and an ``if FLAG:``
counts only with a single ``else`` (no ``elif``).
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import PYTHON_SCOPES, RawMatch, node_text
from .python_cuda_flags import identifiers
from .python_platform_tests import classify
from .python_rocm_skip_flags import BINDINGS, is_rocm_test, or_operands, rocm_set_line


def rocm_flag_bindings(root: ts.Node) -> tuple[tuple[str, int], ...]:
    """The module-level names the file's ROCm build sets True, each with the line that does (only
    statements at the top of the module are candidates, and only a ROCm test's are read further)."""
    names: set[str] = set()
    for statement in root.named_children:
        if statement.type == "expression_statement" and statement.named_child_count == 1:
            name, value = _assigned(statement.named_children[0])
            if name is not None and value is not None and any(is_rocm_test(root, o) for o in or_operands(value)):
                names.add(name)
        elif statement.type == "if_statement" and is_rocm_test(root, statement.child_by_field_name("condition")):
            body = statement.child_by_field_name("consequence")
            for inner in body.named_children if body is not None else []:
                if inner.type == "expression_statement" and inner.named_child_count == 1:
                    name, value = _assigned(inner.named_children[0])
                    if name is not None and value is not None and value.type == "true":
                        names.add(name)
    found = ((name, rocm_set_line(root, name)) for name in sorted(names))
    return tuple((name, line) for name, line in found if line is not None)


def _assigned(node: ts.Node) -> tuple[str | None, ts.Node | None]:
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if node.type != "assignment" or left is None or left.type != "identifier":
        return None, None
    return node_text(left), right


def imported_rocm_flag_uses(root: ts.Node, kept: list[RawMatch]) -> tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...]:
    """(flag, its module as written, the (rule, line) of the matches on its false side) for each name
    imported from another module whose false side holds matches ROCm does not handle yet."""
    places: dict[str, set[tuple[str, int]]] = {}
    modules: dict[str, str | None] = {}
    for match in kept:
        if not _rocm_gap(match):
            continue
        name = _false_side_of(match.node)
        if name is None:
            continue
        if name not in modules:
            modules[name] = _imported_only(root, name)
        if modules[name] is not None:
            places.setdefault(name, set()).add((match.rule.id, match.node.start_point.row + 1))
    return tuple((name, modules[name] or "", tuple(sorted(found))) for name, found in sorted(places.items()))


def _rocm_gap(match: RawMatch) -> bool:
    info = match.rule.info_for(match.symbol.lstrip(".")).targets.get("rocm")
    return info is not None and info.status != "native" and "rocm" not in dict(match.handled)


def _false_side_of(node: ts.Node) -> str | None:
    """The bare name whose false side holds ``node``: ``a if NAME else <node>``, ``if not NAME:
    <node>``, ``if NAME: ... else: <node>``; through tests that say nothing of the platform."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type == "conditional_expression" and parent.named_child_count == 3:
            _, test, other = parent.named_children
            if child == other and test.type == "identifier":
                return node_text(test)
            if classify(test).known:
                return None
        elif parent.type in ("if_statement", "elif_clause"):
            condition = parent.child_by_field_name("condition")
            argument = condition.child_by_field_name("argument") if condition is not None \
                and condition.type == "not_operator" else None
            if child == parent.child_by_field_name("consequence") and argument is not None \
                    and argument.type == "identifier":
                return node_text(argument)
            alternatives = parent.children_by_field_name("alternative") if parent.type == "if_statement" else []
            if condition is not None and condition.type == "identifier" and len(alternatives) == 1 \
                    and alternatives[0].type == "else_clause" and child == alternatives[0]:
                return node_text(condition)
            if classify(condition).known:
                return None
        child, parent = parent, parent.parent
    return None


def _imported_only(root: ts.Node, name: str) -> str | None:
    """The module of a module-level ``from M import NAME`` when that import is the name's only
    binding in the file (every other spelling a read); None otherwise."""
    module: str | None = None
    for node in identifiers(root.text or b"", root, name):
        parent = node.parent
        holder = parent.parent if parent is not None and parent.type == "dotted_name" else None
        if holder is not None and holder.type == "import_from_statement" and holder.parent is not None \
                and holder.parent.type == "module" and parent in holder.children_by_field_name("name"):
            source = holder.child_by_field_name("module_name")
            if module is not None or source is None:
                return None
            module = node_text(source)
            continue
        if parent is None or parent.type in BINDINGS or (parent.type in ("assignment", "augmented_assignment")
                                                        and parent.child_by_field_name("left") == node):
            return None
    return module

