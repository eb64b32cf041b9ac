"""`project.passes`: a pass is one registration, and the cached output of the passes is reused only on
the same tree and the same files outside it (what a pass read, or looked for and did not find)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lockin_lint.model import FileResult
from lockin_lint.project.passes import PassContext, ProjectPass, run_passes
from lockin_lint.project.result_cache import ResultCache


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


class _Notes:
    """A pass that marks every result with what a file outside the run says (and whether a second file
    exists), counting its runs."""

    def __init__(self, outside: Path, maybe: Path) -> None:
        self.outside, self.maybe, self.runs = outside, maybe, 0

    def run(self, results: list[FileResult], ctx: PassContext) -> list[FileResult]:
        self.runs += 1
        data = ctx.read(str(self.outside)) or b""
        lines = len(data.splitlines()) + (100 if ctx.is_file(str(self.maybe)) else 0)
        return [replace(r, lines=lines) for r in results]

    def step(self) -> tuple[ProjectPass, ...]:
        return (ProjectPass("notes", lambda results: True, self.run),)


def _pass_run(notes: _Notes, tmp_path: Path, hashes: dict[str, str]) -> list[FileResult]:
    cache = ResultCache(tmp_path / "cache" / "results" / "key")
    results = [FileResult(path) for path in hashes]
    context = PassContext({p: str(tmp_path / p) for p in hashes}, lambda: None)  # type: ignore[arg-type,return-value]
    output = run_passes(results, context, cache, hashes, notes.step())
    cache.save()
    return output


def test_the_output_is_reused_until_a_file_outside_the_run_changes(tmp_path: Path) -> None:
    outside = tmp_path / "outside.h"
    outside.write_text("a\nb\n", encoding="utf-8")
    notes = _Notes(outside, tmp_path / "maybe.h")
    hashes = {"a.cu": "1", "b.cu": "2"}
    assert [r.lines for r in _pass_run(notes, tmp_path, hashes)] == [2, 2]
    assert [r.lines for r in _pass_run(notes, tmp_path, hashes)] == [2, 2] and notes.runs == 1
    outside.write_text("a\nb\nc\n", encoding="utf-8")
    assert [r.lines for r in _pass_run(notes, tmp_path, hashes)] == [3, 3] and notes.runs == 2
    (tmp_path / "maybe.h").write_text("", encoding="utf-8")  # a file the pass looked for appears
    assert [r.lines for r in _pass_run(notes, tmp_path, hashes)] == [103, 103] and notes.runs == 3
    assert _pass_run(notes, tmp_path, hashes)[0].lines == 103 and notes.runs == 3


def test_a_changed_file_of_the_run_runs_the_passes_again(tmp_path: Path) -> None:
    notes = _Notes(tmp_path / "missing.h", tmp_path / "maybe.h")
    _pass_run(notes, tmp_path, {"a.cu": "1", "b.cu": "2"})
    _pass_run(notes, tmp_path, {"a.cu": "1", "b.cu": "changed"})
    assert notes.runs == 2
    renamed = _pass_run(notes, tmp_path, {"a.cu": "1", "c.cu": "changed"})
    assert notes.runs == 3 and [r.path for r in renamed] == ["a.cu", "c.cu"]


def test_files_of_the_run_are_not_recorded_as_outside_input(tmp_path: Path) -> None:
    (tmp_path / "a.cu").write_text("x\n", encoding="utf-8")
    context = PassContext({"a.cu": str(tmp_path / "a.cu")}, lambda: None,  # type: ignore[arg-type,return-value]
                          frozenset({str(tmp_path / "a.cu")}))
    assert context.read(str(tmp_path / "a.cu")) == b"x\n" and context.read(str(tmp_path / "b.h")) is None
    assert list(context.inputs) == [f"read:{tmp_path / 'b.h'}"]
