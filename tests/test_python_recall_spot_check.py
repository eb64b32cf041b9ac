"""The Python recall spot check (scripts/python_recall_spot_check.py): an unreported CUDA line must
show up, a finding's line range covers its continuation lines, and a ROCm file is told apart."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import REPO, load_script

RECALL = load_script(REPO / "scripts" / "python_recall_spot_check.py")

SOURCE = """\
import torch
x = torch.zeros(
    3, device="cuda")
torch.cuda.synchronize()
# torch.cuda.synchronize() in a comment is no code
y = x.cuda()
"""


def test_reported_missed_and_rocm_lines_are_counted_apart(tmp_path: Path) -> None:
    repo = tmp_path / "proj"
    (repo / "rocm").mkdir(parents=True)
    (repo / "m.py").write_text(SOURCE)
    (repo / "rocm" / "r.py").write_text("import torch\ntorch.cuda.synchronize()\n")
    scan = tmp_path / "proj.json"
    finding = {"rule_id": "LL200", "path": "m.py", "column": 1, "symbol": "cuda"}
    scan.write_text(json.dumps({"findings": [
        {**finding, "line": 2, "end_line": 3},  # the device string's finding spans the call
        {**finding, "rule_id": "LC1001", "line": 4, "end_line": 4},  # not a Python rule
    ]}))
    counts = RECALL.check(repo, scan)
    assert counts['device="cuda"'] == {"reported": 1}
    assert counts["torch.cuda call"] == {"other": 1, "rocm-path": 1}
    assert set(counts["torch.cuda call-missed"]) == {"m.py:4", "rocm/r.py:2"}
    assert counts[".cuda()"] == {"other": 1}
