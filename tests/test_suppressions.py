"""Inline and file-level suppressions, and the report of suppressions that hide nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lockin_lint.api import check_bytes
from lockin_lint.ruleset import RuleSet


def test_inline_file_level_and_unused(ruleset: RuleSet) -> None:
    code = (
        "import torch\n"
        "torch.cuda.synchronize()  # lockin: ignore[LL101]\n"
        "x = y.cuda()  # lockin: ignore[LL999]\n"
        "# lockin: ignore\n"
        "z = w.cuda()\n"
    )
    result = check_bytes("t.py", code.encode(), ruleset)
    assert [(f.line, f.rule_id) for f in result.findings] == [(3, "LL120")]
    assert [(f.line, f.suppression) for f in result.suppressed] == [(2, "inline"), (5, "inline")]
    assert [(u.line, u.codes) for u in result.unused_suppressions] == [(3, ("LL999",))]
    whole = check_bytes("t.py", ("# lockin: ignore-file\n" + code).encode(), ruleset)
    assert not whole.findings and {f.suppression for f in whole.suppressed} == {"inline", "file"}


def test_suppressions_in_files_the_prefilter_skips_are_unused(ruleset: RuleSet) -> None:
    result = check_bytes("t.py", b"x = 1  # lockin: ignore[LL101]\n", ruleset)
    assert result.skipped and [(u.line, u.codes) for u in result.unused_suppressions] == [(1, ("LL101",))]


def test_c_and_cuda_suppressions(ruleset: RuleSet) -> None:
    code = b"void f() {\n  cudaMalloc(&p, 4);  // lockin: ignore[LC1011]\n  cudaFree(p);\n}\n"
    result = check_bytes("k.cu", code, ruleset)
    assert [f.symbol for f in result.findings] == ["cudaFree"]
    assert [f.symbol for f in result.suppressed] == ["cudaMalloc"]


def test_cli_reports_unused_suppressions(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("import torch\ntorch.cuda.synchronize()  # lockin: ignore[LL120]\n")
    proc = subprocess.run([sys.executable, "-m", "lockin_lint", "check", "."], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert "warning: t.py:2: unused suppression `lockin: ignore[LL120]`" in proc.stderr
    data = subprocess.run([sys.executable, "-m", "lockin_lint", "check", ".", "--format", "json"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert json.loads(data.stdout)["summary"]["unused_suppressions"] == [{"path": "t.py", "line": 2, "codes": ["LL120"]}]


def test_statistics(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("import torch\ntorch.cuda.synchronize()\ntorch.cuda.synchronize()\nx = y.cuda()\n")
    proc = subprocess.run([sys.executable, "-m", "lockin_lint", "check", ".", "--statistics"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.stdout.splitlines() == ["     2  LL101   torch-cuda-device", "     1  LL120   cuda-method"]
