"""Code after a guard that sends every device but CUDA to a plain exit (analyzers/python_cuda_exits.py),
directly or one call up (analyzers/python_callers.py, project/rocm_callers.py): every target but ROCm
is handled after a plain or generic torch exit; a raise, a warning, a failure flag, a call of project
code, a bare return from a function that only does things, a finding before the guard and a guard that
is no platform test keep today's reading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

FIXTURE = Path(__file__).parents[1] / "fixtures" / "python" / "cuda_exits.py"
_OTHERS = {"ascend", "mlu", "musa", "xpu", "mps", "cpu"}


def _lines() -> list[str]:
    return FIXTURE.read_text(encoding="utf-8").splitlines()


def _in(function: str) -> int:
    """The line (1-based) of the first finding annotated in ``function`` of the fixture, the guard's
    own aside."""
    lines = _lines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(f"def {function}("))
    return next(i for i in range(start, len(lines))
                if "# ruleid:" in lines[i] and "the guard itself" not in lines[i]) + 2


def _line_of(text: str) -> int:
    return next(i for i, line in enumerate(_lines()) if line.strip() == text) + 1


@pytest.fixture(scope="module")
def findings(ruleset: RuleSet, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Finding]:
    root = tmp_path_factory.mktemp("exits")
    shutil.copy(FIXTURE, root / "cuda_exits.py")
    run = check_paths(["."], ruleset, cwd=root)
    assert not run.errors, run.errors
    return {f.line: f for f in run.findings if f.rule_id.startswith(("LL1", "LL2")) and f.rule_id != "LL121"}


def test_a_callee_reached_only_past_a_generic_torch_exit_is_handled_everywhere_but_rocm(
        findings: dict[int, Finding]) -> None:
    # apex's FusedLayerNorm.forward: `if ... or not input.is_cuda: return F.layer_norm(...)`
    handled = dict(findings[_in("blocked_norm")].handled)
    exit_line = _line_of("return F.group_norm(x, self.groups, self.weight, self.bias, self.eps)")
    assert set(handled) >= _OTHERS and "rocm" not in handled
    assert all(note.startswith("callers run it only on CUDA (cuda_exits.py:") and
               note.endswith(f"other devices take the device-agnostic path at line {exit_line})")
               for note in handled.values())


def test_a_callee_reached_only_past_a_same_file_tensor_math_helper_is_handled_everywhere_but_rocm(
        findings: dict[int, Finding]) -> None:
    # apex's FusedRMSNorm.forward: `if ... or not input.is_cuda: return manual_rms_norm(...)`
    handled = dict(findings[_in("blocked_rms")].handled)
    assert set(handled) >= _OTHERS and "rocm" not in handled


def test_a_callee_past_a_helper_calling_project_code_keeps_only_the_cpu(findings: dict[int, Finding]) -> None:
    assert dict(findings[_in("blocked_rms_staged")].handled).keys() == {"cpu"}


def test_a_callee_reached_only_past_a_plain_none_is_handled_everywhere_but_rocm(
        findings: dict[int, Finding]) -> None:
    # bitsandbytes' get_cuda_specs: `if not torch.cuda.is_available(): return None`
    handled = dict(findings[_in("peak_capabilities")].handled)
    assert set(handled) >= _OTHERS and "rocm" not in handled


def test_code_past_a_plain_false_in_its_own_function_is_handled_everywhere_but_rocm(
        findings: dict[int, Finding]) -> None:
    # vLLM's should_use_atomic_add_reduce: `if ... or device.type != "cuda": return False`
    handled = dict(findings[_in("use_fast_reduce")].handled)
    exit_line = _line_of("return False")
    assert set(handled) >= _OTHERS and "rocm" not in handled
    assert handled["xpu"] == handled["cpu"] == f"device-agnostic else (cuda_exits.py:{exit_line})"


def test_a_callee_past_a_warning_keeps_only_the_cpu(findings: dict[int, Finding]) -> None:
    assert dict(findings[_in("blocked_norm_warned")].handled).keys() == {"cpu"}


@pytest.mark.parametrize("function", ["require_memory", "start_allocator", "start_symmetric_memory",
                                      "synchronize_all", "capability_or_nothing", "own_kernel", "capability_first",
                                      "when_enabled"])
def test_an_exit_that_refuses_or_drops_a_feature_handles_no_accelerator(
        function: str, findings: dict[int, Finding]) -> None:
    handled = dict(findings[_in(function)].handled)
    assert not _OTHERS - {"cpu"} & set(handled), handled
