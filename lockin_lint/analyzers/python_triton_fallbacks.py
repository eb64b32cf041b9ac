"""A Triton kernel behind its import's availability flag, whose launcher falls back to plain torch,
does not lock out a target Triton cannot be installed on.

DeepSpeed's ``moe/ep_kernels.py`` probes Triton (``_TRITON_AVAILABLE = False``, ``try: import
triton ... _TRITON_AVAILABLE = True except ImportError: ...``; `python_probes` handles the import),
defines ``@triton.jit _fill_indices_kernel`` under ``if _TRITON_AVAILABLE:``, and launches it from
``fill_indices_wrapper``, which first says ``if not _TRITON_AVAILABLE: return fill_indices_cpu(...)``,
a pure-PyTorch reference. The kernel (LL702) reads ``missing`` on mps and cpu, the targets without a
Triton backend. The judges called that debatable four rounds running (docs/validation.md, #11, sixth
session): where Triton is absent the project runs its own fallback and never fails. The lead's
standard (seventh session): credit the targets on which Triton *cannot be installed*, noted
``portable fallback without Triton (ep_kernels.py:122)`` with the line of the launcher's test.

Only MPS is such a target: Triton publishes wheels for Linux alone, and an MPS host is a Mac. cpu
keeps ``missing``: ``pip install triton`` works on a CPU-only Linux host, the flag is then True, and
the launcher starts the kernel on host tensors, which fails (upstream Triton has no CPU backend). A
target is credited only where the knowledge base calls the kernel ``missing`` there, so a status
that already says a Triton backend exists is left alone.

Narrow on purpose:

- the flag is set by a module-level availability probe (`python_probes._flag_probe`) whose ``try``
  imports ``triton``; the kernel is a function defined directly in the body of a module-level
  ``if FLAG:`` with no ``elif``/``else``, and the match is in its decorators;
- the kernel's name is read somewhere else in the module, and every such read sits in a module-level
  function whose body, before the read, holds ``if not FLAG: return FALLBACK(...)``, where
  ``FALLBACK`` is a function of the same module that spells neither Triton nor CUDA.
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from .matching import RawMatch, descendants, node_text
from .python_other_paths import spells_cuda
from .python_probes import _flag_probe

#: Targets no Triton can be installed on (Triton's wheels are Linux-only; MPS runs on macOS).
NO_TRITON: frozenset[str] = frozenset({"mps"})
_NOTE = "portable fallback without Triton"


def apply_triton_fallbacks(raw: list[RawMatch], root: ts.Node, path: str) -> list[RawMatch]:
    """``raw`` with the targets of `NO_TRITON` handled for a Triton kernel whose every launch has a
    portable fallback where its availability flag is False (see the module's docstring)."""
    if not any(m.symbol.startswith("triton.") for m in raw):
        return raw
    flags = _triton_flags(root)
    if not flags:
        return raw
    kept = []
    for match in raw:
        line = _fallback_line(match.node, flags, root) if match.symbol.startswith("triton.") else None
        if line is not None:
            notes = dict(match.handled)
            statuses = match.rule.info_for(match.symbol).targets
            notes.update({t: f"{_NOTE} ({path.rsplit('/', 1)[-1]}:{line})" for t in sorted(NO_TRITON)
                          if t not in notes and t in statuses and statuses[t].status == "missing"})
            match = replace(match, handled=tuple(sorted(notes.items())))
        kept.append(match)
    return kept


def _triton_flags(root: ts.Node) -> frozenset[str]:
    """The flags of the module-level availability probes that import Triton."""
    found = set()
    for statement in root.named_children:
        if statement.type == "try_statement" and _imports_triton(statement):
            flag = _flag_probe(statement)
            if flag is not None:
                found.add(flag)
    return frozenset(found)


def _imports_triton(try_statement: ts.Node) -> bool:
    body = try_statement.child_by_field_name("body")
    for statement in body.named_children if body is not None else []:
        if statement.type == "import_statement" and any(
                node_text(n.child_by_field_name("name") if n.type == "aliased_import" else n).split(".")[0] == "triton"
                for n in statement.children_by_field_name("name")):
            return True
        if statement.type == "import_from_statement" and \
                node_text(statement.child_by_field_name("module_name")).split(".")[0] == "triton":
            return True
    return False


def _fallback_line(node: ts.Node, flags: frozenset[str], root: ts.Node) -> int | None:
    """The line of the launchers' ``if not FLAG:`` when ``node`` is in the decorators of a kernel
    defined under ``if FLAG:`` whose every launch falls back first, or None."""
    decorator = node
    while decorator.parent is not None and decorator.type != "decorator":
        decorator = decorator.parent
    definition = decorator.parent
    if decorator.type != "decorator" or definition is None or definition.type != "decorated_definition":
        return None
    kernel = definition.child_by_field_name("definition")
    block = definition.parent
    stmt = block.parent if block is not None else None
    if kernel is None or kernel.type != "function_definition" or stmt is None or stmt.type != "if_statement" \
            or stmt.parent != root or block != stmt.child_by_field_name("consequence") \
            or stmt.children_by_field_name("alternative"):
        return None
    flag = node_text(stmt.child_by_field_name("condition"))
    if flag not in flags:
        return None
    return _launch_fallbacks(node_text(kernel.child_by_field_name("name")), flag, definition, root)


def _launch_fallbacks(kernel: str, flag: str, definition: ts.Node, root: ts.Node) -> int | None:
    """The line of the first launcher's ``if not FLAG: return fallback(...)`` when every read of
    ``kernel`` outside its definition follows one in its module-level function, or None."""
    lines = []
    for statement in root.named_children:
        if statement.start_byte <= definition.start_byte < statement.end_byte:
            continue  # the `if FLAG:` that defines the kernel
        reads = [n for n in descendants(statement) if n.type == "identifier" and node_text(n) == kernel]
        if not reads:
            continue
        if statement.type != "function_definition":
            return None
        guard = _early_fallback(statement, flag, root)
        if guard is None or any(read.start_byte < guard.end_byte for read in reads):
            return None
        lines.append(guard.start_point.row + 1)
    return min(lines) if lines else None


def _early_fallback(function: ts.Node, flag: str, root: ts.Node) -> ts.Node | None:
    """The ``if not FLAG: return fallback(...)`` among ``function``'s top-level statements, when
    ``fallback`` is a module-level function that spells neither Triton nor CUDA."""
    body = function.child_by_field_name("body")
    for stmt in body.named_children if body is not None else []:
        if stmt.type != "if_statement" or stmt.children_by_field_name("alternative"):
            continue
        condition = stmt.child_by_field_name("condition")
        if condition is None or condition.type != "not_operator" \
                or node_text(condition.child_by_field_name("argument")) != flag:
            continue
        consequence = stmt.child_by_field_name("consequence")
        statements = [s for s in consequence.named_children if s.type != "comment"] if consequence is not None else []
        value = statements[-1].named_children[0] if statements and statements[-1].type == "return_statement" \
            and statements[-1].named_child_count == 1 else None
        if value is not None and value.type == "call" and _portable(node_text(value.child_by_field_name("function")), root):
            return stmt
    return None


def _portable(name: str, root: ts.Node) -> bool:
    """Is ``name`` a module-level function of this file that spells neither Triton nor CUDA?"""
    for statement in root.named_children:
        if statement.type == "function_definition" and node_text(statement.child_by_field_name("name")) == name:
            return not spells_cuda(statement) and "triton" not in node_text(statement) \
                and "tl." not in node_text(statement)
    return False
