"""Draw a stratified random sample of findings to judge by hand, reproducibly, with what judging needs.

A judged sample is only evidence when it can be redrawn: the same scan outputs and seed give the same
findings. Each finding is printed with the lines around it, the ``#if``/``#ifdef`` lines that enclose it
(a finding in a ROCm-only branch or in a branch with a ROCm alternative reads differently) and whether
its file is dedicated to ROCm by its path, so that the judge reads what the analyzer should have read.

Usage (the scan outputs are ``check --format json`` runs, one per repository, made from the repository's
root so that paths are relative to it)::

    python scripts/draw_judged_sample.py --seed 2027 --per-family 22 --root /tmp/repos \\
        /tmp/scan/vllm.json /tmp/scan/apex.json ... > sample.txt

The repository of a scan is its file name without ``.json`` (``/tmp/scan/vllm.json`` reads
``/tmp/repos/vllm``). Families are the rule's first three characters (``LC1`` ... ``LC7``), and
``LC9000`` on its own.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any

_CONDITIONAL = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)")
_ROCM_PATH = re.compile(r"(^|/)(rocm|hip|amd)(/|_)|_hip\.|hip_|/hip/", re.IGNORECASE)
_CONTEXT = 3


def family(rule: str) -> str:
    """The stratum of a rule: LC9000 alone, otherwise its first three characters."""
    return "LC9000" if rule == "LC9000" else rule[:3]


def enclosing_conditions(lines: list[str], line: int) -> list[str]:
    """The open ``#if`` chains around 1-based ``line``: each as its opening and current branch lines."""
    stack: list[list[str]] = []
    for number, text in enumerate(lines[:line - 1], start=1):
        match = _CONDITIONAL.match(text)
        if match is None:
            continue
        keyword = match.group(1)
        shown = f"{number}: {text.strip()}"
        if keyword.startswith("if"):
            stack.append([shown])
        elif keyword == "endif":
            if stack:
                stack.pop()
        elif stack:
            stack[-1] = [stack[-1][0], shown]
    return [" / ".join(chain) for chain in stack]


def load(paths: list[Path]) -> list[dict[str, Any]]:
    findings = []
    for path in paths:
        for finding in json.loads(path.read_text())["findings"]:
            if finding["rule_id"].startswith("LC"):
                findings.append({**finding, "repo": path.stem})
    findings.sort(key=lambda f: (f["repo"], f["path"], f["line"], f["column"], f["rule_id"], f["symbol"]))
    return findings


def draw(findings: list[dict[str, Any]], seed: int, per_family: int) -> list[dict[str, Any]]:
    """``per_family`` findings of each family (all of a smaller family), in a seed-determined order."""
    chosen = []
    rng = random.Random(seed)
    for name in sorted({family(f["rule_id"]) for f in findings}):
        stratum = [f for f in findings if family(f["rule_id"]) == name]
        chosen += rng.sample(stratum, min(per_family, len(stratum)))
    return chosen


def show(finding: dict[str, Any], root: Path, index: int) -> str:
    source = root / finding["repo"] / finding["path"]
    lines = source.read_text(errors="replace").split("\n")
    line = finding["line"]
    statuses = {t: (v["status"], v.get("replacement")) for t, v in finding["targets"].items()
                if t in ("rocm", "xpu", "cpu")}
    extra = {k: v for k, v in finding.items() if k in ("handled", "symbols", "also", "dispatch")}
    out = [f"#{index} {finding['rule_id']} {finding['repo']}/{finding['path']}:{line} `{finding['symbol']}`",
           f"  message: {finding['message']}",
           f"  targets: {statuses} {extra}",
           f"  rocm-only path: {bool(_ROCM_PATH.search(finding['path']))}"]
    out += [f"  in: {chain}" for chain in enclosing_conditions(lines, line)]
    for number in range(max(1, line - _CONTEXT), min(len(lines), line + _CONTEXT) + 1):
        out.append(f"  {'>' if number == line else ' '}{number:5}| {lines[number - 1]}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scans", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--per-family", type=int, default=22)
    parser.add_argument("--root", type=Path, default=Path("/tmp/repos"))
    args = parser.parse_args()
    sample = draw(load(args.scans), args.seed, args.per_family)
    for index, finding in enumerate(sample, start=1):
        print(show(finding, args.root, index), end="\n\n")


if __name__ == "__main__":
    main()
