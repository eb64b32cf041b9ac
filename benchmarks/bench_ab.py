"""Two versions of lockin-lint on one tree, cold, alternated run by run: did a change make it faster?

On a machine shared with other work, two runs minutes apart differ more than most changes do, so each
round runs every version once, back to back, and the table gives CPU seconds (user + system of the
whole process and its pool workers) beside wall time. Each version is a source tree (a checkout or
``git archive`` of a commit) put first on ``PYTHONPATH`` under this interpreter's ``lockin-lint``:

    git archive main | tar -x -C /tmp/main && git archive HEAD | tar -x -C /tmp/head
    python benchmarks/bench_ab.py /tmp/repos/vllm main=/tmp/main head=/tmp/head --runs 3

Every run has its own cache directory holding only the version's compiled rules and their signing key
(results cold), and runs ``check . --format json --no-respect-gitignore`` (``--no-cache`` would
bypass the compiled rules too, and time their build).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_compare import rules_only_copy, timed

LOCKIN = Path(sys.executable).parent / "lockin-lint"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("versions", nargs="+", help="NAME=SOURCE_DIR")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0, help="lockin-lint --jobs (0: its default)")
    args = parser.parse_args()
    versions = dict(item.split("=", 1) for item in args.versions)
    compiled: dict[str, str] = {}
    for name, source in versions.items():  # compile each version's rules once
        compiled[name] = tempfile.mkdtemp(prefix=f"ab-{name}-")
        env = os.environ | {"PYTHONPATH": source, "LOCKIN_LINT_CACHE_DIR": compiled[name]}
        subprocess.run([str(LOCKIN), "rules"], env=env, stdout=subprocess.DEVNULL, check=False)
    command = [str(LOCKIN), "check", ".", "--format", "json", "--exit-zero", "--no-respect-gitignore"]
    command += ["--jobs", str(args.jobs)] if args.jobs else []
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in versions}
    for _ in range(args.runs):
        for name, source in versions.items():
            cache = str(rules_only_copy(Path(compiled[name])))
            env = os.environ | {"PYTHONPATH": source, "LOCKIN_LINT_CACHE_DIR": cache}
            runs[name].append(timed(command, args.tree, env))
            print(name, *(f"{value:.2f}" for value in runs[name][-1]), file=sys.stderr)
    print("| version | runs | median wall s | median CPU s | best CPU s | peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, measured in runs.items():
        wall, cpu, rss = zip(*measured)
        print(f"| {name} | {len(measured)} | {statistics.median(wall):.2f} | {statistics.median(cpu):.2f} | "
              f"{min(cpu):.2f} | {max(rss):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
