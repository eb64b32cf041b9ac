"""Whole-process scan benchmark: how long does `lockin-lint check` take on large real trees?

Times the real CLI in a fresh process (start-up, rule loading, discovery, prefilter, parsing, matching
and JSON output), like ``hyperfine --warmup 1``, on trees every machine here can have:

* the installed ``torch`` package (``pip install torch==2.13.0`` takes a local CPU wheel), and
* the Python standard library of the running interpreter (its ``site-packages`` excluded),
* the CUDA headers shipped inside torch (``include/ATen/cuda``, ``include/c10/cuda``) and the rest
  of its C++ headers (every ``cuda/`` directory excluded) as the no-CUDA case,
* start-up alone: ``check`` on an empty directory, with the rules cache warm and empty.

Usage: ``python benchmarks/bench_scan.py [--torch-dir DIR] [--runs 3] [--jobs 1]``. The interpreter
running this script must have lockin-lint installed; torch only has to be *found* (its directory),
never imported. Results go to stdout as a Markdown table for ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measurement:
    name: str
    files: int
    megabytes: float
    seconds: list[float]
    skipped: int
    findings: int

    @property
    def best(self) -> float:
        return min(self.seconds)

    def row(self) -> str:
        median = statistics.median(self.seconds)
        files_per_s = self.files / self.best if self.best else 0.0
        mb_per_s = self.megabytes / self.best if self.best else 0.0
        skipped = 100.0 * self.skipped / self.files if self.files else 0.0
        return (f"| {self.name} | {self.files} | {self.megabytes:.1f} | {self.best:.2f} | {median:.2f} | "
                f"{files_per_s:,.0f} | {mb_per_s:.1f} | {skipped:.0f}% | {self.findings} |")


def tree_size(roots: list[Path], exclude: str | None) -> tuple[int, float]:
    from lockin_lint.analyzers import SOURCE_SUFFIXES

    files, size = 0, 0
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            if exclude:
                dirnames[:] = [d for d in dirnames if d != exclude]
            for name in filenames:
                if os.path.splitext(name)[1] in SOURCE_SUFFIXES:
                    files += 1
                    size += os.path.getsize(os.path.join(dirpath, name))
    return files, size / 1e6


def run_once(targets: list[Path], jobs: int, exclude: str | None, cold: bool = False) -> tuple[float, dict]:
    command = [sys.executable, "-m", "lockin_lint", "check", *map(str, targets), "--format", "json",
               "--exit-zero", "--jobs", str(jobs),
               # installed trees may sit inside some git checkout (pyenv ignores its versions/): measure
               # the same files whatever VCS holds them
               "--no-respect-gitignore"]
    if exclude:
        command += ["--extend-exclude", exclude]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if cold:
            env["LOCKIN_LINT_CACHE_DIR"] = cache  # an empty cache: rules are loaded and validated
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, check=False, env=env)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"lockin-lint failed on {targets}: {proc.stderr.decode(errors='replace')[:500]}")
    return elapsed, json.loads(proc.stdout)


def measure(name: str, targets: list[Path], runs: int, jobs: int, exclude: str | None = None,
            cold: bool = False) -> Measurement:
    files, megabytes = tree_size(targets, exclude)
    run_once(targets, jobs, exclude)  # warm-up: page cache, .pyc files and the rules cache
    seconds, report = [], {}
    for _ in range(runs):
        elapsed, report = run_once(targets, jobs, exclude, cold)
        seconds.append(elapsed)
    summary = report.get("summary", {})
    return Measurement(name, report.get("files_scanned", files), megabytes, seconds,
                       summary.get("files_skipped_by_prefilter", 0), summary.get("findings", 0))


def parse_floor(torch_dir: Path) -> tuple[int, float, float]:
    """Files the prefilter passes, their MB, and the best of 3 in-process tree-sitter parses of them.

    Wall times on shared machines drift by tens of percent between minutes; the parse of exactly the
    files lockin-lint parses, timed in the same session, is the floor the rest of the scan adds to.
    """
    from lockin_lint.project.discover import discover
    from lockin_lint.engine import Engine
    from lockin_lint.kb.prefilter import is_candidate, present_triggers
    from lockin_lint.kb.ruleset import load_rules

    engine = Engine(load_rules())
    found = discover([str(torch_dir)], extend_exclude=("include",))
    datas = [Path(path).read_bytes() for shown, path in found.files if shown.endswith((".py", ".pyi"))]
    candidates = [d for d in datas if is_candidate(engine.python, d, present_triggers(engine.python, d))]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for data in candidates:
            engine.run.python_parser.parse(data)
        best = min(best, time.perf_counter() - start)
    return len(candidates), sum(map(len, candidates)) / 1e6, best


def find_torch(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("torch")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch-dir", help="the installed torch package directory")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="lockin-lint --jobs (1: one process)")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as empty:
        results.append(measure("start-up (empty dir)", [Path(empty)], args.runs, args.jobs))
        results.append(measure("start-up, empty rules cache", [Path(empty)], args.runs, args.jobs, cold=True))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    results.append(measure(f"stdlib ({stdlib.name})", [stdlib], args.runs, args.jobs, exclude="site-packages"))
    torch_dir = find_torch(args.torch_dir)
    if torch_dir is None:
        print("torch not found: pip install torch==2.13.0, or pass --torch-dir", file=sys.stderr)
    else:
        results.append(measure("torch package without include/ (.py, .pyi, 12 C++ files)", [torch_dir],
                               args.runs, args.jobs, exclude="include"))
        include = torch_dir / "include"
        results.append(measure("torch CUDA headers (ATen/cuda, c10/cuda)",
                               [include / "ATen" / "cuda", include / "c10" / "cuda"], args.runs, args.jobs))
        results.append(measure("torch C++ headers without cuda/ dirs (no-CUDA case)", [include],
                               args.runs, args.jobs, exclude="cuda"))

    print(f"lockin-lint --jobs {args.jobs}, best and median of {args.runs} runs after one warm-up, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| tree | files | MB | best s | median s | files/s | MB/s | skipped by prefilter | findings |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(result.row())
    if torch_dir is not None:
        parsed, megabytes, seconds = parse_floor(torch_dir)
        print(f"\nParse floor, torch package: tree-sitter alone parses the {parsed} files the prefilter "
              f"passes ({megabytes:.1f} MB) in {seconds:.2f} s (best of 3, in-process, this session).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
