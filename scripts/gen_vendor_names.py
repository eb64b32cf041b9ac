#!/usr/bin/env python3
"""Write ``scripts/data/vendor/<plugin>-names.json``: the public Python names of torch_musa, torch_npu, torch_mlu.

Why: a ``torch.cuda.X`` call has a one-to-one replacement on a vendor plugin exactly when the plugin's
device module has X (``torch.musa.synchronize``); when the plugin's public API lacks X at the recorded
version, the honest verdict is ``missing``, not ``unknown``. The names are read from the vendor's own
source, not typed.

How: each plugin's git snapshot (a bare git dir, as the ``fetch`` tool gives it) is read at the commit in
``VENDORS`` with ``git ls-tree`` / ``git show``; nothing is imported or built. ``static_namespace.py``
lists the module-level names of the device module (following submodules two levels deep), keyed by the
attribute path users write (``torch.musa`` is the ``torch_musa`` module itself; ``torch.npu`` is
``torch_npu.npu``; ``torch.mlu`` is ``torch_mlu.mlu``). Only the name lists are committed, never code.

    python scripts/gen_vendor_names.py musa=/path/to/torch_musa.git npu=/path/to/pytorch.git mlu=/path/to/torch_mlu.git
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from static_namespace import Binding, Namespaces, Source, walk  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent / "data" / "vendor"

VENDORS: dict[str, dict[str, object]] = {
    "musa": {
        "plugin": "torch_musa",
        "repository": "MooreThreads/torch_musa",
        "ref": "main",
        "commit": "8b583b3f2fd0d9d3d9e74b9ec588a25d8bed1a30",
        "version": "2.7",
        "version_evidence": "torch_musa/__init__.py: TORCH_MIN_VERSION = Version(\"2.7.1\") (main after tag v2.7.1)",
        "roots": {"torch.musa": ["torch_musa", 2]},
        "package": "torch_musa/",
    },
    "ascend": {
        "plugin": "torch_npu",
        "repository": "Ascend/pytorch",
        "ref": "master",
        "commit": "9e73e708ab9350d203475609f36f8a43f6a0c2ab",
        "version": "2.13",
        "version_evidence": "version.txt lists the torch lines 2.13.0, 2.14.0, 2.15.0 (the oldest is recorded)",
        # torch_npu/_init/patches/distributed_patches.py copies torch_npu.distributed's functions
        # (is_hccl_available, ...) onto torch.distributed
        "roots": {"torch_npu.npu": ["torch_npu.npu", 2], "torch.distributed": ["torch_npu.distributed", 0]},
        "package": "torch_npu/",
    },
    "mlu": {
        "plugin": "torch_mlu",
        "repository": "Cambricon/torch_mlu",
        "ref": "r2.4_develop",
        "commit": "9e95f972d3bfda0a855f9500aec852664ceecb6a",
        "version": "2.4",
        "version_evidence": "branch r2.4_develop (PyTorch 2.4), the branch of the API support list already in scripts/data/cambricon",
        "roots": {"torch.mlu": ["torch_mlu.mlu", 2], "torch.backends.mlu": ["torch_mlu.backends.mlu", 1],
                  "torch.backends.cnnl": ["torch_mlu.backends.cnnl", 1],
                  "torch.backends.mlufusion": ["torch_mlu.backends.mlufusion", 1]},
        "package": "torch_mlu/",
    },
}
PRIVATE = ("_record_memory_history", "_snapshot", "_dump_snapshot")


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True,
                          text=True, errors="replace").stdout


def extract(target: str, git_dir: str) -> dict[str, object]:
    spec = VENDORS[target]
    commit = str(spec["commit"])
    files = [f for f in git(git_dir, "ls-tree", "-r", "--name-only", commit).splitlines()
             if f.startswith(str(spec["package"])) and f.endswith((".py", ".pyi"))]

    def read(path: str) -> str | None:
        return git(git_dir, "show", f"{commit}:{path}")

    aliases = {path: module for path, (module, _) in spec["roots"].items()}  # type: ignore[attr-defined]
    spaces = Namespaces(Source(read, files), PRIVATE, aliases=aliases)
    roots = {path: (module, depth) for path, (module, depth) in spec["roots"].items()}  # type: ignore[attr-defined]
    found = walk(spaces, roots)
    for module, names in sorted(spaces.injected.items()):
        if module.startswith("torch.") and spaces.source.module_file(module) is None:  # a torch module patched
            found.setdefault(module, {}).update({n: Binding("value") for n in names if spaces.keep(n)})
    meta = {k: v for k, v in spec.items() if k not in ("package",)}
    meta["how"] = ("git ls-tree/show of the commit; module-level names read with ast by scripts/static_namespace.py "
                   "(def, class, assignments, from-imports of torch* modules, star imports, __all__, submodule files, and "
                   "setattr(module, 'NAME', ...) anywhere in the package); "
                   f"private names kept: {', '.join(PRIVATE)}")
    return {"_meta": meta, "namespaces": {ns: sorted(names) for ns, names in sorted(found.items())}}


def dumps(data: dict[str, object]) -> str:
    meta = json.dumps(data["_meta"], indent=1, sort_keys=True)
    spaces = data["namespaces"]
    assert isinstance(spaces, dict)
    body = ",\n".join(f"  {json.dumps(ns)}: {json.dumps(names)}" for ns, names in spaces.items())
    return "{\n" + f' "_meta": {meta},\n "namespaces": {{\n{body}\n }}\n}}\n'


def main(argv: list[str]) -> int:
    pairs = dict(arg.split("=", 1) for arg in argv[1:])
    if not pairs or set(pairs) - set(VENDORS):
        print(__doc__, file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for target, git_dir in sorted(pairs.items()):
        data = extract(target, git_dir)
        out = OUT_DIR / f"{VENDORS[target]['plugin']}-names.json"
        out.write_text(dumps(data), encoding="utf-8")
        spaces = data["namespaces"]
        assert isinstance(spaces, dict)
        print(f"wrote {out.relative_to(OUT_DIR.parent.parent.parent)}: "
              f"{sum(len(n) for n in spaces.values())} names in {len(spaces)} namespaces")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
