"""Baselines hide recorded lock-in, survive edits around it, and let new occurrences through."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CODE = "import torch\n\ndef step():\n    torch.cuda.synchronize()\n    x = y.cuda()\n"


def lockin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockin_lint", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_baseline_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "train.py"
    source.write_text(CODE, encoding="utf-8")
    written = lockin("check", ".", "--write-baseline", "baseline.json", cwd=tmp_path)
    assert written.returncode == 0 and "wrote 2 findings" in written.stderr
    document = json.loads((tmp_path / "baseline.json").read_text())
    assert [e["rule_id"] for e in document["findings"]] == ["LL101", "LL120"]
    assert lockin("check", "train.py", "--baseline", "baseline.json", cwd=tmp_path).returncode == 0

    # lines inserted above and the code moved: still hidden
    source.write_text("'''docs'''\nimport os\n\n" + CODE.replace("def step", "def other():\n    pass\n\ndef step"))
    moved = lockin("check", "train.py", "--baseline", "baseline.json", "--format", "json", cwd=tmp_path)
    assert moved.returncode == 0, moved.stdout
    assert json.loads(moved.stdout)["summary"]["suppressed"]["baseline"] == 2

    # one more occurrence of the same call is new lock-in
    source.write_text(source.read_text() + "    torch.cuda.synchronize()\n")
    new = lockin("check", "train.py", "--baseline", "baseline.json", "--format", "json", cwd=tmp_path)
    assert new.returncode == 1
    assert [f["rule_id"] for f in json.loads(new.stdout)["findings"]] == ["LL101"]


def test_baseline_file_is_sorted_and_stable(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text(CODE, encoding="utf-8")
    (tmp_path / "a.py").write_text(CODE, encoding="utf-8")
    lockin("check", ".", "--write-baseline", "one.json", cwd=tmp_path)
    lockin("check", ".", "--write-baseline", "two.json", "--jobs", "2", cwd=tmp_path)
    one = (tmp_path / "one.json").read_text()
    assert one == (tmp_path / "two.json").read_text()
    paths = [e["path"] for e in json.loads(one)["findings"]]
    assert paths == sorted(paths)


def test_missing_or_broken_baseline_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(CODE, encoding="utf-8")
    missing = lockin("check", ".", "--baseline", "nope.json", cwd=tmp_path)
    assert missing.returncode == 2 and "baseline file not found" in missing.stderr
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    broken = lockin("check", ".", "--baseline", "bad.json", cwd=tmp_path)
    assert broken.returncode == 2 and "bad.json:1: invalid baseline JSON" in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1
