"""Sources a DeepSpeed-style op builder refuses to build on ROCm, read from the builders' Python.

DeepSpeed compiles its C++/CUDA ops through builder classes under ``op_builder/`` (no CMake): each
names its sources in ``sources()``/``lib_sources()`` and says in ``is_compatible()`` whether the op can
be built here; the JIT loader and ``setup.py`` both refuse an op that is not. ``GDSBuilder`` begins its
``is_compatible`` with ``if self.is_rocm_pytorch(): return False``: the cuFile op is never built for
ROCm, as a vLLM source its ``CMakeLists.txt`` leaves out of the HIP build. `build_dispatch` gives both
the same ``not built for ROCm`` note.

The reading is deliberately narrow (each doubt keeps a source built), and never runs the builders: a
class refuses ROCm only when the first statement of its ``is_compatible`` (after a docstring) is
``if self.is_rocm_pytorch():`` whose body ends in ``return False``; its sources are the path strings
in its own ``sources``/``lib_sources`` methods that name files of the run; a source the rest of its
file or any other builder file names, or whose refusing class another class derives from, stays built.
"""

from __future__ import annotations

import ast
import posixpath
import re

from ..model import Reader

_FOLDER = "op_builder"
_SOURCE_METHODS = frozenset({"sources", "lib_sources"})
#: A cheap test before parsing: ``def is_compatible(...):`` opening, past a docstring, with the ROCm test.
_OPENING = re.compile(rb'def is_compatible\([^)]*\):[ \t]*(?:#[^\n]*)?\n(?:\s*#[^\n]*\n|\s*(?:"""|\'\'\')'
                      rb'[\s\S]*?(?:"""|\'\'\')[ \t]*\n)*\s*if self\.is_rocm_pytorch\(\):')


def is_op_builder(path: str) -> bool:
    """A Python file in an ``op_builder`` folder (``op_builder/gds.py``, ``op_builder/hpu/x.py``)."""
    return path.endswith(".py") and f"/{_FOLDER}/" in f"/{path}"


def _project_root(path: str) -> str:
    """The folder builders' source paths are relative to: the one holding the outermost ``op_builder``."""
    parts = path.split("/")
    return "/".join(parts[:parts.index(_FOLDER)])


def _refuses_rocm(cls: ast.ClassDef) -> int | None:
    """The line of ``if self.is_rocm_pytorch(): ... return False`` opening the class's ``is_compatible``."""
    method = next((s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "is_compatible"), None)
    if method is None:
        return None
    body = method.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    first = body[0] if body else None
    if not isinstance(first, ast.If) or first.orelse:
        return None
    test = first.test
    if not (isinstance(test, ast.Call) and not test.args and not test.keywords
            and isinstance(test.func, ast.Attribute) and test.func.attr == "is_rocm_pytorch"
            and isinstance(test.func.value, ast.Name) and test.func.value.id == "self"):
        return None
    last = first.body[-1]
    if isinstance(last, ast.Return) and isinstance(last.value, ast.Constant) and last.value.value is False:
        return first.lineno
    return None


def _strings(node: ast.AST, skip: frozenset[ast.AST] = frozenset()) -> set[str]:
    """The string constants under ``node``, none from the subtrees in ``skip``."""
    found: set[str] = set()
    waiting = [node]
    while waiting:
        current = waiting.pop()
        if current in skip:
            continue
        if isinstance(current, ast.Constant) and isinstance(current.value, str):
            found.add(current.value)
        waiting.extend(ast.iter_child_nodes(current))
    return found


def _subclassed(name: str, texts: list[bytes]) -> bool:
    """Some class of these texts derives from ``name`` (``class X(GDSBuilder):``)."""
    pattern = re.compile(rb"class\s+\w+\s*\([^)]*\b" + re.escape(name.encode()) + rb"\b")
    return any(pattern.search(text) for text in texts)


def _claims(tree: ast.Module, shown: str, files: dict[str, str]) -> tuple[dict[str, str], set[str], set[str]]:
    """A builder file's refusing classes: the run's sources they claim (path -> line), their names,
    and the strings the rest of the file holds."""
    root = _project_root(shown)
    claimed: dict[str, str] = {}
    names: set[str] = set()
    methods: set[ast.AST] = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        line = _refuses_rocm(cls)
        if line is None:
            continue
        names.add(cls.name)
        for method in cls.body:
            if isinstance(method, ast.FunctionDef) and method.name in _SOURCE_METHODS:
                methods.add(method)
                for text in _strings(method):
                    path = posixpath.normpath(posixpath.join(root, text))
                    if path in files:
                        claimed.setdefault(path, f"{shown}:{line}")
    rest = {posixpath.normpath(posixpath.join(root, text)) for text in _strings(tree, frozenset(methods))}
    return claimed, names, rest


def left_out_by_builders(files: dict[str, str], read: Reader) -> dict[str, str]:
    """Files of the run only ROCm-refusing op builders name (path -> ``op_builder/gds.py:39``).

    Only builder files where ``_OPENING`` finds a refusal are parsed; the others are searched as bytes
    for the claimed files' names and for classes deriving from a refusing one (a match anywhere, even in a
    comment, keeps the source built)."""
    texts: dict[str, bytes] = {}
    for shown in sorted(path for path in files if is_op_builder(path)):
        data = read(files[shown])
        if data:
            texts[shown] = data
    left: dict[str, str] = {}
    for shown, data in texts.items():
        if not _OPENING.search(data):
            continue
        try:
            tree = ast.parse(data, filename=shown)
        except (SyntaxError, ValueError):
            continue
        claimed, names, rest = _claims(tree, shown, files)
        others = [text for other, text in texts.items() if other != shown]
        if any(_subclassed(name, list(texts.values())) for name in names):
            continue
        for path, ref in claimed.items():
            name = posixpath.basename(path).encode()  # however another builder spells the path
            if path not in rest and not any(name in text for text in others):
                left.setdefault(path, ref)
    return left
