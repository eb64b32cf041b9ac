"""``check --fix / --unsafe-fixes / --diff / --fix-to TARGET``: the command line of the fix stage, kept
here so the main command line only calls one function (the flags themselves are declared with the rest
of the grammar in ``cli_args``, so that parsing a command line does not import this stage).

Ruff's conventions: ``--fix`` applies safe fixes, ``--unsafe-fixes`` adds the unsafe ones (alone it
only shows them as available), ``--diff`` prints a unified diff and writes nothing, and the exit code
says whether findings remain. ``--fix-to TARGET`` rewrites to one vendor's names instead of portable
code, and implies ``--fix`` unless ``--diff`` is given.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, TextIO

from ..model import FileError, Finding, Rule, RunResult, Settings

if TYPE_CHECKING:  # libcst (0.35 s to import) is loaded only when fixes are applied or shown; the fix
    # table and the effort model when a check runs (the command line's grammar needs neither)
    from ..score.effort import EffortModel
    from .apply import FixRun, Recheck
    from .plan import FixOptions


@dataclass
class FixOutcome:
    """What the main command line does next: the (possibly new) run, an exit code to stop with, notes."""

    run: RunResult
    exit_code: int | None = None
    notes: tuple[str, ...] = ()


def options_from(args: argparse.Namespace, settings: Settings) -> FixOptions:
    from .plan import FixOptions

    return FixOptions(unsafe=args.unsafe_fixes, target=args.fix_to, torch_version=settings.torch_version)


def run_fixes(args: argparse.Namespace, run: RunResult, rules: Mapping[str, Rule], settings: Settings,
              model: EffortModel, rescan: Callable[[], RunResult], recheck: Recheck, out: TextIO,
              err: TextIO, root: Path | None = None) -> FixOutcome:
    """Mark fixable findings; apply or show fixes when asked; rescan after writing. Finding paths are
    relative to ``root`` (the project root; default the working directory)."""
    from .plan import FixOptions, mark

    options = options_from(args, settings)
    root = root or Path.cwd()

    run.findings = mark(run.findings, rules, options)
    if not (args.diff or args.fix or args.fix_to or args.format == "sarif" or args.output_sarif):
        return FixOutcome(run, None, fixable_notes(run.findings, options, settings.targets, model))
    from .apply import fix_files, unified_diff, with_edits, write_atomically
    applying = args.fix or (args.fix_to is not None and not args.diff)
    if args.diff:
        fixes = fix_files(run.findings, rules, options, root, recheck)
        out.write("".join(unified_diff(f) for f in fixes.files if f.changed))
        _errors(fixes, err)
        err.write(f"lockin-lint: {fixes.fixed} findings would be fixed in "
                  f"{sum(f.changed for f in fixes.files)} files\n")
        return FixOutcome(run, 1 if run.findings else 0)
    notes: list[str] = []
    if applying:
        fixes = fix_files(run.findings, rules, options, root, recheck)
        written = []
        for fix in fixes.files:
            if fix.changed:
                try:
                    write_atomically(root / fix.path, fix.after)
                    written.append(fix)
                except OSError as exc:
                    fixes.errors.append(FileError(fix.path, f"not fixed: cannot write: {exc.strerror or exc}"))
        _errors(fixes, err)
        notes.append(f"fixed {sum(len(f.fixed) for f in written)} findings in {len(written)} files")
        run = rescan()
        run.findings = mark(run.findings, rules, options)
    if args.format == "sarif" or args.output_sarif:
        every = FixOptions(True, options.target, options.torch_version)  # SARIF offers unsafe fixes too
        run.findings = with_edits(run.findings, fix_files(run.findings, rules, every, root, recheck))
    return FixOutcome(run, None, (*notes, *fixable_notes(run.findings, options, settings.targets, model)))


def _errors(fixes: FixRun, err: TextIO) -> None:
    for error in fixes.errors:
        err.write(f"error: {error.path}: {error.message}\n")


def fixable_notes(findings: list[Finding], options: FixOptions, targets: tuple[str, ...],
                  model: EffortModel) -> tuple[str, ...]:
    """"N fixable with --fix (M more with --unsafe-fixes), saving ~H h on ascend, ...": what fixing buys."""
    from ..score.effort import fix_saves

    safe = [f for f in findings if f.fix is not None and f.fix.applicability == "safe"]
    unsafe = [f for f in findings if f.fix is not None and f.fix.applicability == "unsafe"]
    if not safe and not unsafe:
        return ()
    flag = "--fix" + (f" --fix-to {options.target}" if options.target else "")
    hidden = f" ({len(unsafe)} more with --unsafe-fixes)" if unsafe and not options.unsafe else ""
    shown = safe + unsafe if options.unsafe else safe
    # The effort model already prices a safe fix at nothing; what it saves is the hand edit it replaces
    # (only that is computed: the whole effort model cost a second on vLLM for this one figure).
    mids = {t: fix_saves(findings, t, model)[1].rounded().mid for t in targets}
    saved = ", ".join(f"{t} {mids[t]:.1f} h" for t in targets if mids[t] > 0.05)
    return (f"{len(shown)} findings fixable with `{flag}{' --unsafe-fixes' if options.unsafe else ''}`{hidden}"
            + (f", saving {saved} of porting effort" if saved else ""),)
