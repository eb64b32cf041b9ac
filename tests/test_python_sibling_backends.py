"""Sibling ``if`` statements that each register one backend (analyzers/python_sibling_backends.py;
docs/validation.md, #11, fifth session, f13c; bitsandbytes ``__init__.py:35``): the platforms the
registrations right after a CUDA-availability ``if`` test are handled; the near misses keep their
old reading."""

from __future__ import annotations

from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_XPU = "if hasattr(torch, 'xpu') and torch.xpu.is_available():\n    {xpu}\n"
_MPS = "if torch.backends.mps.is_available():\n    from .backends.mps import ops as mps_ops\n"
_SOURCE = ("import torch\n{cuda}\n    from .backends.cuda import ops as cuda_ops\n{between}"
           + _XPU + "# the Apple backend\n" + _MPS)


def _handled(ruleset: RuleSet, cuda: str = "if torch.cuda.is_available():", between: str = "",
             xpu: str = "from .backends.xpu import ops as xpu_ops") -> dict[str, str]:
    source = _SOURCE.format(cuda=cuda, between=between, xpu=xpu)
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == 2 and f.rule_id == "LL101"]
    return dict(found.handled)


def test_the_registrations_after_a_cuda_if_handle_the_platforms_they_test(ruleset: RuleSet) -> None:
    handled = _handled(ruleset)
    assert handled["xpu"] == f"{BRANCH} (m.py:4)" and handled["mps"] == f"{BRANCH} (m.py:7)"
    assert handled["cpu"] == FALLBACK and "ascend" not in handled and "musa" not in handled


def test_an_assignment_is_a_registration_too(ruleset: RuleSet) -> None:
    assert _handled(ruleset, xpu="BACKEND = 'xpu'")["xpu"] == f"{BRANCH} (m.py:4)"


def test_a_sibling_doing_other_work_ends_the_run(ruleset: RuleSet) -> None:
    for body in ("torch.xpu.synchronize()", "raise RuntimeError('xpu')", "ops = load_ops('xpu')"):
        handled = _handled(ruleset, xpu=body)
        assert "xpu" not in handled and "mps" not in handled, body


def test_a_statement_between_ends_the_run(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, between="register_default()\n")
    assert "xpu" not in handled and "mps" not in handled


def test_a_sibling_testing_no_platform_is_no_registration(ruleset: RuleSet) -> None:
    source = ("import torch\nif torch.cuda.is_available():\n    import a\nif DEBUG:\n    import b\n" + _MPS)
    [found] = [f for f in check_bytes("m.py", source.encode(), ruleset).findings if f.line == 2]
    assert "mps" not in dict(found.handled)


def test_a_cuda_if_with_an_else_is_left_to_its_else(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, between="else:\n    pass\n")
    assert "xpu" not in handled and "mps" not in handled


def test_siblings_comparing_a_subject_are_no_availability_registrations(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, cuda="if torch.cuda.is_available() and kind == 'cuda':")
    assert "xpu" not in handled and "mps" not in handled
    source = ("import torch\nif torch.cuda.is_available():\n    import a\nif kind == 'xccl':\n    import b\n")
    [found] = [f for f in check_bytes("m.py", source.encode(), ruleset).findings if f.line == 2]
    assert "xpu" not in dict(found.handled)
