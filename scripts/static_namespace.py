"""Public names of a Python package read from its source text, without importing it.

Shared by ``gen_torch_history.py`` (torch wheels read with ``zipfile``) and ``gen_vendor_names.py``
(vendor plugins read from a git snapshot). A module's names are its module-level bindings: ``def``,
``class``, assignments, ``from X import Y`` (X inside the torch family of packages), star imports (the
source module's ``__all__``, else its public names), ``import X as Y`` of a package module, the entries
of a literal ``__all__`` (also ``+=`` / ``.extend`` / ``.append``), and the package's own submodule
files; the class-level flags of a ``PropModule`` subclass (the object torch.backends modules are
replaced with). Bodies of module-level ``if`` / ``try`` / ``with`` count: what a build may bind, a release has.
Names starting with ``_`` are dropped unless listed in ``private`` (documented private APIs).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Packages whose names a module may re-export (anything else, e.g. typing or os, is not an API).
OWN_PREFIXES: tuple[str, ...] = ("torch",)


@dataclass(frozen=True)
class Binding:
    kind: str  # module | class | function | value
    module: str | None = None  # the module a `module` binding refers to


class Source:
    """A tree of source files addressed by ``/``-separated paths."""

    def __init__(self, read: Callable[[str], str | None], files: Iterable[str]) -> None:
        self._read = read
        self.files = frozenset(files)
        self.dirs: dict[str, set[str]] = {}
        for path in self.files:
            parts = path.split("/")
            for depth in range(1, len(parts)):
                self.dirs.setdefault("/".join(parts[:depth]), set()).add(parts[depth])

    def read(self, path: str) -> str | None:
        return self._read(path) if path in self.files else None

    def module_file(self, module: str) -> str | None:
        base = module.replace(".", "/")
        for candidate in (f"{base}/__init__.py", f"{base}.py", f"{base}/__init__.pyi", f"{base}.pyi"):
            if candidate in self.files:
                return candidate
        return None

    def is_package(self, module: str) -> bool:
        path = self.module_file(module)
        return path is not None and path.rpartition("/")[2].startswith("__init__.")

    def submodules(self, module: str) -> list[str]:
        if not self.is_package(module):
            return []
        found = set()
        for leaf in self.dirs.get(module.replace(".", "/"), ()):
            name = leaf.split(".")[0]
            if leaf.endswith((".py", ".pyi")) and name != "__init__":
                found.add(name)
            elif "." not in leaf and self.module_file(f"{module}.{leaf}"):
                found.add(leaf)
        return sorted(n for n in found if n.isidentifier())


class Namespaces:
    """Module-level names of every module of a `Source` (computed lazily, cached)."""

    def __init__(self, source: Source, private: Iterable[str] = (), extra: dict[str, list[str]] | None = None,
                 aliases: dict[str, str] | None = None) -> None:
        self.source = source
        #: attribute path -> module, for ``setattr(torch.musa, ...)`` (torch.musa is torch_musa)
        self.aliases = aliases or {}
        self.injected: dict[str, set[str]] = {}
        if aliases is not None:
            self._collect_setattrs()
        self.private = frozenset(private)
        #: module -> extra modules whose public names it re-exports dynamically (torch <- torch._C)
        self.extra = extra or {}
        self._cache: dict[str, dict[str, Binding]] = {}
        self._all: dict[str, list[str] | None] = {}
        self._busy: set[str] = set()

    def _collect_setattrs(self) -> None:
        """``setattr(pkg, "Name", ...)`` / ``pkg.__setattr__("Name", ...)`` anywhere in the package adds Name to pkg."""
        for path in sorted(self.source.files):
            text = self.source.read(path)
            try:
                tree = ast.parse(text or "")
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or len(node.args) < 2:
                    continue
                func = node.func
                if isinstance(func, ast.Name) and func.id == "setattr":
                    owner, name = node.args[0], node.args[1]
                elif isinstance(func, ast.Attribute) and func.attr == "__setattr__":
                    owner, name = func.value, node.args[0]
                else:
                    continue
                dotted = _dotted(owner)
                if dotted and isinstance(name, ast.Constant) and isinstance(name.value, str):
                    module = self.aliases.get(dotted, dotted)
                    if self.source.module_file(module) or dotted.startswith("torch."):
                        # also torch's own modules the plugin patches (torch.distributed.is_cncl_available)
                        self.injected.setdefault(module, set()).add(name.value)

    def keep(self, name: str) -> bool:
        return not name.startswith("_") or name in self.private

    def names(self, module: str) -> dict[str, Binding]:
        """Every binding of ``module`` (private ones included: star exports and probes filter later)."""
        if module in self._cache:
            return self._cache[module]
        if module in self._busy:  # import cycle: what is known so far
            return {}
        self._busy.add(module)
        try:
            bindings, dunder_all = self._scan(module)
        finally:
            self._busy.discard(module)
        self._cache[module], self._all[module] = bindings, dunder_all
        return bindings

    def public(self, module: str) -> dict[str, Binding]:
        return {n: b for n, b in self.names(module).items() if self.keep(n)}

    def star(self, module: str) -> dict[str, Binding]:
        names = self.names(module)
        listed = self._all.get(module)
        if listed is not None:
            return {n: names.get(n, Binding("value")) for n in listed}
        return {n: b for n, b in names.items() if not n.startswith("_")}

    # -- one module ----------------------------------------------------------------------------
    def _scan(self, module: str) -> tuple[dict[str, Binding], list[str] | None]:
        path = self.source.module_file(module)
        text = self.source.read(path) if path else None
        if text is None:
            return {}, None
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return {}, None
        package = module if self.source.is_package(module) else module.rpartition(".")[0]
        bindings: dict[str, Binding] = {}
        dunder_all: list[str] | None = None
        for stmt in _module_statements(tree.body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bindings[stmt.name] = Binding("function")
            elif isinstance(stmt, ast.ClassDef):
                bindings[stmt.name] = Binding("class")
                if any(isinstance(b, ast.Name) and b.id == "PropModule" for b in stmt.bases):
                    # torch.backends.<x> = <X>Module(module): the class-level flags become module attributes
                    for item in stmt.body:
                        if isinstance(item, ast.Assign):
                            for name in (n for t in item.targets for n in _target_names(t)):
                                bindings.setdefault(name, Binding("value"))
            elif isinstance(stmt, ast.ImportFrom):
                self._import_from(stmt, package, bindings)
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname and _own(alias.name) and self.source.module_file(alias.name):
                        bindings[alias.asname] = Binding("module", alias.name)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for name in _target_names(target):
                        if name == "__all__":
                            listed = _literal_strings(stmt.value)
                            if isinstance(stmt, ast.AugAssign):
                                dunder_all = (dunder_all or []) + listed
                            elif listed or dunder_all is None:
                                dunder_all = listed
                        else:
                            bindings.setdefault(name, Binding("value"))
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                added = _all_mutation(stmt.value)
                if added is not None:
                    dunder_all = (dunder_all or []) + added
        for extra in self.extra.get(module, ()):
            for name, binding in self.names(extra).items():  # private ones too: public() filters them
                bindings.setdefault(name, binding)
        for name in sorted(self.injected.get(module, ())):
            bindings.setdefault(name, Binding("value"))
        for sub in self.source.submodules(module):
            bindings.setdefault(sub, Binding("module", f"{module}.{sub}"))
        if dunder_all is not None:
            for name in dunder_all:
                bindings.setdefault(name, Binding("value"))
        return bindings, dunder_all

    def _import_from(self, stmt: ast.ImportFrom, package: str, bindings: dict[str, Binding]) -> None:
        if stmt.level:
            parts = package.split(".")
            base_parts = parts[: len(parts) - (stmt.level - 1)] if stmt.level > 1 else parts
            base = ".".join(base_parts + ([stmt.module] if stmt.module else []))
        else:
            base = stmt.module or ""
        if not _own(base):
            return
        for alias in stmt.names:
            if alias.name == "*":
                for name, binding in self.star(base).items():
                    bindings[name] = binding
                continue
            bound = alias.asname or alias.name
            sub = f"{base}.{alias.name}"
            if self.source.module_file(sub):
                bindings[bound] = Binding("module", sub)
            else:  # not self.names(base)[...]: that recursion closes import cycles (torch <-> torch._C)
                bindings[bound] = Binding("value")


def _own(module: str) -> bool:
    return any(module == p or module.startswith(p) for p in OWN_PREFIXES)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _module_statements(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Module-level statements, descending into if/try/with/for blocks (not into functions or classes)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _module_statements(stmt.body)
            yield from _module_statements(stmt.orelse)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            for block in (stmt.body, stmt.orelse, stmt.finalbody):  # type: ignore[attr-defined]
                yield from _module_statements(block)
            for handler in stmt.handlers:  # type: ignore[attr-defined]
                yield from _module_statements(handler.body)
        elif isinstance(stmt, (ast.With, ast.For)):
            yield from _module_statements(stmt.body)


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _target_names(element)]
    return []


def _literal_strings(node: ast.expr | None) -> list[str]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_strings(node.left) + _literal_strings(node.right)
    return []


def _all_mutation(call: ast.Call) -> list[str] | None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "__all__"):
        return None
    if func.attr == "extend" and call.args:
        return _literal_strings(call.args[0])
    if func.attr == "append" and call.args and isinstance(call.args[0], ast.Constant):
        return [str(call.args[0].value)]
    return None


def walk(spaces: Namespaces, roots: dict[str, tuple[str, int]]) -> dict[str, dict[str, Binding]]:
    """Attribute path -> public names, from each root (path -> (module, submodule depth to follow))."""
    out: dict[str, dict[str, Binding]] = {}
    todo = [(path, module, depth) for path, (module, depth) in roots.items()]
    while todo:
        path, module, depth = todo.pop()
        if path in out or spaces.source.module_file(module) is None:
            continue
        names = spaces.public(module)
        out[path] = names
        if depth <= 0:
            continue
        for name, binding in names.items():
            if binding.kind == "module" and binding.module and binding.module.startswith(module.split(".")[0]):
                todo.append((f"{path}.{name}", binding.module, depth - 1))
    return out
