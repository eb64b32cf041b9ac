"""``report --merge``: per-repository JSON reports merged into one inventory, priced by the same model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lockin_lint import cli

from .conftest import FIXTURES


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert cli.main(["report", *args]) == 0
    return capsys.readouterr().out


@pytest.fixture
def reports(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(FIXTURES)
    written = {}
    for name in ("demo", "repo"):
        path = tmp_path / f"{name}.json"
        path.write_text(_report(capsys, name, "--format", "json", "--no-cache"), encoding="utf-8")
        written[name] = path
    monkeypatch.chdir(tmp_path)
    return written


def test_one_report_merged_is_priced_as_itself(reports: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    original = json.loads(reports["demo"].read_text(encoding="utf-8"))
    merged = json.loads(_report(capsys, "--merge", f"x={reports['demo']}", "--format", "json"))
    assert merged["targets"] == original["targets"]
    assert [f["path"] for f in merged["findings"]] == [f"x/{f['path']}" for f in original["findings"]]
    assert [b["path"] for b in merged["top_blockers"]] == [f"x/{b['path']}" for b in original["top_blockers"]]


def test_two_reports_make_one_inventory_in_every_format(reports: dict[str, Path],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    parts = [json.loads(p.read_text(encoding="utf-8")) for p in reports.values()]
    merged = json.loads(_report(capsys, "--merge", *map(str, reports.values()), "--format", "json"))
    assert merged["files_scanned"] == sum(p["files_scanned"] for p in parts)
    assert len(merged["findings"]) == sum(len(p["findings"]) for p in parts)
    assert {f["path"].split("/", 1)[0] for f in merged["findings"]} == {"demo", "repo"}
    for target in merged["targets"]:  # one more repository never lowers the effort
        assert merged["targets"][target]["effort_hours"] >= max(p["targets"][target]["effort_hours"] for p in parts)
    for fmt in ("text", "markdown", "html"):
        assert "demo/" in _report(capsys, "--merge", *map(str, reports.values()), "--format", fmt)


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"findings": 3, "files_scanned": 1}',
                                     b'{"files_scanned": 1, "findings": [{"path": 5}]}'])
def test_a_file_that_is_no_report_is_a_usage_error(tmp_path: Path, content: bytes,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    assert cli.main(["report", "--merge", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_two_reports_with_one_name_must_be_named(reports: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--merge", str(reports["demo"]), str(reports["demo"])]) == 2
    assert "NAME=PATH" in capsys.readouterr().err
