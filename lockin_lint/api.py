"""Run the pure core over files: reading, the optional process pool, and collecting results.

Reading happens in the workers (they share the page cache), so the parent process only walks the tree
and merges results; results are sorted afterwards, which keeps ``--jobs N`` output identical to
``--jobs 1``.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .project.discover import discover
from .limits import LimitError, read_regular
from .model import FileError, FileResult, Finding, Reader, RunResult, Settings
from .project.passes import PassContext, run_passes
from .project.workers import cpu_count, die_with_parent
from .kb.ruleset import RuleSet
from .project.result_cache import (ResultCache, Stat, digest, file_stat, has_transient, load_stored, scope_of,
                                   stored_form, tree_digest)

if TYPE_CHECKING:  # imported when a file is first checked: a fully cached run never loads a parser
    from concurrent.futures import ProcessPoolExecutor

    from .engine import Engine

#: Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 300
_CHUNK = 32

_engines: dict[tuple[int, Settings], tuple[RuleSet, Engine]] = {}
_worker_engine: Engine | None = None


def engine_for(ruleset: RuleSet, settings: Settings | None = None) -> Engine:
    """A cached `Engine` per (rule set, settings): compiling the index once per run, not per file."""
    from .engine import Engine

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
        data = read_regular(path)
    except OSError as exc:
        return FileResult(shown, errors=(FileError(shown, f"cannot read: {exc.strerror or exc}"),))
    except LimitError as exc:  # a file over the size cap is skipped with the reason, not read
        return FileResult(shown, errors=(FileError(shown, str(exc), partial=True),), skipped=True)
    return engine.check(shown, data)


def _read(path: str) -> bytes | None:
    """A file a pass or the language server reads beside the checked one: a regular file under the size
    cap (a FIFO would block, and ``-r /dev/zero`` would never end), else None (reported as unreadable)."""
    try:
        return read_regular(path)
    except (OSError, LimitError):
        return None


def _check_unless_unchanged(engine: Callable[[], Engine], shown: str, path: str,
                            known_hash: str | None) -> tuple[FileResult | None, str]:
    """The file's result and content hash; no result when the content hashes to ``known_hash`` (the
    result cache has it), so an unchanged file with a new mtime is read but never parsed."""
    try:
        data = read_regular(path)
    except OSError as exc:
        return FileResult(shown, errors=(FileError(shown, f"cannot read: {exc.strerror or exc}"),)), ""
    except LimitError as exc:  # a file over the size cap is skipped with the reason, not read
        return FileResult(shown, errors=(FileError(shown, str(exc), partial=True),), skipped=True), ""
    content_hash = digest(data)
    if known_hash == content_hash:
        return None, content_hash
    return engine().check(shown, data), content_hash


def _init_worker(ruleset: RuleSet, settings: Settings, parent: int) -> None:
    global _worker_engine
    die_with_parent(parent)
    _worker_engine = engine_for(ruleset, settings)  # a forked worker inherits the parent's, compiled


def _the_worker_engine() -> Engine:
    assert _worker_engine is not None
    return _worker_engine


#: What a worker sends back per file: the result (None when the cache has it, or when it comes as its
#: stored form), the content hash, and the result's stored form for the result cache.
Checked = tuple[FileResult | None, str, bytes | None]


def _check_chunk(task: tuple[bool, list[tuple[str, str, str | None]]]) -> list[Checked]:
    """A chunk of files checked in a worker; with ``store`` (the run keeps a result cache) a new result
    comes back only as the cache stores it (`result_cache.stored_form`): the parent loads it instead
    of the pool's own pickle of the result, and writes it to the cache as it is. A result with code
    facts for the passes (`result_cache.has_transient`: a few C/C++ files) comes back whole, and the
    parent pickles it for the cache (sending both doubled what crossed the pool on vLLM)."""
    store, chunk = task
    answers: list[Checked] = []
    for shown, path, known in chunk:
        result, content_hash = _check_unless_unchanged(_the_worker_engine, shown, path, known)
        if result is None or not store or not content_hash or has_transient(result):
            answers.append((result, content_hash, None))
        else:
            answers.append((None, content_hash, stored_form(result)))
    return answers


def _pass_task(task: tuple[Callable[[Engine, Reader, Any], Any], Any]) -> Any:
    function, argument = task
    return function(_the_worker_engine(), _read, argument)


def _in_pool(pool: ProcessPoolExecutor) -> Callable[[Callable[[Engine, Reader, Any], Any], list[Any]], Iterable[Any]]:
    """`PassContext.workers`: a whole-project pass's work on the run's files, handed to the pool's
    workers at once (their engine was compiled before the fork) while the pool is still up, so the
    parent's serial tail after the per-file checks is shorter; the answers are read as they come."""
    return lambda function, arguments: pool.map(_pass_task, [(function, a) for a in arguments])


def _jobs(requested: int, files: int) -> int:
    """Workers for ``files`` files: never more than there are chunks of work to hand out."""
    chunks = max(1, -(-files // _CHUNK))
    if requested > 0:
        return min(requested, chunks)
    return 1 if files < POOL_THRESHOLD else min(cpu_count(), chunks)


def check_paths(paths: list[str], ruleset: RuleSet, settings: Settings | None = None,
                cwd: Path | None = None, progress: Callable[[int, int], None] | None = None,
                use_cache: bool = False, root: Path | None = None,
                phase: Callable[[str], None] | None = None,
                observe: Callable[[str, dict[str, str]], None] | None = None) -> RunResult:
    """Check ``paths`` (relative to ``cwd``), reporting paths relative to ``root`` (default ``cwd``).

    ``progress(done, total)`` is called during the file scan, ``phase(name)`` before each step after
    it, so a front end can show that a long run is still working. ``use_cache`` keeps per-file results
    between runs (`project.result_cache`); the cross-file passes run again on them (or are reused when
    no file changed), so the result is the same. ``observe(tree, inputs)`` is told the run's whole
    input when the cache vouches for every file (`tree_key`; the files outside the run the passes
    read), for `cli_memo`."""
    settings = settings or Settings()
    found = discover(paths, cwd, settings.extend_exclude, settings.exclude, settings.force_exclude,
                     settings.respect_gitignore, root)
    cache = ResultCache.for_run(ruleset.fingerprint, settings, root or cwd or Path.cwd(), scope_of(paths, cwd)) \
        if use_cache else None
    total = len(found.files)
    slots: list[FileResult | None] = [None] * total
    todo: list[tuple[int, str, str, Stat | None]] = []
    hashes: dict[str, str] = {}  # content hashes of the run's files, for the cross-file pass's cache key
    for position, (shown, path) in enumerate(found.files):
        stat = file_stat(path) if cache is not None else None
        slots[position] = cache.get(shown, stat) if cache is not None else None
        if slots[position] is None:
            todo.append((position, shown, path, stat))
        elif cache is not None:
            hashes[shown] = cache.known_hash(shown) or ""
    done = total - len(todo)

    def settle(item: tuple[int, str, str, Stat | None], result: FileResult | None, content_hash: str,
               stored: bytes | None = None) -> None:
        position, shown, path, stat = item
        hashes[shown] = content_hash
        if result is None and stored is not None:
            result = load_stored(stored)
        if cache is not None and result is None:
            result = cache.get(shown, stat, content_hash)
        if result is None:  # the cached entry would not load after all: check the file
            result = check_file(engine_for(ruleset, settings), shown, path)
            stored = None
        elif cache is not None and content_hash:
            cache.put(shown, stat, content_hash, result, stored)
        slots[position] = result

    def known(shown: str) -> str | None:
        return cache.known_hash(shown) if cache is not None else None

    jobs = _jobs(settings.jobs, len(todo))
    pool: ProcessPoolExecutor | None = None
    if jobs == 1:
        for count, item in enumerate(todo, done + 1):
            settle(item, *_check_unless_unchanged(lambda: engine_for(ruleset, settings), item[1], item[2],
                                                  known(item[1])))
            if progress is not None and count % _CHUNK == 0:
                progress(count, total)
    else:
        import multiprocessing  # only a pool needs them (~0.05 s of start-up)
        from concurrent.futures import ProcessPoolExecutor

        chunks = [todo[i : i + _CHUNK] for i in range(0, len(todo), _CHUNK)]
        engine_for(ruleset, settings).prepare([shown for _, shown, _, _ in todo])  # once, before the fork
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        pool = ProcessPoolExecutor(jobs, multiprocessing.get_context(method), _init_worker,
                                   (ruleset, settings, os.getpid()))
    try:
        if pool is not None:
            store = cache is not None
            work = [(store, [(shown, path, known(shown)) for _, shown, path, _ in chunk]) for chunk in chunks]
            for chunk, checked in zip(chunks, pool.map(_check_chunk, work)):
                for item, (result, content_hash, stored) in zip(chunk, checked):
                    settle(item, result, content_hash, stored)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if progress is not None and total:
            progress(total, total)
        results = [result for result in slots if result is not None]
        if phase is not None and any(result.facts is not None for result in results):
            phase("linking files across the project")
        files = dict(found.files)
        context = PassContext(files, lambda: engine_for(ruleset, settings), known_paths(files),
                              workers=_in_pool(pool) if pool is not None else None)
        results = run_passes(results, context, cache, hashes)
    finally:
        if pool is not None:
            pool.shutdown()
    if cache is not None:
        cache.save()
        if observe is not None and len(hashes) == total and all(hashes.values()):
            observe(tree_key(hashes, found.errors), context.inputs)
    return collect(results, settings, list(found.errors), ruleset)


def tree_key(hashes: dict[str, str], errors: list[FileError]) -> str:
    """Every file of a run with its content, and what discovery could not walk."""
    return digest(f"{tree_digest(hashes)}\0{errors!r}".encode())


def unchanged_tree(paths: list[str], ruleset: RuleSet, settings: Settings, root: Path | None = None) -> str | None:
    """The `tree_key` of ``paths`` when the result cache vouches for every file by its stat alone
    (nothing is read), else None."""
    found = discover(paths, None, settings.extend_exclude, settings.exclude, settings.force_exclude,
                     settings.respect_gitignore, root)
    cache = ResultCache.for_run(ruleset.fingerprint, settings, root or Path.cwd(), scope_of(paths))
    if cache is None:
        return None
    hashes = {}
    for shown, path in found.files:
        known = cache.trusted_hash(shown, file_stat(path))
        if known is None:
            return None
        hashes[shown] = known
    return tree_key(hashes, list(found.errors))


def check_source(name: str, data: bytes, ruleset: RuleSet, settings: Settings | None = None) -> RunResult:
    """One in-memory file as a whole run (``check -``, ``--stdin-filename``): editors get the same
    suppressions, per-file ignores and report shapes as a run over files."""
    settings = settings or Settings()
    return collect([check_bytes(name, data, ruleset, settings)], settings, [], ruleset)


def collect(results: list[FileResult], settings: Settings, errors: list[FileError], ruleset: RuleSet) -> RunResult:
    """Merge per-file results into one sorted run, ``per-file-ignores`` applied."""
    run = RunResult(errors=errors)
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
        names = {entry.id: entry.name for entry in ruleset.catalog}
        run.findings = [f for f in run.findings
                        if not _ignored_for_file(f, names.get(f.rule_id, ""), settings.per_file_ignores)]
    run.findings.sort(key=lambda f: f.sort_key())
    run.suppressed.sort(key=lambda f: f.sort_key())
    run.errors.sort(key=lambda e: (e.path, e.message))
    run.unused_suppressions.sort(key=lambda u: (u.path, u.line))
    return run


def known_paths(files: dict[str, str]) -> frozenset[str]:
    """The paths the run opens its files by, also as the passes spell them (normalized): their content
    is in the tree digest, so the passes need not record reading them."""
    return frozenset([*files.values(), *(os.path.normpath(p) for p in files.values() if ".." not in p)])


def _ignored_for_file(finding: Finding, rule_name: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    """Config ``per-file-ignores``: a glob on the path (or the file name) and rule codes (what
    ``--select`` accepts: ids, id prefixes, categories and rule names)."""
    name = finding.path.rsplit("/", 1)[-1]
    for pattern, codes in table:
        if fnmatch.fnmatchcase(finding.path, pattern) or fnmatch.fnmatchcase(name, pattern):
            if any(finding.rule_id.startswith(c) or c in (finding.category, rule_name) for c in codes):
                return True
    return False
