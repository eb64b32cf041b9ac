"""Pass work started early in the pool (`ProjectPass.prefetch`, `PassContext.early`; issue 17, ninth
session): the searches of the run's Python files by the ROCm callers, unread env registry entries and
unused optional imports passes start right after the link pass's re-checks, and a pass uses such an
answer only when its own results give the key it was started for. The outcome must be what running
the passes in order gives; no timing here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from lockin_lint import api
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import FileResult, Settings
from lockin_lint.project import rocm_callers, unread_env_entries, unused_imports
from lockin_lint.project.passes import PassContext, run_passes

from .test_rocm_callers import BUILDER
from .test_unread_env_entries import ENVS


def _lazy_workers(ruleset: RuleSet) -> Callable[[Callable[..., Any], list[Any]], Iterable[Any]]:
    """A stand-in for the pool that does each task only when its answer is read (a busy pool)."""
    def workers(function: Callable[..., Any], arguments: list[Any]) -> Iterable[Any]:
        return (function(api.engine_for(ruleset), api._read, argument) for argument in arguments)
    return workers


def _tree(tmp_path: Path, ruleset: RuleSet) -> tuple[list[FileResult], dict[str, str]]:
    sources = {"builder.py": BUILDER, "vllm/envs.py": ENVS, **{f"filler{i}.py": "x = 1\n" for i in range(4)}}
    files = {}
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
        files[name] = str(tmp_path / name)
    engine = api.engine_for(ruleset, Settings(jobs=1))
    return [api.check_file(engine, shown, path) for shown, path in files.items()], files


def test_the_early_searches_give_what_the_passes_in_order_give(tmp_path: Path, ruleset: RuleSet,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (rocm_callers, unread_env_entries, unused_imports):
        monkeypatch.setattr(module, "_CHUNK", 1)  # several pool tasks, as on a large tree
    results, files = _tree(tmp_path, ruleset)
    in_order = run_passes(list(results), PassContext(files, lambda: api.engine_for(ruleset)), None, {})
    context = PassContext(files, lambda: api.engine_for(ruleset), workers=_lazy_workers(ruleset))
    early = run_passes(list(results), context, None, {})
    assert set(context.early) == {"ROCm callers", "unread env registry entries"}
    assert early == in_order
    handled = {(r.path, f.line): dict(f.handled) for r in early for f in r.findings if f.handled}
    assert handled[("builder.py", 6)] == {"rocm": "callers run it only off ROCm (builder.py:15, 22)"}
    assert any(path == "vllm/envs.py" for path, _ in handled)


def test_an_early_answer_counts_only_for_the_names_it_was_started_for(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "builder.py").write_text(BUILDER, encoding="utf-8")
    files = {"builder.py": str(tmp_path / "builder.py")}
    results = [check_bytes("builder.py", BUILDER.encode(), ruleset)]
    names = rocm_callers.spelling_names(results)
    assert names == (b"assert_no_cuda_mismatch",)
    elsewhere = [[("other.py", {names[0]})]]  # as if another file of the run spelled the name

    def finding(early: Any) -> Any:
        marked = rocm_callers.mark_rocm_callers(results, files, api._read, early=early)
        return next(f for f in marked[0].findings if f.line == 6)

    assert finding(None).handled  # the builder alone calls it, off ROCm
    assert not finding((names, lambda: elsewhere)).handled  # the early answer is used ...
    assert finding(((b"another_name",), lambda: elsewhere)).handled  # ... only for the same names
