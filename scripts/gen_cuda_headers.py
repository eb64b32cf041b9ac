"""Generate ``rules/cuda/headers.generated.yaml``: CUDA toolkit headers and what replaces them.

The list of CUDA headers and the MUSA replacements come from torch_musa's porting maps
(``scripts/data/musa/include.json``, ``dnn-header.json``); headers those maps lack and the ROCm
column come from ``scripts/data/curated_cuda_headers.yaml``. Other targets have no header-level
counterpart in the data, so they are ``unknown`` (``missing`` on MPS/CPU, which have no CUDA-like
toolkit). Run ``python scripts/gen_cuda_headers.py``; ``tests/test_generated_cuda_headers.py``
regenerates in memory and fails on drift.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data"
OUTPUT = Path(__file__).resolve().parent.parent / "rules" / "cuda" / "headers.generated.yaml"

DOCS = """\
## What it does
Reports `#include` of CUDA toolkit and CUDA library headers (`cuda_runtime.h`, `cublas_v2.h`,
`cudnn.h`, `nccl.h`, `cub/...`, `thrust/...`, `cutlass/...`, ...).

## Why is this bad?
Each include ties the file to the CUDA toolkit or to an NVIDIA library; the translation unit will
not compile against another vendor's toolkit until the include and every API it brings in are
ported. The rocm column is the header HIPIFY substitutes; the musa column is torch_musa's map.

## Use instead
Run the target's translator (hipify-perl/hipify-clang for ROCm, SYCLomatic for Intel, musify for
MUSA), or keep CUDA includes in one backend-specific file behind a portable interface.
"""


def _load() -> tuple[dict[str, str], dict]:  # type: ignore[type-arg]
    musa = json.loads((DATA / "musa" / "include.json").read_text(encoding="utf-8"))
    musa.update(json.loads((DATA / "musa" / "dnn-header.json").read_text(encoding="utf-8")))
    curated = yaml.safe_load((DATA / "curated_cuda_headers.yaml").read_text(encoding="utf-8"))
    return musa, curated


def _flow(mapping: dict[str, dict[str, str]]) -> str:
    parts = []
    for target, info in mapping.items():
        fields = [f"status: {info['status']}"]
        if info.get("replacement"):
            fields.append(f"replacement: {json.dumps(info['replacement'])}")
        parts.append(f"{target}: {{{', '.join(fields)}}}")
    return "{" + ", ".join(parts) + "}"


def generate() -> str:
    musa, curated = _load()
    excluded = set(curated["exclude"])
    headers = sorted((set(musa) | set(curated["extra_headers"])) - excluded)
    headers = [h for h in headers if h.endswith((".h", ".hpp", "/")) or h in curated["rocm"]]
    default = {"rocm": {"status": "unknown"}, "ascend": {"status": "unknown"}, "mlu": {"status": "unknown"},
               "musa": {"status": "unknown"}, "xpu": {"status": "unknown"}, "mps": {"status": "missing"},
               "cpu": {"status": "missing"}}
    lines = [
        "# GENERATED FILE - DO NOT EDIT. Written by scripts/gen_cuda_headers.py from",
        "#   scripts/data/musa/include.json, scripts/data/musa/dnn-header.json,",
        "#   scripts/data/curated_cuda_headers.yaml (provenance in scripts/data/PROVENANCE.md).",
        f"# {len(headers)} headers; rocm facts: {sum(h in curated['rocm'] for h in headers)}, "
        f"musa facts: {sum(h in musa for h in headers)}.",
        "rules:",
        "  - id: LC6000",
        "    name: cuda-toolkit-headers",
        "    category: library",
        "    languages: [cuda]",
        "    severity: warning",
        "    message: \"`{symbol}` is a CUDA toolkit or NVIDIA library header\"",
        "    match:",
        "      includes:",
        *[f"        - {json.dumps(h)}" for h in headers],
        f"    targets: {_flow(default)}",
        "    symbols:",
    ]
    for header in headers:
        override: dict[str, dict[str, str]] = {}
        if header in curated["rocm"]:
            status, replacement = curated["rocm"][header]
            override["rocm"] = {"status": status, "replacement": replacement}
        if header in musa:
            override["musa"] = {"status": "rename", "replacement": musa[header]}
        if override:
            lines.append(f"      {json.dumps(header)}: {{targets: {_flow(override)}}}")
    lines.append("    docs: |")
    lines += [f"      {line}".rstrip() for line in DOCS.splitlines()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from gen_rule_digests import main as write_rule_digests  # lists the written file as validated

    OUTPUT.write_text(generate(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parents[2])}")
    raise SystemExit(write_rule_digests())
