"""What ``check`` and ``report`` share: configuration, rules, merged settings, and the scan itself.

Paths in a configuration file (baseline, excludes, per-file-ignores) mean the same wherever the
command runs, as in Ruff: the project root is the configuration file's directory, and every finding's
path is relative to it. So a run from a subdirectory reports ``src/train.py`` like a run from the
top, matches ``per-file-ignores = {"tests/*" = ...}`` and finds its baseline's fingerprints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, BinaryIO, Callable, TextIO

from .api import check_paths, check_source
from .cli_args import UsageError
from .cli_progress import Progress
from .kb.ruleset import RuleSet, load_rules
from .model import SEVERITIES, TARGETS, RunResult, Settings
from .project.config import Config, ConfigError, find_config, load_config
from .project.discover import display_path
from .project.workers import bounded_jobs

#: The name a source read from stdin gets when ``--stdin-filename`` does not give one (Ruff's too).
STDIN = "-"


def load(args: argparse.Namespace) -> RuleSet:
    return load_rules(extra=tuple(args.rules), use_cache=not args.no_cache)


def reads_stdin(args: argparse.Namespace) -> bool:
    if STDIN in args.paths and len(args.paths) > 1:
        raise UsageError("'-' (stdin) cannot be combined with other paths")
    return args.stdin_filename is not None or args.paths == [STDIN]


def load_project_config(args: argparse.Namespace) -> Config:
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise ConfigError(f"{args.config}: configuration file not found")
        return load_config(path)
    anchor = [args.stdin_filename] if args.stdin_filename else args.paths
    found = find_config(anchor, Path.cwd())
    return load_config(found) if found is not None else Config()


def project_root(config: Config) -> Path | None:
    """The directory finding paths are relative to: the configuration's (None: the working directory)."""
    return config.path.absolute().parent if config.path is not None else None


def _check_codes(codes: tuple[str, ...], known: set[str], origin: str) -> None:
    """A code names a rule by id or id prefix, or by its whole name or category (``device`` is no
    category: it selects nothing, so it is an error, as in Ruff)."""
    if not codes:
        return  # the usual run: no set of ids to build (seven times over a catalog of 3,000 rules)
    ids = {k for k in known if k[:2].isalpha() and k[:2].isupper() and k[2:].isdigit()}
    for code in codes:
        if not (code in known or any(k.startswith(code) for k in ids)):
            raise UsageError(f"{origin}: {code!r} matches no rule id, prefix, name or category")


def merged_settings(args: argparse.Namespace, config: Config, ruleset: RuleSet) -> Settings:
    """CLI flags over the configuration; a code that names no rule is an error naming where it was."""
    where = f"{config.path}" if config.path is not None else "configuration"
    given = ((args.select or (), "--select"), (args.extend_select, "--extend-select"), (args.ignore or (), "--ignore"),
             (config.select, f"{where}: select"), (config.extend_select, f"{where}: extend-select"),
             (config.ignore, f"{where}: ignore"),
             (tuple(c for _, codes in config.per_file_ignores for c in codes), f"{where}: per-file-ignores"))
    if any(codes for codes, _ in given):  # else the catalog is not needed (nor the rules loaded, `cli_memo`)
        known = {field for entry in ruleset.catalog for field in (entry.id, entry.category, entry.name)}
        for codes, origin in given:
            _check_codes(codes, known, origin)
    select = args.select if args.select is not None else config.select
    select = (*select, *config.extend_select, *args.extend_select) if select else ()
    ignore = args.ignore if args.ignore is not None else config.ignore
    exclude = tuple(args.exclude) if args.exclude is not None else config.exclude
    return Settings(
        targets=args.targets or config.targets or TARGETS,
        select=tuple(select),
        ignore=tuple(ignore),
        torch_version=args.torch_version or config.torch_version,
        jobs=bounded_jobs(args.jobs, args.force_jobs),
        extend_exclude=(*config.extend_exclude, *args.extend_exclude),
        exclude=exclude,
        per_file_ignores=config.per_file_ignores,
        force_exclude=args.force_exclude,
        respect_gitignore=config.respect_gitignore and not args.no_respect_gitignore,
    )


def prepare(args: argparse.Namespace) -> tuple[Config, RuleSet, Settings]:
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (automatic) or more")
    config = load_project_config(args)
    ruleset = load(args)
    return config, ruleset, merged_settings(args, config, ruleset)


def scan(args: argparse.Namespace, config: Config, ruleset: RuleSet, settings: Settings,
         progress: Progress | None, stdin: BinaryIO | None = None, observed: dict[str, Any] | None = None) -> RunResult:
    """The run: files under ``args.paths``, or one source read from stdin. ``observed`` receives the
    run's whole input (`api.check_paths`'s ``observe``) for `cli_memo`."""
    root = project_root(config)
    if reads_stdin(args):
        data = (stdin or sys.stdin.buffer).read()
        name = args.stdin_filename
        shown = display_path(Path.cwd() / name, root or Path.cwd()) if name else STDIN
        return check_source(shown, data, ruleset, settings)

    def observe(tree: str, inputs: dict[str, str]) -> None:
        if observed is not None:
            observed.update(tree=tree, inputs=dict(inputs))

    return check_paths(args.paths, ruleset, settings, root=root, use_cache=not args.no_cache,
                       progress=progress.files if progress else None, phase=progress.phase if progress else None,
                       observe=observe)


def replay_or_run(args: argparse.Namespace, config: Config, ruleset: RuleSet, settings: Settings, out: TextIO,
                  err: TextIO, command: Callable[[TextIO, TextIO, dict[str, Any]], int]) -> int:
    """``command``, or what it printed last time when none of its inputs changed (`cli_memo`)."""
    from .cli_memo import replay_or_run as memo

    def tree() -> tuple[str, Callable[[dict[str, str]], bool]] | None:
        from .api import unchanged_tree
        from .project.pass_replay import outside_unchanged

        key = unchanged_tree(args.paths, ruleset, settings, project_root(config))
        return (key, outside_unchanged) if key is not None else None

    return memo(args, config, ruleset, settings, out, err, command, tree)


def filter_severity(run: RunResult, floor: str | None) -> None:
    """``--min-severity``: drop findings below the floor (GitHub shows at most 5,000 results a run)."""
    if floor is None:
        return
    keep = set(SEVERITIES[: SEVERITIES.index(floor) + 1])  # SEVERITIES runs from error down to info
    run.findings = [f for f in run.findings if f.severity in keep]
    run.suppressed = [f for f in run.suppressed if f.severity in keep]


def emit(args: argparse.Namespace, text: str, out: TextIO, progress: Progress | None) -> None:
    """The report to ``--output`` or stdout, once the progress line is cleared."""
    if progress is not None:
        progress.done()
    if args.output:
        write_file(args.output, text, "--output")
    else:
        out.write(text)


def write_file(path: str, text: str, flag: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{flag} {path}: {exc.strerror}") from None


def report_errors(run: RunResult, err: TextIO) -> None:
    from .output.concise import one_line  # imports the output context: a replayed run never reports

    for error in run.errors:
        err.write(f"notice: {one_line(error.path)}: partial parse: {one_line(error.message)}\n" if error.partial
                  else f"error: {one_line(error.path)}: {one_line(error.message)}\n")
