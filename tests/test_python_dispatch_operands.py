"""Two operand shapes of a CUDA test judged false in the fifth session's third round (docs/validation.md,
#11, sixth session, f16a): a negated guard whose CUDA test covers a collection of tensors and whose
body returns generic torch code (apex ``clip_grad.py:57``; analyzers/python_collection_tests.py), and
another platform's test beside a CUDA test in an ``or`` that is assigned or returned (TGI
``models/__init__.py:201``; analyzers/python_or_operands.py). fixtures/python/dispatch_operands.py
holds the lines; these tests hold what each one says per target, near misses included."""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter as ts
import tree_sitter_python

from lockin_lint.analyzers.python_collection_tests import collection_element
from lockin_lint.analyzers.python_dispatch import AGNOSTIC, BRANCH, FALLBACK
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


def test_an_ipex_operand_beside_a_cuda_test_in_a_flag_handles_intel_targets(fixture_findings: list[Finding]) -> None:
    # TGI's FLASH_TRANSFORMERS_BACKEND: SYSTEM == "ipex" is Intel's extension, on XPU and Intel CPUs.
    assert _handled_at(fixture_findings, 'USE_FAST_BACKEND = ') == {"xpu": BRANCH, "cpu": BRANCH}


def test_a_platform_operand_beside_a_returned_cuda_test_handles_its_platform(fixture_findings: list[Finding]) -> None:
    assert _handled_at(fixture_findings, "return torch.cuda.is_available() or is_xpu_available()") == {"xpu": BRANCH}


@pytest.mark.parametrize("text", ['os.environ.get("FORCE_FAST")', "return not (torch.cuda.is_available()"])
def test_an_or_with_no_platform_operand_or_under_not_handles_nothing(text: str, fixture_findings: list[Finding]) -> None:
    assert _handled_at(fixture_findings, text) == {}


@pytest.mark.parametrize(("line", "handled"), [
    ("flag = not torch.cuda.is_available() or torch.xpu.is_available()", {}),  # true off CUDA
    ("flag = torch.cuda.is_available() or SYSTEM != 'xpu'", {}),  # a negative operand
    ("flag = (torch.cuda.is_available() or torch.backends.mps.is_available()) and n > 1", {"mps": BRANCH}),
    ("f(use=torch.cuda.is_available() or is_npu_available())", {"ascend": BRANCH}),
    ("flag = torch.cuda.is_available() or (SYSTEM == 'xpu' or SYSTEM == 'ipex')", {"xpu": BRANCH, "cpu": BRANCH}),
])
def test_the_or_operand_reading_per_shape(line: str, handled: dict[str, str], ruleset: RuleSet) -> None:
    result = check_bytes("m.py", f"import torch\n{line}\n".encode(), ruleset)
    [found] = [f for f in result.findings if f.line == 2 and f.rule_id == "LL101"]
    assert dict(found.handled) == handled


def test_an_or_in_an_if_keeps_the_dispatch_reading(ruleset: RuleSet) -> None:
    """The dispatch reads the ``if`` itself (cpu from the plain fallback beside the xpu branch)."""
    source = "import torch\nif torch.cuda.is_available() or torch.xpu.is_available():\n    pass\n"
    [found] = [f for f in check_bytes("m.py", source.encode(), ruleset).findings if f.line == 2]
    assert dict(found.handled) == {"xpu": BRANCH, "cpu": FALLBACK}
