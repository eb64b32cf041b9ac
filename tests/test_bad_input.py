"""Bad input is reported in `errors` and the run goes on: nothing crashes, nothing is dropped silently."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.limits import read_regular

CUDA_LINE = b"import torch\ntorch.cuda.synchronize()\n"


def _run(paths: list[str], ruleset: RuleSet, cwd: Path):  # type: ignore[no-untyped-def]
    return check_paths(paths, ruleset, cwd=cwd)


def test_empty_file_is_fine(ruleset: RuleSet) -> None:
    result = check_bytes("empty.py", b"", ruleset)
    assert not result.findings and not result.errors


def test_binary_file_is_an_error_not_a_crash(ruleset: RuleSet) -> None:
    result = check_bytes("blob.py", b"\x00\x01cuda\xff" * 100, ruleset)
    assert not result.findings
    assert [e.message for e in result.errors] == ["binary file (contains NUL bytes), not scanned"]


def test_invalid_utf8_is_reported_and_still_scanned(ruleset: RuleSet) -> None:
    result = check_bytes("latin.py", b"# caf\xe9\n" + CUDA_LINE, ruleset)
    assert [f.line for f in result.findings] == [3]
    assert len(result.errors) == 1 and "line 1: not valid UTF-8" in result.errors[0].message


def test_declared_encoding_is_honoured(ruleset: RuleSet) -> None:
    data = "# -*- coding: latin-1 -*-\n# café\n".encode("latin-1") + CUDA_LINE
    result = check_bytes("declared.py", data, ruleset)
    assert not result.errors and [f.line for f in result.findings] == [4]


def test_syntax_errors_still_yield_what_parses(ruleset: RuleSet) -> None:
    data = b"import torch\ndef broken(:\n    pass\ntorch.cuda.synchronize()\n"
    result = check_bytes("broken.py", data, ruleset)
    assert [f.line for f in result.findings] == [4]
    assert len(result.errors) == 1 and "syntax error" in result.errors[0].message


def test_paths_that_cannot_be_read(ruleset: RuleSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.py").write_bytes(CUDA_LINE)
    (tmp_path / "locked.py").write_bytes(CUDA_LINE)
    (tmp_path / "loop_a.py").symlink_to(tmp_path / "loop_b.py")
    (tmp_path / "loop_b.py").symlink_to(tmp_path / "loop_a.py")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)  # a directory loop
    os.mkfifo(tmp_path / "pipe.py")
    def guarded_read(path: str) -> bytes:
        if str(path).endswith("locked.py"):  # tests run as root in CI, where chmod 000 does not stop reads
            raise PermissionError(13, "Permission denied")
        return read_regular(path)

    monkeypatch.setattr("lockin_lint.api.read_regular", guarded_read)
    run = _run([".", "missing.py"], ruleset, tmp_path)
    errors = {(e.path, e.message) for e in run.errors}
    assert errors == {
        ("dangling.py", "broken symlink or symlink loop"),
        ("loop_a.py", "broken symlink or symlink loop"),
        ("loop_b.py", "broken symlink or symlink loop"),
        ("locked.py", "cannot read: Permission denied"),
        ("missing.py", "no such file or directory"),
        ("pipe.py", "not a regular file"),
    }
    assert [(f.path, f.line) for f in run.findings] == [("good.py", 2)]


def test_cli_keeps_going_and_reports_errors_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_bytes(CUDA_LINE)
    (tmp_path / "blob.py").write_bytes(b"\x00cuda")
    (tmp_path / "broken.py").write_bytes(b"import torch\nx = (\ntorch.cuda.synchronize()\n")
    command = [sys.executable, "-m", "lockin_lint", "check", ".", "nope.py"]
    text = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert text.returncode == 1
    assert "error: nope.py: no such file or directory" in text.stderr
    assert "error: blob.py: binary file" in text.stderr
    assert "notice: broken.py: partial parse: line 2" in text.stderr  # parsed around: a notice, not an error
    assert re.search(r", 2 errors, 1 partial parses$", text.stderr, re.M)
    assert "Traceback" not in text.stderr
    data = subprocess.run(command + ["--format", "json"], cwd=tmp_path, capture_output=True, text=True, check=False)
    report = json.loads(data.stdout)
    assert {e["path"] for e in report["errors"]} == {"blob.py", "nope.py"}
    assert [e["path"] for e in report["summary"]["partial_parses"]] == ["broken.py"]
    assert {(f["path"], f["line"]) for f in report["findings"]} == {("good.py", 2), ("broken.py", 3)}
