"""The result cache (`project.result_cache`): a warm run gives exactly the cold result, parses only what
changed, and survives whatever it finds in its directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lockin_lint import cli
from lockin_lint.engine import Engine

from .conftest import FIXTURES


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the acceptance project (extension links, includes, notebooks), as the working directory,
    with a cache directory of its own."""
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "work"
    shutil.copytree(FIXTURES / "repo", root / "repo")
    monkeypatch.chdir(root)
    return root


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert cli.main(["check", "repo", "--format", "json", *args]) == 1
    return capsys.readouterr().out


class _Counter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = Engine.check

        def counting(engine: Engine, path: str, data: bytes, *args: object, **kwargs: object) -> object:
            self.paths.append(path)
            return real(engine, path, data, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Engine, "check", counting)


def _age(root: Path) -> None:
    """Make every file look older than the cache, as after any real pause (the racy-mtime rule)."""
    import os
    import time

    old = time.time() - 60
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))


def test_an_unchanged_tree_is_neither_read_nor_parsed(project: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _age(project)
    cold = _run(capsys)
    counter = _Counter(monkeypatch)
    warm = _run(capsys)
    assert warm == cold and json.loads(warm)["findings"]
    # Not even the extension links are computed again; only the ``-r`` include that discovery does not
    # pick up is read again (it is no file of the run, so the cache cannot vouch for it; pip reads it too).
    assert counter.paths == ["repo/requirements/base.in"]
    assert _run(capsys, "--no-cache") == cold


def test_an_edit_rechecks_that_file_only(project: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _age(project)
    _run(capsys)
    (project / "repo" / "extra.py").write_text("import torch\ntorch.cuda.synchronize()\n", encoding="utf-8")
    counter = _Counter(monkeypatch)
    warm = _run(capsys)
    assert "repo/extra.py" in counter.paths
    assert not any(p.endswith(".cu") for p in counter.paths)
    assert warm == _run(capsys, "--no-cache")


def test_a_touched_but_unchanged_file_is_hashed_not_parsed(project: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _age(project)
    cold = _run(capsys)
    setup = project / "repo" / "setup.py"
    setup.write_bytes(setup.read_bytes())  # new mtime, same content
    counter = _Counter(monkeypatch)
    assert _run(capsys) == cold
    assert "repo/setup.py" not in counter.paths


def test_a_rename_reports_the_new_path(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _age(project)
    _run(capsys)
    (project / "repo" / "setup.py").rename(project / "repo" / "setup_gpu.py")
    warm = _run(capsys)
    assert warm == _run(capsys, "--no-cache")
    assert "repo/setup.py" not in {f["path"] for f in json.loads(warm)["findings"]}


def test_settings_and_rules_are_part_of_the_key(project: Path, capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    _age(project)
    _run(capsys)
    narrowed = _run(capsys, "--targets", "rocm", "--torch-version", "2.0")
    assert narrowed == _run(capsys, "--targets", "rocm", "--torch-version", "2.0", "--no-cache")
    assert set(json.loads(narrowed)["findings"][0]["targets"]) == {"rocm"}
    extra = tmp_path / "extra.yaml"
    extra.write_text(_EXTRA_RULE, encoding="utf-8")
    (project / "repo" / "extra.py").write_text("import torch\ntorch.cuda.not_a_real_name_for_tests()\n",
                                               encoding="utf-8")
    _age(project)
    _run(capsys)  # cached without the extra rule
    with_rule = _run(capsys, "--rules", str(extra))
    assert with_rule == _run(capsys, "--rules", str(extra), "--no-cache")
    assert "LL990" in with_rule


_EXTRA_RULE = """rules:
  - id: LL990
    name: test-extra-rule
    category: device-api
    languages: [python]
    severity: warning
    message: "`{symbol}` is a test symbol"
    match: {qualified: [torch.cuda.not_a_real_name_for_tests]}
    targets:
      rocm: {status: native}
      ascend: {status: missing}
      mlu: {status: missing}
      musa: {status: missing}
      xpu: {status: missing}
      mps: {status: missing}
      cpu: {status: missing}
    docs: "A rule of the result-cache test."
"""


def test_a_change_in_one_file_of_a_linked_extension_relinks(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _age(project)
    cold = _run(capsys)
    assert "fused_add_kernel" in cold
    kernel = project / "repo" / "csrc" / "fused_add.cu"
    kernel.write_text(kernel.read_text(encoding="utf-8").replace("fused_add_kernel", "renamed_kernel"),
                      encoding="utf-8")
    warm = _run(capsys)
    assert "renamed_kernel" in warm and warm == _run(capsys, "--no-cache")


def test_a_corrupt_or_foreign_cache_is_rebuilt(project: Path, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    _age(project)
    cold = _run(capsys)
    (entry,) = (tmp_path / "cache" / "results").glob("*.json")
    for garbage in (b"{not json", b"[]", json.dumps({"format": 1, "written_at": 0, "files": {
            "repo/setup.py": {"stat": [1, 2, 3], "hash": "x", "result": {"path": 5}}}}).encode()):
        entry.write_bytes(garbage)
        assert _run(capsys) == cold
    stored = json.loads(entry.read_bytes())
    stored["files"]["repo/setup.py"]["result"] = {"path": "repo/setup.py", "findings": "not a list"}
    entry.write_text(json.dumps(stored), encoding="utf-8")
    assert _run(capsys) == cold


def test_concurrent_runs_all_succeed_and_leave_a_valid_cache(project: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "lockin_lint", "check", "repo", "--format", "json"]
    runs = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert all(run.returncode == 1 for run in runs)
    assert len(set(outputs)) == 1
    (entry,) = (tmp_path / "cache" / "results").glob("*.json")
    assert json.loads(entry.read_bytes())["files"]
    assert subprocess.run(command, cwd=project, capture_output=True).stdout == outputs[0]
