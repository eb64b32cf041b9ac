"""A skip mark bound to a name and used as a bare decorator (analyzers/python_rocm_only_marks.py,
project/rocm_only_marks.py): xformers' ``@rocm_only`` (``tests/utils.py``, ``pytest.mark.skipif(not
torch.cuda.is_available() or not torch.version.hip, ...)``) makes ``test_dropout_ck`` ROCm-only: its
``device = "cuda"`` has every target but rocm handled, noted with the decorator and its binding."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

MARKS = '''import pytest
import torch

cuda_only = pytest.mark.skipif(not torch.cuda.is_available(), reason="requires CUDA")
rocm_only = pytest.mark.skipif(
    not torch.cuda.is_available() or not torch.version.hip, reason="requires ROCM"
)
{more}
'''
TESTS = '''import torch

from .utils import {name}


@{name}
def test_dropout():
    device = "cuda"
    return torch.ones(2, device=device)
'''


def _device(tmp_path: Path, ruleset: RuleSet, name: str = "rocm_only", more: str = "",
            paths: tuple[str, ...] = (".",)) -> Finding:
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "tests" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "tests" / "utils.py").write_text(MARKS.format(more=more), encoding="utf-8")
    (tmp_path / "tests" / "test_x.py").write_text(TESTS.format(name=name), encoding="utf-8")
    run = check_paths(list(paths), ruleset, None, cwd=tmp_path)
    assert not run.errors, run.errors
    return next(f for f in run.findings if f.path == "tests/test_x.py" and f.line == 8)


def _open(found: Finding) -> set[str]:
    handled = dict(found.handled)
    return {t for t, info in found.targets.items() if info.status != "native" and t not in handled}


def test_a_test_under_an_imported_rocm_only_mark_is_handled_off_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _device(tmp_path, ruleset)
    assert _open(found) == set()
    notes = {how for target, how in found.handled if target != "rocm"}
    assert notes == {"ROCm-only test (@rocm_only, utils.py:5)"}


def test_a_file_checked_alone_reads_the_mark_from_disk(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _device(tmp_path, ruleset, paths=("tests/test_x.py",))
    assert "ROCm-only test (@rocm_only, utils.py:5)" in dict(found.handled).values()


@pytest.mark.parametrize("more", [
    "hip_only = pytest.mark.skipif(not torch.version.hip, reason='x')",
    "hip_only = pytest.mark.skipif(torch.version.hip is None, reason='x')",
    "import unittest\nhip_only = unittest.skipUnless(torch.version.hip, 'x')",
    "import unittest\nhip_only = unittest.skipIf(not torch.version.hip, 'x')",
])
def test_each_rocm_only_spelling(tmp_path: Path, ruleset: RuleSet, more: str) -> None:
    assert _open(_device(tmp_path, ruleset, name="hip_only", more=more)) == set()


@pytest.mark.parametrize(("name", "more"), [
    ("cuda_only", ""),  # runs on CUDA too
    ("maybe", "maybe = pytest.mark.skipif(some_check(), reason='x')"),  # a condition nobody can read
    ("other", "other = pytest.mark.slow"),  # bound to something else
    ("either", "either = pytest.mark.skipif(torch.version.hip and FAST, reason='x')"),  # not ROCm-only
])
def test_near_misses_keep_their_targets_open(tmp_path: Path, ruleset: RuleSet, name: str, more: str) -> None:
    found = _device(tmp_path, ruleset, name=name, more=more)
    assert _open(found) and not any("ROCm-only test" in how for _, how in found.handled)


def test_a_mark_the_file_binds_itself(tmp_path: Path, ruleset: RuleSet) -> None:
    source = MARKS.format(more="") + '\n\n@rocm_only\ndef test_dropout():\n    device = "cuda"\n'
    (tmp_path / "test_own.py").write_text(source, encoding="utf-8")
    run = check_paths(["."], ruleset, None, cwd=tmp_path)
    found = next(f for f in run.findings if f.rule_id == "LL201")
    assert _open(found) == set() and "ROCm-only test (@rocm_only, test_own.py:5)" in dict(found.handled).values()
