"""An operand shape of a CUDA test judged false in the fifth session's third round (docs/validation.md,
#11, sixth session, f16a): a negated guard whose CUDA test covers a collection of tensors and whose
body returns generic torch code (apex ``clip_grad.py:57``; analyzers/python_collection_tests.py).
fixtures/python/dispatch_operands.py holds the lines; these tests hold what each one says per target,
near misses included."""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter as ts
import tree_sitter_python

from lockin_lint.analyzers.python_collection_tests import collection_element
from lockin_lint.analyzers.python_dispatch import AGNOSTIC
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_FIXTURE = Path(__file__).parents[1] / "fixtures" / "python" / "dispatch_operands.py"
_SHOWN = "fixtures/python/dispatch_operands.py"
_OTHERS = ("ascend", "mlu", "musa", "xpu", "mps", "cpu")
_PARSER = ts.Parser(ts.Language(tree_sitter_python.language()))


def _fixture_lines() -> list[str]:
    return _FIXTURE.read_text().splitlines()


def _line_of(text: str) -> int:
    """1-based line of the fixture's first line containing ``text``."""
    return next(number for number, line in enumerate(_fixture_lines(), start=1) if text in line)


@pytest.fixture(scope="module")
def fixture_findings(ruleset: RuleSet) -> list[Finding]:
    result = check_bytes(_SHOWN, _FIXTURE.read_bytes(), ruleset)
    assert not result.errors, result.errors
    return list(result.findings)


def _handled_at(findings: list[Finding], text: str) -> dict[str, str]:
    line = _line_of(text)
    [found] = [f for f in findings if f.line == line]
    return dict(found.handled)


def test_a_negated_guard_over_any_tensor_on_cuda_returning_torch_code_handles_every_other_target(
        fixture_findings: list[Finding]) -> None:
    handled = _handled_at(fixture_findings, "any(g.is_cuda for g in grads)):")
    body = _line_of("return torch._foreach_mul(grads, factor)")
    assert handled == dict.fromkeys(_OTHERS, f"{AGNOSTIC} ({_SHOWN}:{body})")


@pytest.mark.parametrize("text", [
    "device = next(g.device for g in grads if g.is_cuda)",  # after the guard: read as before
    "if not (HAVE_KERNELS and any(g.is_cuda for g in grads)):",  # the body raises
    "if not (HAVE_KERNELS and all(g.is_cuda for g in grads)):",  # the body calls the project's code
])
def test_the_near_misses_of_the_guard_keep_every_target_to_port(text: str, fixture_findings: list[Finding]) -> None:
    assert _handled_at(fixture_findings, text) == {}


def test_the_guard_reading_needs_a_positive_tensor_test_in_the_collection(ruleset: RuleSet) -> None:
    source = ("import torch\ndef f(xs):\n    if not any({element} for x in xs):\n"
              "        return torch.nn.utils.clip_grad_norm_(xs, 1.0)\n    return fused(xs)\n")
    for element, handled in (("x.device.type == 'cuda'", True), ("not x.is_cuda", False),
                             ("x.device.type != 'cuda'", False), ("x.is_contiguous()", False)):
        result = check_bytes("m.py", source.format(element=element).encode(), ruleset)
        found = [f for f in result.findings if f.line == 3]
        notes = {note for f in found for note in dict(f.handled).values()}
        assert bool(notes) == handled and all(note.startswith(AGNOSTIC) for note in notes), (element, found)


@pytest.mark.parametrize(("expression", "element"), [
    ("any(p.is_cuda for p in ps)", "p.is_cuda"), ("all(t.device.type == 'cuda' for t in ts)", "t.device.type == 'cuda'"),
    ("any([p.is_cuda for p in ps])", None), ("max(p.is_cuda for p in ps)", None), ("any(flags)", None),
])
def test_collection_element(expression: str, element: str | None) -> None:
    tree = _PARSER.parse(f"{expression}\n".encode())
    node = tree.root_node.named_children[0].named_children[0]
    found = collection_element(node)
    assert (found.text.decode() if found is not None and found.text is not None else None) == element
