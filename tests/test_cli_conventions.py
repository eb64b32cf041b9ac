"""What users expect from a linter's command line (issue #13): gates, output shapes, baselines that
report their stale entries, stdin, progress, help and friendly errors. In-process through `main`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lockin_lint.cli import main
from lockin_lint.cli_args import build_parser

CODE = "import torch\n\nmodel = Net().cuda()\ntorch.cuda.synchronize()\nx = torch.zeros(1, device='cuda:0')\n"


def run(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err, io.BytesIO(stdin))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "train.py").write_text(CODE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- gates ------------------------------------------------------------------------------------------
def test_exit_zero_does_not_hide_fail_under(project: Path) -> None:
    (project / "kernel.cu").write_text("__global__ void step(float *x) { x[0] = 1; }\n", encoding="utf-8")
    assert run("check", ".", "--exit-zero")[0] == 0
    code, _, err = run("check", ".", "--exit-zero", "--fail-under", "mps=99")  # a CUDA kernel: missing on mps
    assert code == 1 and "fail-under: mps score" in err


def test_fail_on_not_native_passes_code_that_is_native_on_the_targets(project: Path) -> None:
    assert run("check", ".", "--targets", "rocm")[0] == 1  # findings, all rocm: native
    assert run("check", ".", "--targets", "rocm", "--fail-on", "not-native")[0] == 0
    assert run("check", ".", "--targets", "rocm,ascend", "--fail-on", "not-native")[0] == 1


# -- output -----------------------------------------------------------------------------------------
def test_concise_is_one_line_per_finding(project: Path) -> None:
    code, out, _ = run("check", ".", "--format", "concise")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 3 and all(line.startswith("train.py:") for line in lines)
    full = run("check", ".")[1]
    assert len(full.splitlines()) > len(lines) and all(line in full for line in lines)


def test_summary_says_what_the_baseline_and_comments_hid(project: Path) -> None:
    (project / "train.py").write_text(CODE.replace(".cuda()", ".cuda()  # lockin: ignore"), encoding="utf-8")
    assert run("check", ".", "--write-baseline", "base.json")[0] == 0
    (project / "other.py").write_text("import torch\ntorch.cuda.synchronize()\n", encoding="utf-8")
    err = run("check", ".", "--baseline", "base.json")[2]
    assert "1 findings in 1 files, 0 errors; 3 hidden (2 by the baseline, 1 by suppression comments)" in err


def test_stale_baseline_entries_are_reported_and_pruned(project: Path) -> None:
    assert run("check", ".", "--write-baseline", "base.json")[0] == 0
    (project / "train.py").write_text(CODE.replace("torch.cuda.synchronize()\n", ""), encoding="utf-8")
    (project / "new.py").write_text("import torch\ntorch.cuda.synchronize()\n", encoding="utf-8")
    code, _, err = run("check", ".", "--baseline", "base.json")
    assert code == 1 and "warning: 1 stale baseline entries" in err
    code, _, err = run("check", ".", "--baseline", "base.json", "--prune-baseline")
    assert code == 1 and "pruned 1 stale entries" in err  # the new finding still fails the run
    entries = json.loads((project / "base.json").read_text())["findings"]
    assert sorted(e["rule_id"] for e in entries) == ["LL120", "LL200"]  # nothing new was accepted
    assert "stale" not in run("check", ".", "--baseline", "base.json")[2]
    assert "stale" not in run("check", "new.py", "--baseline", "base.json")[2]  # train.py was not checked


def test_min_severity_drops_findings_below_the_floor(project: Path) -> None:
    every = json.loads(run("check", ".", "--format", "json")[1])["findings"]
    assert {f["severity"] for f in every} == {"warning"}
    code, out, _ = run("check", ".", "--format", "json", "--min-severity", "error")
    assert json.loads(out)["findings"] == [] and code == 0
    assert len(json.loads(run("check", ".", "--format", "json", "--min-severity", "warning")[1])["findings"]) == 3


# -- stdin ------------------------------------------------------------------------------------------
def test_check_dash_reads_stdin(project: Path) -> None:
    code, out, _ = run("check", "-", "--format", "concise", stdin=b"import torch\ntorch.cuda.synchronize()\n")
    assert code == 1 and out.startswith("-:2:1: LL101 ")


def test_stdin_filename_names_the_findings_and_finds_the_config(project: Path) -> None:
    (project / "sub").mkdir()
    (project / "sub" / "lockin-lint.toml").write_text('ignore = ["LL101"]\n', encoding="utf-8")
    source = CODE.encode()
    code, out, _ = run("check", "--stdin-filename", "sub/t.py", "--format", "json", stdin=source)
    findings = json.loads(out)["findings"]
    assert {f["path"] for f in findings} == {"t.py"}  # relative to the project root (sub/, the config's)
    assert "LL101" not in {f["rule_id"] for f in findings} and len(findings) == 2
    assert run("check", "-", "other.py", stdin=source)[0] == 2


# -- progress ---------------------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_names_the_phases_after_the_scan(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lockin_lint import cli_progress

    monkeypatch.setattr(cli_progress, "DELAY", 0.0)
    (project / "setup.py").write_text(
        "from torch.utils.cpp_extension import CUDAExtension\nCUDAExtension('pkg._C', ['k.cu'])\n", encoding="utf-8")
    err = _Terminal()
    main(["check", ".", "--format", "json"], io.StringIO(), err)
    shown = err.getvalue()
    assert "scanning 2/2 files (" in shown and "linking files across the project (" in shown
    assert "building the report (" in shown and " s)" in shown
    plain = io.StringIO()
    main(["check", ".", "--format", "json"], io.StringIO(), plain)
    assert plain.getvalue() == ""  # not a terminal: nothing extra


# -- help and errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["check", "report", "rules", "explain"])
def test_every_subcommand_has_a_description_and_examples(command: str) -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]  # type: ignore[union-attr]
    text = sub.format_help()
    assert sub.description and "examples:\n  lockin-lint " + command in text
    undocumented = [a.dest for a in sub._actions if not a.help]
    assert undocumented == []


def test_targets_help_lists_the_targets() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["check"]  # type: ignore[union-attr]
    assert "rocm,ascend,mlu,musa,xpu,mps,cpu" in " ".join(sub.format_help().split())


@pytest.mark.parametrize(("argv", "suggestion"), [
    (["chek", "."], "did you mean 'check'?"),
    (["check", "--format", "sarf"], "did you mean 'sarif'?"),
    (["check", "--exitzero"], "did you mean '--exit-zero'?"),
    (["check", "--targets", "rocn"], "did you mean 'rocm'?"),
    (["report", ".", "--exit-zero"], "(--exit-zero is an option of check only)"),
])
def test_typos_get_a_did_you_mean(argv: list[str], suggestion: str) -> None:
    code, _, err = run(*argv)
    assert code == 2 and suggestion in err and err.count("\n") == 1


def test_a_code_from_the_config_that_names_no_rule_names_the_config_file(project: Path) -> None:
    (project / "lockin-lint.toml").write_text('ignore = ["LL9999"]\n', encoding="utf-8")
    code, _, err = run("check", ".")
    assert code == 2 and "lockin-lint.toml: ignore: 'LL9999' matches no rule" in err
    code, _, err = run("check", ".", "--select", "LQ1")
    assert code == 2 and "--select: 'LQ1' matches no rule" in err


def test_per_file_ignores_take_rule_names_like_select(project: Path) -> None:
    (project / "lockin-lint.toml").write_text('per-file-ignores = {"train.py" = ["cuda-method"]}\n', encoding="utf-8")
    findings = json.loads(run("check", ".", "--format", "json")[1])["findings"]
    assert len(findings) == 2 and "LL120" not in {f["rule_id"] for f in findings}


def test_gates_and_the_severity_floor_can_live_in_the_config(project: Path) -> None:
    (project / "lockin-lint.toml").write_text('targets = ["rocm"]\nfail-on = "not-native"\n', encoding="utf-8")
    assert run("check", ".")[0] == 0
    assert run("check", ".", "--fail-on", "any")[0] == 1  # the flag wins
    (project / "lockin-lint.toml").write_text(
        'min-severity = "error"\ndocs-url = "https://docs.example.com/rules"\n', encoding="utf-8")
    code, out, _ = run("check", ".", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []
    sarif = json.loads(run("check", ".", "--format", "sarif", "--min-severity", "warning")[1])
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"].startswith("https://docs.example.com/rules#")
    (project / "lockin-lint.toml").write_text('fail-on = "blockers"\n', encoding="utf-8")
    code, _, err = run("check", ".")
    assert code == 2 and "lockin-lint.toml:1: 'fail-on' must be" in err
