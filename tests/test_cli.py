"""The CLI through a real subprocess: formats, exit codes, options and the JSON contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

TEXT_LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<id>L[A-Z]\d{3,4}) .+$")
FINDING_KEYS = {"rule_id", "category", "severity", "path", "line", "column", "end_line", "end_column",
                "symbol", "message", "fingerprint", "targets"}


def lockin(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockin_lint", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "train.py").write_text(
        "import torch\n\nmodel = Net().cuda()\ntorch.cuda.synchronize()\nx = torch.zeros(1, device='cuda:0')\n",
        encoding="utf-8")
    (tmp_path / "pkg" / "clean.py").write_text("import torch\nx = torch.zeros(1).to(device)\n", encoding="utf-8")
    return tmp_path


def test_text_output_lines_and_summary(project: Path) -> None:
    proc = lockin("check", ".", cwd=project)
    assert proc.returncode == 1
    headers = [line for line in proc.stdout.splitlines() if not line.startswith("    ")]
    assert headers and all(TEXT_LINE.match(line) for line in headers), proc.stdout
    assert {TEXT_LINE.match(h)["line"] for h in headers} == {"3", "4", "5"}  # type: ignore[index]
    assert all(TEXT_LINE.match(h)["path"] == "pkg/train.py" for h in headers)  # type: ignore[index]
    suggestions = [line for line in proc.stdout.splitlines() if line.startswith("    ")]
    assert suggestions and all("rocm:" in s or "portable:" in s or "fix (" in s for s in suggestions)
    assert re.search(r"^2 files checked .* 3 findings in 1 files, 0 errors$", proc.stderr, re.M)


def test_targets_option_limits_what_is_shown(project: Path) -> None:
    proc = lockin("check", ".", "--targets", "ascend,rocm", "--format", "json", cwd=project)
    report = json.loads(proc.stdout)
    assert all(list(f["targets"]) == ["rocm", "ascend"] for f in report["findings"])
    assert list(report["summary"]["targets"]) == ["rocm", "ascend"]


def test_json_contract(project: Path) -> None:
    proc = lockin("check", "pkg", "--format", "json", cwd=project)
    assert proc.returncode == 1 and proc.stderr == ""
    report = json.loads(proc.stdout)
    assert set(report) == {"version", "files_scanned", "errors", "findings", "summary"}
    assert report["files_scanned"] == 2 and report["errors"] == []
    for finding in report["findings"]:
        assert FINDING_KEYS <= set(finding)
        assert finding["path"] == "pkg/train.py"
        assert finding["line"] >= 1 and finding["column"] >= 1 and finding["end_column"] > finding["column"]
        for target in ("rocm", "ascend", "mlu", "musa", "xpu", "mps", "cpu"):
            assert finding["targets"][target]["status"] in {"native", "rename", "equivalent", "missing", "unknown"}
    for summary in report["summary"]["targets"].values():
        assert set(summary) == {"score", "effort_hours", "blockers"}
        assert 0 <= summary["score"] <= 100
    again = lockin("check", "pkg", "--format", "json", cwd=project)
    assert again.stdout == proc.stdout  # deterministic


def test_jobs_do_not_change_the_output() -> None:
    one = lockin("check", "fixtures", "--format", "json", "--jobs", "1")
    two = lockin("check", "fixtures", "--format", "json", "--jobs", "2")
    assert one.stdout == two.stdout and json.loads(one.stdout)["findings"]


def test_exit_codes(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    clean = tmp_path_factory.mktemp("clean")
    (clean / "ok.py").write_text("import torch\nx = torch.ones(1).to(device)\n", encoding="utf-8")
    assert lockin("check", ".", cwd=clean).returncode == 0
    assert lockin("check", ".", cwd=project).returncode == 1
    assert lockin("check", ".", "--exit-zero", cwd=project).returncode == 0
    for bad in (["check", "--bogus"], ["check", "--targets", "tpu"], ["check", "--select", "ZZ9"],
                ["check", "--torch-version", "new"], ["explain", "LL000"], []):
        proc = lockin(*bad, cwd=project)
        assert proc.returncode == 2, bad
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_select_ignore_and_output_file(project: Path) -> None:
    selected = json.loads(lockin("check", ".", "--select", "device-string", "--format", "json", cwd=project).stdout)
    assert {f["category"] for f in selected["findings"]} == {"device-string"}
    ignored = json.loads(lockin("check", ".", "--ignore", "device-string", "--format", "json", cwd=project).stdout)
    assert "device-string" not in {f["category"] for f in ignored["findings"]} and ignored["findings"]
    out = project / "report.json"
    proc = lockin("check", ".", "--format", "json", "--output", str(out), cwd=project)
    assert proc.stdout == "" and json.loads(out.read_text())["findings"]


def test_rules_and_explain() -> None:
    listing = lockin("rules")
    assert listing.returncode == 0
    rows = listing.stdout.splitlines()
    data = json.loads(lockin("rules", "--format", "json").stdout)
    assert len(rows) == len(data) > 0
    first = data[0]["id"]
    explained = lockin("explain", first.lower())
    assert explained.returncode == 0
    assert explained.stdout.startswith(f"# {first} ")
    assert "## What it does" in explained.stdout and "| symbol | rocm | ascend | mlu | musa | xpu | mps | cpu |" in explained.stdout


def test_python_dash_m_and_console_script_agree() -> None:
    script = Path(sys.executable).with_name("lockin-lint")
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    direct = subprocess.run([str(script), "rules"], capture_output=True, text=True, check=False)
    assert direct.returncode == 0 and direct.stdout == lockin("rules").stdout


def test_sarif_and_github_formats_and_a_second_report_in_one_run(project: Path) -> None:
    sarif_file = project / "report.sarif"
    proc = lockin("check", ".", "--output-sarif", str(sarif_file), cwd=project)
    assert proc.returncode == 1 and TEXT_LINE.match(proc.stdout.splitlines()[0])
    sarif = json.loads(sarif_file.read_text())
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 3
    github = lockin("check", ".", "--format", "github", cwd=project)
    assert github.returncode == 1
    assert all(line.startswith(("::warning file=pkg/train.py,line=", "::error file=pkg/train.py,line="))
               for line in github.stdout.splitlines())
