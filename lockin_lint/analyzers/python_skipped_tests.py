"""Findings in a test that is always skipped: kept, but reported apart (``info``, out of the effort).

apex's ``TestFusedAdam.test_fp16_output`` is decorated ``@unittest.skip("No longer support output
fp16 param")`` and vLLM's ``test_awq_gemm_opcheck`` ``@pytest.mark.skip(reason="Not working; needs
investigation.")``: their ``device="cuda"`` never runs on any device, so nothing there needs porting
today; but a disabled test may come back (``"TODO: fix the accuracy issue"``), so the finding stays
(j18A, debatable; the lead's standard, docs/validation.md, seventh session). It is lowered to
``info``, every target it leaves open is handled with a note naming the decorator and its line
(``in a test that is always skipped (@unittest.skip, test_fused_optimizer.py:157)``), which keeps it
out of the effort, exactly as `model.reported_apart` does for the whole-project passes' findings
set apart (an env registry entry no code reads).

Only an unconditional skip counts: ``@unittest.skip``, ``@pytest.mark.skip`` (``mark.skip``), bare
or called with nothing but literal strings (the reason, positionally or ``reason=``); and a
``@unittest.skipIf``/``@pytest.mark.skipif`` whose one condition is the literal ``True`` or ``1``
(xformers' ``@pytest.mark.skipif(True, reason="TODO[fmassa]: Broken on nightly")``, j26A), noted
``@pytest.mark.skipif(True)``. Not ``skipUnless``/``xfail``, not a ``skipif`` on any other condition
(``False``, a CUDA test: `python_skip_guards` reads those that name a platform), not a skip with any
other argument, not ``pytest.skip(...)`` called in a body. The span is the whole decorated
definition: the test's own decorators too, since a ``@pytest.mark.parametrize("device", ["cuda"])``
value only ever reaches the skipped test (xformers' ``test_checkpoint.py:334``, j26A); never another
definition's decorators, so a class's parametrize stays when only a method is skipped. A
module-level ``pytestmark = pytest.mark.skip(...)`` (or a list holding one) skips every test of the
module: its top-level ``test*`` functions and ``Test*`` classes.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from ..model import Finding, reported_apart
from .matching import node_text

#: Where an unconditional skip decorator may start (the tree then confirms it).
_DECORATOR = re.compile(rb"@[ \t]*(?:unittest|(?:pytest[ \t]*\.[ \t]*)?mark)[ \t]*\.[ \t]*skip(?:if|If)?\b")
#: The spellings of an unconditional skip mark, spaces removed.
_SKIP = frozenset({"unittest.skip", "pytest.mark.skip", "mark.skip"})
#: The spellings of a conditional skip mark, unconditional when its condition is a literal truth.
_SKIP_IF = frozenset({"unittest.skipIf", "pytest.mark.skipif", "mark.skipif"})
_TRUTHS = frozenset({"True", "1"})
_PYTESTMARK = re.compile(rb"^pytestmark\s*=", re.MULTILINE)
_NOTE = "in a test that is always skipped"
_DEFINITIONS = frozenset({"function_definition", "class_definition"})

#: A skipped span: first and last line (1-based) and the note its findings get.
_Span = tuple[int, int, str]


def mark_skipped_tests(findings: tuple[Finding, ...], source: bytes, root: ts.Node,
                       name: str) -> tuple[Finding, ...]:
    """``findings`` with those inside an always-skipped test reported apart; ``name`` is the file's
    name as the note shows it."""
    if not findings or b"skip" not in source:
        return findings
    spans = _decorated(source, root, name) + _module_marked(source, root, name)
    if not spans:
        return findings
    return tuple(_marked(f, spans) for f in findings)


def _marked(finding: Finding, spans: list[_Span]) -> Finding:
    for first, last, note in spans:
        if first <= finding.line <= last:
            return reported_apart(finding, note)
    return finding


def _decorated(source: bytes, root: ts.Node, name: str) -> list[_Span]:
    spans = []
    for found in _DECORATOR.finditer(source):
        node: ts.Node | None = root.descendant_for_byte_range(found.start(), found.start() + 1)
        while node is not None and node.type != "decorator":
            node = node.parent
        holder = node.parent if node is not None else None
        if node is None or holder is None or holder.type != "decorated_definition" or not node.named_children:
            continue
        definition = holder.child_by_field_name("definition")
        mark = _skip_mark(node.named_children[0])
        if definition is not None and mark is not None:
            line = node.start_point.row + 1
            spans.append(_span(holder, f"{_NOTE} (@{mark}, {name}:{line})"))
    return spans


def _module_marked(source: bytes, root: ts.Node, name: str) -> list[_Span]:
    """The module's tests, when a top-level ``pytestmark`` holds an unconditional skip."""
    if b"pytestmark" not in source or not _PYTESTMARK.search(source):  # the regex has no literal to look for first
        return []
    note = None
    for statement in root.named_children:
        assignment = statement.named_children[0] if statement.type == "expression_statement" \
            and statement.named_children else None
        if assignment is None or assignment.type != "assignment" \
                or node_text(assignment.child_by_field_name("left")) != "pytestmark":
            continue
        value = assignment.child_by_field_name("right")
        marks = value.named_children if value is not None and value.type in ("list", "tuple") else [value]
        for mark in marks:
            spelled = _skip_mark(mark) if mark is not None else None
            if spelled is not None:
                note = f"{_NOTE} (pytestmark = {spelled}, {name}:{statement.start_point.row + 1})"
    if note is None:
        return []
    spans = []
    for statement in root.named_children:
        definition = statement.child_by_field_name("definition") if statement.type == "decorated_definition" \
            else statement
        if definition is None or definition.type not in _DEFINITIONS:
            continue
        title = node_text(definition.child_by_field_name("name"))
        if title.startswith("test" if definition.type == "function_definition" else "Test"):
            spans.append(_span(statement, note))
    return spans


def _span(definition: ts.Node, note: str) -> _Span:
    """The lines of a definition, or of a decorated definition with its own decorators."""
    return definition.start_point.row + 1, definition.end_point.row + 1, note


def _skip_mark(mark: ts.Node) -> str | None:
    """How an unconditional skip mark is spelled (``unittest.skip``, ``pytest.mark.skipif(True)``), or
    None: a bare skip, or one called with literal strings only (its reason), or a skip-if called
    with a literal truth first and literal strings after."""
    function = mark.child_by_field_name("function") if mark.type == "call" else mark
    spelled = node_text(function).replace(" ", "")
    if function is None or function.type != "attribute" or spelled not in _SKIP | _SKIP_IF:
        return None
    arguments = mark.child_by_field_name("arguments") if mark.type == "call" else None
    given = list(arguments.named_children) if arguments is not None else []
    if spelled in _SKIP_IF:
        if not given or given[0].type not in ("true", "integer") or node_text(given[0]) not in _TRUTHS:
            return None
        spelled, given = f"{spelled}({node_text(given[0])})", given[1:]
    for argument in given:
        value = argument.child_by_field_name("value") if argument.type == "keyword_argument" else argument
        if argument.type == "keyword_argument" and node_text(argument.child_by_field_name("name")) != "reason":
            return None
        if value is None or value.type not in ("string", "concatenated_string", "comment"):
            return None
    return spelled
