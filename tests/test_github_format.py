"""``--format github``: GitHub Actions workflow commands that turn findings into PR annotations.

Why: the runner parses each stdout line as a command. An unescaped newline ends the command early,
an unescaped ``,`` or ``:`` in a file name splits the property list, and ``%`` starts an escape; each
of those silently drops or misplaces an annotation.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from lockin_lint import __version__
from lockin_lint.api import check_paths
from lockin_lint.model import FileError, Finding, RunResult, Settings, TargetInfo
from lockin_lint.output.context import OutputContext
from lockin_lint.output.github import escape_data, escape_property, format_error, format_finding, render_github
from lockin_lint.kb.ruleset import RuleSet

from .conftest import REPO

CTX = OutputContext(Settings(), __version__)
COMMAND = re.compile(r"^::(error|warning|notice) (file=[^,:]+(,[a-zA-Z]+=[^,:]*)*)::(.*)$")


def make_finding(**changes: object) -> Finding:
    base = Finding(
        rule_id="LL101", category="device-api", severity="warning", path="src/train.py", line=3, column=5,
        end_line=3, end_column=27, symbol="torch.cuda.synchronize",
        message="`torch.cuda.synchronize` is part of the CUDA-only torch.cuda device API",
        targets={"rocm": TargetInfo("native"), "ascend": TargetInfo("rename", "torch_npu.npu.synchronize")},
        fingerprint="0123456789abcdef0123",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_escape_data_handles_percent_and_newlines() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_data("a:b,c") == "a:b,c"  # only property values escape ':' and ','


def test_escape_property_also_handles_colon_and_comma() -> None:
    assert escape_property("C:/dir,x/50%\n") == "C%3A/dir%2Cx/50%25%0A"


def test_finding_line_shape_and_summary_on_second_line() -> None:
    line = format_finding(make_finding())
    assert line == (
        "::warning file=src/train.py,line=3,col=5,endLine=3,endColumn=27,title=LL101::"
        "`torch.cuda.synchronize` is part of the CUDA-only torch.cuda device API"
        "%0Arocm: native | ascend: rename -> torch_npu.npu.synchronize"
    )
    assert "\n" not in line


def test_message_and_path_are_escaped() -> None:
    line = format_finding(make_finding(path="a,b:c%.py", message="100% `x`\nsecond"))
    assert "file=a%2Cb%3Ac%25.py," in line
    assert "::100%25 `x`%0Asecond%0Arocm: native" in line
    assert COMMAND.match(line), line


@pytest.mark.parametrize(("severity", "command"), [("error", "error"), ("warning", "warning"), ("info", "notice")])
def test_command_follows_severity(severity: str, command: str) -> None:
    assert format_finding(make_finding(severity=severity)).startswith(f"::{command} file=")


def test_file_errors() -> None:
    assert format_error(FileError("data.bin", "binary file")) == "::error file=data.bin::binary file"
    assert format_error(FileError("x.py", "syntax error at 3:1", partial=True)) == \
        "::notice file=x.py,title=partial parse::syntax error at 3:1"


def test_one_line_per_finding_and_error(ruleset: RuleSet) -> None:
    run = check_paths(["fixtures/demo", "does-not-exist.py"], ruleset, cwd=REPO)
    output = render_github(run, CTX)
    lines = output.splitlines()
    assert output.endswith("\n")
    assert len(lines) == len(run.findings) + len(run.errors)
    assert all(COMMAND.match(line) for line in lines), [line for line in lines if not COMMAND.match(line)]
    assert "::error file=does-not-exist.py::" in output
    severities = {f.severity for f in run.findings}
    assert {"error", "warning", "info"} <= severities
    assert {line.split(" ", 1)[0] for line in lines} == {"::error", "::warning", "::notice"}


def test_suppressed_findings_are_not_annotated() -> None:
    run = RunResult(findings=[make_finding(), make_finding(line=9, end_line=9, suppression="inline")])
    assert render_github(run, CTX).count("\n") == 1
