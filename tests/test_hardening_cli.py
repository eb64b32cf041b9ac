"""Regression tests for issue #18 at the project and CLI level: destructive writes, special files,
odd paths, hostile configs, output failures, and workers (docs/reliability.md)."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lockin_lint.api import _jobs, check_paths
from lockin_lint.cli import main
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.project.atomic import WriteError, write_atomic
from lockin_lint.project.workers import bounded_jobs, cpu_count

CUDA = "import torch\ntorch.cuda.synchronize()\n"


def _cli(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    code = main(args, out, err)
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "ok.py").write_text(CUDA)
    (tmp_path / "sub").mkdir()
    return tmp_path


# -- baseline writes --------------------------------------------------------------------------------
def test_write_baseline_through_a_symlink_keeps_the_link(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "real.json").write_text("{}")
    (project / "link.json").symlink_to("real.json")
    code, _, _ = _cli(["check", "ok.py", "--write-baseline", "link.json"], project, monkeypatch)
    assert code == 0 and (project / "link.json").is_symlink()
    assert len(json.loads((project / "real.json").read_text())["findings"]) == 1


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_write_baseline_refuses_special_files(project: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    target = project / "target"
    os.mkfifo(target) if kind == "fifo" else target.mkdir()
    code, _, err = _cli(["check", "ok.py", "--write-baseline", "target"], project, monkeypatch)
    assert code == 2 and "refusing to replace it" in err and len(err.splitlines()) == 1
    assert stat.S_ISFIFO(target.lstat().st_mode) if kind == "fifo" else target.is_dir()


def test_write_atomic_keeps_permissions_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "baseline.json"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json"]


def test_concurrent_writers_all_succeed(tmp_path: Path) -> None:
    target = tmp_path / "baseline.json"
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            for _ in range(20):
                write_atomic(target, f"writer {number}\n")
        except WriteError as exc:  # pragma: no cover - what the test guards against
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and target.read_text().startswith("writer ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json"]


def test_baseline_entries_with_non_string_fingerprints(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = {"tool": "lockin-lint", "format": 1, "findings": [{"fingerprint": ["x"]}, {"fingerprint": 5}, 7]}
    (project / "b.json").write_text(json.dumps(document))
    code, out, _ = _cli(["check", "ok.py", "--baseline", "b.json"], project, monkeypatch)
    assert code == 1 and "LL101" in out


@pytest.mark.parametrize(("name", "content", "flags", "expected"), [
    ("b.json", '{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}", ["--baseline", "b.json"],
     "baseline error: b.json: cannot read baseline: baseline JSON is nested too deeply"),
    ("lockin-lint.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n", ["--config", "lockin-lint.toml"],
     "config error: lockin-lint.toml: TOML is nested too deeply"),
])
def test_deeply_nested_baselines_and_configs(project: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str,
                                             flags: list[str], expected: str) -> None:
    (project / name).write_text(content)
    code, _, err = _cli(["check", "ok.py", *flags], project, monkeypatch)
    assert code == 2 and err == f"lockin-lint: {expected}\n"


@pytest.mark.parametrize("config", ['baseline = "a\\u0000b"\n'])
def test_a_configured_path_with_a_nul_byte(project: Path, monkeypatch: pytest.MonkeyPatch, config: str) -> None:
    (project / "lockin-lint.toml").write_text(config)
    code, _, err = _cli(["check", "ok.py"], project, monkeypatch)
    assert code == 2 and "invalid file name (it holds a NUL byte)" in err
    code, _, err = _cli(["check", "ok.py", "--write-baseline", "out.json"], project, monkeypatch)
    assert code == 0


def test_write_atomic_refuses_a_nul_byte(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="NUL byte"):
        write_atomic(tmp_path / "a\0b", "x")


@pytest.mark.parametrize("flag", ["--baseline", "--rules"])
def test_a_fifo_as_baseline_or_rules_is_refused_not_waited_on(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                             flag: str) -> None:
    os.mkfifo(project / "pipe")
    code, _, err = _cli(["check", "ok.py", flag, "pipe"], project, monkeypatch)
    assert code == 2 and "not a regular file" in err


def test_a_yaml_bomb_in_a_rules_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    (project / "bomb.yaml").write_text("\n".join(levels) + "\nrules: [*a9]\n")
    code, _, err = _cli(["check", "ok.py", "--no-cache", "--rules", "bomb.yaml"], project, monkeypatch)
    assert code == 2 and "expands to more than" in err


@pytest.mark.parametrize("include", ["pipe", "/dev/zero"])
def test_includes_of_special_files_are_warnings(project: Path, ruleset: RuleSet, include: str) -> None:
    os.mkfifo(project / "pipe")
    (project / "requirements.txt").write_text(f"-r {include}\ncupy\n")
    run = check_paths(["requirements.txt"], ruleset, cwd=project)
    assert [f.line for f in run.findings] == [2]
    assert [e.message for e in run.errors] == [f"line 1: cannot read the included requirements file {include!r}"]


# -- paths ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("paths", [[".", "."], ["ok.py", "sub/../ok.py"], ["ok.py", "./ok.py"]])
def test_a_file_named_twice_is_checked_once(project: Path, ruleset: RuleSet, paths: list[str]) -> None:
    run = check_paths(paths, ruleset, cwd=project)
    assert [f.path for f in run.findings] == ["ok.py"] and run.files_scanned == 1


def test_file_names_that_are_not_utf8_or_hold_newlines(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / os.fsdecode(b"bad\xffname.py")).write_text(CUDA)
    (project / "new\nline.py").write_text(CUDA)
    code, out, err = _cli(["check", "."], project, monkeypatch)
    assert code == 1 and "0 errors" in err
    heads = [line for line in out.splitlines() if not line.startswith(" ")]
    assert heads[:3] == [h for h in heads[:3] if "LL101" in h] and len(heads) == 3
    assert any(h.startswith("bad\\xffname.py:2:1:") for h in heads) and any(h.startswith("new\\nline.py:2:1") for h in heads)
    code, out, _ = _cli(["check", ".", "--format", "json"], project, monkeypatch)
    assert {f["path"] for f in json.loads(out)["findings"]} == {"bad\\xffname.py", "new\nline.py", "ok.py"}


def test_gitignore_lines_that_pathspec_rejects(project: Path, ruleset: RuleSet) -> None:
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("!\n[z-a]\nsub/\n")
    (project / "sub" / "hidden.py").write_text(CUDA)
    run = check_paths(["."], ruleset, cwd=project)
    assert [f.path for f in run.findings] == ["ok.py"] and not run.errors


def test_an_unsearchable_directory_named_as_a_path(project: Path, ruleset: RuleSet,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.is_symlink

    def guarded(self: Path) -> bool:
        if "locked" in str(self):  # as root in CI, chmod 000 does not stop a search
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "is_symlink", guarded)
    run = check_paths(["locked/a.py", "ok.py"], ruleset, cwd=project)
    assert [(e.path, e.message) for e in run.errors] == [("locked/a.py", "cannot access: Permission denied")]
    assert [f.path for f in run.findings] == ["ok.py"]


# -- selection, configuration, exit codes ----------------------------------------------------------
@pytest.mark.parametrize("code", ["device", "t", "torch-cuda"])
def test_an_unknown_selector_is_an_error(project: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    status, _, err = _cli(["check", "ok.py", "--select", code], project, monkeypatch)
    assert status == 2 and "matches no rule id, prefix, name or category" in err


def test_report_fails_when_paths_are_missing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cli(["report", "missing.py"], project, monkeypatch)[0] == 1
    assert _cli(["report", "ok.py"], project, monkeypatch)[0] == 0


@pytest.mark.parametrize("setting", ["lines-per-hour = inf", "lines-per-hour = nan", "lines-per-hour = 1e-300",
                                     "effort-hours = {missing = 1e308}", "category-factor = {kernel = inf}"])
def test_effort_numbers_must_be_finite_and_bounded(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                   setting: str) -> None:
    (project / "lockin-lint.toml").write_text(setting + "\n")
    code, _, err = _cli(["check", "ok.py"], project, monkeypatch)
    assert code == 2 and "config error" in err and "must be" in err


@pytest.mark.parametrize("spelling", ['[tool]\nlockin-lint.ignore = ["LL1"]\n',
                                      '[tool]\nlockin-lint = {ignore = ["LL1"]}\n',
                                      'tool = {lockin-lint = {ignore = ["LL1"]}}\n'])
def test_config_in_any_toml_spelling_is_found(project: Path, monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    (project / "pyproject.toml").write_text(spelling)
    assert _cli(["check", "ok.py"], project, monkeypatch)[0] == 0  # LL101 ignored by the config


def test_stdout_on_a_full_disk_is_an_error_not_a_traceback(project: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "lockin_lint", "check", "ok.py"], cwd=project, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert "cannot write the output: No space left on device" in done.stderr


def test_other_system_errors_name_the_path_and_are_not_called_output_errors(project: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _cli(["check", "a" * 5000], project, monkeypatch)
    assert code == 2 and err.endswith("a: File name too long\n") and "output" not in err


def test_closed_stdout_is_an_error(project: Path) -> None:
    done = subprocess.run(f"{sys.executable} -m lockin_lint check ok.py >&-", shell=True, cwd=project,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2 and "stdout is closed" in done.stderr and "Traceback" not in done.stderr


# -- workers ----------------------------------------------------------------------------------------
def test_jobs_are_bounded_by_cpus_unless_forced_and_by_the_work() -> None:
    assert bounded_jobs(1_000_000) == cpu_count() and bounded_jobs(1_000_000, force=True) == 1_000_000
    assert bounded_jobs(0) == 0 and bounded_jobs(1) == 1
    assert _jobs(1_000_000, 40) == 2  # 40 files are two chunks of work


def test_a_worker_dies_with_its_parent(tmp_path: Path) -> None:
    worker = ("import os, time; from lockin_lint.project.workers import die_with_parent; "
              "die_with_parent(os.getppid()); print(os.getpid(), flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', "
                               f"{worker!r}])"], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status
