"""What the fix stage costs on a large tree, beside the scan: ``check --diff`` (and with
``--unsafe-fixes``) computed in-process, timed in CPU seconds (this machine is shared, and CPU time is
what load distorts least), with how many files libcst had to parse.

libcst parses ~10x slower than tree-sitter, so only files with a fix to apply are parsed by it. Usage:

    .venv/bin/python benchmarks/bench_fix.py DIR [--exclude include]

Nothing is written: the fixed texts are computed and dropped, as ``--diff`` does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from lockin_lint.api import check_bytes, check_paths
from lockin_lint.fix.apply import fix_files
from lockin_lint.fix.plan import FixOptions, mark
from lockin_lint.kb.ruleset import load_rules
from lockin_lint.model import Finding, Settings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--exclude", action="append", default=[])
    args = parser.parse_args()
    root = Path(args.root).resolve()
    ruleset = load_rules()
    settings = Settings(extend_exclude=tuple(args.exclude), respect_gitignore=False, jobs=1)
    cpu, wall = time.process_time(), time.perf_counter()
    run = check_paths(["."], ruleset, settings, cwd=root)
    print(f"{root}: scan of {run.files_scanned} files, {len(run.findings)} findings: "
          f"CPU {time.process_time() - cpu:.1f} s (wall {time.perf_counter() - wall:.1f} s)")
    rules = ruleset.by_id()

    def recheck(source: str) -> list[Finding]:
        return list(check_bytes("cell.py", source.encode(), ruleset, settings).findings)

    os.chdir(root)
    for unsafe in (False, True):
        options = FixOptions(unsafe=unsafe)
        cpu, wall = time.process_time(), time.perf_counter()
        fixes = fix_files(mark(run.findings, rules, options), rules, options, root, recheck)
        megabytes = sum(len(f.before) for f in fixes.files) / 1e6
        print(f"  --diff{' --unsafe-fixes' if unsafe else ''}: {len(fixes.files) + len(fixes.errors)} files parsed "
              f"by libcst ({megabytes:.1f} MB), {sum(f.changed for f in fixes.files)} changed, {fixes.fixed} findings "
              f"fixed, {len(fixes.errors)} not fixed: CPU {time.process_time() - cpu:.1f} s "
              f"(wall {time.perf_counter() - wall:.1f} s)")
        for error in fixes.errors:
            print(f"    {error.path}: {error.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
