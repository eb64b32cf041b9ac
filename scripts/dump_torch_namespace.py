#!/usr/bin/env python3
"""Dump the public namespaces of ``torch.cuda`` & co. from a real torch install into JSON.

Why: the generated rule pack (``gen_python_rules.py``) must list every public ``torch.cuda`` name and
compare it with ``torch.xpu``/``torch.mps``/``torch.cpu``/``torch.accelerator``. Those lists are read from
an installed torch here, once, and committed as data, so neither the product nor its tests ever import
torch. Run it with an interpreter that has torch installed (here: torch 2.13.0 CPU wheel)::

    /tmp/benchvenv/bin/python scripts/dump_torch_namespace.py

Output: ``scripts/data/torch/torch-<version>-namespaces.json`` (sorted keys, deterministic).
Only the standard library and torch are imported.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import sys
import textwrap
import types
import warnings
from pathlib import Path
from typing import Any

#: Namespaces dumped, and whether their public submodules are walked too.
#: torch.cuda and the torch.backends pair are what the rules are about; the rest are the comparison
#: points (per-device modules and the device-agnostic APIs the portable rewrites point at).
ROOTS: tuple[tuple[str, bool], ...] = (
    ("torch.cuda", True),
    ("torch.backends.cuda", True),
    ("torch.backends.cudnn", True),
    ("torch.xpu", True),
    ("torch.mps", True),
    ("torch.cpu", True),
    ("torch.mtia", True),
    ("torch.accelerator", True),
    ("torch.amp", True),
    ("torch", False),
    ("torch.nn.attention", False),
    ("torch.profiler", False),
)

#: Objects whose attributes are used like a namespace but live behind ``__getattr__``; the accepted
#: names are read from the string literals compared against the attribute name in that method.
GETATTR_NAMESPACES: dict[str, tuple[str, str]] = {
    "torch.backends.cuda.matmul": ("torch.backends.cuda", "cuBLASModule"),
}

#: Names that are not in any dumped public namespace (private, or re-exported without ``__all__``)
#: but appear in real code or in vendor support tables. Their existence in this torch is recorded so
#: the generator can refuse an extra symbol that torch does not have.
PROBES: tuple[str, ...] = (
    "torch.backends.cuda.SDPBackend",
    "torch.cuda.OutOfMemoryError",
    "torch.cuda._sanitizer.enable_cuda_sanitizer",
    "torch.cuda.jiterator._create_jit_fn",
    "torch.cuda.jiterator._create_multi_output_jit_fn",
    "torch.cuda.memory._dump_snapshot",
    "torch.cuda.memory._record_memory_history",
    "torch.cuda.memory._snapshot",
)

#: Type-level junk that a module imports for annotations; never part of its API.
_JUNK_TYPE_MODULES = frozenset({"typing", "typing_extensions", "__future__", "types", "_ctypes", "ctypes"})
_JUNK_NAMES = frozenset({"TYPE_CHECKING"})

OUT_DIR = Path(__file__).resolve().parent / "data" / "torch"


def kind_of(obj: Any) -> str:
    """Coarse kind used by the generator to build a test snippet (call vs. attribute read)."""
    if isinstance(obj, types.ModuleType):
        return "module"
    if isinstance(obj, type):
        return "class"
    if callable(obj):
        return "function"
    return "other"


def defined_in(obj: Any) -> str | None:
    """Module an object comes from: lets the generator put re-exports in their submodule's family."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    if isinstance(obj, type) or callable(obj):
        module = getattr(obj, "__module__", None)
        return module if isinstance(module, str) else None
    return None


def _belongs(obj: Any, modname: str) -> bool:
    """Whether a ``dir()`` name is the module's own API rather than something it merely imported."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__.startswith(modname + ".")
    if isinstance(obj, type) or callable(obj):
        origin = defined_in(obj) or ""
        return origin == modname or origin.startswith(modname + ".")
    return type(obj).__module__ not in _JUNK_TYPE_MODULES


def _prop_base(module: types.ModuleType) -> types.ModuleType:
    """torch.backends.* replace themselves by a ``PropModule`` wrapping the real module as ``.m``."""
    inner = getattr(type(module), "__dict__", {}).get("m") or vars(module).get("m")
    return inner if isinstance(inner, types.ModuleType) else module


def _class_props(module: types.ModuleType) -> dict[str, Any]:
    """Flags such as ``cudnn.benchmark`` are class attributes (descriptors) of the PropModule."""
    if type(module) is types.ModuleType:
        return {}
    return {
        name: value
        for name, value in vars(type(module)).items()
        if not name.startswith("_") and name not in vars(types.ModuleType)
    }


def entry(obj: Any) -> dict[str, Any]:
    return {"kind": kind_of(obj), "defined_in": defined_in(obj)}


def public_names(module: types.ModuleType) -> tuple[str, dict[str, dict[str, Any]]]:
    """Public API of one module: ``__all__`` when defined, else a filtered ``dir()``."""
    modname = module.__name__
    exported = getattr(module, "__all__", None)
    names: dict[str, dict[str, Any]] = {}
    if exported is not None:
        for name in exported:
            try:
                names[name] = entry(getattr(module, name))
            except AttributeError:
                names[name] = {"kind": "unresolved", "defined_in": None}
        return "__all__", names
    base = _prop_base(module)
    for name in dir(base):
        if name.startswith("_") or name in _JUNK_NAMES:
            continue
        obj = getattr(base, name)
        if _belongs(obj, modname):
            names[name] = entry(obj)
    for name, value in _class_props(module).items():
        if name in names or (isinstance(value, type) and not _belongs(value, modname)):
            continue  # the module-level object (e.g. a function the class re-wraps) says more
        names[name] = entry(value) if isinstance(value, (type, types.FunctionType)) else {
            "kind": "other",
            "defined_in": None,
        }
    return "dir()", names


def submodules(module: types.ModuleType) -> list[str]:
    """Public submodules found on disk (not only the imported ones), recursively."""
    path = getattr(module, "__path__", None)
    if path is None:
        return []
    found = []
    for info in pkgutil.walk_packages(path, module.__name__ + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        found.append(info.name)
    return sorted(found)


def getattr_namespace(module_name: str, class_name: str) -> dict[str, dict[str, Any]]:
    """Attribute names a ``__getattr__`` accepts: the literals of its ``name == "..."`` tests."""
    cls = getattr(importlib.import_module(module_name), class_name)
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls.__getattr__)))
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "name":
            for comp in node.comparators:
                if isinstance(comp, ast.Constant) and isinstance(comp.value, str):
                    names[comp.value] = {"kind": "other", "defined_in": None}
    return names


def probe(qualified: str) -> str | None:
    """Kind of a dotted name in this torch, or None when it does not exist."""
    parts = qualified.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return kind_of(obj)
    return None


def dump() -> dict[str, Any]:
    import torch  # imported here, not at module level: reading this file must not need torch

    modules: dict[str, Any] = {}
    for root, recurse in ROOTS:
        module = importlib.import_module(root)
        todo = [root] + (submodules(module) if recurse else [])
        for name in todo:
            try:
                mod = importlib.import_module(name)
            except Exception as exc:  # an optional submodule may fail to import on a CPU build
                modules[name] = {"source": f"import failed: {type(exc).__name__}", "names": {}}
                continue
            source, names = public_names(sys.modules.get(name, mod))
            modules[name] = {"source": source, "names": names}
    for name, (owner, cls) in GETATTR_NAMESPACES.items():
        modules[name] = {"source": f"ast:{owner}.{cls}.__getattr__", "names": getattr_namespace(owner, cls)}
    return {
        "_meta": {
            "torch_version": torch.__version__,
            "made_by": "scripts/dump_torch_namespace.py",
            "note": "public names per namespace: __all__ when defined, else dir() minus imports/typing; "
            "kind is module/class/function/other; defined_in is the object's __module__",
        },
        "modules": modules,
        "probes": {name: probe(name) for name in PROBES},
    }


def main() -> int:
    warnings.filterwarnings("ignore")
    data = dump()
    version = data["_meta"]["torch_version"].split("+")[0]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"torch-{version}-namespaces.json"
    out.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = {name: len(mod["names"]) for name, mod in data["modules"].items()}
    print(f"wrote {out} ({len(counts)} namespaces, {sum(counts.values())} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
