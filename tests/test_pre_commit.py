"""The pre-commit hook, run the way users run it: `pre-commit try-repo` on a throwaway repository.

Slow (pre-commit builds the hook's virtualenv from this checkout), but CI runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_hook_fails_on_lock_in_and_passes_after_the_fix(tmp_path: Path) -> None:
    """Source files and the staged requirements file and Dockerfile: the hook sees every kind."""
    pre_commit = Path(sys.executable).with_name("pre-commit")
    if not pre_commit.exists() or shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs pre-commit (test extras), git and a git checkout")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "train.py").write_text("import torch\n\ntorch.cuda.synchronize()\n", encoding="utf-8")
    (repo / "clean.py").write_text("import torch\n\nx = torch.ones(2)\n", encoding="utf-8")
    (repo / "kernel.cu").write_text("__global__ void k(float* x) { x[0] = 1; }\n", encoding="utf-8")
    (repo / "requirements.txt").write_text("numpy>=1.26\ncupy-cuda12x==13.0.0\n", encoding="utf-8")
    (repo / "Dockerfile").write_text("FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\n", encoding="utf-8")
    for command in (["git", "init", "-q"], ["git", "add", "."]):
        assert _run(command, repo, env).returncode == 0
    try_repo = [str(pre_commit), "try-repo", str(REPO), "lockin-lint", "--all-files"]

    failing = _run(try_repo, repo, env)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "train.py:3:1: LL101" in failing.stdout and "kernel.cu:1:1: LC7000" in failing.stdout
    assert "requirements.txt:2:1: LD103" in failing.stdout and "Dockerfile:1:6: LB200" in failing.stdout

    (repo / "train.py").write_text("import torch\n\ntorch.accelerator.synchronize()\n", encoding="utf-8")
    (repo / "kernel.cu").write_text("// the kernel moved to Triton\n", encoding="utf-8")
    (repo / "requirements.txt").write_text("numpy>=1.26\n", encoding="utf-8")
    (repo / "Dockerfile").write_text("FROM python:3.12-slim\n", encoding="utf-8")
    assert _run(["git", "add", "."], repo, env).returncode == 0
    passing = _run(try_repo, repo, env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
