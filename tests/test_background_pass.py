"""The link pass's pool work goes on while the passes that never look at Python files run in the parent
(`passes.run_passes`, `_Background`; issue 17: on 2 cores the parent used to wait for the re-checks,
then run those passes alone). The outcome must be what running them in order gives; no timing here."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from lockin_lint import api
from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import FileResult, Reader, Settings
from lockin_lint.project import linker
from lockin_lint.project.passes import PASSES, PassContext, ProjectPass, run_passes

from .conftest import FIXTURES

REPO_FIXTURE = FIXTURES / "repo"


def _lazy_workers(ruleset: RuleSet) -> Callable[[Callable[..., Any], list[Any]], Iterable[Any]]:
    """A stand-in for the pool that does each task only when its answer is read, as a busy pool would
    still be working when the parent goes on."""
    def workers(function: Callable[..., Any], arguments: list[Any]) -> Iterable[Any]:
        return (function(api.engine_for(ruleset), api._read, argument) for argument in arguments)
    return workers


def _first_pass(ruleset: RuleSet) -> tuple[list[FileResult], dict[str, str]]:
    settings = Settings(jobs=1)
    found = api.discover(["."], REPO_FIXTURE, (), None, False, True, None)
    engine = api.engine_for(ruleset, settings)
    return [api.check_file(engine, shown, path) for shown, path in found.files], dict(found.files)


def test_the_passes_without_python_run_while_the_link_re_checks_wait(ruleset: RuleSet, monkeypatch: Any) -> None:
    events: list[str] = []
    real = linker.relink_files

    def relink_files(engine: Any, read: Reader, chunk: Any) -> Any:
        events.append("re-check")
        return real(engine, read, chunk)

    monkeypatch.setattr(linker, "relink_files", relink_files)
    monkeypatch.setattr(linker, "_RELINK_CHUNK", 1)  # several pool tasks

    def noted(step: ProjectPass) -> ProjectPass:
        def run(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
            events.append(step.name)
            return step.run(results, ctx)
        return ProjectPass(step.name, step.wanted, run, step.start, step.python_free)

    passes = tuple(noted(step) for step in PASSES)
    results, files = _first_pass(ruleset)
    in_order = run_passes(list(results), PassContext(files, lambda: api.engine_for(ruleset)), None, {}, passes)
    sequential = list(events)
    events.clear()
    context = PassContext(files, lambda: api.engine_for(ruleset), workers=_lazy_workers(ruleset))
    background = run_passes(list(results), context, None, {}, passes)
    assert background == in_order and any(f.depends_on for r in background for f in r.findings)
    free = [step.name for step in PASSES if step.python_free and step.name in sequential]
    assert free  # the fixture's CUDA files have findings: those passes run
    first_wait = events.index("re-check")
    assert set(free) <= set(events[:first_wait])  # they ran before the re-checks were waited for
    # the same passes in the same order, the link pass started (`start`) instead of run
    assert [e for e in events if e != "re-check"] == [e for e in sequential if e not in ("re-check", "extension links")]


def _result(path: str, note: str = "") -> FileResult:
    return FileResult(path, lines=len(note))


def _background(replaced: dict[int, FileResult]) -> ProjectPass:
    return ProjectPass("background", lambda rs: True,
                       lambda rs, ctx: [replaced.get(i, r) for i, r in enumerate(rs)],
                       start=lambda rs, ctx: lambda: dict(replaced))


def _run_both(passes: tuple[ProjectPass, ...], results: list[FileResult]) -> tuple[list[FileResult], list[FileResult]]:
    def workers(function: Callable[..., Any], arguments: list[Any]) -> Iterable[Any]:
        raise AssertionError("no pool work here")

    no_engine: Any = lambda: None  # these passes never ask for one
    in_order = tuple(ProjectPass(p.name, p.wanted, p.run) for p in passes)
    sequential = run_passes(list(results), PassContext({}, no_engine), None, {}, in_order)
    overlapped = run_passes(list(results), PassContext({}, no_engine, workers=workers), None, {}, passes)
    return sequential, overlapped


def test_a_pass_that_touches_a_replaced_result_runs_again_after_the_replacement() -> None:
    results = [_result("a.py"), _result("k.cu")]
    relinked = _result("a.py", "linked")
    wrongly_free = ProjectPass("marks every file", lambda rs: True,
                               lambda rs, ctx: [_result(r.path, "x" * (r.lines + 1)) for r in rs], python_free=True)
    sequential, overlapped = _run_both((_background({0: relinked}), wrongly_free), results)
    assert overlapped == sequential and overlapped[0].lines == len("linked") + 1


def test_a_pass_wanted_only_after_the_replacement_runs_after_it() -> None:
    results = [_result("a.py"), _result("k.cu")]
    relinked = _result("a.py", "linked")
    after_link = ProjectPass("wanted once linked", lambda rs: rs[0].lines > 0,
                             lambda rs, ctx: [rs[0], _result("k.cu", "seen")], python_free=True)
    sequential, overlapped = _run_both((_background({0: relinked}), after_link), results)
    assert overlapped == sequential and overlapped[1].lines == len("seen")


def test_a_python_free_pass_keeps_its_work_when_nothing_contradicts_it() -> None:
    results = [_result("a.py"), _result("k.cu")]
    relinked = _result("a.py", "linked")
    calls: list[int] = []

    def mark(rs: list[FileResult], ctx: PassContext) -> list[FileResult]:
        calls.append(len(calls))
        return [rs[0], _result("k.cu", "marked")]

    free = ProjectPass("C/C++ only", lambda rs: True, mark, python_free=True)
    sequential, overlapped = _run_both((_background({0: relinked}), free), results)
    assert overlapped == sequential == [relinked, _result("k.cu", "marked")]
    assert len(calls) == 2  # once per run: the overlapped run did not run it again


def test_a_pooled_run_finds_what_one_process_finds(ruleset: RuleSet, monkeypatch: Any) -> None:
    alone = check_paths(["."], ruleset, Settings(jobs=1), cwd=REPO_FIXTURE)
    monkeypatch.setattr(linker, "_RELINK_CHUNK", 1)
    monkeypatch.setattr(api, "_CHUNK", 1)
    pooled = check_paths(["."], ruleset, Settings(jobs=2), cwd=REPO_FIXTURE)
    assert pooled.findings == alone.findings and pooled.suppressed == alone.suppressed
