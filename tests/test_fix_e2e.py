"""End to end on a real PyTorch (CI installs a CPU build of torch 2.13, `.ci/run`): a CUDA-only
training script fails on it as written; after ``check --fix --unsafe-fixes`` it runs and prints the
same numbers as the device-agnostic version ported by hand. Skipped where torch is not installed."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
SCRIPTS = FIXTURES / "fixes" / "e2e"


def _python(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script)], cwd=script.parent, capture_output=True, text=True,
                          timeout=300, check=False)


def test_fixed_cuda_script_runs_on_cpu_and_matches_the_hand_port(tmp_path: Path) -> None:
    script = tmp_path / "train_cuda.py"
    shutil.copy(SCRIPTS / "train_cuda.py", script)
    as_written = _python(script)
    assert as_written.returncode != 0, "the CUDA-only script should fail on a CPU-only torch"

    fix = subprocess.run([sys.executable, "-m", "lockin_lint", "check", "--fix", "--unsafe-fixes", "--no-cache",
                          script.name], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert fix.returncode == 0, fix.stdout + fix.stderr  # nothing left
    assert "torch.cuda" not in script.read_text(encoding="utf-8")

    fixed = _python(script)
    assert fixed.returncode == 0, fixed.stderr
    ported = _python(SCRIPTS / "train_ported.py")
    assert ported.returncode == 0, ported.stderr
    assert fixed.stdout == ported.stdout
    assert "step 3: loss" in fixed.stdout
