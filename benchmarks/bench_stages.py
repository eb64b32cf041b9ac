"""Where a cold run's CPU goes, stage by stage: the floor that says how close to Ruff lockin-lint can get.

`bench_compare.py` says how fast a run is; this says why. It runs ``check TREE --format json --jobs 1``
in-process (one process, so every CPU second is seen, none hidden in a pool worker), with the compiled
rules cached and every per-file result cold, and splits the process's CPU time (``time.process_time``)
into:

- **start-up**: interpreter, imports, loading the compiled rules and the settings;
- **discovery**: walking the tree;
- **parse (Python)**, **parse (C/C++)**: tree-sitter's ``Parser.parse`` alone, during the per-file
  checks. This is the floor of the design: a file that may hold a finding must be parsed;
- **per-file analysis**: everything else in the per-file checks (reading, hashing, the prefilter,
  matching, the post-passes, building findings, the result cache);
- **cross-file passes**: `project.passes.run_passes` (with the re-checks of linked files, and their
  parses);
- **collect** and **render** (the JSON report, with the effort model).

The time a pool adds (forking, pickling results across) is not in it: compare ``--jobs 1`` CPU with
`bench_compare.py`'s to see that. With ``--ruff BIN`` the table ends with Ruff's CPU on the same tree
(default rules, ``--no-cache``) and each stage's share of it:

    python benchmarks/bench_stages.py /tmp/repos/vllm --runs 3 --ruff /tmp/lockin-bench-tools/bin/ruff

Each run is a fresh interpreter (``--measure``, internal) so the imports are paid every time, as a
real run pays them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from bench_compare import rules_only_copy, timed

STAGES = ("start-up", "discovery", "parse (Python)", "parse (C/C++)", "per-file analysis",
          "cross-file passes", "collect", "render", "other")
#: The command every run measures (``--no-respect-gitignore``: the same files as `bench_compare.py`).
CHECK = ["check", ".", "--format", "json", "--jobs", "1", "--exit-zero", "--no-respect-gitignore"]


class _Clock:
    """CPU seconds per stage; a stage entered inside another is subtracted from it (the passes' re-checks
    of linked files are the passes' time, their parses the parse's)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.stack: list[str] = []

    def timing(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            self.stack.append(stage)
            try:
                return function(*args, **kwargs)
            finally:
                self.stack.pop()
                spent = time.process_time() - start
                self.spent[stage] += spent
                if self.stack:
                    self.spent[self.stack[-1]] -= spent
        return timed_call


class _TimedParser:
    """A tree-sitter parser whose ``parse`` is timed (``tree_sitter.Parser`` cannot be subclassed)."""

    def __init__(self, parser: Any, parse: Callable[..., Any]) -> None:
        self._parser = parser
        self.parse = parse

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


def measure(tree: Path) -> dict[str, float]:
    """One run's CPU seconds per stage (called in a fresh interpreter, from the tree)."""
    clock = _Clock()
    import tree_sitter

    real_parser = tree_sitter.Parser

    def timed_parser(language: Any) -> _TimedParser:
        parser = real_parser(language)
        from lockin_lint.analyzers import context

        stage = "parse (Python)" if language == context._PY_LANGUAGE else "parse (C/C++)"
        return _TimedParser(parser, clock.timing(stage, parser.parse))

    tree_sitter.Parser = timed_parser  # type: ignore[misc, assignment]
    from lockin_lint import api, cli
    from lockin_lint.output import FORMATTERS

    api.discover = clock.timing("discovery", api.discover)
    api.run_passes = clock.timing("cross-file passes", api.run_passes)
    api.collect = clock.timing("collect", api.collect)
    api._check_unless_unchanged = clock.timing("per-file analysis", api._check_unless_unchanged)
    FORMATTERS["json"] = clock.timing("render", FORMATTERS["json"])
    real_check_paths = api.check_paths

    def check_paths(*args: Any, **kwargs: Any) -> Any:
        clock.spent["start-up"] = time.process_time() - sum(clock.spent.values())
        return real_check_paths(*args, **kwargs)

    from lockin_lint import cli_run

    cli_run.check_paths = check_paths  # imported by name
    os.chdir(tree)
    cli.main(CHECK, out=io.StringIO(), err=io.StringIO())
    clock.spent["other"] = time.process_time() - sum(clock.spent.values())
    return clock.spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ruff", type=Path, help="a ruff binary: its CPU on the same tree ends the table")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    tree = args.tree.resolve()
    if args.measure:
        print(json.dumps(measure(tree)))
        return 0
    warm = Path(tempfile.mkdtemp(prefix="lockin-stages-"))
    lockin = [str(Path(sys.executable).parent / "lockin-lint"), *CHECK]
    timed(lockin, tree, dict(os.environ) | {"LOCKIN_LINT_CACHE_DIR": str(warm)})  # compiles the rules
    runs: list[dict[str, float]] = []
    for _ in range(args.runs):
        env = dict(os.environ) | {"LOCKIN_LINT_CACHE_DIR": str(rules_only_copy(warm))}
        answer = subprocess.run([sys.executable, __file__, str(tree), "--measure"], env=env, cwd=tempfile.gettempdir(),
                                check=True, capture_output=True, text=True)
        runs.append(json.loads(answer.stdout.splitlines()[-1]))
    medians = {stage: statistics.median(run[stage] for run in runs) for stage in STAGES}
    total = statistics.median(sum(run.values()) for run in runs)
    ruff = None
    if args.ruff is not None:
        ruff = statistics.median(timed([str(args.ruff), "check", "--no-cache", "--exit-zero", "-q", "."], tree,
                                       dict(os.environ))[1] for _ in range(args.runs))
    print(f"{tree}: median of {args.runs} runs, CPU seconds, --jobs 1" + (f"; Ruff {ruff:.2f} s" if ruff else ""))
    print("| stage | CPU s | share |" + (" × Ruff's CPU |" if ruff else ""))
    print("|---|---:|---:|" + ("---:|" if ruff else ""))
    for stage in (*STAGES, "total"):
        value = total if stage == "total" else medians[stage]
        row = f"| {stage} | {value:.2f} | {100 * value / total:.0f}% |"
        print(row + (f" {value / ruff:.2f} |" if ruff else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
