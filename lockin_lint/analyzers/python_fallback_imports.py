"""An optional import that only upgrades a portable class the module already defines is no lock-in.

TGI's ``t5_modeling.py`` defines ``class T5LayerNorm(nn.Module)`` in plain torch, then::

    try:
        from apex.normalization import FusedRMSNorm
        T5LayerNorm = FusedRMSNorm
        logger.info("Discovered apex.normalization.FusedRMSNorm - will use it instead of T5LayerNorm")
    except ImportError:
        pass  # using the normal T5LayerNorm

Where apex is missing (every target it does not build for) the import fails, the handler does
nothing, and ``T5LayerNorm`` stays the portable class: nothing needs porting, yet the import and the
rebinding were read as uses of apex (``rename`` to ``torch.nn.RMSNorm`` on ascend..cpu, no note). The
apex lines are still reported (a reader sees the package named), but every target the rule does not
already call ``native`` is handled, noted "optional import, falls back to T5LayerNorm"; a ``native``
target keeps its status and replacement (ROCm builds its fork of apex, so there the import succeeds
and the fused layer is used).

Narrow on purpose (one such ``try`` in the eleven real projects of docs/validation.md): the ``try``
is at module level with no ``else`` or ``finally``; its body only imports, logs, and rebinds names
(``Y = X`` or ``Y = X.a.b``, ``X`` imported there) that the module bound before the ``try`` to a class
or function of its own, not a placeholder such as ``None``; every imported name is rebound and read
nowhere else in the module (a later use would fail without the package); and every handler only logs
or passes, one of them catching ``ImportError`` (or ``ModuleNotFoundError``) alone. A handler that
re-raises, or that sets something else, is a different construct and stays as it was.

The portable class may also be defined in the handler itself (DeepSpeed's ``tests/unit/modeling.py``:
``BertLayerNorm = apex.normalization.FusedLayerNorm`` in the ``try``; ``print(...)`` then a pure-torch
``class BertLayerNorm(nn.Module)`` under ``except ImportError``): then every handler must define, with
a plain ``class``/``def`` that does not read what the ``try`` imports, exactly the names the body
rebinds (eighth session, fH).

A private placeholder read nowhere is no use either: ``try: from triton.tools.disasm import extract as
_extract`` / ``except ImportError: _extract = None``, with ``_extract`` read nowhere in the module,
defines nothing the code runs, so every target the rule does not call ``native`` is handled, noted
"optional import, unused". Only a name with a leading underscore: another module may import a public
one (``from pkg.utils import extract``) and call it, which a check of one file cannot see, so
flash-attention's public ``extract`` (``flash_attn/cute/cute_dsl_utils.py``) is no more than a
candidate here (`public_unused_imports`, carried in `FileFacts.unused_imports`): the whole-project
pass `project.unused_imports` handles it the same way when no other file of the run imports the name
(fifth session, j8B: ``extract`` is imported nowhere in flash-attention). A public name the module
spells in a string (``__all__ = ["extract"]``) is exported on purpose and never a candidate.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..model import UnusedImport
from .matching import RawMatch
from .matching import node_text as _text
from .python_mentions import only_diagnostic_statement
from .python_probes import IMPORT_ERRORS, except_clauses, reads_name

_IMPORTS = ("import_statement", "import_from_statement")
_DEFINITIONS = ("class_definition", "function_definition")


def apply_fallback_imports(raw: list[RawMatch]) -> list[RawMatch]:
    """``raw`` with the matches inside an optional import with a portable fallback handled."""
    kept = []
    seen: dict[int, str | None] = {}  # try statement -> its note, None when it is no optional import
    for match in raw:
        try_statement = _module_try(match.node)
        if try_statement is not None and try_statement.id not in seen:
            names = _fallback(try_statement)
            seen[try_statement.id] = f"optional import, falls back to {names}" if names is not None \
                else "optional import, unused" if _unused_placeholders(try_statement) else None
        note = seen.get(try_statement.id) if try_statement is not None else None
        if note is not None:
            statuses = match.rule.info_for(match.symbol.lstrip(".")).targets
            noted = {target for target, _ in match.handled}
            added = tuple((target, note) for target, info in statuses.items()
                          if info.status != "native" and target not in noted)
            match = replace(match, handled=match.handled + added)
        kept.append(match)
    return kept


def public_unused_imports(kept: list[RawMatch], source: bytes) -> tuple[UnusedImport, ...]:
    """The optional imports of public names set to ``None`` on failure and read nowhere in the module
    that hold a kept match, for the whole-project pass to confirm (no other file imports them)."""
    found: dict[int, tuple[ts.Node, tuple[str, ...], list[tuple[str, int]]]] = {}
    rejected: set[int] = set()
    for match in kept:
        try_statement = _module_try(match.node)
        if try_statement is None or try_statement.id in rejected:
            continue
        if try_statement.id not in found:
            names = _placeholder_names(try_statement)
            if names is None or all(n.startswith("_") for n in names) or any(
                    f'"{n}"'.encode() in source or f"'{n}'".encode() in source for n in names):
                rejected.add(try_statement.id)
                continue
            found[try_statement.id] = (try_statement, tuple(sorted(names)), [])
        found[try_statement.id][2].append((match.rule.id, match.node.start_point[0] + 1))
    return tuple(UnusedImport(names, tuple(places), stmt.start_point[0] + 1) for stmt, names, places in found.values())


def _module_try(node: ts.Node) -> ts.Node | None:
    """The module-level ``try`` whose body holds ``node``, if any."""
    child, parent = node, node.parent
    while parent is not None and parent.type != "module":
        child, parent = parent, parent.parent
    if parent is None or child.type != "try_statement":
        return None
    body = child.child_by_field_name("body")
    return child if body is not None and body.start_byte <= node.start_byte and node.end_byte <= body.end_byte \
        else None


def _fallback(try_statement: ts.Node) -> str | None:
    """The portable names (``T5LayerNorm``) the ``try`` rebinds to what it imports, when it is such an
    optional import; None otherwise."""
    module, body = try_statement.parent, try_statement.child_by_field_name("body")
    if module is None or body is None or any(c.type in ("else_clause", "finally_clause")
                                             for c in try_statement.named_children):
        return None
    statements = [s for s in body.named_children if s.type != "comment"]
    imported = {name for s in statements if s.type in _IMPORTS for name in _bound(s)}
    clauses = except_clauses(try_statement)
    in_handlers = [_definitions(inner) for _, inner in clauses]
    own = set.intersection(*in_handlers) if in_handlers else set()
    defined = _defined_before(module, try_statement) | own
    rebound: dict[str, str] = {}  # imported name -> the portable name it replaces
    for statement in statements:
        pair = _rebinding(statement)
        if pair is not None and pair[1] in imported and pair[0] in defined:
            rebound[pair[1]] = pair[0]
        elif statement.type not in _IMPORTS and not only_diagnostic_statement(statement):
            return None
    others = [s for s in module.named_children if s != try_statement]
    if not imported or set(rebound) != imported or any(reads_name(s, n) for n in imported for s in others):
        return None
    quiet = all(all(s.type == "pass_statement" or only_diagnostic_statement(s) or (
        s in _definition_nodes(inner) and not any(reads_name(s, n) for n in imported)) for s in inner)
        for _, inner in clauses)
    if not quiet or not any(names and names <= IMPORT_ERRORS for names, _ in clauses) \
            or any(names and names != set(rebound.values()) for names in in_handlers):
        return None
    return ", ".join(sorted(set(rebound.values())))


def _unused_placeholders(try_statement: ts.Node) -> bool:
    """Does the ``try`` only import private names that its ``except ImportError`` sets to ``None``
    and the module reads nowhere else?"""
    names = _placeholder_names(try_statement)
    return names is not None and all(name.startswith("_") for name in names)


def _placeholder_names(try_statement: ts.Node) -> set[str] | None:
    """The names the ``try`` only imports, that its ``except ImportError`` sets to ``None`` and the
    module reads nowhere else; None when it is no such ``try``."""
    module, body = try_statement.parent, try_statement.child_by_field_name("body")
    if module is None or body is None or any(c.type in ("else_clause", "finally_clause")
                                             for c in try_statement.named_children):
        return None
    statements = [s for s in body.named_children if s.type != "comment"]
    if any(s.type not in _IMPORTS and not only_diagnostic_statement(s) for s in statements):
        return None
    imported = {name for s in statements if s.type in _IMPORTS for name in _bound(s)}
    if not imported or "" in imported:
        return None
    others = [s for s in module.named_children if s != try_statement]
    if any(reads_name(s, n) for n in imported for s in others):
        return None
    clauses = except_clauses(try_statement)
    for names, inner in clauses:
        placeholders = {_placeholder(s) for s in inner} - {None}
        quiet = all(_placeholder(s) in imported or s.type == "pass_statement" or only_diagnostic_statement(s)
                    for s in inner)
        if not quiet or not names or not names <= IMPORT_ERRORS or placeholders != imported:
            return None
    return imported if clauses else None


def _placeholder(statement: ts.Node) -> str | None:
    """``X`` of a statement that is only ``X = None``."""
    sides = _sole_assignment(statement)
    return _text(sides[0]) if sides is not None and sides[0].type == "identifier" and sides[1].type == "none" \
        else None


def _bound(statement: ts.Node) -> list[str]:
    """The names an import statement binds (``Y`` of ``from m import X as Y``; ``m`` of ``import m.n``)."""
    names = []
    for name in statement.children_by_field_name("name"):
        if name.type == "aliased_import":
            alias = name.child_by_field_name("alias")
            names.append(_text(alias) if alias is not None else "")
        else:
            names.append(_text(name).split(".")[0] if statement.type == "import_statement" else _text(name))
    return names


def _rebinding(statement: ts.Node) -> tuple[str, str] | None:
    """``(Y, X)`` of a statement that is only ``Y = X`` or ``Y = X.a.b`` (DeepSpeed's ``BertLayerNorm
    = apex.normalization.FusedLayerNorm``), ``Y`` and ``X`` plain names."""
    sides = _sole_assignment(statement)
    root = sides[1] if sides is not None else None
    while root is not None and root.type == "attribute":
        root = root.child_by_field_name("object")
    if sides is None or sides[0].type != "identifier" or root is None or root.type != "identifier":
        return None
    return _text(sides[0]), _text(root)


def _sole_assignment(statement: ts.Node) -> tuple[ts.Node, ts.Node] | None:
    """The two sides of a statement that is only one assignment ``left = right``."""
    assignment = statement.named_children[0] if statement.type == "expression_statement" \
        and statement.named_child_count == 1 else None
    if assignment is None or assignment.type != "assignment":
        return None
    left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
    return (left, right) if left is not None and right is not None else None


def _definition_nodes(statements: list[ts.Node]) -> list[ts.Node]:
    """The plain (undecorated) ``class``/``def`` statements among ``statements``."""
    return [s for s in statements if s.type in _DEFINITIONS]


def _definitions(statements: list[ts.Node]) -> set[str]:
    """The names the plain ``class``/``def`` statements among ``statements`` define (a handler's
    portable fallback: DeepSpeed's ``tests/unit/modeling.py`` defines ``class BertLayerNorm`` in
    pure torch under ``except ImportError``)."""
    names = (s.child_by_field_name("name") for s in _definition_nodes(statements))
    return {_text(name) for name in names if name is not None}


def _defined_before(module: ts.Node, try_statement: ts.Node) -> set[str]:
    """The names the module defines as classes or functions before the ``try``."""
    names = set()
    for statement in module.named_children:
        if statement.start_byte >= try_statement.start_byte:
            break
        definition = statement.child_by_field_name("definition") if statement.type == "decorated_definition" \
            else statement
        name = definition.child_by_field_name("name") if definition is not None \
            and definition.type in _DEFINITIONS else None
        if name is not None:
            names.add(_text(name))
    return names
