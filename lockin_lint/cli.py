"""Command line: ``lockin-lint check | rules | explain``.

Exit codes are a contract CI relies on: 0 clean, 1 findings (or files that could not be read at all;
a file parsed around a syntax error is reported but does not fail the run by itself), 2 usage,
configuration or rule-file errors. Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from . import __version__
from .api import check_paths
from .model import TARGETS, Rule, Settings, TargetInfo
from .output import FORMATTERS, OutputContext
from .output.text import summary_line
from .ruleset import RuleError, RuleSet, load_rules

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A bad flag or value: reported in one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _targets(value: str) -> tuple[str, ...]:
    chosen = _csv(value)
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown target {', '.join(unknown) or value!r}; choose from {','.join(TARGETS)}")
    return tuple(t for t in TARGETS if t in chosen)


def _version(value: str) -> str:
    parts = value.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected a version like 2.6, got {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lockin-lint", description="Find and measure CUDA lock-in.")
    parser.add_argument("--version", action="version", version=f"lockin-lint {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    rules_opt = argparse.ArgumentParser(add_help=False)
    rules_opt.add_argument("--rules", action="append", default=[], metavar="PATH",
                           help="extra rule file or directory (repeatable)")
    rules_opt.add_argument("--no-cache", action="store_true", help="do not read or write the compiled-rules cache")

    check = sub.add_parser("check", parents=[rules_opt], help="lint paths for CUDA lock-in")
    check.add_argument("paths", nargs="*", default=["."])
    check.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    check.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--targets", type=_targets, default=TARGETS, help="comma-separated targets to show")
    check.add_argument("--select", type=_csv, default=(), help="rule ids, id prefixes or categories")
    check.add_argument("--ignore", type=_csv, default=(), help="rule ids, id prefixes or categories")
    check.add_argument("--torch-version", type=_version, help="oldest torch the code must support")
    check.add_argument("--extend-exclude", action="append", default=[], metavar="GLOB",
                       help="also skip directories/files whose name or path matches (repeatable)")
    check.add_argument("--jobs", type=int, default=0, help="worker processes (0: automatic)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")

    listing = sub.add_parser("rules", parents=[rules_opt], help="list the loaded rules")
    listing.add_argument("--format", choices=["text", "json"], default="text")

    explain = sub.add_parser("explain", parents=[rules_opt], help="show a rule's documentation")
    explain.add_argument("rule_id")
    return parser


def _load(args: argparse.Namespace) -> RuleSet:
    return load_rules(extra=tuple(args.rules), use_cache=not args.no_cache)


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (automatic) or more")
    ruleset = _load(args)
    known = {r.id for r in ruleset.rules} | {r.category for r in ruleset.rules} | {r.name for r in ruleset.rules}
    for code in (*args.select, *args.ignore):
        if not any(k.startswith(code) for k in known):
            raise UsageError(f"--select/--ignore: {code!r} matches no rule id, prefix, name or category")
    settings = Settings(targets=args.targets, select=args.select, ignore=args.ignore,
                        torch_version=args.torch_version, jobs=args.jobs,
                        extend_exclude=tuple(args.extend_exclude))
    run = check_paths(args.paths, ruleset, settings)
    report = FORMATTERS[args.format](run, OutputContext(settings, __version__))
    if args.output:
        try:
            Path(args.output).write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {args.output}: {exc.strerror}") from None
    else:
        out.write(report)
    if args.format == "text" or args.output:
        for error in run.errors:
            err.write(f"{'warning' if error.partial else 'error'}: {error.path}: {error.message}\n")
        err.write(summary_line(run) + "\n")
    if args.exit_zero:
        return EXIT_CLEAN
    unchecked = any(not error.partial for error in run.errors)
    return EXIT_FINDINGS if run.findings or unchecked else EXIT_CLEAN


def _rules(args: argparse.Namespace, out: TextIO) -> int:
    ruleset = _load(args)
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
             *m.scoped_prefixes, *m.includes, *m.patterns, *m.constructs]
    return names or ([m.string_pattern] if m.string_pattern else [])


def _table_row(label: str, targets: Mapping[str, TargetInfo]) -> str:
    cells = []
    for name in TARGETS:
        info = targets[name]
        text = info.status + (f" -> {info.replacement}" if info.replacement else "")
        cells.append(text + (f" (torch>={info.min_torch})" if info.min_torch else ""))
    return f"| {label} | " + " | ".join(cells) + " |"


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    ruleset = _load(args)
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


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        if args.command == "check":
            return _check(args, out, err)
        if args.command == "rules":
            return _rules(args, out)
        return _explain(args, out)
    except UsageError as exc:
        err.write(f"lockin-lint: error: {exc}\n")
    except RuleError as exc:
        err.write(f"lockin-lint: rule error: {exc}\n")
    except KeyboardInterrupt:
        err.write("lockin-lint: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
    return EXIT_ERROR
