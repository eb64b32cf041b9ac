"""A pooled run with the result cache: the workers pickle each new result as the cache stores it (but
the few holding code facts for the passes), and the parent only writes those bytes (issue 17:
pickling every result after the pool was part of the parent's serial tail). The run and the cache
must hold exactly what a one-process run gives; no timing."""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from lockin_lint import api
from lockin_lint.api import check_paths
from lockin_lint.kb.cache import read_signed
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import FileResult, RunResult, Settings
from lockin_lint.project import result_cache
from lockin_lint.project.discover import discover
from lockin_lint.project.result_cache import has_transient, load_stored, stored_form, without_transient

from .conftest import FIXTURES

REPO_FIXTURE = FIXTURES / "repo"


def _same(one: RunResult, other: RunResult) -> None:
    assert one.findings == other.findings and one.suppressed == other.suppressed
    assert (one.files_scanned, one.files_skipped, one.lines_scanned) == (other.files_scanned, other.files_skipped,
                                                                       other.lines_scanned)


def _discovered() -> list[tuple[str, str]]:
    settings = Settings()
    return discover(["."], REPO_FIXTURE, settings.extend_exclude, settings.exclude, settings.force_exclude,
                    settings.respect_gitignore, None).files


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A pool for the small fixture tree (one file per task), a fresh cache directory, and a marker file
    where `stored_form` notes the id of every process that called it."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the spy reaches the workers only when they are forked")
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(api, "_CHUNK", 1)
    marker = tmp_path / "pids"
    marker.touch()

    @functools.wraps(stored_form)
    def spy(result: FileResult) -> bytes:
        with open(marker, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {int(has_transient(result))}\n")
        return stored_form(result)

    monkeypatch.setattr(api, "stored_form", spy)
    monkeypatch.setattr(result_cache, "stored_form", spy)
    return marker


def test_the_workers_pickle_the_stored_results_and_the_run_is_unchanged(ruleset: RuleSet, pooled: Path) -> None:
    alone = check_paths(["."], ruleset, Settings(jobs=1), cwd=REPO_FIXTURE)
    first = check_paths(["."], ruleset, Settings(jobs=2), cwd=REPO_FIXTURE, use_cache=True)
    _same(first, alone)
    calls = [line.split() for line in pooled.read_text(encoding="utf-8").splitlines()]
    assert len(calls) == len(_discovered())  # every file's result was pickled once...
    in_parent = [transient for pid, transient in calls if pid == str(os.getpid())]
    assert in_parent == ["1"] * len(in_parent)  # ...by the parent only when it holds code facts...
    assert len(in_parent) < len(calls) and "1" in in_parent  # ...and there are both kinds here
    again = check_paths(["."], ruleset, Settings(jobs=2), cwd=REPO_FIXTURE, use_cache=True)
    _same(again, alone)  # every result now loaded from the cache
    assert len(pooled.read_text(encoding="utf-8").splitlines()) == len(calls)  # nothing checked or pickled again


def test_the_cache_holds_each_result_without_its_transient_facts(ruleset: RuleSet, pooled: Path) -> None:
    settings = Settings(jobs=2)
    check_paths(["."], ruleset, settings, cwd=REPO_FIXTURE, use_cache=True)
    stored = [read_signed(p) for p in (Path(os.environ["LOCKIN_LINT_CACHE_DIR"]) / "results").glob("*.results")]
    assert len(stored) == 1 and isinstance(stored[0], dict)
    entries = stored[0]["files"]
    assert entries and all(isinstance(e, tuple) and isinstance(e[1], bytes) for e in entries.values())
    loaded = {path: load_stored(blob) for path, (_, blob) in entries.items()}
    assert all(isinstance(r, FileResult) for r in loaded.values())
    assert all(r.facts is None or r.facts.code is None for r in loaded.values() if r is not None)
    engine = api.engine_for(ruleset, settings)
    assert loaded == {p: without_transient(api.check_file(engine, p, str(REPO_FIXTURE / p))) for p in entries}


def test_a_result_with_code_facts_reaches_the_passes_whole(ruleset: RuleSet, pooled: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored form drops the C/C++ code facts (`model.TRANSIENT`); the passes must still get them from
    the worker, as a one-process run gives them, so the link pass need not parse those files again."""
    seen: dict[int, list[FileResult]] = {}
    real = api.run_passes

    def capture(results: list[FileResult], *args: Any, **kwargs: Any) -> list[FileResult]:
        seen[len(seen)] = list(results)
        return real(results, *args, **kwargs)

    monkeypatch.setattr(api, "run_passes", capture)
    check_paths(["."], ruleset, Settings(jobs=1), cwd=REPO_FIXTURE)
    check_paths(["."], ruleset, Settings(jobs=2), cwd=REPO_FIXTURE, use_cache=True)
    with_code = [{r.path for r in run if r.facts is not None and r.facts.code is not None} for run in seen.values()]
    assert with_code[0] and with_code[1] == with_code[0]


@pytest.mark.parametrize("blob", [b"not a pickle", pickle.dumps(42), pickle.dumps(("hash", "result"))])
def test_an_entry_that_is_no_result_is_a_miss(blob: bytes) -> None:
    assert load_stored(blob) is None
