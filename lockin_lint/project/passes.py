"""The whole-project passes, run in order after the per-file checks, and cached as one.

Each pass (`ProjectPass`) turns the run's results into new results using the whole run: ``-r``
includes of requirements files, Python calls into the project's own CUDA extensions, names the
project's headers declare, branches the project's fixed configuration macros rule out, ROCm aliases in compatibility headers, sources a CMake build leaves out
of ROCm, functions every caller runs off ROCm, folders built on a ROCm-only package, branches on a
capability of the project's accelerator abstraction that some backends never take, optional imports
nothing imports, ``torch.cuda`` names a backend's subclass rebinds to its own, environment registry
entries nothing reads, CUDA backend modules, classes a folder's per-backend subfolders replace, a project's
uses of its own package, tensor-method findings on a method the project's own classes define,
optional imports behind another module's availability probe. Adding one is one entry in `PASSES`.

The passes read files again (headers, kernels) and parse some, which dominated an otherwise cached
run. Their combined output is therefore cached (`result_cache.ResultCache.passes`), under the
*tree digest* (every file of the run with its content hash) and every file a pass read or looked for
outside the run (its content hash, or that it was missing): the cached output is used only when all
of those are unchanged, so it is exactly what the passes would compute. A pass reads files only
through `PassContext.read` and `PassContext.is_file`, which record them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..analyzers import language_of
from ..limits import LimitError, read_regular
from ..model import FileResult, Reader
from .pass_background import Background, Early
from .pass_replay import reuse
from .result_cache import ResultCache, digest, tree_digest

if TYPE_CHECKING:
    from ..engine import Engine

#: The unknown-CUDA-name rules (LC9xxx): only runs with such findings look for the project's own
#: declarations of those names (a Python-only run never loads the C/C++ rules for it).
CATCH_ALL_PREFIX = "LC9"


@dataclass
class PassContext:
    """What a pass may use: the run's files (display path -> path to open), a reader and an existence
    test that record what they saw, and the engine (built on first use: a cached run never parses)."""

    files: dict[str, str]
    engine_factory: Callable[[], Engine]
    #: Paths of the run's files (their content is in the tree digest already): never recorded.
    known: frozenset[str] = frozenset()
    #: Files outside the run a pass read or looked for: path -> content hash, "" when unreadable,
    #: or a "file"/"none" existence answer.
    inputs: dict[str, str] = field(default_factory=dict)
    #: The run's process pool, when it has one: hands ``function(engine, reader, argument)`` for each
    #: argument to its workers at once (their engine, a reader of the run's files) and gives what
    #: yields the answers in order as they come.
    workers: Callable[[Callable[[Engine, Reader, Any], Any], list[Any]], Iterable[Any]] | None = None
    #: Pool work passes started early (`ProjectPass.prefetch`), by pass name: what it was started for
    #: (a key read from the results then), and what waits for its answers.
    early: dict[str, Early] = field(default_factory=dict)

    def engine(self) -> Engine:
        return self.engine_factory()

    def map(self, function: Callable[[Engine, Reader, Any], Any], arguments: list[Any]) -> list[Any]:
        """``function(engine, reader, argument)`` for each argument, in the pool when the run has one.
        Only for work on the run's own files: what a worker reads is not recorded (`inputs`)."""
        return self.map_later(function, arguments)()

    def map_later(self, function: Callable[[Engine, Reader, Any], Any],
                  arguments: list[Any]) -> Callable[[], list[Any]]:
        """`map`, started now and waited for when the returned function is called: in the pool, the
        caller goes on meanwhile; without one, the work is done now."""
        if self.workers is not None:
            answers = self.workers(function, arguments)
            return lambda: list(answers)
        done = [function(self.engine(), self.read, argument) for argument in arguments]
        return lambda: done

    def read(self, path: str) -> bytes | None:
        """A regular file under the size cap, else None (a FIFO would block, ``-r /dev/zero`` never end)."""
        try:
            data = read_regular(path)
        except (OSError, LimitError):
            data = None
        if path not in self.known:
            self.inputs.setdefault(f"read:{path}", digest(data) if data is not None else "")
        return data

    def is_file(self, path: str) -> bool:
        found = os.path.isfile(path)
        if path not in self.known:
            self.inputs.setdefault(f"isfile:{path}", "file" if found else "none")
        return found


@dataclass(frozen=True)
class ProjectPass:
    """One whole-project pass: ``wanted`` says whether this run needs it (cheaply), ``run`` does it."""

    name: str
    wanted: Callable[[list[FileResult]], bool]
    run: Callable[[list[FileResult], PassContext], list[FileResult]]
    #: Starts the pass's pool work and gives what waits for it: the results the pass replaces, by
    #: position. The ``python_free`` passes after it run meanwhile (`run_passes`).
    start: Callable[[list[FileResult], PassContext], Callable[[], dict[int, FileResult]]] | None = None
    #: Reads and changes only the results of C/C++/CUDA and build files, each from its own result and
    #: the files it reads, and keeps the list's positions: it may run while a ``start``ed pass's work
    #: on Python files is still in the pool.
    python_free: bool = False
    #: Starts, when the run has a pool, the part of the pass that reads only the run's own files, for a
    #: key read from the results (`PassContext.early`): while the link pass's re-checks and the
    #: ``python_free`` passes go on. The pass uses it only if its own results give the same key.
    prefetch: Callable[[list[FileResult], PassContext], None] | None = None


def _includes(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .includes import follow_includes

    return follow_includes(results, ctx.files, ctx.engine(), ctx.read)


def _links(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .linker import link_extensions

    return link_extensions(results, ctx.files, ctx.engine(), ctx.read,
                           ctx.map_later if ctx.workers is not None else None)


def _start_links(results: list[FileResult], ctx: PassContext) -> Callable[[], dict[int, FileResult]]:
    from .linker import start_links

    return start_links(results, ctx.files, ctx.engine(), ctx.read, ctx.map_later)


def _declared(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .declared_names import drop_declared_unknowns

    return drop_declared_unknowns(results, ctx.files, ctx.engine(), ctx.read)


def _fixed_macros(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .fixed_macros import drop_fixed_dead

    return drop_fixed_dead(results, ctx.files, ctx.read, ctx.is_file)


def _rocm(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .rocm_aliases import mark_rocm_aliases

    return mark_rocm_aliases(results, ctx.files, ctx.read, ctx.is_file)


def _rocm_callers(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .rocm_callers import mark_rocm_callers

    return mark_rocm_callers(results, ctx.files, ctx.read, ctx.map if ctx.workers is not None else None,
                             lambda: ctx.engine().run.python_parser, ctx.early.get("ROCm callers"))


def _early_rocm_callers(results: list[FileResult], ctx: PassContext) -> None:
    from .rocm_callers import start_spelling

    started = start_spelling(results, ctx.files, ctx.map_later)
    if started is not None:
        ctx.early["ROCm callers"] = started


def _imported_probes(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .imported_probes import mark_imported_probes

    return mark_imported_probes(results, ctx.files, ctx.read, ctx.is_file, lambda: ctx.engine().run.python_parser)


def _rocm_only_marks(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .rocm_only_marks import mark_rocm_only_tests

    return mark_rocm_only_tests(results, ctx.files, ctx.read, ctx.is_file, lambda: ctx.engine().run.python_parser)


def _imported_rocm_flags(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .imported_rocm_flags import mark_imported_rocm_flags

    return mark_imported_rocm_flags(results, ctx.files, ctx.read, ctx.is_file, lambda: ctx.engine().run.python_parser)


def _capabilities(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .accelerator_capabilities import mark_capability_branches

    return mark_capability_branches(results, ctx.files, ctx.read)


def _rocm_packages(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .rocm_package_folders import drop_rocm_package_folders

    return drop_rocm_package_folders(results, ctx.files, ctx.read)


def _rocm_package_candidates(results: list[FileResult]) -> bool:
    from .rocm_package_folders import wanted

    return wanted(results)


def _backend(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .backend_modules import mark_backend_modules

    return mark_backend_modules(results, ctx.files, ctx.read)


def _replaced_classes(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .backend_subfolders import mark_backend_folders

    return mark_backend_folders(results, ctx.files, ctx.read)


def _build(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .build_dispatch import mark_build_dispatch

    return mark_build_dispatch(results, ctx.files, ctx.read)


def _own(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .own_packages import drop_own_package_uses

    return drop_own_package_uses(results)


def _tensor_methods(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .tensor_methods import drop_project_methods

    return drop_project_methods(results)


def _unused_imports(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .unused_imports import mark_unused_imports

    return mark_unused_imports(results, ctx.files, ctx.read, ctx.early.get("unused optional imports"))


def _early_unused_imports(results: list[FileResult], ctx: PassContext) -> None:
    from .unused_imports import start_import_search

    started = start_import_search(results, ctx.files, ctx.map_later)
    if started is not None:
        ctx.early["unused optional imports"] = started


def _cuda_rebinds(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .cuda_rebinds import mark_cuda_rebinds

    return mark_cuda_rebinds(results, ctx.files, ctx.read, lambda: ctx.engine().run.python_parser)


def _gpu_options(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .gpu_options import mark_gpu_options

    return mark_gpu_options(results, ctx.files, ctx.read)


def _unread_env_entries(results: list[FileResult], ctx: PassContext) -> list[FileResult]:
    from .unread_env_entries import mark_unread_entries

    return mark_unread_entries(results, ctx.files, ctx.read, ctx.early.get("unread env registry entries"))


def _early_unread_env_entries(results: list[FileResult], ctx: PassContext) -> None:
    from .unread_env_entries import start_reading_keys

    started = start_reading_keys(results, ctx.files, ctx.read, ctx.map_later)
    if started is not None:
        ctx.early["unread env registry entries"] = started


def _env_findings(results: list[FileResult]) -> bool:
    from .unread_env_entries import has_env_findings

    return has_env_findings(results)


def _unproven_methods(results: list[FileResult]) -> bool:
    return any(result.facts is not None and result.facts.unproven_methods for result in results)


def _has_facts(results: list[FileResult]) -> bool:
    """Only builds and op registrations link anything (a file's tensor-method names do not)."""
    return any(result.facts is not None and (result.facts.builds or result.facts.registers_ops) for result in results)


def _cuda_findings(results: list[FileResult]) -> bool:
    """ROCm aliases change only findings in C/C++/CUDA files: a run on Python files never imports them."""
    return any(result.findings and language_of(result.path) == "cuda" for result in results)


def _cmake_and_findings(results: list[FileResult]) -> bool:
    """The build-level dispatch reads only the run's CMake files (a name ending ``CMakeLists.txt`` or
    ``.cmake`` here, a superset of the pass's own test) and op builders, and changes only findings."""
    from .op_builders import is_op_builder

    return any(r.findings for r in results) and any(r.path.endswith(("CMakeLists.txt", ".cmake"))
                                                    or is_op_builder(r.path) for r in results)


def _backend_subfolders(results: list[FileResult]) -> bool:
    """Only a run with a Python file in a target-named subfolder (``op_builder/npu/``) has any."""
    from .backend_subfolders import has_backend_subfolder

    return has_backend_subfolder(results)


def _rocm_candidates(results: list[FileResult]) -> bool:
    return any(result.facts is not None and result.facts.rocm_callers for result in results)


#: The passes, in the order they run; each sees what the ones before it made.
PASSES: tuple[ProjectPass, ...] = (
    ProjectPass("requirements includes", lambda rs: any(r.facts is not None and r.facts.includes for r in rs),
                _includes),
    ProjectPass("extension links", _has_facts, _links, start=_start_links),
    ProjectPass("declared names",
                lambda rs: any(f.rule_id.startswith(CATCH_ALL_PREFIX) for r in rs for f in r.findings), _declared,
                python_free=True),
    ProjectPass("fixed macros", _cuda_findings, _fixed_macros, python_free=True),
    ProjectPass("ROCm aliases", _cuda_findings, _rocm, python_free=True),
    ProjectPass("build-level dispatch", _cmake_and_findings, _build, python_free=True),
    ProjectPass("ROCm callers", _rocm_candidates, _rocm_callers, prefetch=_early_rocm_callers),
    ProjectPass("ROCm package folders", _rocm_package_candidates, _rocm_packages),
    ProjectPass("imported probes", lambda rs: any(r.facts is not None and r.facts.flag_imports for r in rs),
                _imported_probes),
    ProjectPass("imported ROCm flags", lambda rs: any(r.facts is not None and r.facts.rocm_flag_uses for r in rs),
                _imported_rocm_flags),
    ProjectPass("ROCm-only skip marks",
                lambda rs: any(r.facts is not None and r.facts.rocm_only_mark_uses for r in rs), _rocm_only_marks),
    ProjectPass("accelerator capabilities",
                lambda rs: any(r.facts is not None and r.facts.capability_tests for r in rs), _capabilities),
    ProjectPass("unused optional imports",
                lambda rs: any(r.facts is not None and r.facts.unused_imports for r in rs), _unused_imports,
                prefetch=_early_unused_imports),
    ProjectPass("rebound torch.cuda names", lambda rs: any(r.facts is not None and r.facts.cuda_rebinds for r in rs),
                _cuda_rebinds),
    ProjectPass("unread env registry entries", _env_findings, _unread_env_entries,
                prefetch=_early_unread_env_entries),
    ProjectPass("GPU switches", lambda rs: any(r.facts is not None and r.facts.gpu_options for r in rs),
                _gpu_options),
    ProjectPass("backend modules", lambda rs: True, _backend),
    ProjectPass("backend subfolders", _backend_subfolders, _replaced_classes),
    ProjectPass("own packages", lambda rs: True, _own),
    ProjectPass("project tensor methods", _unproven_methods, _tensor_methods),
)


def run_passes(results: list[FileResult], ctx: PassContext, cache: ResultCache | None,
               hashes: dict[str, str], passes: tuple[ProjectPass, ...] = PASSES,
               phase: Callable[[str], None] | None = None) -> list[FileResult]:
    """``results`` after every pass; what the passes gave last time when nothing they read changed.

    ``hashes`` maps every file of the run to its content hash (the tree digest's input)."""
    tree = tree_digest(hashes) if cache is not None else ""
    reused = reuse(cache.passes(tree), tree, results, ctx.inputs) if cache is not None else None
    if reused is not None:
        return reused
    first = {result.path: result for result in results}
    output = results
    background: Background | None = None
    prefetched = ctx.workers is None
    for step in passes:
        if step.python_free and not prefetched:  # the link pass's re-checks, if any, are queued first
            prefetched = True
            for later in passes:
                if later.prefetch is not None and later.wanted(output):
                    later.prefetch(output, ctx)
        if background is not None and not step.python_free:
            output, background = background.finish(output, ctx), None
        wanted = step.wanted(output)
        if background is not None:
            background.ran(step, wanted, output)
        if wanted:
            if phase is not None and step.name == "extension links":
                phase("linking files across the project")
            if step.start is not None and ctx.workers is not None:
                background = Background(output, step.start(output, ctx))
            else:
                output = step.run(output, ctx)
    if background is not None:
        output = background.finish(output, ctx)
    if cache is not None:
        final = [(r.path, None if first.get(r.path) is r else r) for r in output]
        cache.put_passes(tree, (tree, dict(ctx.inputs), final))
    return output
