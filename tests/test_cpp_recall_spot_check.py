"""The C/C++ recall spot check (scripts/cpp_recall_spot_check.py): an unreported CUDA line must show up,
and ROCm code must be told apart from a miss."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import REPO, load_script

RECALL = load_script(REPO / "scripts" / "cpp_recall_spot_check.py")

SOURCE = """\
#define ALLOC(p, n) cudaMalloc(p, n)
__global__ void k(float* x) {
  __syncthreads();
  x[0] = __shfl_xor_sync(0xffffffff, x[0], 1);
#ifdef USE_ROCM
  __syncthreads();
#endif
}
"""


def test_reported_missed_and_rocm_lines_are_counted_apart(tmp_path: Path) -> None:
    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "k.cu").write_text(SOURCE)
    scan = tmp_path / "proj.json"
    finding = {"rule_id": "LC4001", "path": "k.cu", "column": 3, "symbol": "__syncthreads"}
    scan.write_text(json.dumps({"findings": [{**finding, "line": 3}, {**finding, "line": 3, "column": 5},
                                             {**finding, "line": 1, "rule_id": "LC1011"}]}))
    counts = RECALL.check(repo, scan)
    assert counts["macro"] == {"reported": 1}
    assert counts["intrinsic-cu"] == {"reported": 1, "other": 1, "rocm-branch": 1}
    assert set(counts["intrinsic-cu-missed"]) == {"k.cu:4", "k.cu:6"}  # every unreported line, to read
    assert counts["lines"] == {"with findings": 2, "with 2 or more": 1}
