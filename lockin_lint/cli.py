"""Command line: ``lockin-lint check | report | rules | explain | server``.

Exit codes are a contract CI relies on: 0 clean, 1 findings (or files that could not be read at all;
a file parsed around a syntax error is reported but does not fail the run by itself), 2 usage,
configuration or rule-file errors. Every error is one line on stderr, never a traceback. The grammar
and help are in ``cli_args``, what ``check`` and ``report`` share in ``cli_run``, the check command and
its gates in ``cli_check``.
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import sys
from pathlib import Path
from typing import Any, BinaryIO, Mapping, Sequence, TextIO, cast

from .cli_args import UsageError, build_parser
from .cli_check import run_check
from .cli_progress import progress_for
from .cli_run import emit, load, prepare, replay_or_run, report_errors, scan
from .kb.ruleset import RuleError, RuleSet
from .model import TARGETS, Rule, Settings, TargetInfo
from .project.baseline import BaselineError
from .project.config import Config, ConfigError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "UsageError", "build_parser", "main"]


def _report(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: BinaryIO | None) -> int:
    config, ruleset, settings = prepare(args)
    return replay_or_run(args, config, ruleset, settings, out, err,
                         lambda o, e, observed: _build_report(args, config, ruleset, settings, o, e, stdin, observed))


def _build_report(args: argparse.Namespace, config: Config, ruleset: RuleSet, settings: Settings, out: TextIO,
                  err: TextIO, stdin: BinaryIO | None, observed: dict[str, Any]) -> int:
    from .output.report_formats import REPORT_FORMATS, render_report_html  # not needed by a replayed run
    from .project.submodules import submodule_globs
    from .score.report import build_report

    progress = progress_for(err)
    if args.merge:
        from .project.inventory import InventoryError, read_inventory

        try:
            run = read_inventory(args.merge)
        except InventoryError as exc:
            raise UsageError(f"--merge: {exc}") from None
        scopes = config.scopes
    else:
        run = scan(args, config, ruleset, settings, progress, stdin, observed)
        scopes = config.scopes.with_vendored(submodule_globs(args.paths, Path.cwd()))
    if progress is not None:
        progress.phase("building the report")
    document = build_report(run, settings, config.effort, scopes)
    text = render_report_html(document, args.all_findings) if args.format == "html" \
        else REPORT_FORMATS[args.format](document)
    emit(args, text, out, progress)
    report_errors(run, err)
    return EXIT_FINDINGS if any(not error.partial for error in run.errors) else EXIT_CLEAN


def _rules(args: argparse.Namespace, out: TextIO) -> int:
    ruleset = load(args)
    if args.format == "json":
        import json

        data = [{"id": r.id, "name": r.name, "category": r.category, "languages": list(r.languages),
                 "severity": r.severity, "symbols": len(_symbols(r)), "source": r.source} for r in ruleset.rules]
        out.write(json.dumps(data, indent=2) + "\n")
        return EXIT_CLEAN
    width = max((len(r.name) for r in ruleset.rules), default=4)
    for rule in ruleset.rules:
        out.write(f"{rule.id:<7} {rule.name:<{width}}  {rule.category:<13} {','.join(rule.languages):<7} "
                  f"{len(_symbols(rule)):>4} symbols\n")
    return EXIT_CLEAN


def _symbols(rule: Rule) -> list[str]:
    m = rule.match
    names = [*m.qualified, *m.prefixes, *m.methods, *m.attributes, *m.imports, *m.identifiers, *m.scoped,
             *m.scoped_prefixes, *m.includes, *m.patterns, *m.constructs, *m.packages, *m.lines]
    return names or ([m.string_pattern] if m.string_pattern else [])


def _table_row(label: str, targets: Mapping[str, TargetInfo]) -> str:
    from .output.text import describe_target

    cells = [describe_target(targets[name], with_native_note=True) for name in TARGETS]
    return f"| {label} | " + " | ".join(cells) + " |"


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    ruleset = load(args)
    rule = ruleset.by_id().get(args.rule_id.upper())
    if rule is None:
        raise UsageError(f"unknown rule {args.rule_id!r}; `lockin-lint rules` lists them")
    out.write(f"# {rule.id} {rule.name}\n\n")
    out.write(f"Category: {rule.category} · Severity: {rule.severity} · Languages: {', '.join(rule.languages)}"
              f" · Defined in: {rule.source}\n\n")
    out.write(rule.docs + "\n\n## Targets\n\n")
    out.write("| symbol | " + " | ".join(TARGETS) + " |\n|---|" + "---|" * len(TARGETS) + "\n")
    out.write(_table_row("(default)", rule.default.targets) + "\n")
    for symbol, info in sorted(rule.symbols.items()):
        out.write(_table_row(f"`{symbol}`", info.targets) + "\n")
    portable = rule.default.portable
    if portable:
        out.write("\nPortable rewrite: " + "; else ".join(
            p.replacement + (f" (torch>={p.min_torch})" if p.min_torch else "") for p in portable) + "\n")
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None,
         stdin: BinaryIO | None = None) -> int:
    stdout: TextIO = out or sys.stdout or _ClosedOutput()  # sys.stdout is None when fd 1 is closed
    out = cast(TextIO, _Output(stdout))
    err = err or sys.stderr or io.StringIO()
    try:
        args = build_parser().parse_args(argv)
        if args.command == "check":
            code = run_check(args, out, err, stdin)
        elif args.command == "report":
            code = _report(args, out, err, stdin)
        elif args.command == "rules":
            code = _rules(args, out)
        elif args.command == "server":
            from .server import serve  # pygls is loaded only by the server

            return serve(tuple(args.rules), not args.no_cache)  # it owns stdio, and closes it on exit
        else:
            code = _explain(args, out)
        out.flush()  # a full disk or a closed stdout shows here, as an error, not at interpreter exit
        return code
    except UsageError as exc:
        err.write(f"lockin-lint: error: {exc}\n")
    except RuleError as exc:
        err.write(f"lockin-lint: rule error: {exc}\n")
    except ConfigError as exc:
        err.write(f"lockin-lint: config error: {exc}\n")
    except BaselineError as exc:
        err.write(f"lockin-lint: baseline error: {exc}\n")
    except KeyboardInterrupt:
        err.write("lockin-lint: interrupted\n")
        return 130
    except BrokenPipeError:
        _discard_output(stdout)
        return EXIT_CLEAN
    except _OutputError as exc:  # stdout on a full disk, or closed
        _discard_output(stdout)
        err.write(f"lockin-lint: error: cannot write the output: {exc}\n")
    except OSError as exc:  # a path the run had to look at (a name too long, say)
        where = f"{exc.filename}: " if exc.filename else ""
        err.write(f"lockin-lint: error: {where}{exc.strerror or exc}\n")
    return EXIT_ERROR


class _OutputError(Exception):
    """Writing the report to stdout failed (the message is the system's reason)."""


class _Output(io.TextIOBase):
    """stdout, with its write errors told apart from every other OSError of a run (a closed pipe
    stays a BrokenPipeError: ``| head`` is not an error)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc.strerror or str(exc)) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc.strerror or str(exc)) from None

    def isatty(self) -> bool:
        return self.stream.isatty()


class _ClosedOutput(io.StringIO):
    """Stands for a closed stdout: the report cannot be written, which is an error (exit 2)."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "stdout is closed")


def _discard_output(out: TextIO) -> None:
    """Point a stdout that failed at /dev/null, so that Python's own flush at exit does not print a
    second error (the recipe of Python's documentation for SIGPIPE)."""
    if out is not sys.stdout:
        return
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
