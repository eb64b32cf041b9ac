"""``lockin-lint check``: scan, apply the baseline, print, and decide the exit code (the gates).

The gates are separate decisions a CI job combines: findings fail the run (all of them, or with
``--fail-on not-native`` only those that are not native on some configured target), ``--fail-under``
fails it on a score, and ``--exit-zero`` waives the first but never the second, so a job can gate on
the score alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from . import __version__
from .cli_args import UsageError
from .cli_progress import progress_for
from .cli_run import (emit, filter_severity, prepare, project_root, reads_stdin, replay_or_run, report_errors, scan,
                      write_file)
from .kb.ruleset import RuleSet
from .model import Finding, RunResult, Settings
from .project.baseline import BaselineError, apply_baseline, load_entries, prune_baseline, write_baseline
from .project.config import Config

if TYPE_CHECKING:  # the effort model is imported when a bar is checked: a replayed run never scores
    from .score.effort import EffortModel

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


def run_check(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: BinaryIO | None = None) -> int:
    config, ruleset, settings = prepare(args)
    return replay_or_run(args, config, ruleset, settings, out, err,
                         lambda o, e, observed: _check(args, config, ruleset, settings, o, e, stdin, observed))


def _check(args: argparse.Namespace, config: Config, ruleset: RuleSet, settings: Settings, out: TextIO, err: TextIO,
           stdin: BinaryIO | None, observed: dict[str, Any]) -> int:
    from .api import check_bytes  # the scan's modules: a replayed run (`cli_memo`) never needs them
    from .fix.cli import run_fixes
    from .output import FORMATTERS, OutputContext
    from .output.concise import one_line
    from .output.text import render_statistics, summary_line

    progress = progress_for(err)
    run = scan(args, config, ruleset, settings, progress, stdin, observed)
    filter_severity(run, args.min_severity or config.min_severity)
    if args.write_baseline:
        count = write_baseline(Path(args.write_baseline), run.findings)
        if progress is not None:
            progress.done()
        err.write(f"lockin-lint: wrote {count} findings to {args.write_baseline}\n")
        return EXIT_CLEAN
    stale = _baseline(args, config, run, err)
    if (args.fix or args.diff or args.fix_to) and reads_stdin(args):
        raise UsageError("--fix, --diff and --fix-to rewrite files; they do not read stdin")

    def rescan() -> RunResult:
        """The run again after fixes were written (baseline applied, nothing pruned or reported)."""
        again = scan(args, config, ruleset, settings, None, stdin)
        filter_severity(again, args.min_severity or config.min_severity)
        path = Path(args.baseline) if args.baseline else config.baseline
        if path is not None:
            apply_baseline(again, load_entries(path))
        return again

    fixed = run_fixes(args, run, ruleset.lookup(), settings, config.effort, rescan,
                      lambda source: list(check_bytes("cell.py", source.encode(), ruleset, settings).findings),
                      out, err, root=project_root(config))
    if fixed.exit_code is not None:
        if progress is not None:
            progress.done()
        return fixed.exit_code
    run = fixed.run
    if progress is not None:
        progress.phase("building the report")
    ctx = OutputContext(settings, __version__, ruleset.lookup(), config.effort, root=project_root(config),
                        docs_url=args.docs_url or config.docs_url)
    report = render_statistics(run, ctx) if args.statistics else FORMATTERS[args.format](run, ctx)
    sarif = FORMATTERS["sarif"](run, ctx) if args.output_sarif else None
    emit(args, report, out, progress)
    if sarif is not None:
        write_file(args.output_sarif, sarif, "--output-sarif")
    if args.format in ("text", "concise") or args.output:
        report_errors(run, err)
        for unused in run.unused_suppressions:
            codes = "" if unused.codes == ("*",) else f"[{','.join(unused.codes)}]"
            if unused.marker == "noqa":
                codes = f": {', '.join(unused.codes)}"
            err.write(f"warning: {one_line(unused.path)}:{unused.line}: unused suppression `{unused.marker}{codes}`\n")
        if stale:
            err.write(f"warning: {stale} stale baseline entries (their findings are gone); "
                      "--prune-baseline removes them\n")
        err.write(summary_line(run) + "\n")
        err.write("".join(f"lockin-lint: {note}\n" for note in fixed.notes))
    failed_bars = failed_bars_of(run, settings, args.fail_under if args.fail_under is not None else config.fail_under,
                                 config.effort)
    for message in failed_bars:
        err.write(f"lockin-lint: {message}\n")
    if failed_bars:
        return EXIT_FINDINGS
    if args.exit_zero:
        return EXIT_CLEAN
    unchecked = any(not error.partial for error in run.errors)
    fail_on = args.fail_on or config.fail_on or "any"
    failing = [f for f in run.findings if fail_on == "any" or not _native_everywhere(f)]
    return EXIT_FINDINGS if failing or unchecked else EXIT_CLEAN


def _native_everywhere(finding: Finding) -> bool:
    """Native on every configured target: nothing to port there (``--fail-on not-native``)."""
    return all(info.status == "native" for info in finding.targets.values())


def _baseline(args: argparse.Namespace, config: Config, run: RunResult, err: TextIO) -> int:
    """Hide what the baseline lists; prune it when asked. Returns how many of its entries are stale."""
    path = Path(args.baseline) if args.baseline else config.baseline
    if path is None:
        if args.prune_baseline:
            raise UsageError("--prune-baseline needs a baseline (--baseline FILE or `baseline` in the config)")
        return 0
    try:
        entries = load_entries(path)
    except BaselineError as exc:
        if args.baseline or config.path is None:
            raise
        raise BaselineError(f"{exc} (set by `baseline` in {config.path})") from None
    stale = apply_baseline(run, entries)
    if args.prune_baseline and stale:
        kept = prune_baseline(path, entries, stale)
        err.write(f"lockin-lint: pruned {len(stale)} stale entries from {path} ({kept} kept)\n")
        return 0
    return len(stale)


def failed_bars_of(run: RunResult, settings: Settings, bars: dict[str, float], model: EffortModel) -> list[str]:
    if not bars:
        return []
    from .score.effort import summarize

    scores = summarize(run.findings, tuple(bars), run.lines_scanned, model)
    return [f"fail-under: {target} score {scores[target].score:.1f} is below {bar:g}"
            for target, bar in bars.items() if scores[target].score < bar]
