#!/usr/bin/env python3
"""Write ``scripts/data/torch/torch-api-history.json``: the first torch release (2.0 on) having each public name.

Why: every replacement lockin-lint suggests names a torch API and a ``min_torch`` gate; a gate below the
release that added the API makes ``--fix`` write code that fails. The gates are read here from the
official wheels instead of remembered.

How: the macOS arm64 wheels of torch 2.0 ... 2.13 (small, and their ``.py`` / ``.pyi`` members are the
same on every platform) are read with ``zipfile``; nothing is imported. ``static_namespace.py`` lists the
module-level names of each namespace in ``ROOTS`` (following submodules to the given depth); ``torch``
itself also gets the public names of ``torch._C`` and ``torch._C._VariableFunctions`` (``torch/__init__.py``
re-exports them in a loop). For each attribute path and name the table stores ``[first, last]``: the
first and last release (of those read) that has it.

    pip download torch==X --no-deps --only-binary=:all: --platform macosx_11_0_arm64 --python-version 3.11 -d DIR
    (2.12 and 2.13 are tagged macosx_14_0_arm64)
    python scripts/gen_torch_history.py DIR
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from static_namespace import Namespaces, Source, walk  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "data" / "torch" / "torch-api-history.json"

#: attribute path -> (module, depth of submodules to follow).
ROOTS: dict[str, tuple[str, int]] = {
    "torch": ("torch", 0),
    "torch.accelerator": ("torch.accelerator", 2),
    "torch.cuda": ("torch.cuda", 2),
    "torch.xpu": ("torch.xpu", 2),
    "torch.mps": ("torch.mps", 2),
    "torch.cpu": ("torch.cpu", 2),
    "torch.mtia": ("torch.mtia", 2),
    "torch.amp": ("torch.amp", 1),
    "torch.backends": ("torch.backends", 2),
    "torch.distributed": ("torch.distributed", 0),
    "torch.utils.cpp_extension": ("torch.utils.cpp_extension", 0),
    "torch.nn": ("torch.nn", 0),
    "torch.nn.functional": ("torch.nn.functional", 0),
    "torch.nn.attention": ("torch.nn.attention", 1),
    "torch.optim": ("torch.optim", 0),
    "torch.profiler": ("torch.profiler", 0),
    "torch.random": ("torch.random", 0),
    "torch.compiler": ("torch.compiler", 0),
}
#: Documented private names worth a row (memory snapshots, jiterator, the CUDA sanitizer).
PRIVATE = ("_record_memory_history", "_snapshot", "_dump_snapshot", "_create_jit_fn",
           "_create_multi_output_jit_fn", "_sanitizer", "_set_allocator_settings", "_foreach_norm", "_foreach_mul_")
#: Environment variables suggested as replacements: read in C++, so looked up as byte strings in the
#: wheel's libraries (torch/lib/*.dylib) and Python sources.
ENV_VARS = ("PYTORCH_ALLOC_CONF", "PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_MPS_HIGH_WATERMARK_RATIO")
EXTRA = {"torch": ["torch._C", "torch._C._VariableFunctions"]}

_VERSION = re.compile(r"^torch-(\d+\.\d+)\.\d+")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def read_wheel(path: Path) -> dict[str, set[str]]:
    with zipfile.ZipFile(path) as wheel:
        members = [n for n in wheel.namelist() if n.startswith("torch/") and n.endswith((".py", ".pyi"))]
        texts = {n: wheel.read(n).decode("utf-8", "replace") for n in members}
        env = {var for var in ENV_VARS if any(var in t for t in texts.values())}
        for lib in (n for n in wheel.namelist() if n.startswith("torch/lib/") and n.endswith(".dylib")):
            if len(env) < len(ENV_VARS):
                data = wheel.read(lib)
                env |= {var for var in ENV_VARS if var.encode() in data}
    source = Source(texts.get, texts)
    spaces = Namespaces(source, PRIVATE, EXTRA)
    found = {path_: set(names) for path_, names in walk(spaces, ROOTS).items()}
    found["<environment>"] = env
    return found


def build(wheels: list[Path]) -> dict[str, object]:
    by_version: dict[str, tuple[Path, dict[str, set[str]]]] = {}
    for wheel in wheels:
        match = _VERSION.match(wheel.name)
        if match:
            by_version[match.group(1)] = (wheel, read_wheel(wheel))
    versions = sorted(by_version, key=version_key)
    table: dict[str, dict[str, list[str]]] = {}
    for version in versions:
        for namespace, names in by_version[version][1].items():
            row = table.setdefault(namespace, {})
            for name in names:
                row.setdefault(name, [version, version])[1] = version
    meta = {
        "what": "first and last torch release (of those read) whose sources define each public name",
        "generator": "scripts/gen_torch_history.py (static read of .py/.pyi members, no import)",
        "versions": versions,
        "wheels": {v: {"file": by_version[v][0].name, "sha256": _sha256(by_version[v][0])} for v in versions},
        "roots": {k: {"module": m, "depth": d} for k, (m, d) in ROOTS.items()},
        "private_names_kept": list(PRIVATE),
        "extra_reexports": EXTRA,
        "environment": ("namespace <environment>: the variables of ENV_VARS found as byte strings in the wheel's "
                        "torch/lib/*.dylib or .py members"),
    }
    namespaces = {ns: dict(sorted(rows.items())) for ns, rows in sorted(table.items())}
    return {"_meta": meta, "namespaces": namespaces}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dumps(data: dict[str, object]) -> str:
    """One name per line, so a regenerated table diffs by name."""
    meta = json.dumps(data["_meta"], indent=1, sort_keys=True)
    lines = ["{", f' "_meta": {meta},', ' "namespaces": {']
    spaces = data["namespaces"]
    assert isinstance(spaces, dict)
    for i, (ns, rows) in enumerate(spaces.items()):
        lines.append(f"  {json.dumps(ns)}: {{")
        items = list(rows.items())
        for j, (name, span) in enumerate(items):
            lines.append(f"   {json.dumps(name)}: {json.dumps(span)}" + ("," if j < len(items) - 1 else ""))
        lines.append("  }" + ("," if i < len(spaces) - 1 else ""))
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    wheels = sorted(Path(argv[1]).glob("torch-*.whl"))
    data = build(wheels)
    OUTPUT.write_text(dumps(data), encoding="utf-8")
    spaces = data["namespaces"]
    assert isinstance(spaces, dict)
    print(f"wrote {OUTPUT}: {sum(len(r) for r in spaces.values())} names in {len(spaces)} namespaces, "
          f"torch {', '.join(data['_meta']['versions'])}")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
