"""Command line: ``lockin-lint check | report | rules | explain``.

Exit codes are a contract CI relies on: 0 clean, 1 findings (or files that could not be read at all;
a file parsed around a syntax error is reported but does not fail the run by itself), 2 usage,
configuration or rule-file errors. Every error is one line on stderr, never a traceback. The grammar
and help are in ``cli_args``, what ``check`` and ``report`` share in ``cli_run``, the check command and
its gates in ``cli_check``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO, Mapping, Sequence, TextIO

from .cli_args import UsageError, build_parser
from .cli_check import run_check
from .cli_progress import progress_for
from .cli_run import emit, load, prepare, report_errors, scan
from .kb.ruleset import RuleError
from .model import TARGETS, Rule, TargetInfo
from .output.report_formats import REPORT_FORMATS, render_report_html
from .output.text import describe_target
from .project.baseline import BaselineError
from .project.config import ConfigError
from .project.submodules import submodule_globs
from .score.report import build_report

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "UsageError", "build_parser", "main"]


def _report(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: BinaryIO | None) -> int:
    config, ruleset, settings = prepare(args)
    progress = progress_for(err)
    if args.merge:
        from .project.inventory import InventoryError, read_inventory

        try:
            run = read_inventory(args.merge)
        except InventoryError as exc:
            raise UsageError(f"--merge: {exc}") from None
        scopes = config.scopes
    else:
        run = scan(args, config, ruleset, settings, progress, stdin)
        scopes = config.scopes.with_vendored(submodule_globs(args.paths, Path.cwd()))
    if progress is not None:
        progress.phase("building the report")
    document = build_report(run, settings, config.effort, scopes)
    text = render_report_html(document, args.all_findings) if args.format == "html" \
        else REPORT_FORMATS[args.format](document)
    emit(args, text, out, progress)
    report_errors(run, err)
    return EXIT_CLEAN


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
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        if args.command == "check":
            return run_check(args, out, err, stdin)
        if args.command == "report":
            return _report(args, out, err, stdin)
        if args.command == "rules":
            return _rules(args, out)
        return _explain(args, out)
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
        return EXIT_CLEAN
    return EXIT_ERROR
