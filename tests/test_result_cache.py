"""The result cache (`project.result_cache`): a warm run gives exactly the cold result, parses only what
changed, and survives whatever it finds in its directory."""

from __future__ import annotations

import json
import pickle
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
                                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _age(project)
    cold = _run(capsys)
    shutil.rmtree(tmp_path / "cache" / "outputs")  # not replayed (`cli_memo`): through the result cache
    counter = _Counter(monkeypatch)
    warm = _run(capsys)
    assert warm == cold and json.loads(warm)["findings"]
    # Not even the whole-project passes run again (extension links, the ``-r`` include that discovery
    # does not pick up: its content is checked against what the passes recorded, not parsed).
    assert counter.paths == []
    assert _run(capsys, "--no-cache") == cold


def test_an_edit_of_a_file_outside_the_run_that_a_pass_read_reruns_the_passes(
        project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _age(project)
    cold = _run(capsys)
    included = project / "repo" / "requirements" / "base.in"
    included.write_text(included.read_text(encoding="utf-8") + "xformers\n", encoding="utf-8")
    counter = _Counter(monkeypatch)
    warm = _run(capsys)
    assert "repo/requirements/base.in" in counter.paths  # read by the includes pass, no file of the run
    assert warm != cold and "xformers" in warm and warm == _run(capsys, "--no-cache")


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
    entries = sorted((tmp_path / "cache" / "results").glob("*.*"))
    assert {e.suffix for e in entries} == {".index", ".results"}
    originals = {entry: entry.read_bytes() for entry in entries}
    for entry, data in originals.items():
        for garbage in (b"", b"{not json", data[:-10], data[:32] + pickle.dumps({"format": 2, "files": {
                "repo/setup.py": ((1, 2, 3), "x")}}), data[:40] + b"x" + data[41:]):
            entry.write_bytes(garbage)
            assert _run(capsys) == cold
            entry.write_bytes(data)


def test_a_results_file_of_another_run_is_never_trusted(project: Path, capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent runs may leave an index of one run beside the results of another: a result is used only
    under the content hash the index vouches for."""
    _age(project)
    _run(capsys)
    (results,) = (tmp_path / "cache" / "results").glob("*.results")
    before = results.read_bytes()
    setup = project / "repo" / "setup.py"
    setup.write_text(setup.read_text(encoding="utf-8") + "\nimport cupy\n", encoding="utf-8")
    _age(project)
    edited = _run(capsys)
    results.write_bytes(before)  # the results of the run before the edit, beside the new index
    shutil.rmtree(tmp_path / "cache" / "outputs")  # no replayed output (`cli_memo`): the run uses the cache
    counter = _Counter(monkeypatch)
    assert _run(capsys) == edited
    assert "repo/setup.py" in counter.paths


def test_concurrent_runs_all_succeed_and_leave_a_valid_cache(project: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "lockin_lint", "check", "repo", "--format", "json"]
    runs = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert all(run.returncode == 1 for run in runs)
    assert len(set(outputs)) == 1
    assert {e.suffix for e in (tmp_path / "cache" / "results").iterdir()} == {".index", ".results"}
    assert subprocess.run(command, cwd=project, capture_output=True).stdout == outputs[0]
