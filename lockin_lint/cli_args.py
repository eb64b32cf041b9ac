"""The command line's grammar: subcommands, options, their help and examples, and friendly errors.

Kept apart from ``cli.py`` (which runs the commands) so that what a user reads in ``--help`` is in one
place. A typo gets a "did you mean" (``chek``, ``--format sarf``, ``--exit-zer``), because argparse's
own message lists every choice and leaves the reader to spot the near one.
"""

from __future__ import annotations

import argparse
import re
from typing import NoReturn

from . import __version__
from .model import SEVERITIES, TARGETS
from .output import DEFAULT_HTML_FINDINGS, FORMATTERS, REPORT_FORMAT_NAMES


class UsageError(Exception):
    """A bad flag or value: reported in one line, exit 2."""


#: ``--fail-on`` values: which findings fail the run (exit 1).
FAIL_ON = ("any", "not-native")

_CHOICE = re.compile(r"invalid choice: '?(?P<given>[^'\s]+)'? \(choose from (?P<choices>.+)\)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (?P<given>.+)")


def did_you_mean(given: str, choices: list[str]) -> str:
    """`` (did you mean 'check'?)`` when one choice is close to what was typed, else ``""``."""
    import difflib  # only a mistyped command line needs it

    close = difflib.get_close_matches(given, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message + self._suggestion(message))

    def _suggestion(self, message: str) -> str:
        choice = _CHOICE.search(message)
        if choice:
            options = [c.strip().strip("'") for c in choice["choices"].split(",")]
            return did_you_mean(choice["given"], options)
        unknown = _UNRECOGNIZED.search(message)
        if unknown:
            first = unknown["given"].split()[0].split("=")[0]
            known = [s for action in self._actions for s in action.option_strings]
            owners: list[str] = []  # the subcommands that do take it: `report --exit-zero` is `check`'s
            for sub in self._subparsers._group_actions if self._subparsers else ():
                for name, parser in getattr(sub, "choices", {}).items():
                    options = [s for action in parser._actions for s in action.option_strings]
                    known += options
                    if first in options and name not in owners:
                        owners.append(name)
            if owners:
                return f" ({first} is an option of {', '.join(owners)} only)"
            return did_you_mean(first, sorted(set(known)))
        return ""


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _targets(value: str) -> tuple[str, ...]:
    chosen = _csv(value)
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown or not chosen:
        hint = did_you_mean(unknown[0], list(TARGETS)) if unknown else ""
        raise argparse.ArgumentTypeError(f"unknown target {', '.join(unknown) or value!r}{hint}; "
                                         f"choose from {','.join(TARGETS)}")
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


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _subparser(sub: argparse._SubParsersAction, name: str, summary: str, description: str,  # type: ignore[type-arg]
               examples: tuple[str, ...], parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    return sub.add_parser(name, parents=parents, help=summary, description=description,  # type: ignore[no-any-return]
                          epilog=_examples(*examples), formatter_class=argparse.RawDescriptionHelpFormatter)


def _scan_options() -> argparse.ArgumentParser:
    """What ``check`` and ``report`` share: what to scan, and how to select rules and targets."""
    scan = _Parser(add_help=False)
    scan.add_argument("paths", nargs="*", default=["."],
                      help="files and directories to check (default: .); '-' reads one file from stdin")
    scan.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    scan.add_argument("--config", metavar="FILE",
                      help="lockin-lint.toml or pyproject.toml to use (default: the nearest one above the paths)")
    scan.add_argument("--targets", type=_targets, default=None, metavar="TARGET,...",
                      help=f"comma-separated targets to show and score (default: all): {','.join(TARGETS)}")
    scan.add_argument("--select", type=_csv, default=None, metavar="CODE,...",
                      help="only these rules: ids, id prefixes (LL1), names or categories")
    scan.add_argument("--extend-select", type=_csv, default=(), metavar="CODE,...", help="add to the selection")
    scan.add_argument("--ignore", type=_csv, default=None, metavar="CODE,...",
                      help="leave out these rules: ids, id prefixes, names or categories")
    scan.add_argument("--torch-version", type=_version, help="oldest torch the code must support, such as 2.4")
    scan.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                      help="skip directories/files matching (replaces the defaults; repeatable)")
    scan.add_argument("--extend-exclude", action="append", default=[], metavar="GLOB",
                      help="also skip directories/files whose name or path matches (repeatable)")
    scan.add_argument("--force-exclude", action="store_true", help="apply excludes to files named explicitly")
    scan.add_argument("--no-respect-gitignore", action="store_true", help="also check files .gitignore ignores")
    scan.add_argument("--jobs", type=int, default=0, help="worker processes (0: automatic; at most the CPU count)")
    scan.add_argument("--force-jobs", action="store_true", help="allow --jobs above the CPU count")
    scan.add_argument("--stdin-filename", metavar="NAME",
                      help="read the source from stdin and report it as NAME (its directory finds the config)")
    return scan


def _fix_arguments(parser: argparse.ArgumentParser) -> None:
    """``check``'s fix flags (`fix.cli` acts on them): declared here, with the rest of the grammar, so
    that parsing a command line does not import the fix stage."""
    group = parser.add_argument_group("fixes")
    group.add_argument("--fix", action="store_true", help="apply safe fixes (portable PyTorch by default)")
    group.add_argument("--unsafe-fixes", action="store_true", help="also apply (or show) unsafe fixes")
    group.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    group.add_argument("--fix-to", choices=TARGETS, metavar="TARGET",
                       help=f"rewrite to this target's names instead ({', '.join(TARGETS)}); implies --fix")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lockin-lint", description="Find and measure CUDA lock-in in PyTorch and CUDA C/C++ code.",
                     epilog=_examples("lockin-lint check .", "lockin-lint report . --format html --output report.html",
                                      "lockin-lint explain LL101"),
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lockin-lint {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    rules_opt = _Parser(add_help=False)
    rules_opt.add_argument("--rules", action="append", default=[], metavar="PATH",
                           help="extra rule file or directory (repeatable)")
    rules_opt.add_argument("--no-cache", action="store_true", help="do not read or write the compiled-rules cache")
    scan = _scan_options()

    check = _subparser(
        sub, "check", "lint paths for CUDA lock-in",
        "Report every place the code depends on CUDA, with each target's status and what to write instead.\n"
        "Exit codes: 0 clean, 1 findings (or files that could not be read), 2 usage or configuration error.",
        ("lockin-lint check .", "lockin-lint check src --targets rocm,ascend --format concise",
         "lockin-lint check . --write-baseline lockin-baseline.json   # adopt: accept today's lock-in",
         "lockin-lint check . --baseline lockin-baseline.json --output-sarif lockin.sarif   # CI",
         "lockin-lint check - --stdin-filename src/train.py < src/train.py   # editors"),
        [rules_opt, scan])
    check.add_argument("--format", choices=sorted(FORMATTERS), default="text",
                       help="text (one line per finding and the per-target detail), concise (one line per "
                            "finding), json, sarif or github (annotations)")
    check.add_argument("--output-sarif", metavar="FILE", help="also write a SARIF report here")
    check.add_argument("--docs-url", metavar="URL", default=None,
                       help="where rule documentation lives, for SARIF helpUri links "
                            "(default: docs/rules.md on GitHub)")
    check.add_argument("--min-severity", choices=SEVERITIES[::-1], default=None,
                       help="leave out findings below this severity (info < warning < error)")
    check.add_argument("--baseline", metavar="FILE", help="hide findings recorded in this baseline")
    check.add_argument("--write-baseline", metavar="FILE", help="record the current findings and exit 0")
    check.add_argument("--prune-baseline", action="store_true",
                       help="rewrite the baseline without its stale entries (findings no longer present)")
    check.add_argument("--fail-under", type=_fail_under, default=None, metavar="TARGET=SCORE,...",
                       help="exit 1 when a target's project score is below its bar")
    check.add_argument("--fail-on", choices=FAIL_ON, default=None,
                       help="which findings fail the run: any (default), or not-native (only findings that are "
                            "not native on some configured target)")
    check.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    check.add_argument("--exit-zero", action="store_true",
                       help="exit 0 even when there are findings (a --fail-under bar still fails)")
    _fix_arguments(check)

    report = _subparser(
        sub, "report", "per-target portability scores, effort and blockers",
        "Estimate what moving the code to each target costs: a score (0-100), effort in hours and days,\n"
        "the blockers, the effort by category and directory, and the CUDA libraries and kernels found.",
        ("lockin-lint report .", "lockin-lint report . --targets ascend,rocm --format markdown",
         "lockin-lint report . --format html --output report.html"),
        [rules_opt, scan])
    report.add_argument("--format", choices=list(REPORT_FORMAT_NAMES), default="text",
                        help="text, markdown, json or html (one self-contained page)")
    report.add_argument("--all-findings", action="store_true",
                        help=f"HTML: list every finding (default: the first {DEFAULT_HTML_FINDINGS})")
    report.add_argument("--merge", nargs="+", metavar="[NAME=]REPORT.json",
                        help="merge per-repository `report --format json` files into one inventory (no scan)")

    listing = _subparser(sub, "rules", "list the loaded rules",
                         "List every rule: id, name, category, languages and how many symbols it knows.",
                         ("lockin-lint rules", "lockin-lint rules --format json"), [rules_opt])
    listing.add_argument("--format", choices=["text", "json"], default="text", help="text or json")

    explain = _subparser(sub, "explain", "show a rule's documentation",
                         "Print a rule's documentation and its per-target table for every symbol it knows.",
                         ("lockin-lint explain LL101", "lockin-lint explain LC1011"), [rules_opt])
    explain.add_argument("rule_id", help="a rule id such as LL101 (`lockin-lint rules` lists them)")
    _subparser(sub, "server", "language server for editors (LSP over stdio)",
               "Diagnostics, hover tables, quick fixes and suppressions in any LSP client (docs/editors.md).",
               ("lockin-lint server",), [rules_opt])
    return parser
