"""Optional imports behind an availability flag that another module of the project computes.

vLLM's ``triton_utils/__init__.py`` reads a flag from its sibling module::

    from vllm.triton_utils.importing import HAS_TRITON, TritonLanguagePlaceholder, TritonPlaceholder

    if TYPE_CHECKING or HAS_TRITON:
        import triton
        import triton.language as tl
    else:
        triton = TritonPlaceholder()
        tl = TritonLanguagePlaceholder()

``importing.py`` computes ``HAS_TRITON`` with a probe the one-file reading already accepts
(`python_probes`: ``find_spec("triton") is not None``, then ``False`` when ``triton.backends`` does not
import). Where Triton is missing the flag is False and the placeholders are bound: nothing fails, as
at the probe itself. So the imports here are handled on every target, noted "availability probe
HAS_TRITON (importing.py:12)", like the probe's own import.

One file cannot see the flag's module, so this is two steps: the check of this file records the
candidate (`flag_imports`, carried in `FileFacts.flag_imports`), and the whole-project pass
`project.imported_probes` reads the flag's module (a file of the run, else the file on disk the
import names, as ``check FILE`` and the editor see it) and asks `probe_line` whether its probe
reading accepts the flag for the package imported here.

Narrow on purpose: the ``if`` is at module level and tests the flag alone or in an ``or`` with
``TYPE_CHECKING``; its body only imports, all from one package; it has exactly one ``else`` (no
``elif``) that only assigns, binding every name the body imports (the placeholders); and the flag is
imported by name ``from <module> import FLAG`` at module level. The flag's module must set it with a
probe of that same package.
"""

from __future__ import annotations

import tree_sitter as ts

from ..model import TARGETS, FlagImport
from .matching import RawMatch
from .matching import node_text as _text
from .python_fallback_imports import _bound  # the names an import statement binds
from .python_probes import _flag_probe, _flag_value, _spec_probe, _top_package

_IMPORTS = ("import_statement", "import_from_statement")


def flag_imports(root: ts.Node, kept: list[RawMatch]) -> tuple[FlagImport, ...]:
    """The file's module-level imports behind a flag imported from another module, with the matches
    in them that some target does not handle yet."""
    found = []
    for statement in root.named_children:
        if statement.type != "if_statement" or not kept:
            continue
        candidate = _candidate(root, statement)
        if candidate is None:
            continue
        flag, module, package = candidate
        body = statement.child_by_field_name("consequence")
        places = tuple(sorted({(m.rule.id, m.node.start_point.row + 1) for m in kept if body is not None
                               and body.start_byte <= m.node.start_byte < body.end_byte
                               and len(m.handled) < len(TARGETS)}))
        if places:
            found.append(FlagImport(flag, module, package, places))
    return tuple(found)


def _candidate(root: ts.Node, statement: ts.Node) -> tuple[str, str, str] | None:
    """(flag, its module as written, the package imported) of an ``if FLAG: <imports> else:
    <placeholders>`` at module level, else None."""
    condition, body = statement.child_by_field_name("condition"), statement.child_by_field_name("consequence")
    alternatives = statement.children_by_field_name("alternative")
    flag = _flag_of(condition) if condition is not None else None
    if flag is None or body is None or len(alternatives) != 1 or alternatives[0].type != "else_clause":
        return None
    imports = [s for s in body.named_children if s.type != "comment"]
    if not imports or any(s.type not in _IMPORTS for s in imports):
        return None
    packages = {_top_package(s) for s in imports}
    names = {name for s in imports for name in _bound(s)}
    otherwise = alternatives[0].child_by_field_name("body")
    placeholders = [s for s in otherwise.named_children if s.type != "comment"] if otherwise is not None else []
    bound = {_assigned(s) for s in placeholders}
    if len(packages) != 1 or not placeholders or None in bound or not names <= bound:
        return None
    module = _imported_from(root, statement, flag)
    return (flag, module, packages.pop()) if module is not None else None


def _flag_of(condition: ts.Node) -> str | None:
    """``FLAG`` of a test that is ``FLAG``, ``TYPE_CHECKING or FLAG`` or ``FLAG or TYPE_CHECKING``."""
    if condition.type == "identifier":
        return _text(condition) if _text(condition) != "TYPE_CHECKING" else None
    if condition.type != "boolean_operator" or _text(condition.child_by_field_name("operator")) != "or":
        return None
    sides = [condition.child_by_field_name("left"), condition.child_by_field_name("right")]
    names = [_text(side) for side in sides if side is not None and side.type == "identifier"]
    others = [name for name in names if name != "TYPE_CHECKING"]
    return others[0] if len(names) == 2 and len(others) == 1 else None


def _assigned(statement: ts.Node) -> str | None:
    """``X`` of a statement that is only ``X = <value>``."""
    assignment = statement.named_children[0] if statement.type == "expression_statement" \
        and statement.named_child_count == 1 else None
    left = assignment.child_by_field_name("left") if assignment is not None and assignment.type == "assignment" \
        else None
    return _text(left) if left is not None and left.type == "identifier" else None


def _imported_from(root: ts.Node, statement: ts.Node, flag: str) -> str | None:
    """The module a module-level ``from M import FLAG`` before ``statement`` names (as written)."""
    for item in root.named_children:
        if item.start_byte >= statement.start_byte:
            break
        if item.type != "import_from_statement":
            continue
        module = item.child_by_field_name("module_name")
        if module is not None and any(n.type == "dotted_name" and _text(n) == flag
                                      for n in item.children_by_field_name("name")):
            return _text(module)
    return None


def probe_line(root: ts.Node, flag: str, package: str) -> int | None:
    """The line where a module sets ``flag`` first, when its module-level probe reading (`python_probes`)
    accepts ``flag`` as the availability of ``package``; None otherwise."""
    accepted: ts.Node | None = None
    for statement in root.named_children:
        if accepted is not None:
            break
        if statement.type == "try_statement" and _flag_probe(statement) == flag \
                and package in {_top_package(s) for s in _imports_in(statement)}:
            accepted = statement
        elif statement.type == "if_statement":
            body = statement.child_by_field_name("consequence")
            tries = [s for s in body.named_children if s.type == "try_statement"] if body is not None else []
            if any(_spec_probe(t, s) == flag for t in tries for s in _imports_in(t) if _top_package(s) == package):
                accepted = statement
    if accepted is None:
        return None
    settings = [s for s in root.named_children if _flag_value(s, flag) is not None]
    return (settings[0] if settings else accepted).start_point.row + 1


def _imports_in(try_statement: ts.Node) -> list[ts.Node]:
    body = try_statement.child_by_field_name("body")
    return [s for s in body.named_children if s.type in _IMPORTS] if body is not None else []
