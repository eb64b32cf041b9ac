"""Configuration files: found by walking up, merged under CLI flags, and strict about mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CODE = "import torch\n\nmodel = Net().cuda()\ntorch.cuda.synchronize()\nx = torch.zeros(1, device='cuda:0')\n"


def lockin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockin_lint", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "train.py").write_text(CODE, encoding="utf-8")
    (tmp_path / "src" / "pkg" / "test_train.py").write_text(CODE, encoding="utf-8")
    return tmp_path


def rule_ids(proc: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    return [(f["path"], f["rule_id"]) for f in json.loads(proc.stdout)["findings"]]


def test_pyproject_table_is_found_from_a_subdirectory(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.lockin-lint]\nselect = ["device-string"]\ntargets = ["ascend"]\n'
        'per-file-ignores = {"test_*.py" = ["LL2"]}\n', encoding="utf-8")
    proc = lockin("check", ".", "--format", "json", cwd=project / "src")
    assert rule_ids(proc) == [("src/pkg/train.py", "LL200")]  # relative to the project root, as from the top
    assert list(json.loads(proc.stdout)["findings"][0]["targets"]) == ["ascend"]


def test_cli_flags_override_the_config(project: Path) -> None:
    (project / "lockin-lint.toml").write_text('select = ["device-string"]\nignore = ["LL120"]\n', encoding="utf-8")
    proc = lockin("check", "src", "--format", "json", "--select", "LL1", cwd=project)
    assert {rule for _, rule in rule_ids(proc)} == {"LL101"}


def test_exclude_replaces_and_extend_exclude_adds(project: Path) -> None:
    (project / "lockin-lint.toml").write_text('extend-exclude = ["test_*.py"]\n', encoding="utf-8")
    proc = lockin("check", "src", "--format", "json", cwd=project)
    assert {path for path, _ in rule_ids(proc)} == {"src/pkg/train.py"}
    forced = lockin("check", "src/pkg/test_train.py", "--force-exclude", "--format", "json", cwd=project)
    assert rule_ids(forced) == [] and forced.returncode == 0
    named = lockin("check", "src/pkg/test_train.py", "--format", "json", cwd=project)
    assert rule_ids(named)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('selct = ["LL1"]\n', "lockin-lint.toml:1: unknown key 'selct'"),
        ('targets = ["ascend"]\nfail-under = {ascend = 120}\n', "lockin-lint.toml:2: 'fail-under' must be"),
        ('targets = "ascend"\n', "lockin-lint.toml:1: 'targets' must be a list of targets"),
        ("select = [\n", "lockin-lint.toml: invalid TOML"),
        ('select = ["ZZ9"]\n', "'ZZ9' matches no rule"),
    ],
)
def test_config_errors_are_one_line_with_exit_2(project: Path, text: str, expected: str) -> None:
    (project / "lockin-lint.toml").write_text(text, encoding="utf-8")
    proc = lockin("check", "src", cwd=project)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr


def test_fail_under_gate(project: Path) -> None:
    ok = lockin("check", "src", "--fail-under", "rocm=95", "--exit-zero", cwd=project)
    assert ok.returncode == 0
    # a cuFFT setting XPU lacks: not portable without thought there, native on ROCm
    (project / "src" / "pkg" / "fast.py").write_text("import torch\ntorch.backends.cuda.cufft_plan_cache.clear()\n")
    failed = lockin("check", "src", "--select", "LL112", "--fail-under", "xpu=100,rocm=50", cwd=project)
    assert failed.returncode == 1
    assert "fail-under: xpu score" in failed.stderr and "rocm" not in failed.stderr.split("fail-under")[-1]


def test_gitignore_is_respected_up_to_the_repository_top(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("test_*.py\nbuild/\n", encoding="utf-8")
    (project / "src" / "pkg" / "build").mkdir()
    (project / "src" / "pkg" / "build" / "gen.py").write_text(CODE, encoding="utf-8")
    (project / "src" / ".gitignore").write_text("!pkg/test_train.py\n", encoding="utf-8")
    proc = lockin("check", "src", "--format", "json", cwd=project)
    assert {path for path, _ in rule_ids(proc)} == {"src/pkg/train.py", "src/pkg/test_train.py"}
    inside = lockin("check", ".", "--format", "json", cwd=project / "src" / "pkg")
    assert {path for path, _ in rule_ids(inside)} == {"train.py", "test_train.py"}  # src/.gitignore re-includes it
    (project / "src" / ".gitignore").unlink()
    again = lockin("check", ".", "--format", "json", cwd=project / "src" / "pkg")
    assert {path for path, _ in rule_ids(again)} == {"train.py"}
    everything = lockin("check", "src", "--format", "json", "--no-respect-gitignore", cwd=project)
    assert {path for path, _ in rule_ids(everything)} == {"src/pkg/train.py", "src/pkg/test_train.py",
                                                          "src/pkg/build/gen.py"}


def test_gitignore_outside_a_repository_means_nothing(project: Path) -> None:
    (project / "src" / ".gitignore").write_text("*\n", encoding="utf-8")  # as a virtualenv writes
    proc = lockin("check", "src", "--format", "json", cwd=project)
    assert {path for path, _ in rule_ids(proc)} == {"src/pkg/train.py", "src/pkg/test_train.py"}


def test_config_paths_mean_the_same_from_a_subdirectory(project: Path) -> None:
    """Baseline, per-file-ignores and excludes resolve against the config file's directory, and
    finding paths are relative to it, whatever the working directory."""
    (project / "tests").mkdir()
    (project / "tests" / "test_x.py").write_text(CODE, encoding="utf-8")
    (project / "vendor").mkdir()
    (project / "vendor" / "lib.py").write_text(CODE, encoding="utf-8")
    (project / "empty.json").write_text('{"tool": "lockin-lint", "format": 1, "findings": []}', encoding="utf-8")
    (project / "lockin-lint.toml").write_text(
        'baseline = "lockin-baseline.json"\nper-file-ignores = {"tests/*" = ["LL1"]}\n'
        'extend-exclude = ["vendor/lib.py"]\n', encoding="utf-8")
    top = lockin("check", ".", "--format", "json", "--baseline", "empty.json", cwd=project)
    assert {path for path, _ in rule_ids(top)} == {"src/pkg/train.py", "src/pkg/test_train.py", "tests/test_x.py"}
    inside = lockin("check", "test_x.py", "--format", "json", "--baseline", "../empty.json", cwd=project / "tests")
    assert rule_ids(inside) == [("tests/test_x.py", "LL200")]  # per-file-ignores still match "tests/*"
    vendored = lockin("check", ".", "--format", "json", "--baseline", "../empty.json", cwd=project / "vendor")
    assert rule_ids(vendored) == []  # the exclude is relative to the config, not to vendor/
    assert lockin("check", ".", "--write-baseline", "lockin-baseline.json", cwd=project).returncode == 0
    again = lockin("check", "test_x.py", "--format", "json", cwd=project / "tests")
    assert rule_ids(again) == [] and again.returncode == 0  # the config's baseline, found and matching
