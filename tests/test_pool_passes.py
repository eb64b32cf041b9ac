"""Whole-project passes that hand work on the run's files to the process pool (issue 17: on 2 cores the
parent's serial tail after the per-file checks goes straight onto the wall clock). The pooled run must
give exactly what one process gives; no timing here."""

from __future__ import annotations

import functools
import multiprocessing
import os
from pathlib import Path

import pytest

from lockin_lint import api
from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Settings
from lockin_lint.project import linker
from lockin_lint.project.passes import PassContext

from .conftest import FIXTURES

REPO_FIXTURE = FIXTURES / "repo"


def _spy(marker: Path) -> object:
    """`linker.relink_files`, noting the id of each process it ran in (pickled by its own name)."""
    real = linker.relink_files

    @functools.wraps(real)
    def relink_files(*args: object) -> object:
        with open(marker, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        return real(*args)  # type: ignore[arg-type]

    return relink_files


def test_the_link_re_checks_run_in_the_pool_and_find_the_same(ruleset: RuleSet, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the spy reaches the workers only when they are forked")
    alone = check_paths(["."], ruleset, Settings(jobs=1), cwd=REPO_FIXTURE)
    marker = tmp_path / "pids"
    monkeypatch.setattr(linker, "relink_files", _spy(marker))
    monkeypatch.setattr(linker, "_RELINK_CHUNK", 1)  # a chunk per Python file: several pool tasks
    monkeypatch.setattr(api, "_CHUNK", 1)  # a pool for this small tree
    pooled = check_paths(["."], ruleset, Settings(jobs=2), cwd=REPO_FIXTURE)
    assert pooled.findings == alone.findings and pooled.suppressed == alone.suppressed
    assert any(f.depends_on for f in pooled.findings)  # the links were made
    pids = set(marker.read_text(encoding="utf-8").split())
    assert pids and str(os.getpid()) not in pids  # every re-check ran in a worker


def test_without_a_pool_a_pass_maps_in_process(ruleset: RuleSet) -> None:
    calls: list[tuple[int, object]] = []
    context = PassContext({}, lambda: api.engine_for(ruleset))

    def work(engine: object, read: object, argument: int) -> int:
        calls.append((argument, read))
        return argument * 2

    assert context.map(work, [1, 2, 3]) == [2, 4, 6]
    assert [a for a, _ in calls] == [1, 2, 3] and all(read == context.read for _, read in calls)
