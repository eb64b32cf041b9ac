"""Command line: ``lockin-lint check | report | rules | explain | server``.

Exit codes are a contract CI relies on: 0 clean, 1 findings (or files that could not be read at all;
a file parsed around a syntax error is reported but does not fail the run by itself), 2 usage,
configuration or rule-file errors. Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from . import __version__
from .api import check_bytes, check_paths
from .fix.cli import add_fix_arguments, run_fixes
from .project.baseline import BaselineError, load_baseline, write_baseline
from .project.config import Config, ConfigError, find_config, load_config
from .model import TARGETS, Rule, RunResult, Settings, TargetInfo
from .output import FORMATTERS, OutputContext
from .output.report_formats import render_report_json, render_report_markdown, render_report_text
from .output.text import describe_target, render_statistics, summary_line
from .score.report import build_report
from .kb.ruleset import RuleError, RuleSet, load_rules
from .score.effort import EffortModel, summarize

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

REPORT_FORMATS = {
    "text": render_report_text,
    "markdown": render_report_markdown,
    "json": render_report_json,
    "html": lambda report: _html(report),
}


def _html(report: dict) -> str:  # type: ignore[type-arg]
    from .output.html_report import render_html  # only an HTML report needs it

    return render_html(report)


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


def _fail_under(value: str) -> dict[str, float]:
    bars: dict[str, float] = {}
    for item in _csv(value):
        target, sep, score = item.partition("=")
        try:
            number = float(score)
        except ValueError:
            number = -1.0
        if not sep or target not in TARGETS or not 0 <= number <= 100:
            raise argparse.ArgumentTypeError(f"expected TARGET=SCORE with a score from 0 to 100, got {item!r}")
        bars[target] = number
    return bars


def _version(value: str) -> str:
    parts = value.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected a version like 2.6, got {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lockin-lint", description="Find and measure CUDA lock-in.")
    parser.add_argument("--version", action="version", version=f"lockin-lint {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    rules_opt = _Parser(add_help=False)
    rules_opt.add_argument("--rules", action="append", default=[], metavar="PATH",
                           help="extra rule file or directory (repeatable)")
    rules_opt.add_argument("--no-cache", action="store_true", help="do not read or write the compiled-rules cache")

    scan = _Parser(add_help=False)
    scan.add_argument("paths", nargs="*", default=["."])
    scan.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    scan.add_argument("--config", metavar="FILE", help="lockin-lint.toml or pyproject.toml to use")
    scan.add_argument("--targets", type=_targets, default=None, help="comma-separated targets to show")
    scan.add_argument("--select", type=_csv, default=None, help="rule ids, id prefixes, names or categories")
    scan.add_argument("--extend-select", type=_csv, default=(), help="add to the selection")
    scan.add_argument("--ignore", type=_csv, default=None, help="rule ids, id prefixes, names or categories")
    scan.add_argument("--torch-version", type=_version, help="oldest torch the code must support")
    scan.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                      help="skip directories/files matching (replaces the defaults; repeatable)")
    scan.add_argument("--extend-exclude", action="append", default=[], metavar="GLOB",
                      help="also skip directories/files whose name or path matches (repeatable)")
    scan.add_argument("--force-exclude", action="store_true", help="apply excludes to files named explicitly")
    scan.add_argument("--no-respect-gitignore", action="store_true", help="also check files .gitignore ignores")
    scan.add_argument("--jobs", type=int, default=0, help="worker processes (0: automatic)")

    check = sub.add_parser("check", parents=[rules_opt, scan], help="lint paths for CUDA lock-in")
    check.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    check.add_argument("--output-sarif", metavar="FILE", help="also write a SARIF report here")
    check.add_argument("--baseline", metavar="FILE", help="hide findings recorded in this baseline")
    check.add_argument("--write-baseline", metavar="FILE", help="record the current findings and exit 0")
    check.add_argument("--fail-under", type=_fail_under, default=None, metavar="TARGET=SCORE,...",
                       help="exit 1 when a target's project score is below its bar")
    check.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    add_fix_arguments(check)

    report = sub.add_parser("report", parents=[rules_opt, scan],
                            help="per-target portability scores, effort and blockers")
    report.add_argument("--format", choices=sorted(REPORT_FORMATS), default="text")

    listing = sub.add_parser("rules", parents=[rules_opt], help="list the loaded rules")
    listing.add_argument("--format", choices=["text", "json"], default="text")

    explain = sub.add_parser("explain", parents=[rules_opt], help="show a rule's documentation")
    explain.add_argument("rule_id")

    sub.add_parser("server", parents=[rules_opt], help="language server for editors (LSP over stdio)")
    return parser


def _load(args: argparse.Namespace) -> RuleSet:
    return load_rules(extra=tuple(args.rules), use_cache=not args.no_cache)


def _config(args: argparse.Namespace) -> Config:
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise ConfigError(f"{args.config}: configuration file not found")
        return load_config(path)
    found = find_config(args.paths, Path.cwd())
    return load_config(found) if found is not None else Config()


def _settings(args: argparse.Namespace, config: Config, ruleset: RuleSet) -> Settings:
    select = args.select if args.select is not None else config.select
    select = (*select, *config.extend_select, *args.extend_select) if select else ()
    ignore = args.ignore if args.ignore is not None else config.ignore
    known = {r.id for r in ruleset.rules} | {r.category for r in ruleset.rules} | {r.name for r in ruleset.rules}
    for code in (*select, *ignore, *(c for _, codes in config.per_file_ignores for c in codes)):
        if not any(k.startswith(code) for k in known):
            raise UsageError(f"select/ignore: {code!r} matches no rule id, prefix, name or category")
    exclude = tuple(args.exclude) if args.exclude is not None else config.exclude
    return Settings(
        targets=args.targets or config.targets or TARGETS,
        select=tuple(select),
        ignore=tuple(ignore),
        torch_version=args.torch_version or config.torch_version,
        jobs=args.jobs,
        extend_exclude=(*config.extend_exclude, *args.extend_exclude),
        exclude=exclude,
        per_file_ignores=config.per_file_ignores,
        force_exclude=args.force_exclude,
        respect_gitignore=config.respect_gitignore and not args.no_respect_gitignore,
    )


def _apply_baseline(run: RunResult, path: Path) -> None:
    known = load_baseline(path)
    kept = []
    for finding in run.findings:
        if finding.fingerprint in known:
            run.suppressed.append(replace(finding, suppression="baseline"))
        else:
            kept.append(finding)
    run.findings = kept
    run.suppressed.sort(key=lambda f: f.sort_key())


def _write(path: str, text: str, flag: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{flag} {path}: {exc.strerror}") from None


def _prepare(args: argparse.Namespace) -> tuple[Config, RuleSet, Settings]:
    """What ``check`` and ``report`` share: configuration, rules, and the merged settings."""
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (automatic) or more")
    config = _config(args)
    ruleset = _load(args)
    return config, ruleset, _settings(args, config, ruleset)


def _report_errors(run: RunResult, err: TextIO) -> None:
    for error in run.errors:
        err.write(f"{'warning' if error.partial else 'error'}: {error.path}: {error.message}\n")


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config, ruleset, settings = _prepare(args)
    baseline = Path(args.baseline) if args.baseline else config.baseline

    def scan() -> RunResult:
        run = check_paths(args.paths, ruleset, settings, progress=_progress(err) if args.format == "text" else None)
        if baseline is not None and not args.write_baseline:
            _apply_baseline(run, baseline)
        return run

    run = scan()
    if args.write_baseline:
        count = write_baseline(Path(args.write_baseline), run.findings)
        err.write(f"lockin-lint: wrote {count} findings to {args.write_baseline}\n")
        return EXIT_CLEAN
    fixed = run_fixes(args, run, ruleset.by_id(), settings, config.effort, scan,
                      lambda source: list(check_bytes("cell.py", source.encode(), ruleset, settings).findings),
                      out, err)
    if fixed.exit_code is not None:
        return fixed.exit_code
    run = fixed.run
    ctx = OutputContext(settings, __version__, ruleset.by_id(), config.effort)
    report = render_statistics(run, ctx) if args.statistics else FORMATTERS[args.format](run, ctx)
    if args.output:
        _write(args.output, report, "--output")
    else:
        out.write(report)
    if args.output_sarif:
        _write(args.output_sarif, FORMATTERS["sarif"](run, ctx), "--output-sarif")
    if args.format == "text" or args.output:
        _report_errors(run, err)
        for unused in run.unused_suppressions:
            codes = "" if unused.codes == ("*",) else f"[{','.join(unused.codes)}]"
            err.write(f"warning: {unused.path}:{unused.line}: unused suppression `lockin: ignore{codes}`\n")
        err.write(summary_line(run) + "\n")
        err.write("".join(f"lockin-lint: {note}\n" for note in fixed.notes))
    failed_bars = _failed_bars(run, settings, args.fail_under if args.fail_under is not None else config.fail_under,
                               config.effort)
    for message in failed_bars:
        err.write(f"lockin-lint: {message}\n")
    if args.exit_zero:
        return EXIT_CLEAN
    unchecked = any(not error.partial for error in run.errors)
    return EXIT_FINDINGS if run.findings or unchecked or failed_bars else EXIT_CLEAN


def _report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config, ruleset, settings = _prepare(args)
    run = check_paths(args.paths, ruleset, settings, progress=_progress(err))
    text = REPORT_FORMATS[args.format](build_report(run, settings, config.effort))
    if args.output:
        _write(args.output, text, "--output")
    else:
        out.write(text)
    _report_errors(run, err)
    return EXIT_CLEAN


def _progress(err: TextIO):  # type: ignore[no-untyped-def]
    """A progress line on stderr when it is a terminal and the scan takes more than a moment."""
    if not err.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        if time.monotonic() - started > 1.0:
            err.write(f"\rscanning {done}/{total} files" + ("\n" if done == total else ""))
            err.flush()

    return show


def _failed_bars(run: RunResult, settings: Settings, bars: dict[str, float], model: EffortModel) -> list[str]:
    if not bars:
        return []
    scores = summarize(run.findings, tuple(bars), run.lines_scanned, model)
    return [f"fail-under: {target} score {scores[target].score:.1f} is below {bar:g}"
            for target, bar in bars.items() if scores[target].score < bar]


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
             *m.scoped_prefixes, *m.includes, *m.patterns, *m.constructs, *m.packages, *m.lines]
    return names or ([m.string_pattern] if m.string_pattern else [])


def _table_row(label: str, targets: Mapping[str, TargetInfo]) -> str:
    cells = [describe_target(targets[name], with_native_note=True) for name in TARGETS]
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
        if args.command == "report":
            return _report(args, out, err)
        if args.command == "rules":
            return _rules(args, out)
        if args.command == "server":
            from .server import serve  # pygls is loaded only by the server

            return serve(tuple(args.rules), not args.no_cache)
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
