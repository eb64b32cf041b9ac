"""A module flag that can be True only on a CUDA build is a test of the platform.

TGI's ``neox_modeling.py`` and ``bloom_modeling.py`` say::

    CUSTOM_KERNELS_ENABLED = False
    if torch.cuda.is_available() and not DISABLE_CUSTOM_KERNELS:
        try:
            from custom_kernels import fused_attention_cuda
            CUSTOM_KERNELS_ENABLED = True
        except ImportError:
            pass

and later ``if CUSTOM_KERNELS_ENABLED: fused_attention_cuda.forward(...) else: <plain PyTorch>``.
The flag's name says nothing about the platform, but the only place it becomes True is under the
CUDA test, so ``if CUSTOM_KERNELS_ENABLED:`` is true only where that test is (CUDA and ROCm builds)
and its ``else`` is what every other target runs. The flag reads as the test it was set under: true
at most where that test may be, and surely nowhere (the import may fail, the user may disable it)
(`CudaFlags`, a resolver `python_dispatch` hands to `classify`). And where such a flag (alone, or as
one operand of an ``and``) guards an ``if``/``else`` whose ``else`` spells nothing of CUDA, that
``else`` is the path of every target the flag is never True on (`apply_flag_else`): handled, noted
with the line of the ``else``.

Narrow on purpose, so that a flag something else can turn on stays unknown: every binding of the
name in the file is a plain assignment of ``True``, ``False`` or ``None`` (no augmented assignment,
loop, import, parameter or ``with`` target of that name), at least one assigns ``True``, and each
of those sits, outside any function or class, in the body of a module-level ``if`` (directly, or
inside its ``try``) whose test is true only on CUDA builds.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Iterator

import tree_sitter as ts

from ..model import TARGETS
from .findings import CPU_FALLBACK as FALLBACK
from .matching import PYTHON_SCOPES, RawMatch, conjuncts, node_text
from .python_other_paths import spells_cuda
from .python_platform_tests import CUDA_BUILDS, Test, classify
from .python_probe_locals import LocalProbes

#: Lines that set a name to True: the only candidates (most files have none, and are not walked).
#: Found from the ``= True`` (a literal search) back to the line start: a ``^`` with MULTILINE is
#: tried at every byte, 100 times slower on vLLM's files.
_TRUE = re.compile(rb"=[ \t]*True\b")
_SETS_TRUE = re.compile(rb"[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=[ \t]*True\b")
_WORD = re.compile(rb"\w")
_LITERALS = frozenset({"true", "false", "none"})
#: Parents that make an identifier a binding other than a plain assignment.
_OTHER_BINDINGS = frozenset({"augmented_assignment", "for_statement", "for_in_clause", "aliased_import",
                             "dotted_name", "parameters", "default_parameter", "typed_parameter",
                             "typed_default_parameter", "as_pattern_target", "pattern_list", "tuple_pattern",
                             "list_pattern", "named_expression", "lambda_parameters", "function_definition",
                             "class_definition", "keyword_separator"})


class CudaFlags:
    """The CUDA-only flags of one module, read on first use: a name -> `Test` resolver for `classify`."""

    def __init__(self) -> None:
        self._root: ts.Node | None = None
        self._flags: dict[str, Test] | None = None
        self._locals = LocalProbes()

    def of(self, node: ts.Node) -> Callable[[str], Test | None]:
        """The resolver for the module ``node`` is in (every node a `Dispatch` sees is in one), after
        the probes kept in locals of the scope of ``node`` (`python_probe_locals`)."""
        if self._root is None:
            self._root = node
            while self._root.parent is not None:
                self._root = self._root.parent
        return self._locals.of(node, self)

    def __call__(self, name: str) -> Test | None:
        if self._flags is None:
            root = self._root
            source = (root.text or b"") if root is not None else b""
            names = _set_true(source) if root is not None else set()
            self._flags = {}
            for candidate in sorted(names):
                test = _flag_test(source, root, candidate) if root is not None else None
                if test is not None:
                    self._flags[candidate] = test
        return self._flags.get(name)


def _set_true(source: bytes) -> set[str]:
    found = set()
    for hit in _TRUE.finditer(source):
        line = _SETS_TRUE.match(source, source.rfind(b"\n", 0, hit.start()) + 1)
        if line is not None and line.end() == hit.end():
            found.add(line.group(1).decode())
    return found


def _spellings(source: bytes, name: bytes) -> list[tuple[int, int]]:
    """Where ``name`` is spelled as a whole word (a literal search: ``\\b`` patterns are slow)."""
    found = []
    start = source.find(name)
    while start >= 0:
        end = start + len(name)
        if not (start and _WORD.match(source, start - 1)) and not _WORD.match(source, end):
            found.append((start, end))
        start = source.find(name, end)
    return found


def identifiers(source: bytes, root: ts.Node, name: str) -> Iterator[ts.Node]:
    """The identifiers spelling ``name`` (a string, a comment, an attribute of the same name is
    another thing), found by a literal search of ``source``, not a walk of the tree."""
    for span in _spellings(source, name.encode()):
        node = root.descendant_for_byte_range(*span)
        if node is not None and node.type == "identifier" and (node.start_byte, node.end_byte) == span:
            yield node


def _flag_test(source: bytes, root: ts.Node, name: str) -> Test | None:
    """What ``name`` being True says about the platform, when only a CUDA test can make it so."""
    tests: list[Test] = []
    for node in identifiers(source, root, name):
        parent = node.parent
        if parent is None or parent.type in _OTHER_BINDINGS:
            return None
        if parent.type != "assignment" or parent.child_by_field_name("left") != node:
            continue  # a read (or a `global` declaration, whose assignments are seen on their own)
        value = parent.child_by_field_name("right")
        if value is None or value.type not in _LITERALS:
            return None
        if value.type == "true":
            test = _cuda_guard(parent)
            if test is None:
                return None
            tests.append(test)
    if not tests:
        return None
    may = frozenset().union(*(t.may for t in tests))
    return Test(may, frozenset(), frozenset().union(*(t.named for t in tests)))


def _cuda_guard(assignment: ts.Node) -> Test | None:
    """The test of the module-level ``if`` whose body holds ``assignment``, when it is true only on
    CUDA builds and no function or class lies between them."""
    node = assignment
    while node.parent is not None:
        parent = node.parent
        if parent.type in PYTHON_SCOPES:
            return None
        if parent.type == "if_statement":
            if node != parent.child_by_field_name("consequence") or parent.parent is None \
                    or parent.parent.type != "module":
                return None
            test = classify(parent.child_by_field_name("condition"))
            return test if test.known and test.may <= CUDA_BUILDS else None
        if parent.type in ("elif_clause", "else_clause", "module"):
            return None
        node = parent
    return None



def _flag_names(condition: ts.Node | None) -> list[str]:
    """The bare names ``condition`` requires to be true: itself, or the operands of an ``and``."""
    return [node_text(operand) for operand in conjuncts(condition) if operand.type == "identifier"]
    if condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        return _flag_names(condition.named_children[0])
    if condition.type == "identifier":
        return [node_text(condition)]
    if condition.type == "boolean_operator" and node_text(condition.child_by_field_name("operator")) == "and":
        return _flag_names(condition.child_by_field_name("left")) + _flag_names(condition.child_by_field_name("right"))
    return []


def _flag_else(node: ts.Node, flags: CudaFlags) -> tuple[frozenset[str], ts.Node] | None:
    """The platforms a CUDA-only flag guarding the nearest ``if`` around ``node`` (in its body) may
    be True on, and that ``if``'s ``else``, when the ``else`` is the only alternative and names no CUDA."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type in ("elif_clause", "else_clause"):
            return None
        if parent.type == "if_statement":
            alternatives = parent.children_by_field_name("alternative")
            if child != parent.child_by_field_name("consequence") or len(alternatives) != 1 \
                    or alternatives[0].type != "else_clause" or spells_cuda(alternatives[0]):
                return None
            tests = [test for test in (flags.of(node)(name) for name in _flag_names(
                parent.child_by_field_name("condition"))) if test is not None]
            return (frozenset.intersection(*(t.may for t in tests)), alternatives[0]) if tests else None
        child, parent = parent, parent.parent
    return None


def apply_flag_else(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with the targets a CUDA-only flag's ``else`` runs on handled, noted with its line."""
    flags = CudaFlags()
    kept = []
    for match in raw:
        found = _flag_else(match.node, flags) if match.node.type != "module" else None
        if found is not None:
            may, otherwise = found
            note = f"else of a CUDA-only flag ({path.rsplit('/', 1)[-1]}:{otherwise.start_point.row + 1})"
            notes = dict(match.handled)
            notes.update({t: note for t in TARGETS if t not in may and notes.get(t, FALLBACK) == FALLBACK})
            match = replace(match, handled=tuple(sorted(notes.items())))
        kept.append(match)
    return kept
