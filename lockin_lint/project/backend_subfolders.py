"""Classes of a folder whose per-backend subfolders replace them: handled for those backends' targets.

DeepSpeed's ``op_builder/`` holds the CUDA (and ROCm) op builders at its top (``builder.py``,
``fused_adam.py``) and one subfolder per other backend, ``op_builder/npu/``, ``mlu/``, ``xpu/``,
``cpu/``, each defining builders of the same names (``npu/fused_adam.py`` has its own
``FusedAdamBuilder``). The accelerator of each backend imports its subfolder (``op_builder_dir()``
is ``"op_builder.npu"``) and takes the builder classes from there, so a top-level class the
subfolder neither defines again nor imports never runs on that backend: ``CUDAOpBuilder``'s
``TORCH_CUDA_ARCH_LIST`` handling is no lock-in for Ascend, whose builders derive from
``OpBuilder`` only. Other targets (ROCm and MPS run the top-level builders) are untouched.

The reading is strict, each doubt leaving a finding as it was:
- a subfolder counts only when its whole name is a target's (``npu``, ``mlu``, ``xpu``, ``musa``,
  ``mps``, ``cpu``; ``hpu`` is a backend lockin-lint does not judge) and one of its modules defines a
  class of the same name as a class of the top-level module of the same file name; the folder needs
  two such subfolders;
- only findings inside a class defined at the top of a top-level module change (module-level code
  and functions may run everywhere), and only for a target whose subfolder defines a class of that
  name or of a top-level subclass of it (``op_builder/mlu/`` has no ``AsyncIOBuilder``: the MLU
  accelerator answers ``NotImplementedBuilder``, which raises, so the finding stays for MLU);
- a class the subfolder uses stays live for its target: every name the subfolder imports from outside
  itself, or spells without defining a class of that name (``from op_builder.builder import
  OpBuilder``, ``PinMemoryBuilder`` re-exported), with every top-level class those derive from;
- a class stays live for every target when the folder's ``__init__.py`` imports it from its own
  module, or product code outside the folder imports it by module path (DeepSpeed's
  ``from deepspeed.ops.op_builder.dc import DeepCompileBuilder`` keeps ``DeepCompileBuilder`` and its
  bases ``TorchCPUOpBuilder``, ``CUDAOpBuilder`` and ``OpBuilder`` live; tests are not product code).
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from ..analyzers.backend_paths import BACKEND_TOKENS
from ..model import FileResult, Finding, Reader, with_handled

#: Whole subfolder names that are a target's backend (CPU too: a ``cpu/`` of builders is that backend).
_FOLDER_TARGETS: dict[str, str] = {name: target for name, target in BACKEND_TOKENS.items() if target} | {"cpu": "cpu"}
_WORD = re.compile(r"[A-Za-z_]\w*")
#: ``class`` and the name after it, across blanks and line continuations (what the tokenizer skips
#: between the keyword and its name). No ``\b`` before it: ``re`` finds the literal ``class`` fast, and
#: a name after ``subclass`` only makes the set larger.
_CLASS_NAME = re.compile(rb"class(?:[ \t\f]|\\\r?\n|\\\r)+([A-Za-z_][A-Za-z0-9_]*)")


def _parse(data: bytes | None, shown: str) -> ast.Module | None:
    if data is None:
        return None
    try:
        return ast.parse(data, filename=shown)
    except (SyntaxError, ValueError):
        return None


def _class_names_at_most(data: bytes | None, shown: str) -> set[str]:
    """Every name `_classes` would find at the top of the module, perhaps with more (nested classes,
    ``class`` in strings and comments), read from bytes: proving that no subfolder's module shares a
    class name with its top-level namesake must not cost an ``ast.parse`` of each (torch's
    ``_inductor/codegen``, whose ``rocm/`` and ``xpu/`` each have an ``__init__.py``: 60 parses, 1.2 s
    of parent CPU).
    A file this reading could misread is parsed: one not pure ASCII (identifiers may be any letter,
    which the parser normalizes), holding a NUL, or naming a source encoding (``# coding: utf-7``
    spells ``class`` in other bytes)."""
    if data is None:
        return set()
    if not data.isascii() or b"\0" in data or b"coding" in data:
        tree = _parse(data, shown)
        return set(_classes(tree)) if tree is not None else set()
    return {match.group(1).decode("ascii") for match in _CLASS_NAME.finditer(data)}


def _classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def _bases(cls: ast.ClassDef) -> set[str]:
    """The names a class derives from (``CUDAOpBuilder``, ``module.Base`` -> ``Base``)."""
    names = set()
    for base in cls.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


class _Subfolder:
    """A backend subfolder's modules: the classes each defines and the names it takes from outside."""

    def __init__(self, trees: dict[str, ast.Module], texts: list[bytes]) -> None:
        self.defined = {name: set(_classes(tree)) for name, tree in trees.items()}
        own = set().union(*self.defined.values()) if self.defined else set()
        imported: set[str] = set()
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level != 1:
                    imported.update(alias.name for alias in node.names)
        spelled = {word for text in texts for word in _WORD.findall(text.decode("utf-8", "replace"))}
        #: Names whose top-level class this backend may run.
        self.used = imported | (spelled - own)


def _live(used: set[str], bases: dict[str, set[str]]) -> set[str]:
    """The top-level classes a backend runs: those it uses and everything they derive from."""
    live: set[str] = set()
    waiting = [name for name in used if name in bases]
    while waiting:
        name = waiting.pop()
        if name not in live:
            live.add(name)
            waiting.extend(base for base in bases.get(name, ()) if base in bases)
    return live


def _replaced(defined: set[str], bases: dict[str, set[str]]) -> set[str]:
    """The top-level classes a backend subfolder stands in for: those it defines again by name and
    every top-level class those derive from (``npu/fused_adam.py``'s ``FusedAdamBuilder`` stands in for
    ``CUDAOpBuilder`` too). A class outside this set is credited to no one: the MLU accelerator has no
    ``AsyncIOBuilder`` and hands out ``NotImplementedBuilder``, which raises, so nothing handles it."""
    return _live(defined & set(bases), bases)


def _folders(results: list[FileResult]) -> dict[str, dict[str, str]]:
    """Folder -> {subfolder: target} for folders with Python modules and target-named subfolders."""
    tops = {r.path.rpartition("/")[0] for r in results if r.path.endswith(".py") and r.findings}
    found: dict[str, dict[str, str]] = {}
    for result in results:
        folder, _, name = result.path.rpartition("/")
        parent, _, sub = folder.rpartition("/")
        if name.endswith(".py") and parent in tops and sub in _FOLDER_TARGETS and "/" in folder:
            found.setdefault(parent, {})[sub] = _FOLDER_TARGETS[sub]
    return {folder: subs for folder, subs in found.items() if len(subs) >= 2}


def mark_backend_folders(results: list[FileResult], files: dict[str, str], read: Reader) -> list[FileResult]:
    """``results`` with findings in top-level classes that each backend subfolder replaces handled
    for that subfolder's target."""
    marked = {}
    for folder, subs in _folders(results).items():
        marked.update(_mark_folder(folder, subs, results, files, read))
    return [marked.get(result.path, result) for result in results] if marked else results


def _module_trees(paths: list[str], files: dict[str, str], read: Reader,
                  parsed: dict[str, ast.Module | None] | None = None) -> dict[str, ast.Module]:
    """The modules of ``paths`` that parse, by file name (``parsed``: those parsed already, by path)."""
    parsed = {} if parsed is None else parsed
    trees = {}
    for shown in paths:
        if shown not in parsed:
            parsed[shown] = _parse(read(files[shown]), shown) if shown in files else None
        tree = parsed[shown]
        if tree is not None:
            trees[shown.rpartition("/")[2]] = tree
    return trees


def _mark_folder(folder: str, subs: dict[str, str], results: list[FileResult], files: dict[str, str],
                 read: Reader) -> dict[str, FileResult]:
    top_paths = [r.path for r in results if r.path.endswith(".py") and r.path.rpartition("/")[0] == folder]
    top_names = {path.rpartition("/")[2] for path in top_paths}
    sub_paths = {sub: [p for p in files if p.startswith(f"{folder}/{sub}/") and p.endswith(".py")
                       and "/" not in p[len(folder) + len(sub) + 2:]] for sub in subs}
    # A subfolder stands in only through a module named like a top-level one (below): without two such
    # subfolders nothing can change, so nothing is parsed (torch's backend-named folders, 1.3 s).
    subs = {sub: target for sub, target in subs.items()
            if any(p.rpartition("/")[2] in top_names for p in sub_paths[sub])}
    if len(subs) < 2 or len(_sharing_a_class(folder, subs, sub_paths, top_names, files, read)) < 2:
        return {}
    backends = {sub: _Subfolder(_module_trees(sub_paths[sub], files, read),
                                [data for data in (read(files[p]) for p in sub_paths[sub]) if data is not None])
                for sub in sorted(subs)}
    # ...and only when that module defines a class of the same name: the top-level modules named like
    # a subfolder's are parsed first to tell (every package subfolder's __init__.py is named like the
    # folder's: torch's _inductor/codegen/ parsed its 57 large modules for its rocm/ and xpu/, 1 s).
    parsed: dict[str, ast.Module | None] = {}
    named = _module_trees([p for p in top_paths if any(p.rpartition("/")[2] in b.defined for b in backends.values())],
                          files, read, parsed)
    if sum(any(set(_classes(named[name])) & defined for name, defined in backend.defined.items() if name in named)
           for backend in backends.values()) < 2:
        return {}
    tops = _module_trees(top_paths, files, read, parsed)
    top_classes = {name: set(_classes(tree)) for name, tree in tops.items()}
    bases = {cls.name: _bases(cls) for tree in tops.values() for cls in _classes(tree).values()}
    live: dict[str, tuple[str, set[str]]] = {}  # target -> (subfolder, live top-level classes)
    replaced: dict[str, set[str]] = {}  # target -> top-level classes its subfolder stands in for
    for sub, target in sorted(subs.items()):
        backend = backends[sub]
        if any(top_classes.get(name, set()) & defined for name, defined in backend.defined.items()):
            live[target] = (sub, _live(backend.used, bases))
            replaced[target] = _replaced(set().union(*backend.defined.values()), bases)
    if len(live) < 2:
        return {}
    direct = _imported_directly(folder, list(tops), files, read) | _reexported(tops.get("__init__.py"))
    live = {target: (sub, used | _live(direct, bases)) for target, (sub, used) in live.items()}
    marked = {}
    for result in results:
        name = result.path.rpartition("/")[2]
        if result.path.rpartition("/")[0] != folder or name not in tops or not result.findings:
            continue
        spans = [(c.lineno, c.end_lineno or c.lineno, c.name) for c in _classes(tops[name]).values()]
        findings = tuple(_handled(f, spans, live, replaced, folder) for f in result.findings)
        if findings != result.findings:
            marked[result.path] = replace(result, findings=findings)
    return marked


def _sharing_a_class(folder: str, subs: dict[str, str], sub_paths: dict[str, list[str]], top_names: set[str],
                     files: dict[str, str], read: Reader) -> set[str]:
    """The subfolders that may define a class of the same name as the top-level module of the same
    file name (a superset of those `_mark_folder` keeps, from `_class_names_at_most`): with fewer than
    two, nothing changes and no module need be parsed."""
    def names(shown: str) -> set[str]:
        return _class_names_at_most(read(files[shown]), shown) if shown in files else set()

    top_classes: dict[str, set[str]] = {}
    sharing = set()
    for sub in subs:
        for path in sub_paths[sub]:
            name = path.rpartition("/")[2]
            if name not in top_names:
                continue
            if name not in top_classes:
                top_classes[name] = names(f"{folder}/{name}")
            if top_classes[name] and top_classes[name] & names(path):
                sharing.add(sub)
                break
    return sharing


def _imported_directly(folder: str, modules: list[str], files: dict[str, str], read: Reader) -> set[str]:
    """Names product code outside the folder imports from its top-level modules by path (DeepSpeed's
    ``from ..op_builder.pin_memory import PinMemoryBuilder``): those classes run on every backend.
    Tests are left out (they test the CUDA builder itself); a cheap byte search finds the files."""
    base = folder.rpartition("/")[2]
    stems = "|".join(re.escape(m.removesuffix(".py")) for m in modules)
    pattern = re.compile(rb"\b" + re.escape(base.encode()) + rb"\.(?:" + stems.encode()
                         + rb")\s+import\s+\(?([\w\s,]+)")
    names: set[str] = set()
    for shown, path in files.items():
        parts = shown.split("/")
        if (not shown.endswith(".py") or shown.startswith(folder + "/")
                or any(part in ("test", "tests") or part.startswith("test_") for part in parts)):
            continue
        data = read(path)
        if data is not None and base.encode() in data:
            for match in pattern.finditer(data):
                names.update(re.findall(r"\w+", match.group(1).decode("ascii", "replace")))
    return names


def _reexported(init: ast.Module | None) -> set[str]:
    """Names the folder's ``__init__.py`` imports from its own modules (``from .fused_adam import
    FusedAdamBuilder``): ``from op_builder import FusedAdamBuilder`` then gives that class on every
    backend. (DeepSpeed's imports only ``OpBuilder`` so; it routes the builders through the accelerator.)"""
    if init is None:
        return set()
    return {alias.name for node in ast.walk(init) if isinstance(node, ast.ImportFrom) and node.level == 1
            for alias in node.names}


def _handled(finding: Finding, spans: list[tuple[int, int, str]], live: dict[str, tuple[str, set[str]]],
             replaced: dict[str, set[str]], folder: str) -> Finding:
    cls = next((name for first, last, name in spans if first <= finding.line <= last), None)
    if cls is None:
        return finding
    how = {target: f"the project's own {target} modules ({folder}/{sub}/) replace `{cls}` there"
           for target, (sub, used) in live.items()
           if cls not in used and cls in replaced[target] and target in finding.targets and finding.targets[target].status != "native"}
    return with_handled(finding, how) if how else finding


def has_backend_subfolder(results: list[FileResult]) -> bool:
    """A cheap test for the pass: some Python file sits in a target-named subfolder of a subfolder."""
    for result in results:
        parts = result.path.split("/")
        if len(parts) >= 3 and parts[-1].endswith(".py") and parts[-2] in _FOLDER_TARGETS:
            return True
    return False
