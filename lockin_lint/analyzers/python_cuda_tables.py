"""A table entry registered only under an NVIDIA-only test is the CUDA branch of a dispatch table.

vLLM's fusion passes (``rms_quant_fusion.py``, ``matcher_utils.py``) build their table of quant ops
and add the CUDA-only ones after it::

    QUANT_OPS: dict[QuantKey, OpOverload] = {...}
    if current_platform.is_cuda():
        QUANT_OPS[kFp8Dynamic128Sym] = torch.ops._C.per_token_group_fp8_quant.default

Nothing runs there: the line only stores a reference to the op. On any other platform the entry is
simply absent (the fusion pattern is not registered), so nothing runs on the CPU in its place. The
dispatch (`python_dispatch`) reads the ``if`` like any CUDA branch and notes the path taken when its
test is false as ``fallback path (cpu)``, with ascend/mlu/mps ``missing`` beside it: the judges called
that debatable four rounds running (docs/validation.md, #11, sixth session). The lead's standard
(seventh session): every target gets one note, ``registered only on CUDA (rms_quant_fusion.py:67);
elsewhere the entry is absent``, in place of the CPU's fallback note, so the line reads as the CUDA
branch of a dispatch table, not as code a CPU fallback replaces. The finding stays, and so do its
statuses: the note says the fusion is CUDA-only, it does not hide it.

Narrow on purpose (the near misses keep their notes):

- the ``if`` is the statement right around the match's statement (the match is in its body, not its
  test), its test reads as a platform test that may be true on NVIDIA builds only
  (``current_platform.is_cuda()``, alone or in an ``and`` with a test that names no platform; not
  ``torch.cuda.is_available()``, which ROCm passes too), and it has no ``elif`` nor ``else``;
- every statement of its body only fills a table: ``T[key] = value`` or ``T.append(value)`` /
  ``.update`` / ``.add`` / ``.extend``, with no call anywhere else in it (a body that calls the op, or
  does anything else, is code that runs, and keeps the dispatch's reading).
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .findings import CPU_FALLBACK
from .matching import RawMatch, descendants, node_text
from .python_platform_tests import classify

_FILLS = frozenset({"append", "update", "add", "extend"})
#: What stops the walk from a match up to its statement: a match inside these is no table entry.
_SCOPES = frozenset({"function_definition", "class_definition", "lambda", "module", "decorated_definition"})


def apply_cuda_tables(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with every target noted for the matches in a table entry registered only on CUDA
    (see the module's docstring); notes of a branch that names a target are kept."""
    tables: dict[int, bool] = {}  # if statement -> whether its body only fills tables, per file
    kept = []
    for match in raw:
        stmt = _table_if(match.node, tables) if match.node.type != "module" else None
        if stmt is not None:
            note = f"registered only on CUDA ({path.rsplit('/', 1)[-1]}:{stmt.start_point.row + 1}); " \
                   f"elsewhere the entry is absent"
            notes = dict(match.handled)
            notes.update({t: note for t in TARGETS if notes.get(t, CPU_FALLBACK) == CPU_FALLBACK})
            match = replace(match, handled=tuple(sorted(notes.items())))
        kept.append(match)
    return kept


def _table_if(node: ts.Node, tables: dict[int, bool]) -> ts.Node | None:
    """The NVIDIA-only ``if`` whose body holds ``node``'s statement and only fills tables, or None."""
    child, parent = node, node.parent
    while parent is not None and parent.type != "block":
        if parent.type in _SCOPES:
            return None
        child, parent = parent, parent.parent
    stmt = parent.parent if parent is not None else None
    if parent is None or stmt is None or stmt.type != "if_statement" or parent != stmt.child_by_field_name("consequence") \
            or child.type != "expression_statement":
        return None
    if stmt.id not in tables:
        tables[stmt.id] = _nvidia_only(stmt) and all(
            s.type == "comment" or _fills_table(s) for s in parent.named_children)
    return stmt if tables[stmt.id] else None


def _nvidia_only(stmt: ts.Node) -> bool:
    """An ``if`` with no ``elif``/``else`` whose test may be true on NVIDIA builds and nowhere else."""
    if stmt.children_by_field_name("alternative"):
        return False
    test = classify(stmt.child_by_field_name("condition"))
    return test.known and test.may == frozenset({"cuda"})


def _fills_table(stmt: ts.Node) -> bool:
    """``T[key] = value`` or ``T.append(value)`` (or ``update``/``add``/``extend``), calling nothing else."""
    if stmt.type != "expression_statement" or stmt.named_child_count != 1:
        return False
    expr = stmt.named_children[0]
    if expr.type == "assignment":
        left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
        return left is not None and left.type == "subscript" and right is not None and not _calls(expr)
    if expr.type == "call":
        function, arguments = expr.child_by_field_name("function"), expr.child_by_field_name("arguments")
        return function is not None and function.type == "attribute" \
            and node_text(function.child_by_field_name("attribute")) in _FILLS \
            and not _calls(function.child_by_field_name("object")) and not _calls(arguments)
    return False


def _calls(node: ts.Node | None) -> bool:
    """Does ``node`` call anything (the op itself, a helper that builds the entry)?"""
    return node is not None and any(d.type == "call" for d in descendants(node, _SCOPES))
