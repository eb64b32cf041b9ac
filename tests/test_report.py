"""`lockin-lint report`: every number traceable to findings, explainable on the demo project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REPO


def report(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockin_lint", "report", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def demo_json() -> dict:  # type: ignore[type-arg]
    proc = report("fixtures/demo", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_demo_scores_are_explainable() -> None:
    data = demo_json()
    targets = data["targets"]
    assert max(targets, key=lambda t: targets[t]["score"]) == "rocm" and targets["rocm"]["score"] >= 60
    assert targets["ascend"]["score"] < targets["rocm"]["score"] / 2
    ascend = targets["ascend"]["effort_by_category"]
    assert max(ascend, key=lambda c: ascend[c]) == "kernel"  # custom kernels and PTX dominate
    assert targets["rocm"]["blockers"] == 0 and targets["ascend"]["blockers"] > 0


def test_every_number_traces_to_findings() -> None:
    data = demo_json()
    for target, info in data["targets"].items():
        assert abs(sum(info["effort_by_category"].values()) - info["effort_hours"]) < 0.01
        assert sum(info["statuses"].values()) == len(data["findings"])
        assert info["blockers"] == info["statuses"]["missing"] + info["statuses"]["unknown"]
        assert info["blockers"] == sum(f["targets"][target]["status"] in ("missing", "unknown")
                                       for f in data["findings"])
    keys = {(f["path"], f["line"], f["rule_id"]) for f in data["findings"]}
    assert data["top_blockers"] and all((b["path"], b["line"], b["rule_id"]) in keys for b in data["top_blockers"])
    assert sum(d["findings"] for d in data["directories"]) == len(data["findings"])
    assert sum(f["findings"] for f in data["files"]) == len(data["findings"])
    assert {d["name"] for d in data["dependencies"]} >= {"flash_attn", "apex", "triton"}


def test_text_and_markdown_formats(tmp_path: Path) -> None:
    text = report("fixtures/demo")
    assert text.returncode == 0
    for heading in ("Portability per target", "Effort by category", "Top blockers", "Directories by effort",
                    "Dependencies found"):
        assert heading in text.stdout
    out = tmp_path / "report.md"
    markdown = report("fixtures/demo", "--format", "markdown", "--output", str(out))
    assert markdown.stdout == "" and out.read_text().startswith("# CUDA lock-in report")
    assert "| target | score | effort |" in out.read_text()


def test_effort_model_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "k.cu").write_text("__global__ void k(float* x) { x[0] = 1; }\n", encoding="utf-8")
    default = json.loads(report(".", "--format", "json", cwd=tmp_path).stdout)["targets"]["ascend"]
    (tmp_path / "lockin-lint.toml").write_text("category-factor = {kernel = 8}\neffort-hours = {missing = 10}\n")
    custom = json.loads(report(".", "--format", "json", cwd=tmp_path).stdout)["targets"]["ascend"]
    assert (default["effort_by_category"]["kernel"], custom["effort_by_category"]["kernel"]) == (32.0, 80.0)
    (tmp_path / "lockin-lint.toml").write_text("category-factor = {kernels = 8}\n")
    bad = report(".", cwd=tmp_path)
    assert bad.returncode == 2 and "'category-factor' must be" in bad.stderr


def test_progress_shows_on_a_terminal_after_a_moment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io

    from lockin_lint import cli_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    clock = iter([100.0, 100.5, 102.0, 103.0, 104.0])
    monkeypatch.setattr(cli_progress.time, "monotonic", lambda: next(clock))
    err = Terminal()
    progress = cli_progress.progress_for(err)
    assert progress is not None
    progress.files(32, 64)  # half a second in: quiet
    progress.files(64, 64)
    assert err.getvalue() == "\rscanning 64/64 files (2.0 s)"
    progress.done()  # the line is cleared for the summary
    assert err.getvalue().endswith("\r" + " " * len("scanning 64/64 files (2.0 s)") + "\r")
    assert cli_progress.progress_for(io.StringIO()) is None  # not a terminal: never
