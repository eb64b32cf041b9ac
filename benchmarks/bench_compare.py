"""lockin-lint against Ruff and Semgrep, cold and warm, in one run (issue: Ruff-class speed).

Each tool runs as a whole process, like ``hyperfine``: wall time, CPU time (user + system of the
child) and peak memory (the child's max RSS), median and best of ``--runs``. Ruff and Semgrep are
installed into their own virtualenv (``--tools-venv``, created on first use), never into the
project's. Semgrep gets ten lock-in rules (``torch.cuda.$F(...)``, ``.cuda()``, ``"cuda"`` device
strings, NCCL, apex/flash-attn/xformers/bitsandbytes/cupy imports), the closest thing it can do.

    python benchmarks/bench_compare.py --tree torch=/path/to/site-packages/torch --tree vllm=/tmp/repos/vllm \\
        --one-file vllm=vllm/worker/worker.py --runs 5

Cold lockin-lint runs use an empty cache directory each time; warm runs reuse one that a first run
filled. Output: a Markdown table for ``benchmarks/README.md``, plus the ratios to Ruff.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SEMGREP_RULES = """rules:
- {id: torch-cuda-call, languages: [python], severity: WARNING, message: torch.cuda, pattern: torch.cuda.$F(...)}
- {id: tensor-cuda, languages: [python], severity: WARNING, message: .cuda(), pattern: $X.cuda(...)}
- {id: cuda-device, languages: [python], severity: WARNING, message: cuda device, pattern: torch.device("cuda")}
- {id: to-cuda, languages: [python], severity: WARNING, message: to cuda, pattern: $X.to("cuda")}
- {id: nccl, languages: [python], severity: WARNING, message: nccl, pattern: $D.init_process_group(backend="nccl", ...)}
- {id: apex, languages: [python], severity: WARNING, message: apex, pattern: import apex}
- {id: flash-attn, languages: [python], severity: WARNING, message: flash_attn, pattern: import flash_attn}
- {id: xformers, languages: [python], severity: WARNING, message: xformers, pattern: import xformers}
- {id: bitsandbytes, languages: [python], severity: WARNING, message: bnb, pattern: import bitsandbytes}
- {id: cupy, languages: [python], severity: WARNING, message: cupy, pattern: import cupy}
"""


@dataclass
class Row:
    tool: str
    tree: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def cells(self) -> str:
        return (f"| {self.tree} | {self.tool} | {statistics.median(self.wall):.2f} | {min(self.wall):.2f} | "
                f"{statistics.median(self.cpu):.2f} | {max(self.rss_mb):.0f} |")


def rules_only_copy(cache: Path) -> Path:
    """A new cache directory holding only ``cache``'s compiled rules, and the signing key without which
    they are never unpickled (copying the rules alone made every "cold" run rebuild them: 1.5 s of CPU
    on vLLM, hidden in the figures before 2026-11-30's third session)."""
    rules_only = Path(tempfile.mkdtemp(prefix="lockin-cold-"))
    for entry in [*cache.glob("rules-*"), cache / ".key"]:
        if entry.is_file():
            shutil.copy2(entry, rules_only)
    return rules_only


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as child:
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def tools_venv(path: Path) -> Path:
    if not (path / "bin" / "ruff").exists() or not (path / "bin" / "semgrep").exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(path / "bin" / "pip"), "install", "-q", "ruff", "semgrep"], check=True)
    return path / "bin"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR, a tree to scan (repeatable)")
    parser.add_argument("--one-file", action="append", default=[], help="NAME=FILE inside that tree (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tools-venv", type=Path, default=Path(tempfile.gettempdir()) / "lockin-bench-tools")
    parser.add_argument("--no-semgrep", action="store_true", help="Semgrep takes minutes on a large tree")
    args = parser.parse_args()
    trees = dict(item.split("=", 1) for item in args.tree)
    singles = dict(item.split("=", 1) for item in args.one_file)
    tools = tools_venv(args.tools_venv)
    # The console script, not `python -m`: that would put the scanned tree on sys.path (torch/types.py
    # shadows the standard library's `types`).
    lockin = [str(Path(sys.executable).parent / "lockin-lint"), "check", "--format", "json", "--exit-zero",
              "--no-respect-gitignore"]
    rules = Path(tempfile.mkdtemp()) / "lockin.yaml"
    rules.write_text(SEMGREP_RULES, encoding="utf-8")
    rows: list[Row] = []
    base_env = dict(os.environ)
    for name, directory in trees.items():
        root = Path(directory)
        warm_cache = tempfile.mkdtemp(prefix="lockin-warm-")
        warm_env = base_env | {"LOCKIN_LINT_CACHE_DIR": warm_cache}
        timed([*lockin, "."], root, warm_env)  # fills the warm cache
        plans: list[tuple[str, list[str], bool]] = [
            ("lockin-lint cold", [*lockin, "."], True),
            ("lockin-lint warm (unchanged)", [*lockin, "."], False),
            ("ruff, default rules, --no-cache", [str(tools / "ruff"), "check", "--no-cache", "--exit-zero", "-q", "."], False),
            ("ruff, default rules, warm cache", [str(tools / "ruff"), "check", "--exit-zero", "-q", "."], False),
        ]
        if not args.no_semgrep:
            plans.append(("semgrep, 10 lock-in rules", [str(tools / "semgrep"), "scan", "--config", str(rules),
                                                         "--metrics=off", "--quiet", "--disable-version-check", "."],
                          False))
        if name in singles:
            plans.append(("lockin-lint, one file, warm", [*lockin, singles[name]], False))
            plans.append(("ruff, one file", [str(tools / "ruff"), "check", "--exit-zero", "-q", singles[name]], False))
        for tool, command, cold in plans:
            row = Row(tool, name)
            for _ in range(args.runs):
                env = warm_env
                if cold:
                    rules_only = rules_only_copy(Path(warm_cache))
                    env = base_env | {"LOCKIN_LINT_CACHE_DIR": str(rules_only)}  # compiled rules warm, results cold
                wall, cpu, rss = timed(command, root, env)
                row.wall.append(wall)
                row.cpu.append(cpu)
                row.rss_mb.append(rss)
            rows.append(row)
            print(row.cells(), file=sys.stderr)
    print("| tree | tool | median wall s | best wall s | median CPU s | peak MB |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print(row.cells())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
