"""The package's layout is a contract (docs/architecture.md): no import cycles, and each stage imports
only the stages before it. These tests read the imports with `ast` (function-level ones included), so
a shortcut across layers fails here instead of surfacing as a tangle later."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lockin_lint"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """Package modules imported by one file, resolved to module names (``from .x import y`` is ``x.y``
    when that is a module, else ``x``); imports under ``if TYPE_CHECKING:`` are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
                   for n in ast.walk(node)}
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in known else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in known}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    return {name: _imports(path, known) - {name} for name, path in files.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


#: What each stage may import from the package (besides itself and the package root's version).
ALLOWED = {
    "lockin_lint.kb": {"lockin_lint.model"},
    "lockin_lint.analyzers": {"lockin_lint.model", "lockin_lint.kb"},
    "lockin_lint.score": {"lockin_lint.model"},
    "lockin_lint.output": {"lockin_lint.model", "lockin_lint.score", "lockin_lint.kb"},  # kb: rule titles, docs
    "lockin_lint.fix": {"lockin_lint.model", "lockin_lint.score"},  # score: the effort a fix saves
    "lockin_lint.project": {"lockin_lint.model", "lockin_lint.kb", "lockin_lint.analyzers", "lockin_lint.engine",
                            "lockin_lint.score"},
}


#: Modules every stage may import, because they import nothing from the package themselves.
FOUNDATION = {"lockin_lint.limits"}


def test_the_foundation_imports_nothing_from_the_package(graph: dict[str, set[str]]) -> None:
    assert {module: graph[module] - {"lockin_lint"} for module in FOUNDATION} == {m: set() for m in FOUNDATION}


def _stage(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_each_stage_imports_only_earlier_stages(graph: dict[str, set[str]], stage: str) -> None:
    allowed = ALLOWED[stage] | {stage, "lockin_lint", *FOUNDATION}
    wrong = sorted(f"{module} -> {target}" for module, targets in graph.items() if _stage(module) == stage
                   for target in targets if _stage(target) not in allowed)
    assert wrong == []


def test_the_engine_uses_no_analyzer_internals(graph: dict[str, set[str]]) -> None:
    """It dispatches through the registry; the protocol's context and byte sniffing are all it needs."""
    public = {"lockin_lint.analyzers", "lockin_lint.analyzers.base", "lockin_lint.analyzers.context",
              "lockin_lint.analyzers.source"}
    used = {t for t in graph["lockin_lint.engine"] if t.startswith("lockin_lint.analyzers")}
    assert used <= public, used - public


def test_every_module_says_why_it_exists() -> None:
    missing = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
               if p.name != "__main__.py" and ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None]
    assert missing == []


def test_the_map_names_every_module() -> None:
    """docs/architecture.md is where a newcomer looks for a module's job; a module it does not name is
    invisible there (four analyzer helpers and the whole fix stage were, until the sixth session)."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    unnamed = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if p.name != "__init__.py" and f"`{p.name}`" not in text)
    assert unnamed == []
