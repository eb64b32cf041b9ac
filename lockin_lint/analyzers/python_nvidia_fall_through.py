"""The portable path after an NVIDIA-only test is ROCm's path too.

vLLM's ``int8_utils.py`` quantizes per token group with::

    if current_platform.is_cuda():
        torch.ops._C.per_token_group_quant_int8(x, x_q, x_s, ...)
        return x_q, x_s

    M = x.numel() // group_size
    ...
    _per_token_group_quant_int8[(M,)](x, x_q, x_s, ...)   # a Triton kernel
    return x_q, x_s

``current_platform.is_cuda()`` is true on NVIDIA builds only (``is_cuda_alike()`` is vLLM's test that
takes ROCm too; `python_platform_tests` reads both so, as it reads ``torch.version.cuda`` and
setup.py's ``_is_cuda()``), so a ROCm build never reaches the CUDA call: it runs the Triton kernel
after the ``if``. The dispatch (`python_dispatch`) credits the path a test falls through to with
``cpu`` alone, which is right after ``torch.cuda.is_available()`` (true on ROCm too, so ROCm takes the
CUDA side); after an NVIDIA-only test ROCm falls through as well, and the extension's rocm
``equivalent`` ("hipify it") described a port nobody needs (j15B, docs/validation.md, #11, sixth
session). So rocm is handled there, noted ``fall-through of an NVIDIA-only test (int8_utils.py:236)``
with the first line of that path.

Narrow on purpose, so that a test read wrongly or a path that is no real implementation keeps the
finding as it was:

- the nearest ``if`` around the match whose test reads as a platform test has the match in its body
  (not its test, nor an ``elif``/``else``), no ``elif``, and a test that may be true on NVIDIA
  builds and never on ROCm (``torch.cuda.is_available()``, ``is_cuda_alike()`` and a tensor's
  ``x.is_cuda`` are true on ROCm too and change nothing);
- the path is the ``else`` of that ``if``, or, with no ``else``, the statements after it in the same
  block, when the body ends in a ``return``;
- that path does work (a call given arguments that is not a print, log or warning), raises nothing at its top
  level, and spells neither CUDA (a name, ``nccl``, ``gpu``, even in a comment: a fall-through that
  is CUDA again is no other path, as `python_fall_through` reads it for cpu) nor the CPU (``"cpu"``,
  ``.cpu()``: a ROCm build sent to the CPU is lock-in, the test's);
- the dispatch already handles cpu there (it saw a live fall-through: no ``else`` that only
  raises, no crash without CUDA).
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from .matching import PYTHON_SCOPES, RawMatch, descendants, node_text
from .python_mentions import only_diagnostic_statement
from .python_other_paths import spells_cuda
from .python_platform_tests import classify

#: The CPU spelled as a device (``"cpu"``, ``'cpu:0'``) or a move there (``.cpu()``).
_CPU = re.compile(r"""(?i)["']cpu(?::\d+)?["']|\.cpu\(""")
#: A tensor's ``is_cuda`` property (not vLLM's ``is_cuda()`` method): `classify` reads the name alone.
_TENSOR_IS_CUDA = re.compile(r"\.is_cuda\b(?!\s*\()")
_NOTE = "fall-through of an NVIDIA-only test"


def apply_nvidia_fall_through(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with rocm handled for the matches in the body of an NVIDIA-only test whose other
    path is portable code (see the module's docstring)."""
    paths: dict[int, ts.Node | None] = {}  # if statement -> ROCm's path, per file
    kept = []
    for match in raw:
        notes = dict(match.handled)
        if "cpu" in notes and "rocm" not in notes and match.node.type != "module":
            found = _rocm_path(match.node, paths)
            if found is not None:
                notes["rocm"] = f"{_NOTE} ({path.rsplit('/', 1)[-1]}:{found.start_point.row + 1})"
                match = replace(match, handled=tuple(sorted(notes.items())))
        kept.append(match)
    return kept


def _rocm_path(node: ts.Node, paths: dict[int, ts.Node | None]) -> ts.Node | None:
    """The first statement of the portable path ROCm takes past the NVIDIA-only ``if`` around
    ``node``, or None."""
    stmt = nvidia_only_if(node)
    if stmt is None:
        return None
    if stmt.id not in paths:
        paths[stmt.id] = _portable_path(stmt)
    return paths[stmt.id]


def nvidia_only_if(node: ts.Node) -> ts.Node | None:
    """The ``if`` whose body holds ``node`` (within its function) when that is the nearest ``if``
    around it whose test reads as a platform test, and that test may be true on NVIDIA builds and
    never on ROCm (``current_platform.is_cuda()``, ``torch.version.cuda is not None``): ROCm never
    runs ``node``. An ``if`` whose test says nothing of the platform is passed through, its test
    included (``if _is_cuda(): if flag or get_nvcc_cuda_version() >= v:``), and so are its ``elif``
    and ``else``; ``node`` in the ``elif`` or ``else`` of a platform test, or in the test itself,
    gives None."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type in ("elif_clause", "else_clause"):
            stmt = parent.parent
            if stmt is None or any(classify(c).known for c in _conditions(stmt)):
                return None
            child, parent = stmt, stmt.parent
            continue
        if parent.type == "if_statement":
            condition = parent.child_by_field_name("condition")
            test = classify(condition)
            if test.known and _TENSOR_IS_CUDA.search(node_text(condition)):
                return None  # a tensor's `x.is_cuda` is true on ROCm builds too
            if test.known:
                nvidia = "cuda" in test.may and "rocm" not in test.may
                return parent if nvidia and child == parent.child_by_field_name("consequence") else None
        child, parent = parent, parent.parent
    return None


def _portable_path(stmt: ts.Node) -> ts.Node | None:
    """The first statement of the path taken when ``stmt``'s test is false, when that path is
    portable work (the module's docstring says what counts)."""
    alternatives = stmt.children_by_field_name("alternative")
    if len(alternatives) > 1 or (alternatives and alternatives[0].type != "else_clause"):
        return None
    if alternatives:
        body = alternatives[0].child_by_field_name("body")
        statements = _statements(body)
    else:
        own = _statements(stmt.child_by_field_name("consequence"))
        if not own or own[-1].type != "return_statement" or stmt.parent is None or stmt.parent.type != "block":
            return None
        statements = [s for s in _statements(stmt.parent) if s.start_byte >= stmt.end_byte]
    if not statements or any(s.type == "raise_statement" for s in statements) or any(
            spells_cuda(s) or _CPU.search(node_text(s)) for s in _with_comments(statements)):
        return None
    works = any(call.type == "call" and _has_arguments(call) and not _reports(call) for s in statements
                for call in descendants(s, PYTHON_SCOPES))
    return statements[0] if works else None


def _with_comments(statements: list[ts.Node]) -> list[ts.Node]:
    """``statements`` and the comments between them (``# no GPU kernel here`` says what the path is)."""
    parent = statements[0].parent
    return [s for s in parent.named_children if statements[0].start_byte <= s.start_byte <= statements[-1].start_byte] \
        if parent is not None else statements


def _has_arguments(call: ts.Node) -> bool:
    """A call given something to work on (``kernel[(m,)](x, y)``), not a query such as ``x.numel()``."""
    args = call.child_by_field_name("arguments")
    return args is not None and any(a.type != "comment" for a in args.named_children)


def _conditions(stmt: ts.Node) -> list[ts.Node | None]:
    return [stmt.child_by_field_name("condition")] + [
        a.child_by_field_name("condition") for a in stmt.children_by_field_name("alternative") if a.type == "elif_clause"]


def _statements(block: ts.Node | None) -> list[ts.Node]:
    return [s for s in block.named_children if s.type != "comment"] if block is not None else []


def _reports(call: ts.Node) -> bool:
    """Is ``call`` a print, log or warning (`python_mentions`' reading of such a statement)?"""
    parent = call.parent
    return parent is not None and parent.type == "expression_statement" and only_diagnostic_statement(parent)
