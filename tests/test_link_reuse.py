"""The cross-file pass reuses what the per-file checks already learnt, and gives the same links.

Why: on vLLM the pass used to parse 146 C/C++ files a second time and re-check 65 Python files in
full, a quarter of a cold run. These tests hold both savings and, above all, that the result is
exactly what the pass gave when it did all that work again.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lockin_lint.analyzers.cpp_facts import CodeFacts
from lockin_lint.api import engine_for
from lockin_lint.engine import Engine
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import FileResult, Location
from lockin_lint.project import linker
from lockin_lint.analyzers.op_calls import ExtensionLink, LinkTable

from .conftest import FIXTURES

KERNEL_CU = "__global__ void k(float* x) { x[0] = 1; }\nvoid run(float* x) { k<<<1, 1>>>(x); }\n"
BINDINGS_CU = 'void run(float* x);\nPYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("run", &run); }\n'
SETUP = ("from torch.utils.cpp_extension import CUDAExtension\n"
         "ext = [CUDAExtension(name='pkg._C', sources=['pkg/k.cu', 'pkg/bindings.cu'])]\n")
#: Spells the extension (so the pass must look at it) but calls none of its ops.
NO_CALL = "import torch\nfrom pkg import _C  # loaded for its side effects\ntorch.cuda.synchronize()\n"
CALLS = "import torch\nfrom pkg import _C\n_C.run(torch.zeros(1, device='cuda'))\n"


def first_pass(root: Path, ruleset: RuleSet) -> tuple[Engine, list[FileResult], dict[str, str]]:
    engine = engine_for(ruleset)
    files = {p.relative_to(root).as_posix(): str(p) for p in sorted(root.rglob("*")) if p.is_file()}
    return engine, [engine.check(shown, Path(real).read_bytes()) for shown, real in files.items()], files


def read(path: str) -> bytes | None:
    return Path(path).read_bytes()


def without_code(results: list[FileResult]) -> list[FileResult]:
    """The results as the result cache gives them back: no code facts kept from a parse."""
    return [replace(r, facts=replace(r.facts, code=None)) if r.facts is not None else r for r in results]


def test_code_facts_come_from_the_first_parse(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, results, files = first_pass(FIXTURES / "repo", ruleset)
    kept = {r.path for r in results if r.facts is not None and isinstance(r.facts.code, CodeFacts)}
    assert {p for p in files if p.endswith((".cu", ".cuh"))} <= kept
    parsed_again: list[str] = []
    real_code_facts = linker.code_facts

    def code_facts(run: object, path: str, data: bytes) -> CodeFacts:
        parsed_again.append(path)
        return real_code_facts(engine.run, path, data)

    monkeypatch.setattr(linker, "code_facts", code_facts)
    reused = linker.link_extensions(results, files, engine, read)
    assert not set(parsed_again) & kept
    parsed_again.clear()
    assert linker.link_extensions(without_code(results), files, engine, read) == reused
    assert set(parsed_again) >= kept  # without kept facts (a cached result) the pass parses them itself


def test_only_files_that_call_an_op_are_checked_again(tmp_path: Path, ruleset: RuleSet,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name, text in {"setup.py": SETUP, "pkg/k.cu": KERNEL_CU, "pkg/bindings.cu": BINDINGS_CU,
                       "pkg/quiet.py": NO_CALL, "pkg/calls.py": CALLS}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    engine, results, files = first_pass(tmp_path, ruleset)
    rechecked: list[str] = []
    real_check = Engine.check

    def check(self: Engine, path: str, data: bytes, *args: object, **kwargs: object) -> FileResult:
        rechecked.append(path)
        return real_check(self, path, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "check", check)
    linked = {r.path: r for r in linker.link_extensions(results, files, engine, read)}
    assert rechecked == ["pkg/calls.py"]
    assert [f.line for f in linked["pkg/calls.py"].findings if f.rule_id == "LL710"] == [3]
    before = {r.path: r for r in results}
    assert linked["pkg/quiet.py"] is before["pkg/quiet.py"] and before["pkg/quiet.py"].findings
    # checking the quiet file again in full, as the pass used to, gives exactly its first result
    table_run = real_check(engine, "pkg/quiet.py", NO_CALL.encode(), prefilter=False,
                           links=linker.LinkTable(modules={"pkg._C": linker.ExtensionLink("pkg._C", {}, ())}))
    assert table_run == before["pkg/quiet.py"]


def test_kept_code_facts_stay_out_of_the_result_cache(ruleset: RuleSet, tmp_path: Path) -> None:
    """They are large, and a cached result is linked from a fresh parse: the stored entry has none."""
    import pickle

    from lockin_lint.project.result_cache import ResultCache, Stat

    _, results, _ = first_pass(FIXTURES / "repo", ruleset)
    kept = next(r for r in results if r.facts is not None and r.facts.code is not None)
    cache = ResultCache(tmp_path / "run")
    stat: Stat = (1, 1, 1)
    cache.put(kept.path, stat, "hash", kept)
    stored = pickle.loads(cache._new_results[kept.path][1])
    assert stored.facts is not None and stored.facts.code is None
    assert stored == kept  # the code facts do not take part in comparisons
    assert kept.facts.code is not None  # type: ignore[union-attr]  # the run's own result keeps them


@pytest.mark.parametrize("code, expected", [
    ("from pkg import _C\ns = '_C.run(x)'  # _C.run(x)\nmy_C.run(x)\n_C_other.run(x)\n", []),
    ("def f(x):\n    from pkg import _C\n    return _C.run(x) + _C.run(x)\n", [3]),
    ("from pkg import _C as é_C\né_C.run(x)\n_C.run(x)\n", [2]),
    ("from pkg import _C\nif x:\n    y = (_C\n         .run(x))\n", [3]),
])
def test_op_calls_are_found_from_the_names_occurrences(tmp_path: Path, ruleset: RuleSet, code: str,
                                                        expected: list[int]) -> None:
    """`OpCallMatcher` looks at the identifiers spelling an imported name, not at every node: a name
    in a string, a comment or inside a longer identifier is no use of it."""
    from .test_op_links import BINDINGS_CPP, KERNEL_CU, SETUP as PKG_SETUP, links, project

    run = project(tmp_path, {"setup.py": PKG_SETUP, "pkg/k.cu": KERNEL_CU, "pkg/bindings.cpp": BINDINGS_CPP,
                             "pkg/use.py": code}, ruleset)
    assert sorted(line for path, line in links(run) if path == "pkg/use.py") == expected


def test_prepare_compiles_the_c_index_only_for_c_code(ruleset: RuleSet) -> None:
    """`Engine.prepare` runs before the process pool forks, so the workers inherit what it compiles."""
    python_only, mixed = Engine(ruleset), Engine(ruleset)
    python_only.prepare(["a.py", "b/requirements.txt"])
    mixed.prepare(["a.py", "k.cu"])
    assert python_only.run._cuda is None and mixed.run._cuda is not None


def test_pool_workers_use_the_engine_compiled_before_the_fork(ruleset: RuleSet) -> None:
    import os
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    from lockin_lint import api
    from lockin_lint.model import Settings

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("workers inherit the engine only when forked")
    settings = Settings(jobs=2)
    engine = api.engine_for(ruleset, settings)
    engine.prepare(["k.cu"])
    with ProcessPoolExecutor(1, multiprocessing.get_context("fork"), api._init_worker,
                             (ruleset, settings, os.getpid())) as pool:
        assert pool.submit(_worker_cuda_index_id).result() == id(engine.run._cuda)


def _worker_cuda_index_id() -> int:
    from lockin_lint import api

    return id(api._the_worker_engine().run._cuda)


NAMESPACE_ONLY = LinkTable(namespaces={"mylib": {"fused_add": ()}})


@pytest.mark.parametrize("table, source, spelled", [
    (NAMESPACE_ONLY, b"torch.ops.mylib.fused_add(x)\n", True),
    (NAMESPACE_ONLY, b"from torch.ops.mylib import fused_add\n", True),
    (NAMESPACE_ONLY, b"lib = torch.ops.mylib\nlib.fused_add_(x)\nlib.other(x)\n", False),  # a longer name
    (NAMESPACE_ONLY, b"torch.ops.otherlib.fused_add(x)\n", False),  # the op, but not its namespace
    (NAMESPACE_ONLY, b"torch.ops.mylib.load()\n", False),
    (LinkTable(modules={"pkg._C": ExtensionLink("pkg._C", {}, ())}), b"import pkg._C\n", True),  # any attribute
])
def test_spells_an_op(table: LinkTable, source: bytes, spelled: bool) -> None:
    assert table.spells_an_op(source) is spelled


class _CountingParser:
    def __init__(self, parser: object) -> None:
        self.parser, self.parsed = parser, 0

    def parse(self, source: bytes) -> object:
        self.parsed += 1
        return self.parser.parse(source)  # type: ignore[attr-defined]


def test_a_file_that_spells_no_op_is_not_parsed_for_op_calls(ruleset: RuleSet) -> None:
    """The linker's first look at a file `may_reach` lets through (``ops.mylib`` spelled) parses it
    only when it also spells one of the namespace's ops; one that does is still found calling it."""
    from lockin_lint.analyzers.python import calls_extension_ops

    engine = Engine(ruleset)
    counting = _CountingParser(engine.run.python_parser)
    engine.run.python_parser = counting  # type: ignore[assignment]
    quiet = b"import torch\nlib = torch.ops.mylib\nlib.fused_add_(x)\n"
    assert NAMESPACE_ONLY.may_reach("m.py", quiet)
    assert not calls_extension_ops(engine.run, "m.py", quiet, NAMESPACE_ONLY) and counting.parsed == 0
    linked = LinkTable(namespaces={"mylib": {"fused_add": (Location("k.cu", 1, 1, "kernel `k`"),)}})
    assert calls_extension_ops(engine.run, "m.py", b"import torch\ntorch.ops.mylib.fused_add(x)\n", linked)
    assert counting.parsed == 1


@pytest.mark.parametrize("names", [{"launch"}, {"launch", "launch_all"}, {"run_é"}, {"ns::run"}, {"a+"}])
@pytest.mark.parametrize("data", [b"void launch(int);", b"launch_all();", b"xlaunch();", b"\xc3\xa9launch\xc3\xa9",
                                  b"run_\xc3\xa9();", b"ns::run(x);", b"a+b", b"// launch", b""])
def test_spelling_agrees_with_the_word_regex(names: set[str], data: bytes) -> None:
    """`linker._Spelling` (a set of words instead of one compiled alternation) finds exactly what
    ``\\b(?:name|...)\\b`` finds, names that are not plain words included."""
    import re

    regex = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")\b")
    spelling = linker._Spelling(names)
    words = frozenset(data.translate(linker._ASCII_WORD_BYTES).split())
    assert spelling.found(data, words) is (regex.search(data) is not None)


@pytest.mark.parametrize("base, relative, leads", [
    ("torch", False, True), ("torch.ops", False, True), ("torch.ops.mylib.fused_add", False, True),
    ("torch.nn", False, False), ("numpy", False, False), ("pkg", False, False), ("", False, True),
    ("pkg._C", True, False),  # relative imports reach only extension modules, and there are none
])
def test_only_names_that_may_lead_to_an_op_are_followed(base: str, relative: bool, leads: bool) -> None:
    assert NAMESPACE_ONLY.may_lead_here(base, relative) is leads


@pytest.mark.parametrize("base, relative, leads", [
    ("pkg", False, True), ("pkg._C", False, True), ("pkg._C.run", False, True), ("pkg.utils", False, False),
    ("pkgx", False, False), ("torch", False, False), ("anything", True, True),
])
def test_names_that_may_lead_to_a_module(base: str, relative: bool, leads: bool) -> None:
    table = LinkTable(modules={"pkg._C": ExtensionLink("pkg._C", {}, ())})
    assert table.may_lead_here(base, relative) is leads


def test_the_uses_of_other_imported_names_are_not_looked_at(ruleset: RuleSet,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`OpCallMatcher` searches the source for the names that may lead to an op only, and finds the
    same calls as when it looked at every imported name."""
    from lockin_lint.analyzers import op_calls
    from lockin_lint.analyzers.source import decode_python

    engine = Engine(ruleset)
    table = LinkTable(namespaces={"mylib": {"fused_add": (Location("k.cu", 1, 1, "kernel `k`"),)}})
    source = decode_python(b"import torch\nfrom pkg.utils import helper\nimport numpy as np\n"
                           b"lib = torch.ops.mylib\nhelper(np.zeros(1))\nlib.fused_add(x)\n"
                           b"torch.ops.mylib.fused_add(helper(x))\n").data
    searched: list[set[str]] = []
    real = op_calls.OpCallMatcher._identifiers

    def spy(self: op_calls.OpCallMatcher, names: set[str]) -> list[object]:
        searched.append(set(names))
        return real(self, names)  # type: ignore[return-value]

    monkeypatch.setattr(op_calls.OpCallMatcher, "_identifiers", spy)
    tree = engine.run.python_parser.parse(source)
    found = op_calls.OpCallMatcher(table, engine.link_rule, "m.py", source, tree.root_node).run()  # type: ignore[arg-type]
    assert searched == [{"torch", "lib"}]
    monkeypatch.setattr(LinkTable, "may_lead_here", lambda self, base, relative: True)
    every = op_calls.OpCallMatcher(table, engine.link_rule, "m.py", source, tree.root_node).run()  # type: ignore[arg-type]
    assert searched[-1] == {"torch", "lib", "helper", "np"}
    assert [(m.symbol, m.node.start_byte) for m in found] == [(m.symbol, m.node.start_byte) for m in every]
    assert [m.node.start_point.row + 1 for m in found] == [6, 7]


@pytest.mark.parametrize("data", [b"torch.ops.mylib.x", b"import torch\n", b"ops.mylib", b"ops.other.mylib",
                                  b"opsmylib", b""])
def test_may_reach_a_namespace(data: bytes) -> None:
    assert NAMESPACE_ONLY.may_reach("m.py", data) is (b"ops.mylib" in data)
