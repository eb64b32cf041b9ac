"""A CUDA extension used only where its own optional import succeeded, with a portable ``else``.

apex's ``distributed_fused_adam.py`` imports an optional extension at module level::

    _FOUND_DEPRECATED_FUSED_ADAM: bool = False
    try:
        import fused_adam_cuda
        _FOUND_DEPRECATED_FUSED_ADAM = True
    except ImportError:
        warnings.warn("Could not find recommended CUDA kernels ...")

and later calls it only behind that flag, copying with plain torch otherwise::

    if use_fused_kernel and _FOUND_DEPRECATED_FUSED_ADAM:
        dummy_overflow_buf = torch.zeros([1], dtype=torch.int32, device="cuda")
        multi_tensor_applier(fused_adam_cuda.maybe_cast_mt, dummy_overflow_buf, ...)
    else:
        for buf_in, buf_out in buffers:
            buf_out.copy_(buf_in)

The flag is True only where ``import fused_adam_cuda`` succeeded, so it is an availability test of
that extension: every target without it (any the project does not build it for) takes the ``else``,
which is portable. Nothing needs porting; the body is still reported (a reader sees the extension
named), but every target is handled, noted "optional extension import (distributed_fused_adam.py:129),
portable else".

Narrow on purpose: the flag must be one the probe reading accepts (`python_probes`: a module-level
``try`` that only imports and sets the flag True, whose ``except ImportError`` sets it False, or only
logs when the flag was preset False); the ``if`` tests the flag alone or as one operand of an ``and``
(never ``or``, never ``not``); its body calls the very extension that ``try`` imports (a match on
``EXT.<name>``: the flag is tied to what it guards); it has exactly one ``else`` (no ``elif``), and
that ``else`` neither names the extension nor spells CUDA nor holds a match of its own. Flags whose
``try`` tests the device (``torch.cuda.is_available()``) are no such probe and are read elsewhere.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .matching import PYTHON_SCOPES, RawMatch, descendants
from .matching import node_text as _text
from .python_fallback_imports import _bound  # the names an import statement binds
from .python_probes import _flag_probe

_IMPORTS = ("import_statement", "import_from_statement")
_WORDS = frozenset({"identifier", "string_content"})


def apply_extension_flags(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with the matches behind an optional extension import's flag, whose ``else`` is
    portable, handled on every target."""
    if not raw:
        return raw
    root = raw[0].node
    while root.parent is not None:
        root = root.parent
    flags = _extension_flags(root)
    if not flags:
        return raw
    name = path.rsplit("/", 1)[-1]
    guarded: dict[int, str | None] = {}  # if statement -> its note, None when it is no such guard
    for match in raw:
        branch = _flag_branch(match.node, flags)
        if branch is not None and branch[0].id not in guarded:
            guarded[branch[0].id] = _note(branch, flags, raw, name)
    if not any(guarded.values()):
        return raw
    kept = []
    for match in raw:
        branch = _flag_branch(match.node, flags)
        note = guarded.get(branch[0].id) if branch is not None else None
        if note is not None:
            noted = {target for target, _ in match.handled}
            match = replace(match, handled=match.handled + tuple((t, note) for t in TARGETS if t not in noted))
        kept.append(match)
    return kept


def _extension_flags(root: ts.Node) -> dict[str, tuple[frozenset[str], int]]:
    """The module's probe flags (``_FOUND_DEPRECATED_FUSED_ADAM``): flag -> (the names its ``try``
    imports, the line of its first import)."""
    flags: dict[str, tuple[frozenset[str], int]] = {}
    for statement in root.named_children:
        if statement.type != "try_statement" or b"import" not in (statement.text or b""):
            continue
        flag = _flag_probe(statement)
        body = statement.child_by_field_name("body")
        imports = [s for s in body.named_children if s.type in _IMPORTS] if body is not None else []
        if flag is not None and imports:
            names = frozenset(n for s in imports for n in _bound(s) if n)
            flags[flag] = (names, imports[0].start_point.row + 1)
    return flags


def _tests_flag(condition: ts.Node, flags: dict[str, tuple[frozenset[str], int]]) -> str | None:
    """The probe flag ``condition`` is, or is one operand of an ``and`` chain of."""
    if condition.type == "identifier" and _text(condition) in flags:
        return _text(condition)
    if condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        return _tests_flag(condition.named_children[0], flags)
    if condition.type == "boolean_operator" and _text(condition.child_by_field_name("operator")) == "and":
        for side in ("left", "right"):
            operand = condition.child_by_field_name(side)
            found = _tests_flag(operand, flags) if operand is not None else None
            if found is not None:
                return found
    return None


def _flag_branch(node: ts.Node, flags: dict[str, tuple[frozenset[str], int]]) -> tuple[ts.Node, str] | None:
    """The innermost ``if`` testing a probe flag whose body holds ``node``, and that flag."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type == "if_statement" and child == parent.child_by_field_name("consequence"):
            condition = parent.child_by_field_name("condition")
            flag = _tests_flag(condition, flags) if condition is not None else None
            if flag is not None:
                return parent, flag
        child, parent = parent, parent.parent
    return None


def _note(branch: tuple[ts.Node, str], flags: dict[str, tuple[frozenset[str], int]],
          raw: list[RawMatch], name: str) -> str | None:
    """The note for the matches in ``branch``'s body, or None when its ``else`` is not portable or
    its body does not call the flag's extension."""
    statement, flag = branch
    names, line = flags[flag]
    alternatives = statement.children_by_field_name("alternative")
    body, consequence = (alternatives[0].child_by_field_name("body") if len(alternatives) == 1
                         and alternatives[0].type == "else_clause" else None), \
        statement.child_by_field_name("consequence")
    if body is None or consequence is None:
        return None
    if not any(_uses(node, names) for node in descendants(consequence, PYTHON_SCOPES)):
        return None
    if any(body.start_byte <= m.node.start_byte < body.end_byte for m in raw):
        return None
    for node in descendants(body):
        text = _text(node) if node.type in _WORDS else ""
        if text in names or "cuda" in text.lower():
            return None
    return f"optional extension import ({name}:{line}), portable else"


def _uses(node: ts.Node, names: frozenset[str]) -> bool:
    """Whether ``node`` is ``EXT.<name>`` for an extension ``EXT`` of ``names``."""
    target = node.child_by_field_name("object") if node.type == "attribute" else None
    return target is not None and target.type == "identifier" and _text(target) in names
