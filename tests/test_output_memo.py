"""`cli_memo`: an unchanged re-run replays what the last identical run printed, and anything that could
change the output (a file, a file a pass read outside the run, an argument, the configuration, the
baseline) runs the command again."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from lockin_lint import cli

from .conftest import FIXTURES
from .test_result_cache import _age, _Counter


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "work"
    shutil.copytree(FIXTURES / "repo", root / "repo")
    monkeypatch.chdir(root)
    _age(root)
    return root


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


class _Scans(_Counter):
    """Counts the files the engine checks and the runs of the passes: a replayed run has none."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        from lockin_lint.project import passes

        self.passes = 0
        real_run = passes.run_passes

        def counting_passes(*args: object, **kwargs: object) -> object:
            self.passes += 1
            return real_run(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr("lockin_lint.api.run_passes", counting_passes)


@pytest.mark.parametrize("command", [["check", "repo", "--format", "json"], ["check", "repo"],
                                     ["report", "repo", "--format", "markdown"]])
def test_an_unchanged_rerun_replays_stdout_stderr_and_the_exit_code(
        project: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    first = _run(*command)
    assert first[1]
    scans = _Scans(monkeypatch)
    assert _run(*command) == first
    assert scans.paths == [] and scans.passes == 0  # replayed: no scan, no pass
    assert _run(*command, "--no-cache") == first  # and it is what a fresh run prints


def test_an_edit_runs_the_command_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _run("check", "repo", "--format", "json")
    (project / "repo" / "extra.py").write_text("import torch\ntorch.cuda.synchronize()\n", encoding="utf-8")
    _age(project)
    scans = _Scans(monkeypatch)
    edited = _run("check", "repo", "--format", "json")
    assert edited != first and "repo/extra.py" in scans.paths
    assert edited == _run("check", "repo", "--format", "json", "--no-cache")


def test_an_edit_of_a_file_outside_the_run_that_a_pass_read_runs_it_again(project: Path) -> None:
    first = _run("check", "repo", "--format", "json")
    included = project / "repo" / "requirements" / "base.in"  # read only through requirements.txt's -r
    included.write_text(included.read_text(encoding="utf-8") + "xformers\n", encoding="utf-8")
    _age(project)
    edited = _run("check", "repo", "--format", "json")
    assert edited != first and "xformers" in edited[1]
    assert edited == _run("check", "repo", "--format", "json", "--no-cache")


def test_arguments_configuration_and_baseline_are_part_of_the_key(project: Path) -> None:
    everything = _run("check", "repo", "--format", "json")
    narrowed = _run("check", "repo", "--format", "json", "--targets", "rocm")
    assert narrowed != everything and narrowed == _run("check", "repo", "--format", "json", "--targets", "rocm",
                                                       "--no-cache")
    (project / "pyproject.toml").write_text('[tool.lockin-lint]\ntargets = ["xpu"]\n', encoding="utf-8")
    configured = _run("check", "repo", "--format", "json")
    assert configured != everything and '"xpu"' in configured[1] and '"rocm"' not in configured[1]
    baseline = project / "baseline.json"
    _run("check", "repo", "--write-baseline", str(baseline))
    gated = _run("check", "repo", "--format", "json", "--baseline", str(baseline))
    assert gated[0] == 0
    baseline.write_text('{"version": 1, "findings": []}', encoding="utf-8")
    assert _run("check", "repo", "--format", "json", "--baseline", str(baseline)) == \
        _run("check", "repo", "--format", "json", "--baseline", str(baseline), "--no-cache")


def test_runs_that_write_files_are_never_replayed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run("check", "repo", "--output", "first.txt")
    _run("check", "repo", "--output", "first.txt")
    Path("first.txt").unlink()
    scans = _Scans(monkeypatch)
    _run("check", "repo", "--output", "first.txt")
    assert Path("first.txt").read_text(encoding="utf-8") and scans.passes == 1


def test_a_corrupt_stored_output_is_ignored(project: Path, tmp_path: Path) -> None:
    first = _run("check", "repo", "--format", "json")
    (entry,) = (tmp_path / "cache" / "outputs").iterdir()
    data = entry.read_bytes()
    for garbage in (b"", data[:-5], data[:40] + b"x" + data[41:]):
        entry.write_bytes(garbage)
        assert _run("check", "repo", "--format", "json") == first
