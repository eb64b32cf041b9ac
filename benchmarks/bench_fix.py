"""Time ``check --diff`` (the fix stage without writing) against a plain ``check`` on large trees.

libcst parses ~10x slower than tree-sitter, so only files with a fix to apply are parsed by it; this
shows what that costs on real code. Whole-process timings, best and median of ``--runs`` after one
warm-up, as ``bench_scan.py`` does. Usage:

    .venv/bin/python benchmarks/bench_fix.py DIR [DIR ...] [--runs 3] [--exclude include]
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time

MODES = {
    "check": [],
    "check --diff": ["--diff"],
    "check --diff --unsafe-fixes": ["--diff", "--unsafe-fixes"],
}


def run(directory: str, flags: list[str], exclude: list[str]) -> tuple[float, float, str, int]:
    """Wall and CPU seconds (user + system of the child: what a shared, loaded machine distorts least)."""
    command = [sys.executable, "-m", "lockin_lint", "check", directory, "--no-respect-gitignore", "--exit-zero",
               *[x for e in exclude for x in ("--extend-exclude", e)], *flags]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, proc.stderr, len(proc.stdout.splitlines())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--exclude", action="append", default=[])
    args = parser.parse_args()
    print("| tree | mode | wall best s | CPU best s | CPU median s | result |")
    print("|---|---|---:|---:|---:|---|")
    for directory in args.dirs:
        for mode, flags in MODES.items():
            run(directory, flags, args.exclude)  # warm-up
            walls, cpus, stderr, lines = [], [], "", 0
            for _ in range(args.runs):
                wall, cpu, stderr, lines = run(directory, flags, args.exclude)
                walls.append(wall)
                cpus.append(cpu)
            summary = re.findall(r"^lockin-lint: (\d+ findings (?:would be fixed in \d+ files|fixable with .*?\)))",
                                 stderr, re.M)
            found = re.search(r"(\d+) findings in (\d+) files", stderr)
            result = summary[0] if summary else (f"{found.group(1)} findings" if found else "")
            if flags:
                result += f", {lines} diff lines"
            print(f"| {directory} | `{mode}` | {min(walls):.2f} | {min(cpus):.2f} | {statistics.median(cpus):.2f} "
                  f"| {result} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
