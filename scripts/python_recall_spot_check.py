"""Recall spot check for the Python analyzer, by a line scan that does not use the analyzer.

A judged sample only measures precision: the findings it draws exist. Whether the analyzer misses
real CUDA dependencies needs a second, independent reader. This one is deliberately crude (regular
expressions over non-comment lines) so that it shares no parsing with the analyzer. It counts, per
construct of `CONSTRUCTS`, the lines of a repository's ``.py`` files that spell it, and how many of
them a ``check --format json`` scan (made from the repository's root) reports: a line counts as
reported when a finding's line range (``line`` to ``end_line``) covers it.

Each unreported line is classed: in a file its path dedicates to a backend (``rocm-path``,
``xpu-path``... : `analyzers.backend_paths`), or ``other`` (to be read by hand; ``--show`` prints
every one). Earlier sessions ran the same patterns from throw-away scripts; keeping them here makes
the "no recall lost" check of issue #11 repeatable from one session to the next.

Usage::

    python scripts/python_recall_spot_check.py --root /tmp/repos /tmp/s4/scans/*.json [--show]

The repository of a scan is its file name without ``.json``, as in `draw_sample.py`.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
from pathlib import Path

from lockin_lint.analyzers.backend_paths import dedicated_target
from lockin_lint.project.discover import discover

#: The constructs of the earlier sessions' spot checks (docs/validation.md), one pattern each.
CONSTRUCTS: dict[str, re.Pattern[str]] = {
    "torch.version.cuda": re.compile(r"torch\.version\.cuda\b"),
    "torch.cuda call": re.compile(r"\btorch\.cuda\.[\w.]+\s*\("),
    'device="cuda"': re.compile(r"device\s*=\s*[\"']cuda"),
    ".cuda()": re.compile(r"\.cuda\(\s*\)"),
    "flash/xformers call": re.compile(
        r"\b(flash_attn_func|flash_attn_varlen_func|flash_attn_qkvpacked_func|flash_attn_with_kvcache"
        r"|memory_efficient_attention)\s*\("),
    "pynvml call": re.compile(r"\b(pynvml|nvml)\.nvml\w+\s*\("),
    "cupy call": re.compile(r"\b(cupy|cp)\.[a-z_][\w.]*\s*\("),
}


def _code(line: str) -> str:
    """The line without a trailing ``#`` comment (crude: a ``#`` inside a string cuts it too)."""
    return "" if line.lstrip().startswith("#") else line.split("  #", 1)[0]


def check(repo: Path, scan: Path) -> dict[str, collections.Counter[str]]:
    """Counters per construct (``reported`` or why not), and ``<construct>-missed`` per line."""
    covered: dict[str, set[int]] = collections.defaultdict(set)
    for finding in json.loads(scan.read_text())["findings"]:
        if finding["rule_id"].startswith("LL"):
            last = finding.get("end_line") or finding["line"]
            covered[finding["path"]].update(range(finding["line"], last + 1))
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for shown, real in discover(["."], cwd=repo).files:
        if not shown.endswith(".py"):
            continue
        lines = Path(real).read_text(encoding="utf-8", errors="replace").split("\n")
        on = covered.get(shown, set())
        for number, line in enumerate(lines, start=1):
            code = _code(line)
            for name, pattern in CONSTRUCTS.items():
                if not pattern.search(code):
                    continue
                if number in on:
                    counts[name]["reported"] += 1
                    continue
                target = dedicated_target(shown)
                counts[name][f"{target}-path" if target else "other"] += 1
                counts[name + "-missed"][f"{shown}:{number}"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scans", nargs="+", type=Path)
    parser.add_argument("--root", type=Path, default=Path("/tmp/repos"))
    parser.add_argument("--show", action="store_true", help="print the unreported lines")
    args = parser.parse_args()
    total: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for scan in args.scans:
        counts = check(args.root / scan.stem, scan)
        for key, counter in counts.items():
            total[key].update(counter)
            if args.show and key.endswith("-missed"):
                for where in sorted(counter):
                    print(f"  {key[:-7]} unreported: {scan.stem}/{where}")
    print(f"{'construct':<22} {'lines':>6} {'reported':>9}  not reported, by class")
    for name in CONSTRUCTS:
        counter = total.get(name, collections.Counter())
        rest = {k: v for k, v in sorted(counter.items()) if k != "reported"}
        print(f"{name:<22} {sum(counter.values()):>6} {counter['reported']:>9}  {json.dumps(rest)}")


if __name__ == "__main__":
    main()
