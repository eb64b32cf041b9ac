"""Draw a stratified, reproducible sample of findings to judge by hand (docs/validation.md).

Why: a precision figure is only worth something if the sample behind it can be drawn again and
checked by someone else. Scan each project with ``check --format json`` into one file per project,
then:

    python scripts/draw_sample.py DIR --seed 20261130 --quota LL1=45,LL2=35,... \\
        --suffix .py --root /tmp/repos > sample.md

``DIR`` holds ``<project>.json`` files (the project's name is the file's stem, and with ``--root`` its
sources are read from ``ROOT/<project>``). Findings are grouped by rule family (the first three
characters of the rule id, ``LL1``), and each family's quota is filled round-robin over the projects,
in project-name order, from a per-(family, project) shuffle with the given seed, so a family is not
drawn from its noisiest project only. The same inputs and seed always give the same sample; the
output lists each finding with its per-target notes and, with ``--root``, the lines around it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

Finding = dict[str, Any]


def parse_quota(text: str) -> dict[str, int]:
    """``LL1=45,LL2=35`` -> ``{"LL1": 45, "LL2": 35}``."""
    quota: dict[str, int] = {}
    for item in filter(None, text.split(",")):
        family, sep, count = item.partition("=")
        if not sep or not count.strip().isdigit():
            raise SystemExit(f"draw_sample: bad quota item {item!r} (want FAMILY=COUNT)")
        quota[family.strip()] = int(count)
    return quota


def load(directory: Path, suffix: str) -> dict[str, list[Finding]]:
    """Per project (sorted by name), its findings in files ending with ``suffix``, in a stable order."""
    projects: dict[str, list[Finding]] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            findings = json.loads(path.read_text(encoding="utf-8"))["findings"]
        except (OSError, ValueError, KeyError) as exc:
            raise SystemExit(f"draw_sample: {path}: not a `check --format json` output ({exc})") from None
        chosen = [f for f in findings if f["path"].endswith(suffix)]
        projects[path.stem] = sorted(chosen, key=lambda f: (f["path"], f["line"], f["column"], f["rule_id"]))
    return projects


def draw(projects: dict[str, list[Finding]], quota: dict[str, int], seed: int) -> list[tuple[str, Finding]]:
    """``(project, finding)`` pairs: per family, round-robin over projects from seeded shuffles."""
    sample: list[tuple[str, Finding]] = []
    for family, wanted in quota.items():
        pools: dict[str, list[Finding]] = {}
        for name, findings in projects.items():
            pool = [f for f in findings if f["rule_id"].startswith(family)]
            random.Random(f"{seed}:{family}:{name}").shuffle(pool)
            if pool:
                pools[name] = pool
        taken = 0
        while taken < wanted and any(pools.values()):
            for name in sorted(pools):
                if pools[name] and taken < wanted:
                    sample.append((name, pools[name].pop()))
                    taken += 1
    return sample


def _context(root: Path, project: str, finding: Finding, around: int) -> list[str]:
    try:
        lines = (root / project / finding["path"]).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        return [f"    (source not readable: {exc})"]
    first, last = max(1, finding["line"] - around), min(len(lines), finding["end_line"] + 2)
    return [f"    {'>' if n == finding['line'] else ' '}{n:5d} {lines[n - 1]}" for n in range(first, last + 1)]


def render(sample: list[tuple[str, Finding]], root: Path | None, around: int) -> str:
    out = []
    for number, (project, finding) in enumerate(sample, 1):
        statuses = " ".join(f"{t}:{info['status']}" for t, info in finding["targets"].items())
        out.append(f"## {number}. {finding['rule_id']} {project} {finding['path']}:{finding['line']}:{finding['column']}")
        out.append(f"    {finding['message']}")
        out.append(f"    severity={finding['severity']} {statuses}")
        if finding.get("handled"):
            out.append(f"    handled: {finding['handled']}")
        if root is not None:
            out.extend(_context(root, project, finding, around))
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("directory", type=Path, help="folder of <project>.json outputs of `check --format json`")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--quota", type=parse_quota, required=True, help="FAMILY=COUNT,... (LL1=45,LL2=35)")
    parser.add_argument("--suffix", default=".py", help="only findings in files ending with this (default .py)")
    parser.add_argument("--root", type=Path, help="where the projects' sources are, to show each finding's lines")
    parser.add_argument("--context", type=int, default=6, help="lines shown before each finding (default 6)")
    args = parser.parse_args(argv)
    sample = draw(load(args.directory, args.suffix), args.quota, args.seed)
    sys.stdout.write(render(sample, args.root, args.context) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
