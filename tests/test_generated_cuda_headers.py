"""rules/cuda/headers.generated.yaml is exactly what scripts/gen_cuda_headers.py makes from its data."""

from __future__ import annotations

import json

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

from .conftest import REPO, load_script


def test_no_drift() -> None:
    committed = (REPO / "rules" / "cuda" / "headers.generated.yaml").read_text(encoding="utf-8")
    assert load_script(REPO / "scripts" / "gen_cuda_headers.py").generate() == committed, "run: python scripts/gen_cuda_headers.py"


def test_every_musa_mapped_header_is_reported_with_its_musa_name(ruleset: RuleSet) -> None:
    musa = json.loads((REPO / "scripts" / "data" / "musa" / "include.json").read_text(encoding="utf-8"))
    headers = sorted(h for h in musa if h.endswith((".h", ".hpp")) and h != "cooperative_groups.h")
    code = "".join(f"#include <{h}>\n" for h in headers).encode()
    result = check_bytes("headers.cu", code, ruleset)
    reported = {f.symbol: f for f in result.findings}
    assert sorted(reported) == headers
    for header in headers:
        assert reported[header].targets["musa"].replacement == musa[header], header


def test_the_profiler_header_maps_to_where_hip_declares_its_profiler_api(ruleset: RuleSet) -> None:
    """``cudaProfilerStart`` lives in ``cuda_profiler_api.h``; HIP declares ``hipProfilerStart`` in
    ``hip/hip_runtime_api.h`` (what torch's hipify map substitutes), while ``hip/hip_profile.h`` only
    defines empty marker macros (j18C, llm.c ``cuda_common.h:15``)."""
    result = check_bytes("p.cu", b"#include <cuda_profiler_api.h>\n#include <cuda_fp16.h>\n", ruleset)
    found = {f.symbol: f.targets["rocm"] for f in result.findings}
    assert (found["cuda_profiler_api.h"].status, found["cuda_profiler_api.h"].replacement) == \
        ("rename", "hip/hip_runtime_api.h")
    assert found["cuda_fp16.h"].replacement == "hip/hip_fp16.h"  # a near miss that keeps its own header
