#!/usr/bin/env python3
"""Reduce the vendors' operator tables to the name lists ``gen_operator_facts.py`` reads.

Why a separate step: the sources are a torch wheel and two git snapshots (intel/torch-xpu-ops,
MooreThreads/torch_musa) that CI does not have. This script extracts only *names* (operator overloads,
their dispatch keys and structured delegates, registered or fallback op names) into
``scripts/data/operators/`` with the commit each came from; no vendor code is copied. Everything after
this step (``gen_operator_facts.py``) runs from the committed files and is drift-tested.

    python scripts/extract_operator_sources.py \
        --native-functions /work/torchenv/lib/python3.11/site-packages/torchgen/packaged/ATen/native/native_functions.yaml \
        --torch-version 2.13.0 \
        --xpu-git /work/.mirror/intel+torch-xpu-ops/repo \
        --musa-git /work/.mirror/MooreThreads+torch_musa/repo

Reading ``native_functions.yaml``: an entry's ``func`` gives ``name.overload``; ``dispatch`` maps
comma-separated dispatch keys to kernels (kept: the keys); ``structured_delegate`` names the ``.out``
overload whose kernels a functional/in-place variant uses (kept). An entry without ``dispatch`` and
without a delegate is ``CompositeImplicitAutograd`` (torchgen's default); that is written out explicitly.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

SCRIPTS = Path(__file__).resolve().parent
OUT = SCRIPTS / "data" / "operators"

#: torch-xpu-ops kept its own copy of native_functions.yaml (with XPU dispatch keys) until the commit
#: that removed the obsolete yaml/ folder (08c29108, 2026-06-17); this is that commit's parent.
XPU_YAML_COMMIT = "8fbe66e74893454613e531f035415e32e08ea6d8"
XPU_YAML_PATH = "yaml/native/native_functions.yaml"
XPU_FALLBACK_PATH = "src/ATen/native/xpu/XPUFallback.cpp"
MUSA_YAML_PATH = "torch_musa/csrc/aten/ops/musa_functions.yaml"

_FUNC_NAME = re.compile(r"^([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)")
_FALLBACK_LIST = re.compile(r"std::vector<std::string>\s+fallback_list\s*=\s*\{(.*?)\};", re.S)
_QUOTED = re.compile(r'"([A-Za-z0-9_.]+)"')
_MUSA_FUNC = re.compile(r"^- func: *([A-Za-z0-9_.]+)", re.M)
_IMPL = re.compile(r'm\.impl\(\s*"([A-Za-z0-9_.]+)"')

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True,
                          text=True).stdout


def dispatch_table(text: str) -> dict[str, dict[str, Any]]:
    """``{name.overload: {"dispatch": [keys], "delegate": name.overload or None}}`` of a native_functions.yaml."""
    ops: dict[str, dict[str, Any]] = {}
    for entry in yaml.load(text, Loader=_Loader):
        if not isinstance(entry, dict) or "func" not in entry:
            continue
        found = _FUNC_NAME.match(entry["func"])
        if found is None:
            continue
        keys: set[str] = set()
        for spec in (entry.get("dispatch") or {}):
            keys.update(k.strip() for k in str(spec).split(","))
        delegate = entry.get("structured_delegate")
        if not keys and not delegate:
            keys.add("CompositeImplicitAutograd")
        ops[found.group(1)] = {"dispatch": sorted(keys), "delegate": delegate}
    return dict(sorted(ops.items()))


def write(rel: str, data: dict[str, Any]) -> None:
    path = OUT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(SCRIPTS.parent)}")


def extract_torch(path: Path, version: str) -> None:
    ops = dispatch_table(path.read_text(encoding="utf-8"))
    write(f"native_functions-torch-{version}.json", {
        "_meta": {"source": f"torch {version} CPU wheel: torchgen/packaged/ATen/native/native_functions.yaml",
                  "extracted_by": "scripts/extract_operator_sources.py", "entries": len(ops)},
        "ops": ops,
    })


def extract_xpu(git_dir: str) -> None:
    head = git(git_dir, "rev-parse", "HEAD").strip()
    ops = dispatch_table(git(git_dir, "show", f"{XPU_YAML_COMMIT}:{XPU_YAML_PATH}"))
    write("xpu/torch-xpu-ops-native_functions.json", {
        "_meta": {"source": f"github.com/intel/torch-xpu-ops {XPU_YAML_PATH} @ {XPU_YAML_COMMIT} (parent of "
                            "08c29108 'Remove the obsolete folder yaml/', 2026-06-17)",
                  "extracted_by": "scripts/extract_operator_sources.py", "entries": len(ops)},
        "ops": ops,
    })
    source = git(git_dir, "show", f"{head}:{XPU_FALLBACK_PATH}")
    block = _FALLBACK_LIST.search(source)
    if block is None:
        raise SystemExit(f"{XPU_FALLBACK_PATH}: fallback_list not found")
    names = sorted(set(_QUOTED.findall(block.group(1))))
    write("xpu/xpu-fallback-list.json", {
        "_meta": {"source": f"github.com/intel/torch-xpu-ops {XPU_FALLBACK_PATH} @ {head}: the op names of "
                            "`fallback_list`, registered with the CPU fallback kernel for the XPU key (they run "
                            "on the CPU)", "extracted_by": "scripts/extract_operator_sources.py",
                  "entries": len(names)},
        "ops": names,
    })


def extract_musa(git_dir: str) -> None:
    head = git(git_dir, "rev-parse", "HEAD").strip()
    listed = set(_MUSA_FUNC.findall(git(git_dir, "show", f"{head}:{MUSA_YAML_PATH}")))
    impl: set[str] = set()
    files = git(git_dir, "grep", "-l", "TORCH_LIBRARY_IMPL(aten, PrivateUse1", head, "--", "torch_musa/csrc")
    for line in files.splitlines():
        rel = line.split(":", 1)[1]
        impl.update(_IMPL.findall(git(git_dir, "show", f"{head}:{rel}")))
    write("musa/torch_musa-aten-ops.json", {
        "_meta": {"source": f"github.com/MooreThreads/torch_musa @ {head}: `- func:` names of {MUSA_YAML_PATH} "
                            "(the codegen list, read the way tools/ops_scanner/parse_musa_functions.py reads it) and "
                            "`m.impl(\"...\")` names inside TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) blocks of "
                            "torch_musa/csrc", "extracted_by": "scripts/extract_operator_sources.py",
                  "entries": len(listed | impl)},
        "ops": sorted(listed | impl),
    })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--native-functions", type=Path, required=True)
    parser.add_argument("--torch-version", required=True)
    parser.add_argument("--xpu-git", required=True)
    parser.add_argument("--musa-git", required=True)
    args = parser.parse_args()
    extract_torch(args.native_functions, args.torch_version)
    extract_xpu(args.xpu_git)
    extract_musa(args.musa_git)
    return 0


if __name__ == "__main__":
    sys.exit(main())
