"""A started pass's pool work, and the passes that run in the parent meanwhile (`passes.run_passes`).

On two cores the parent would otherwise wait for the link pass's re-checks of Python files, then run
the passes that never look at Python files alone; this is how their outcome stays what running them in
order gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

from ..model import FileResult

if TYPE_CHECKING:
    from .passes import PassContext, ProjectPass

_Key = TypeVar("_Key")
#: Python files per pool task when a pass searches them all (reading them is most of such a pass).
FILES_PER_TASK = 400


def file_chunks(key: _Key, files: dict[str, str], suffixes: tuple[str, ...],
                size: int = FILES_PER_TASK) -> list[tuple[_Key, list[tuple[str, str]]]]:
    """The run's files ending in ``suffixes`` as (display path, path) pairs, ``size`` to a pool task,
    each task with ``key`` (what the pass searches them for)."""
    work = [(shown, path) for shown, path in files.items() if shown.endswith(suffixes)]
    return [(key, work[i : i + size]) for i in range(0, len(work), size)]


#: A search of the run's files started in the pool before its pass runs (`PassContext.early`): what it
#: searches for, and what waits for the answers of its tasks.
Early = tuple[Any, Callable[[], list[Any]]]
#: `PassContext.map_later`: hands (function, tasks) to the pool and gives what waits for the answers.
MapLater = Callable[[Callable[..., Any], list[Any]], Callable[[], list[Any]]]


def start_search(key: Any, files: dict[str, str], suffixes: tuple[str, ...], size: int,
                 search: Callable[..., Any], map_later: MapLater) -> Early | None:
    """``search`` for ``key`` over the run's files ending in ``suffixes`` (`file_chunks`), started in the
    pool; None when there is nothing to search for, or one task's worth of files (the pass then does
    it itself)."""
    chunks = file_chunks(key, files, suffixes, size)
    return (key, map_later(search, chunks)) if key and len(chunks) > 1 else None


def early_answers(early: Early | None, key: Any) -> list[Any] | None:
    """The answers of the tasks of a search started for ``key`` (`start_search`); None when none was,
    or it was for another key (the pass's own results then ask for something else: it searches again)."""
    return early[1]() if early is not None and early[0] == key else None


class Background:
    """A pass whose pool work goes on while the ``python_free`` passes after it run in the parent (on
    two cores the parent would otherwise wait for the link re-checks, then run those passes alone).

    They see the results before the background pass's replacements; the outcome is what running them
    after it gives, because they keep the positions and every Python file's result (checked: the
    replaced positions must still hold the very objects they held) and each is asked again whether it
    is wanted on the results with the replacements. Should either check fail, the replacements are
    made first and those passes run again after them, in the order of `PASSES`."""

    def __init__(self, before: list[FileResult], waiting: Callable[[], dict[int, FileResult]]) -> None:
        self.before = before
        self.waiting = waiting
        #: The passes run meanwhile: each with its answer to ``wanted`` and the results it was asked on.
        self.steps: list[tuple[ProjectPass, bool, list[FileResult]]] = []

    def ran(self, step: ProjectPass, wanted: bool, results: list[FileResult]) -> None:
        self.steps.append((step, wanted, results))

    def finish(self, output: list[FileResult], ctx: PassContext) -> list[FileResult]:
        replaced = self.waiting()
        if not replaced:
            return output
        if len(output) == len(self.before) and all(output[p] is self.before[p] for p in replaced) and all(
                step.wanted(_replace(seen, replaced)) == wanted for step, wanted, seen in self.steps):
            return _replace(output, replaced)
        output = _replace(self.before, replaced)
        for step, _, _ in self.steps:
            if step.wanted(output):
                output = step.run(output, ctx)
        return output


def _replace(results: list[FileResult], replaced: dict[int, FileResult]) -> list[FileResult]:
    changed = list(results)
    for position, result in replaced.items():
        changed[position] = result
    return changed
