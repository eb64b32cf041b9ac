"""A use of a name only an availability probe imports, behind that probe's flag, is the probe's too.

DeepSpeed's ``test_blocked_attn.py`` imports ``flash_attn_varlen_func`` in a module-level ``try`` that
sets ``validate_accuracy = True`` (``except ImportError: validate_accuracy = False``; `python_probes`
handles that import). Its one call sits under ``if validate_accuracy and ...:``: where the package is
missing the flag is False and the call never runs, so it works on every target exactly as the import
does, and gets the import's notes; so does an attribute chain rooted at a module the probe imports
(``engine.py``'s ``apex.optimizers.FusedAdam`` under ``if APEX_INSTALLED:``), for the plugin rules only
(a chain into a project's own CUDA extension, apex's ``fused_adam_cuda.maybe_cast_mt`` under its
flag, keeps `python_extension_flags`' note naming the import and the portable ``else``). Narrow on
purpose: the name is bound by nothing else at module level, and the ``if`` test is the flag alone or
an operand of an ``and`` of it (no ``not``, no ``or``); the call must sit in that ``if``'s body, not
its ``else``/``elif``.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .matching import RawMatch
from .matching import node_text as _text
from .python_probes import _flag_probe, imported_roots


def _called_name(node: ts.Node, chains: bool) -> str | None:
    """``f`` for a match on ``f(...)`` or on ``f`` itself; with ``chains``, ``m`` for one on ``m.a.b``
    or ``m.a.b(...)`` (a module the probe imports: DeepSpeed's ``apex.optimizers.FusedAdam`` under
    ``if APEX_INSTALLED:``)."""
    if node.type == "call":
        node = node.child_by_field_name("function") or node
    while chains and node.type == "attribute":
        inner = node.child_by_field_name("object")
        if inner is None or inner.type == "call":
            return None
        node = inner
    return _text(node) if node.type == "identifier" else None


def _imported_names(try_statement: ts.Node) -> set[str]:
    """The names the imports of a ``try`` body bind (``as`` names where given)."""
    body = try_statement.child_by_field_name("body")
    return imported_roots(list(body.named_children) if body is not None else [])


def _bound_elsewhere(module: ts.Node, probe: ts.Node, name: str) -> bool:
    """Whether a module-level statement other than ``probe`` binds ``name`` (def, class, import, assignment)."""
    for statement in module.named_children:
        if statement == probe:
            continue
        if statement.type in ("function_definition", "class_definition"):
            found = statement.child_by_field_name("name")
            if found is not None and _text(found) == name:
                return True
        elif statement.type in ("import_statement", "import_from_statement", "try_statement", "if_statement") \
                and name in _text(statement):
            return True
        elif statement.type == "expression_statement" and statement.named_child_count == 1 \
                and statement.named_children[0].type == "assignment":
            left = statement.named_children[0].child_by_field_name("left")
            if left is not None and name in _text(left).replace(" ", "").split(","):
                return True
    return False


def _tests_flag(test: ts.Node | None, flag: str) -> bool:
    """``flag``, ``(flag)`` or ``flag and x`` / ``x and flag``: True only where the flag is."""
    if test is None:
        return False
    if test.type == "identifier":
        return _text(test) == flag
    if test.type == "parenthesized_expression" and test.named_child_count == 1:
        return _tests_flag(test.named_children[0], flag)
    if test.type == "boolean_operator" and _text(test.child_by_field_name("operator")) == "and":
        return _tests_flag(test.child_by_field_name("left"), flag) \
            or _tests_flag(test.child_by_field_name("right"), flag)
    return False


def _guarding_flag(node: ts.Node, flags: dict[str, str], chains: bool) -> str | None:
    """The flag of ``flags`` (imported name -> flag) an ``if`` around ``node`` tests, for its name."""
    name = _called_name(node, chains)
    flag = flags.get(name) if name is not None else None
    child, parent = node, node.parent
    while flag is not None and parent is not None:
        if parent.type == "if_statement" and child == parent.child_by_field_name("consequence") \
                and _tests_flag(parent.child_by_field_name("condition"), flag):
            return flag
        child, parent = parent, parent.parent
    return None


def apply_probed_uses(raw: list[RawMatch], root: ts.Node) -> list[RawMatch]:
    """``raw`` with the uses of probed names behind their probe's flag handled on every target."""
    flags: dict[str, str] = {}
    for statement in root.named_children:
        flag = _flag_probe(statement) if statement.type == "try_statement" else None
        if flag is None:
            continue
        for name in _imported_names(statement):
            if not _bound_elsewhere(root, statement, name):
                flags[name] = flag
    if not flags:
        return raw
    kept = []
    for match in raw:
        # a chain into a project's own extension is `python_extension_flags`' (its note names the else)
        chains = match.rule.category == "plugin"
        guard = None if match.rule.match.imports else _guarding_flag(match.node, flags, chains)
        if guard is not None:
            note = f"availability probe {guard}: False where the package is missing"
            noted = {target for target, _ in match.handled}
            match = replace(match, handled=match.handled + tuple((t, note) for t in TARGETS if t not in noted))
        kept.append(match)
    return kept
