"""What the fix tests share: fixing one in-memory file the way ``check --fix`` does."""

from __future__ import annotations

import argparse
import shlex

from lockin_lint.api import check_bytes
from lockin_lint.fix.apply import FileFix, fix_text, planned_fixes
from lockin_lint.fix.plan import FixOptions
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Settings

#: A fixture's first line may say which flags it is fixed with; the default is --unsafe-fixes.
OPTIONS_MARK = "# fix-options:"


def options_of(text: str) -> FixOptions:
    first = text.split("\n", 1)[0]
    flags = shlex.split(first[len(OPTIONS_MARK):]) if first.startswith(OPTIONS_MARK) else ["--unsafe-fixes"]
    parser = argparse.ArgumentParser()
    parser.add_argument("--fix", action="store_true")
    parser.add_argument("--unsafe-fixes", action="store_true")
    parser.add_argument("--fix-to")
    parser.add_argument("--torch-version")
    args = parser.parse_args(flags)
    return FixOptions(args.unsafe_fixes, args.fix_to, args.torch_version)


def fix_in_memory(name: str, text: str, ruleset: RuleSet, options: FixOptions) -> FileFix:
    settings = Settings(torch_version=options.torch_version)
    findings = check_bytes(name, text.encode(), ruleset, settings).findings
    rules = ruleset.by_id()
    fixes = planned_fixes(findings, rules, options).get(name, [])

    def recheck(source: str) -> list:  # type: ignore[type-arg]
        return list(check_bytes("cell.py", source.encode(), ruleset, settings).findings)

    return fix_text(name, text, fixes, options, rules, recheck)
