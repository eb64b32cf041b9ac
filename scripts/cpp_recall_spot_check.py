"""Recall spot checks for the C/C++/CUDA analyzer, by a line scan that does not use the analyzer.

A judged sample only measures precision: the findings it draws exist. Whether the analyzer misses
real CUDA code needs a second, independent reader. This one is deliberately crude (regular
expressions over lines) so that it shares no parsing with the analyzer, and it asks two questions of
a ``check --format json`` scan of a repository (made from the repository's root):

* macro bodies: of the ``#define`` lines whose body calls a CUDA library function (``cudaMalloc(``,
  ``cublasSgemm(``, ``ncclAllReduce(``, ``cuMemCreate(``...), how many carry an ``LC`` finding;
* device intrinsics: of the lines that use one of `INTRINSICS`, how many carry one, headers, ``.cu``
  files and host sources (``.cpp``, ``.cc``, ``.c``: only the host-callable conversions belong there)
  apart.

Each unreported line is classed: in a file its path dedicates to a backend (`analyzers.backend_paths`:
``rocm-path``, ``xpu-path``), in a file written in HIP (``hip-source``, `analyzers.hip_sources`), in a
ROCm-only ``#if`` branch or an ``#if 0`` (``rocm-branch``, ``dead-branch``: `analyzers.preprocessor`), or
``other`` (to be read by hand; every unreported line is printed with ``--show``). It also counts the
lines that carry two or more ``LC`` findings. The files are those the analyzer itself would pick up
(`project.discover`, C/C++/CUDA only).

Usage::

    python scripts/cpp_recall_spot_check.py --root /tmp/repos /tmp/s3/scans/*.json [--show]

The repository of a scan is its file name without ``.json``, as in `draw_judged_sample.py`.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
from pathlib import Path

from lockin_lint.analyzers import language_of
from lockin_lint.analyzers.backend_paths import dedicated_target
from lockin_lint.analyzers.hip_sources import written_for_hip
from lockin_lint.analyzers.preprocessor import ROCM_ONLY, line_states, never_compiled
from lockin_lint.project.discover import discover

#: 25 device intrinsics common in kernels (the same names every NVIDIA GPU and HIP offer or rename).
INTRINSICS = (
    "__shfl_sync", "__shfl_xor_sync", "__shfl_down_sync", "__shfl_up_sync", "__syncthreads", "__syncwarp",
    "__ldg", "atomicAdd", "atomicCAS", "atomicMax", "__hfma2", "__hadd2", "__hmul2", "__float2half",
    "__half2float", "__float2bfloat16", "__bfloat162float", "__ballot_sync", "__activemask", "__popc",
    "__clz", "__threadfence", "__expf", "__fdividef", "__any_sync",
)
_INTRINSIC = re.compile(r"\b(" + "|".join(INTRINSICS) + r")\s*\(")
_LIBRARY_CALL = re.compile(r"\b(?:(?:cuda|cublas|cudnn|curand|cufft|cusparse|nccl)[A-Z]\w*|cu[A-Z]\w*)\s*\(")
_DEFINE = re.compile(r"^\s*#\s*define\s+\w+(\([^)]*\))?(.*)$")
_HEADERS = (".h", ".hh", ".hpp", ".hxx", ".cuh", ".inl", ".inc")


def _logical(lines: list[str]) -> list[tuple[int, int, str]]:
    """(first, last, text) per logical line, 1-based, backslash continuations joined."""
    out, index = [], 0
    while index < len(lines):
        first, text = index, lines[index]
        while text.rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
            text = text.rstrip()[:-1] + " " + lines[index]
        out.append((first + 1, index + 1, text))
        index += 1
    return out


def _why_unreported(path: str, data: bytes, line: int) -> str:
    target = dedicated_target(path)
    if target is not None:
        return f"{target}-path"
    if written_for_hip(data):
        return "hip-source"
    states = line_states(data)
    if states is not None and states[line - 1] == ROCM_ONLY:
        return "rocm-branch"
    dead = never_compiled(data)
    if dead is not None and dead[line - 1]:
        return "dead-branch"
    return "other"


def check(repo: Path, scan: Path) -> dict[str, collections.Counter[str]]:
    """Counters per question: ``macro``, ``intrinsic-header``, ``intrinsic-cu`` and ``lines``."""
    reported: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    for finding in json.loads(scan.read_text())["findings"]:
        if finding["rule_id"].startswith("LC"):
            reported[finding["path"]][finding["line"]] += 1
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for lines_seen in reported.values():
        counts["lines"]["with findings"] += len(lines_seen)
        counts["lines"]["with 2 or more"] += sum(1 for n in lines_seen.values() if n >= 2)
    for shown, real in discover(["."], cwd=repo).files:
        if language_of(shown) != "cuda":
            continue
        data = Path(real).read_bytes()
        text = data.decode("utf-8", "replace").split("\n")
        on = reported.get(shown, collections.Counter())
        for first, last, logical in _logical(text):
            define = _DEFINE.match(logical)
            if define and _LIBRARY_CALL.search(define.group(2) or ""):
                hit = any(on[n] for n in range(first, last + 1))
                counts["macro"]["reported" if hit else _why_unreported(shown, data, first)] += 1
                if not hit:
                    counts["macro-missed"][f"{shown}:{first}"] += 1
        kind = "intrinsic-header" if shown.endswith(_HEADERS) else \
            "intrinsic-cu" if shown.endswith((".cu", ".cuh")) else "intrinsic-host-source"
        for number, line in enumerate(text, start=1):
            code = line.split("//", 1)[0]
            if _INTRINSIC.search(code) and not code.lstrip().startswith("#"):
                hit = bool(on[number])
                counts[kind]["reported" if hit else _why_unreported(shown, data, number)] += 1
                if not hit:
                    counts[kind + "-missed"][f"{shown}:{number}"] += 1
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
        summary = {k: dict(v) for k, v in counts.items() if not k.endswith("-missed")}
        print(scan.stem, json.dumps(summary, sort_keys=True))
        for key, counter in counts.items():
            total[key].update(counter)
            if args.show and key.endswith("-missed"):
                for where in sorted(counter):
                    print(f"  {key[:-7]} unreported: {scan.stem}/{where}")
    print("total", json.dumps({k: dict(v) for k, v in total.items() if not k.endswith("-missed")}, sort_keys=True))


if __name__ == "__main__":
    main()
