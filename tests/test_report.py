"""`lockin-lint report`: every number traceable to findings, explainable on the demo project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import RunResult, Settings
from lockin_lint.output.report_formats import render_report_text

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
    assert data["report_version"] == 2 and data["headline_scope"] == "product"
    assert max(targets, key=lambda t: targets[t]["score"]) == "rocm" and targets["rocm"]["band"] == "good"
    assert targets["ascend"]["effort_high"] > 5 * targets["rocm"]["effort_high"]
    ascend = targets["ascend"]["effort_by_category"]
    # custom kernels, PTX, CUDA-only plugins and libraries are most of the work
    assert ascend["kernel"] + ascend["plugin"] + ascend["library"] > sum(ascend.values()) / 2
    assert targets["rocm"]["blockers"] == 0 and targets["ascend"]["blockers"] > 0
    for info in targets.values():
        assert info["effort_low"] <= info["effort_hours"] <= info["effort_high"]
        assert info["score"] == round(100 * info["ready"] / info["sites"], 1)


def test_every_number_traces_to_findings() -> None:
    data = demo_json()
    for target, info in data["targets"].items():
        assert abs(sum(info["effort_by_category"].values()) - info["effort_hours"]) < 0.05
        assert sum(info["statuses"].values()) == len(data["findings"])
        assert info["blockers"] == info["statuses"]["missing"] + info["statuses"]["unknown"]
        assert info["blockers"] == sum(f["targets"][target]["status"] in ("missing", "unknown")
                                       for f in data["findings"])
        for table in ("directories", "files"):  # the rows add up to the total (report["counting"])
            assert abs(sum(d["targets"][target]["effort_high"] for d in data[table]) - info["effort_high"]) < 0.1
    keys = {(f["path"], f["line"], f["rule_id"]) for f in data["findings"]}
    assert data["top_blockers"] and all((b["path"], b["line"], b["rule_id"]) in keys for b in data["top_blockers"])
    assert sum(d["findings"] for d in data["directories"]) == len(data["findings"])
    assert sum(f["findings"] for f in data["files"]) == len(data["findings"])
    assert {d["name"] for d in data["dependencies"]} >= {"flash_attn", "apex", "triton"}
    assert data["counting"] and data["model"]["assumptions"]


def test_the_summary_says_what_to_do_first() -> None:
    summary = demo_json()["summary"]
    assert summary["fix"]["findings"] > 0
    kernels = summary["kernels"]["top"]
    assert kernels and all(k["kind"] in ("kernel", "device-code") for k in kernels)
    worst = [max(k["effort_high"].values()) for k in kernels]
    assert worst == sorted(worst, reverse=True)


def test_tests_and_vendored_code_are_reported_apart(tmp_path: Path) -> None:
    kernel = "__global__ void k(float* x) { x[0] = 1; }\n"
    for path in ("src/k.cu", "tests/k.cu", "third_party/lib/k.cu", "deps/cutlass/k.cu"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(kernel, encoding="utf-8")
    (tmp_path / ".gitmodules").write_text('[submodule "cutlass"]\n\tpath = deps/cutlass\n\turl = x\n')
    data = json.loads(report(".", "--format", "json", cwd=tmp_path).stdout)
    scopes = data["scopes"]
    assert (scopes["product"]["findings"], scopes["tests"]["findings"], scopes["vendored"]["findings"]) == (1, 1, 2)
    assert data["targets"]["ascend"]["effort_high"] == scopes["product"]["targets"]["ascend"]["effort_high"]
    assert [b["path"] for b in data["top_blockers"]] == ["src/k.cu"]


def test_text_and_markdown_formats(tmp_path: Path) -> None:
    text = report("fixtures/demo")
    assert text.returncode == 0
    for heading in ("What to do first", "Portability per target", "Effort by scope", "Effort by category",
                    "Top blockers", "Directories by effort", "Dependencies found", "How the tables count",
                    "Assumptions"):
        assert heading in text.stdout
    assert text.stdout.index("What to do first") < text.stdout.index("Portability per target")
    out = tmp_path / "report.md"
    markdown = report("fixtures/demo", "--format", "markdown", "--output", str(out))
    assert markdown.stdout == "" and out.read_text().startswith("# CUDA lock-in report")
    assert "| target | score | band | effort (low–high) |" in out.read_text()


def test_effort_model_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "k.cu").write_text("__global__ void k(float* x) { x[0] = 1; }\n", encoding="utf-8")
    default = json.loads(report(".", "--format", "json", cwd=tmp_path).stdout)["targets"]["ascend"]
    (tmp_path / "lockin-lint.toml").write_text("category-factor = {kernel = 8}\neffort-hours = {missing = 10}\n")
    custom = json.loads(report(".", "--format", "json", cwd=tmp_path).stdout)["targets"]["ascend"]
    ratio = custom["effort_by_category"]["kernel"] / default["effort_by_category"]["kernel"]
    assert abs(ratio - 2 * 10 / 8) < 0.01  # kernels 8/4 and missing work 10/8 of the defaults
    (tmp_path / "lockin-lint.toml").write_text('effort-ranges = {kernel-rewrite = [100, 200]}\ngood-max-hours = 1\n')
    ranged = json.loads(report(".", "--format", "json", cwd=tmp_path).stdout)["targets"]["ascend"]
    assert ranged["effort_low"] - default["effort_low"] == 100 - 8
    for bad, message in (("category-factor = {kernels = 8}\n", "'category-factor' must be"),
                         ("effort-ranges = {rename = [2, 1]}\n", "'effort-ranges' must be"),
                         ("tests = \"tests/*\"\n", "'tests' must be")):
        (tmp_path / "lockin-lint.toml").write_text(bad)
        failed = report(".", cwd=tmp_path)
        assert failed.returncode == 2 and message in failed.stderr and "lockin-lint.toml:1" in failed.stderr


def test_html_lists_the_first_findings_unless_asked_for_all(tmp_path: Path) -> None:
    lines = "".join(f"torch.cuda.synchronize()  # {i}\n" for i in range(600))
    (tmp_path / "m.py").write_text("import torch\n" + lines, encoding="utf-8")
    def listed(*flags: str) -> tuple[int, str]:
        page = report(".", "--format", "html", *flags, cwd=tmp_path).stdout
        table = page[page.index('<table class="sortable findings">'):]
        return table[:table.index("</table>")].count("<tr><td"), page

    (short, page), (full, _) = listed(), listed("--all-findings")
    assert (short, full) == (500, 600)
    assert "The first 500 of 600 are listed" in page


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


def test_the_report_lists_the_operators_a_target_lacks(ruleset: RuleSet) -> None:
    """Issue 19: like the custom-kernel section, the operators a project needs per target."""
    from lockin_lint.score.report import build_report

    source = b"import torch\nimport torch.nn.functional as F\nF.ctc_loss(a, b, c, d)\nF.ctc_loss(a, b, c, d)\n" \
             b"torch.matmul(a, b)\nnet = torch.nn.GRU(4, 4)\n"
    result = check_bytes("model.py", source, ruleset)
    run = RunResult(findings=list(result.findings), files_scanned=1, lines_scanned=6)
    report = build_report(run, Settings())
    rows = {o["symbol"]: o for o in report["operators"]}
    assert set(rows) == {"torch.nn.functional.ctc_loss", "torch.nn.GRU"}
    assert rows["torch.nn.functional.ctc_loss"]["uses"] == 2
    assert "mps" in rows["torch.nn.functional.ctc_loss"]["missing"]
    assert "PYTORCH_ENABLE_MPS_FALLBACK" in rows["torch.nn.functional.ctc_loss"]["missing"]["mps"]
    assert "ascend" in rows["torch.nn.GRU"]["missing"] and "rocm" not in rows["torch.nn.GRU"]["missing"]
    assert "torch.nn.functional.ctc_loss" in render_report_text(report)
