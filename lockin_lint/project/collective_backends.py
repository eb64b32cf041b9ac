"""Which targets the sibling backends of a collective communication module evidently serve.

DeepSpeed's 1-bit optimizers pick ``runtime/comm/nccl.py``, ``mpi.py``, ``hccl.py`` or
``compressed.py`` by the config string ``comm_backend_name`` (``nccl`` by default), not by the
accelerator. A target without a working sibling has no other way to run that code: ``hccl.py``
serves Ascend (it imports ``torch_npu``), ``compressed.py`` loads ``PackbitsBuilder``, which only
``op_builder/xpu/packbits.py`` defines (the CPU and MPS accelerators hand out
``NotImplementedBuilder`` for it), and ``mpi.py`` is CuPy again. So `backend_modules` credits an NCCL
module's findings only to the targets read here, and the others keep the rule's own statuses, as the
CuPy calls of ``mpi.py`` do.

A sibling is a module beside the NCCL one named in the same shape (``hccl.py``), or defining a
top-level class named in the shape of one of its classes (``CompressedBackend`` beside
``NcclBackend``). It serves a target, and nothing else counts:
- when the word that replaces ``nccl`` names the target (``hccl`` -> ascend, ``xpu`` -> xpu);
- when it imports the target's PyTorch plugin (``torch_npu`` -> ascend);
- when it imports a class the project defines only in folders dedicated to that target
  (``PackbitsBuilder``, defined only in ``op_builder/xpu/``).
The modules are read with `ast` (parsed, never run).
"""

from __future__ import annotations

import ast
import re

from ..analyzers.backend_paths import dedicated_target, name_tokens
from ..model import TARGETS, Reader

#: Other platforms' collective libraries, the word a sibling module is named by (``hccl.py``).
COLLECTIVE_TARGETS: dict[str, str] = {"hccl": "ascend", "xccl": "xpu", "cncl": "mlu", "mccl": "musa", "rccl": "rocm"}
#: The out-of-tree PyTorch packages a module imports only to run on that target.
_PLUGIN_TARGETS: dict[str, str] = {"torch_npu": "ascend", "torch_mlu": "mlu", "torch_musa": "musa",
                                   "intel_extension_for_pytorch": "xpu"}
_NCCL = "nccl"


def _parse(data: bytes | None) -> ast.Module | None:
    try:
        return ast.parse(data) if data is not None else None
    except (SyntaxError, ValueError):
        return None


def _class_shapes(tree: ast.Module) -> set[tuple[str, ...]]:
    """The names of the NCCL module's top-level classes with ``nccl`` blanked (``NcclBackend``:
    ``("*", "backend")``)."""
    shapes = set()
    for node in tree.body:
        words = name_tokens(node.name) if isinstance(node, ast.ClassDef) else []
        if _NCCL in words:
            shapes.add(tuple("*" if word == _NCCL else word for word in words))
    return shapes


def _class_word(tree: ast.Module, shapes: set[tuple[str, ...]]) -> str | None:
    """The word a sibling's class puts where the NCCL class has ``nccl`` (``CompressedBackend``:
    ``compressed``), when one of its top-level classes has such a shape."""
    for node in tree.body:
        words = name_tokens(node.name) if isinstance(node, ast.ClassDef) else []
        for shape in shapes:
            if len(words) == len(shape) and all(s in ("*", w) for s, w in zip(shape, words)):
                return words[shape.index("*")]
    return None


def served_targets(nccl: str, named: dict[str, str], folder_modules: list[str], files: dict[str, str],
                   read: Reader) -> dict[str, str]:
    """Target -> why, for the targets a sibling of the NCCL module ``nccl`` (a display path) serves.

    ``named`` maps the backend word of each sibling named in the module's shape to its file name
    (``{"hccl": "hccl.py"}``); ``folder_modules`` are the display paths of the folder's other modules."""
    folder = nccl.rpartition("/")[0]
    prefix = f"{folder}/" if folder else ""
    own = _parse(read(files[nccl])) if nccl in files else None
    shapes = _class_shapes(own) if own is not None else set()
    siblings = {prefix + module: word for word, module in named.items()}
    trees: dict[str, ast.Module] = {}
    for path in folder_modules:
        tree = _parse(read(files[path])) if path in files and path != nccl else None
        if tree is not None:
            trees[path] = tree
            word = _class_word(tree, shapes) if shapes else None
            if word is not None:
                siblings.setdefault(path, word)
    served: dict[str, str] = {}
    for path, word in sorted(siblings.items()):
        stem = path.rpartition("/")[2].removesuffix(".py")
        target = COLLECTIVE_TARGETS.get(word) or dedicated_target(word)
        if target is not None:
            served.setdefault(target, f"beside {stem}, named for {target}")
        tree = trees.get(path)
        for target, why in (_evidence(tree, files, read).items() if tree is not None else ()):
            served.setdefault(target, f"beside {stem}: {why}")
    return {target: why for target, why in served.items() if target in TARGETS}


def _evidence(tree: ast.Module, files: dict[str, str], read: Reader) -> dict[str, str]:
    """Target -> what in a sibling module says it runs there: a plugin import, or a class it imports
    that the project defines only in one target's folders."""
    found: dict[str, str] = {}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.partition(".")[0]
                if root in _PLUGIN_TARGETS:
                    found.setdefault(_PLUGIN_TARGETS[root], f"imports {root}")
        elif isinstance(node, ast.ImportFrom):
            root = (node.module or "").partition(".")[0]
            if node.level == 0 and root in _PLUGIN_TARGETS:
                found.setdefault(_PLUGIN_TARGETS[root], f"imports {root}")
            names.update(alias.name for alias in node.names if alias.name[:1].isupper())
    for name, where in sorted(_defined_only_for_targets(names, files, read).items()):
        target, path = where
        found.setdefault(target, f"loads {name}, which only {path.rpartition('/')[0]}/ defines")
    return found


def _defined_only_for_targets(names: set[str], files: dict[str, str], read: Reader) -> dict[str, tuple[str, str]]:
    """Name -> (target, defining module) for the classes of ``names`` that the project defines at the
    top of modules dedicated to one target only (a definition anywhere else, or for two targets,
    says nothing)."""
    if not names:
        return {}
    pattern = re.compile(rb"^class[ \t]+(" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")\b",
                         re.MULTILINE)
    where: dict[str, set[tuple[str | None, str]]] = {}
    for shown, path in files.items():
        data = read(path) if shown.endswith(".py") else None
        for match in pattern.finditer(data) if data is not None and b"class" in data else ():
            where.setdefault(match.group(1).decode(), set()).add((dedicated_target(shown), shown))
    found = {}
    for name, places in where.items():
        targets = {target for target, _ in places}
        if len(targets) == 1 and None not in targets:
            target, path = min(places, key=lambda place: place[1])
            if target is not None:
                found[name] = (target, path)
    return found
