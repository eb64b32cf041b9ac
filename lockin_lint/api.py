"""Run the pure core over files: reading, the optional process pool, and collecting results.

Reading happens in the workers (they share the page cache), so the parent process only walks the tree
and merges results; results are sorted afterwards, which keeps ``--jobs N`` output identical to
``--jobs 1``.
"""

from __future__ import annotations

import fnmatch
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

from .project.discover import discover
from .engine import Engine
from .project.declared_names import drop_declared_unknowns
from .project.includes import follow_includes
from .project.rocm_aliases import mark_rocm_aliases
from .project.linker import link_extensions
from .model import FileError, FileResult, Finding, RunResult, Settings
from .kb.ruleset import RuleSet

#: Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 300
_CHUNK = 32

_engines: dict[tuple[int, Settings], tuple[RuleSet, Engine]] = {}
_worker_engine: Engine | None = None


def engine_for(ruleset: RuleSet, settings: Settings | None = None) -> Engine:
    """A cached `Engine` per (rule set, settings): compiling the index once per run, not per file."""
    key = (id(ruleset), settings or Settings())
    cached = _engines.get(key)
    if cached is None or cached[0] is not ruleset:
        cached = (ruleset, Engine(ruleset, key[1]))
        _engines[key] = cached
    return cached[1]


def check_bytes(path: str, data: bytes, ruleset: RuleSet, settings: Settings | None = None) -> FileResult:
    """Check one in-memory file: what tests, editors and the CLI all build on."""
    return engine_for(ruleset, settings).check(path, data)


def check_file(engine: Engine, shown: str, path: str) -> FileResult:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return FileResult(shown, errors=(FileError(shown, f"cannot read: {exc.strerror or exc}"),))
    return engine.check(shown, data)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _init_worker(ruleset: RuleSet, settings: Settings) -> None:
    global _worker_engine
    _worker_engine = Engine(ruleset, settings)


def _check_chunk(chunk: list[tuple[str, str]]) -> list[FileResult]:
    assert _worker_engine is not None
    return [check_file(_worker_engine, shown, path) for shown, path in chunk]


def _jobs(requested: int, files: int) -> int:
    if requested > 0:
        return requested
    return 1 if files < POOL_THRESHOLD else max(1, os.cpu_count() or 1)


def check_paths(paths: list[str], ruleset: RuleSet, settings: Settings | None = None,
                cwd: Path | None = None, progress: Callable[[int, int], None] | None = None) -> RunResult:
    settings = settings or Settings()
    found = discover(paths, cwd, settings.extend_exclude, settings.exclude, settings.force_exclude,
                     settings.respect_gitignore)
    run = RunResult(errors=list(found.errors))
    jobs = _jobs(settings.jobs, len(found.files))
    total = len(found.files)
    results: list[FileResult] = []
    if jobs == 1:
        engine = engine_for(ruleset, settings)
        for shown, path in found.files:
            results.append(check_file(engine, shown, path))
            if progress is not None and len(results) % _CHUNK == 0:
                progress(len(results), total)
    else:
        chunks = [found.files[i : i + _CHUNK] for i in range(0, total, _CHUNK)]
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(jobs, multiprocessing.get_context(method), _init_worker, (ruleset, settings)) as pool:
            for chunk in pool.map(_check_chunk, chunks):
                results.extend(chunk)
                if progress is not None:
                    progress(len(results), total)
    if progress is not None and total:
        progress(total, total)
    if any(result.facts is not None for result in results):  # the cross-file passes
        engine = engine_for(ruleset, settings)
        results = follow_includes(results, dict(found.files), engine, _read)
        results = link_extensions(results, dict(found.files), engine, _read)
    if total:
        results = drop_declared_unknowns(results, dict(found.files), engine_for(ruleset, settings), _read)
        results = mark_rocm_aliases(results, dict(found.files), _read)
    for result in results:
        run.files_scanned += 1
        run.files_skipped += result.skipped
        run.lines_scanned += result.lines
        run.file_lines[result.path] = result.lines
        run.findings.extend(result.findings)
        run.suppressed.extend(result.suppressed)
        run.errors.extend(result.errors)
        run.unused_suppressions.extend(result.unused_suppressions)
    if settings.per_file_ignores:
        run.findings = [f for f in run.findings if not _ignored_for_file(f, settings.per_file_ignores)]
    run.findings.sort(key=lambda f: f.sort_key())
    run.suppressed.sort(key=lambda f: f.sort_key())
    run.errors.sort(key=lambda e: (e.path, e.message))
    run.unused_suppressions.sort(key=lambda u: (u.path, u.line))
    return run


def _ignored_for_file(finding: Finding, table: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    """Config ``per-file-ignores``: a glob on the path (or the file name) and rule codes."""
    name = finding.path.rsplit("/", 1)[-1]
    for pattern, codes in table:
        if fnmatch.fnmatchcase(finding.path, pattern) or fnmatch.fnmatchcase(name, pattern):
            if any(finding.rule_id.startswith(c) or finding.category == c for c in codes):
                return True
    return False
