"""Calls into the project's own CUDA extensions, linked to their kernels (the cross-file pass).

The acceptance fixture is ``fixtures/repo`` (its annotations are checked by test_fixtures.py); these
tests hold the links themselves to the kernels the run found, the SARIF/JSON shape, the effort rule
(a kernel counts once, however many calls reach it), and the resolution rules case by case.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import tree_sitter as ts
import tree_sitter_cuda

from lockin_lint.api import check_paths
from lockin_lint.analyzers.cpp_facts import scan_code
from lockin_lint.project.linker import resolve_sources
from lockin_lint.model import RunResult, Settings
from lockin_lint.model import finding_dict
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.score.effort import summarize

from .conftest import FIXTURES
from .test_sarif import sarif, schema_errors

REPO_FIXTURE = FIXTURES / "repo"


@pytest.fixture(scope="module")
def repo_run(ruleset: RuleSet) -> RunResult:
    return check_paths(["."], ruleset, cwd=REPO_FIXTURE)


def project(tmp_path: Path, files: dict[str, str], ruleset: RuleSet, paths: tuple[str, ...] = (".",)) -> RunResult:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return check_paths(list(paths), ruleset, cwd=tmp_path)


def links(run: RunResult) -> dict[tuple[str, int], list[tuple[str, int]]]:
    """(path, line) of each call-site finding -> (path, line) of what it depends on."""
    return {(f.path, f.line): [(d.path, d.line) for d in f.depends_on] for f in run.findings if f.rule_id == "LL710"}


# -- the acceptance fixture --------------------------------------------------------------------------
def test_every_call_points_at_a_kernel_the_run_reported(repo_run: RunResult) -> None:
    kernels = {(f.path, f.line): f.symbol for f in repo_run.findings if f.rule_id == "LC7000"}
    calls = [f for f in repo_run.findings if f.rule_id == "LL710"]
    assert {f.symbol for f in calls} == {"fused_ops._C.fused_add", "torch.ops.fused.scale", "bias_ext.bias_add"}
    for call in calls:
        assert call.depends_on, call
        for place in call.depends_on:
            assert (place.path, place.line) in kernels, (call, place)
            assert place.message == f"kernel `{kernels[(place.path, place.line)].removeprefix('__global__ ')}`"
        first = call.depends_on[0]
        assert f"({first.path}:{first.line})" in call.message


def test_each_op_reaches_its_own_kernel(repo_run: RunResult) -> None:
    by_symbol = {f.symbol: [d.message for d in f.depends_on] for f in repo_run.findings if f.rule_id == "LL710"}
    assert by_symbol == {
        "fused_ops._C.fused_add": ["kernel `fused_add_kernel`"],  # binding -> fused_add -> fused_add_cuda -> launch
        "torch.ops.fused.scale": ["kernel `scale_kernel`"],  # TORCH_LIBRARY_IMPL(fused, CUDA) -> scale_cuda
        "bias_ext.bias_add": ["kernel `bias_add_kernel`"],  # load(sources=[join(here, "..", "csrc", ...)])
    }


def test_notebook_calls_are_linked_with_their_cell(repo_run: RunResult) -> None:
    found = [f for f in repo_run.findings if f.rule_id == "LL710" and f.path.endswith(".ipynb")]
    assert [(f.cell, f.cell_line) for f in found] == [(3, 4), (4, 3)]


def test_suppressed_call_is_kept_as_suppressed(repo_run: RunResult) -> None:
    hidden = [f for f in repo_run.suppressed if f.rule_id == "LL710"]
    assert [(f.path, f.suppression) for f in hidden] == [("fused_ops/__init__.py", "inline")]
    assert hidden[0].depends_on


def test_sarif_related_locations(repo_run: RunResult, ruleset: RuleSet) -> None:
    document = sarif(repo_run, ruleset)
    assert schema_errors(document) == []
    results = [r for r in document["runs"][0]["results"] if r["ruleId"] == "LL710" and "suppressions" not in r]
    assert len(results) == len([f for f in repo_run.findings if f.rule_id == "LL710"])
    kernels = {(f.path, f.line) for f in repo_run.findings if f.rule_id == "LC7000"}
    for result in results:
        assert "[kernel `" in result["message"]["text"] and "](1) (" in result["message"]["text"]
        related = result["relatedLocations"]
        assert related and all(r["message"]["text"].startswith("kernel `") for r in related)
        for r in related:
            place = r["physicalLocation"]
            assert (place["artifactLocation"]["uri"], place["region"]["startLine"]) in kernels


def test_json_lists_dependencies(repo_run: RunResult) -> None:
    call = next(f for f in repo_run.findings if f.rule_id == "LL710")
    data = finding_dict(call)
    assert data["depends_on"] == [{"path": d.path, "line": d.line, "column": d.column, "message": d.message}
                                  for d in call.depends_on]
    other = next(f for f in repo_run.findings if f.rule_id == "LC7000")
    assert "depends_on" not in finding_dict(other)


def test_a_kernel_counts_once_however_many_calls_reach_it(repo_run: RunResult) -> None:
    targets = Settings().targets
    lines = repo_run.lines_scanned
    calls = [f for f in repo_run.findings if f.rule_id == "LL710"]
    others = [f for f in repo_run.findings if f.rule_id != "LL710"]
    more_calls = [replace(f, line=f.line + 1000, fingerprint=f.fingerprint + "x") for f in calls]
    base = summarize(others, targets, lines)
    for findings in (repo_run.findings, repo_run.findings + more_calls):
        effort = {t: s.effort_hours for t, s in summarize(findings, targets, lines).items()}
        assert effort == {t: s.effort_hours for t, s in base.items()}
    assert base["ascend"].effort_hours > 0  # the kernels themselves are costed


def test_the_link_rule_states_the_kernel_rule_targets(ruleset: RuleSet) -> None:
    by_id = {r.id: r for r in ruleset.rules}
    assert by_id["LL710"].default.targets == by_id["LC7000"].default.targets


def test_only_scanned_kernels_are_linked(ruleset: RuleSet) -> None:
    """Without setup.py and csrc/ in the run, `_C` is unknown; the load() module still is, but its
    kernel file is not read, so its calls point at the load() call."""
    run = check_paths(["fused_ops"], ruleset, cwd=REPO_FIXTURE)
    assert not run.errors
    assert sorted({f.symbol for f in run.findings if f.rule_id == "LL710"}) == ["bias_ext.bias_add"]
    assert {(d.path, d.message) for f in run.findings for d in f.depends_on} == {
        ("fused_ops/jit.py", "extension `bias_ext` built here")}


def test_ignoring_the_rule_turns_linking_off(ruleset: RuleSet) -> None:
    run = check_paths(["."], ruleset, Settings(ignore=("LL710",)), cwd=REPO_FIXTURE)
    assert not [f for f in run.findings if f.rule_id == "LL710"]
    assert [f for f in run.findings if f.rule_id == "LC7000"]


# -- C/C++ facts ---------------------------------------------------------------------------------------
def _scan(source: str, path: str = "x.cu"):  # type: ignore[no-untyped-def]
    tree = ts.Parser(ts.Language(tree_sitter_cuda.language())).parse(source.encode())
    return scan_code(path, tree.root_node)


def test_scan_code_bindings_and_calls() -> None:
    facts = _scan("""
namespace ops {
template <typename T> __global__ void k(T* x) { x[0] = 1; }
void launch(float* x) {
  AT_DISPATCH_FLOATING_TYPES(t, "k", ([&] { k<scalar_t><<<1, 1>>>(x); }));
}
}
PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("a", &ops::launch).def("b", [](float* x) { helper(x); });
  m.attr("version") = 1;
}
TORCH_LIBRARY_IMPL(myns, CUDA, m) { m.impl("c", TORCH_FN(ops::launch)); }
TORCH_LIBRARY(myns, m) { m.def("myns::c.out(Tensor x) -> Tensor"); }
""")
    functions = {f.name: f for f in facts.functions}
    assert functions["k"].kernel and not functions["launch"].kernel
    assert "k" in functions["launch"].calls
    bindings = {(b.kind, b.scope, b.op, b.key): b.calls for b in facts.bindings}
    assert bindings == {
        ("pybind", "TORCH_EXTENSION_NAME", "a", ""): frozenset({"launch"}),
        # bare names passed as arguments count as references (a function may be passed): x is noise
        ("pybind", "TORCH_EXTENSION_NAME", "b", ""): frozenset({"helper", "x"}),
        ("impl", "myns", "c", "CUDA"): frozenset({"TORCH_FN", "launch"}),
        ("library", "myns", "c", ""): frozenset(),
    }


def test_resolve_sources() -> None:
    files = ["pkg/csrc/a.cu", "pkg/csrc/b.cpp", "pkg/other/a.cu", "csrc/shared.cu", "vendor/x/a.cu"]
    assert resolve_sources("pkg/setup.py", ("csrc/a.cu",), files) == ["pkg/csrc/a.cu"]
    assert resolve_sources("pkg/setup.py", ("./csrc/b.cpp",), files) == ["pkg/csrc/b.cpp"]
    assert resolve_sources("pkg/setup.py", ("csrc/*.c*",), files) == ["pkg/csrc/a.cu", "pkg/csrc/b.cpp"]
    # a literal left by os.path.join(here, "csrc", "a.cu"): every a.cu below the build file
    assert resolve_sources("pkg/setup.py", ("a.cu",), files) == ["pkg/csrc/a.cu", "pkg/other/a.cu"]
    assert resolve_sources("pkg/setup.py", ("shared.cu",), files) == ["csrc/shared.cu"]  # a sibling directory
    assert resolve_sources("setup.py", ("missing.cu",), files) == []


# -- Python call-site forms ----------------------------------------------------------------------------
KERNEL_CU = """
__global__ void k(float* x) { x[0] = 1; }
void run(float* x) { k<<<1, 1>>>(x); }
"""
BINDINGS_CPP = """void run(float* x);
int meta(int x) { return x + 1; }
PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("run", &run); m.def("meta", &meta); }
"""
SETUP = """from torch.utils.cpp_extension import CUDAExtension
ext = [CUDAExtension(name="pkg._C", sources=["pkg/k.cu", "pkg/bindings.cpp"])]
"""


@pytest.mark.parametrize("code, expected", [
    ("from pkg import _C\n_C.run(x)\n", [2]),
    ("import pkg._C as C\nC.run(x)\n", [2]),
    ("import pkg._C\npkg._C.run(x)\n", [2]),
    ("from pkg._C import run as r\nr(x)\nr2 = r\n", [2, 3]),
    ("from . import _C\n_C.run(x)\n", [2]),
    ("from ._C import run\nrun(x)\n", [2]),
    ("import torch\ntorch._C.run(x)\n", []),  # PyTorch's own _C
    ("from other import _C\n_C.run(x)\n", []),  # another package's _C
    ("from pkg import _C\n_C.meta(x)\n", []),  # bound to plain C++: nothing to port
    ("from pkg import _C\nobj._C.run(x)\n", []),  # an attribute that shares the name
    ("from pkg import _C\n_C.other(x)\n", [2]),  # not bound where the run sees it: the extension's kernels
])
def test_call_site_forms(tmp_path: Path, ruleset: RuleSet, code: str, expected: list[int]) -> None:
    run = project(tmp_path, {"setup.py": SETUP, "pkg/k.cu": KERNEL_CU, "pkg/bindings.cpp": BINDINGS_CPP,
                             "pkg/use.py": code}, ruleset)
    found = links(run)
    assert sorted(line for path, line in found if path == "pkg/use.py") == expected
    for path, line in found:
        assert found[(path, line)] == [("pkg/k.cu", 2)]


def test_sources_named_through_a_module_level_list(tmp_path: Path, ruleset: RuleSet) -> None:
    setup = ("from torch.utils.cpp_extension import CUDAExtension\n"
             "SOURCES = ['pkg/bindings.cpp']\nSOURCES += ['pkg/k.cu']\n"
             "ext = [CUDAExtension('pkg._C', SOURCES)]\n")
    files = {"setup.py": setup, "pkg/k.cu": KERNEL_CU, "pkg/bindings.cpp": BINDINGS_CPP,
             "pkg/use.py": "from pkg import _C\n_C.run(x)\n_C.meta(x)\n"}
    assert links(project(tmp_path, files, ruleset)) == {("pkg/use.py", 2): [("pkg/k.cu", 2)]}


def test_a_loaded_module_imported_from_its_file(tmp_path: Path, ruleset: RuleSet) -> None:
    files = {
        "ops/jit.py": "from torch.utils.cpp_extension import load\n_ext = load('e', sources=['k.cu'])\n"
                      "def f(x):\n    return _ext.run(x)\n",
        "ops/k.cu": KERNEL_CU + 'PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("run", &run); }\n',
        "ops/use.py": "from .jit import _ext\n_ext.run(1)\n",
        "ops/unrelated.py": "from .other import _ext\n_ext.run(1)\n",
    }
    found = links(project(tmp_path, files, ruleset))
    assert sorted(found) == [("ops/jit.py", 4), ("ops/use.py", 2)]


def test_load_inline_points_at_the_build(tmp_path: Path, ruleset: RuleSet) -> None:
    code = ("from torch.utils.cpp_extension import load_inline\n"
            "ext = load_inline('e', cpp_sources='', cuda_sources=SRC, functions=['run'])\n"
            "ext.run(1)\n")
    run = project(tmp_path, {"m.py": code}, ruleset)
    [call] = [f for f in run.findings if f.rule_id == "LL710"]
    assert [(d.path, d.line, d.message) for d in call.depends_on] == [("m.py", 2, "extension `e` built here")]


@pytest.mark.parametrize("registration, expected", [
    ("TORCH_LIBRARY_IMPL(ns, CUDA, m) { m.impl(\"op\", &run); }", [("k.cu", 2)]),
    ("TORCH_LIBRARY_IMPL(ns, CPU, m) { m.impl(\"op\", &cpu_op); }", None),  # plain C++ only
    ("TORCH_LIBRARY_IMPL(ns, CUDA, m) { m.impl(\"op\", &run); }\n"
     "TORCH_LIBRARY_IMPL(ns, CompositeImplicitAutograd, m) { m.impl(\"op\", &cpu_op); }", None),
    ("TORCH_LIBRARY_IMPL(ns, CUDA, m) { m.impl(\"op\", &elsewhere); }", [("reg.cpp", 1)]),  # the registration
])
def test_torch_ops(tmp_path: Path, ruleset: RuleSet, registration: str, expected: list[tuple[str, int]] | None) -> None:
    files = {
        "k.cu": "\n__global__ void k(float* x) { x[0] = 1; }\nvoid run(float* x) { k<<<1, 1>>>(x); }\n",
        "cpu.cpp": "at::Tensor cpu_op(const at::Tensor& x) { return x; }\n",
        "reg.cpp": registration + "\nTORCH_LIBRARY(ns, m) { m.def(\"op(Tensor x) -> Tensor\"); }\n",
        "use.py": "import torch\ntorch.ops.ns.op(x)\ntorch.ops.aten.relu(x)\ntorch.ops.ns.missing(x)\n",
    }
    found = links(project(tmp_path, files, ruleset))
    assert found == ({("use.py", 2): expected} if expected else {})


def test_a_named_pybind_module_built_elsewhere(tmp_path: Path, ruleset: RuleSet) -> None:
    """``PYBIND11_MODULE(fused_cuda, m)`` built by CMake: its literal name is the import name."""
    files = {
        "k.cu": KERNEL_CU + 'PYBIND11_MODULE(fused_cuda, m) { m.def("run", &run); }\n',
        "use.py": "import fused_cuda\nfused_cuda.run(x)\nimport fused\nfused.run(x)\n",
    }
    assert links(project(tmp_path, files, ruleset)) == {("use.py", 2): [("k.cu", 2)]}


def test_kernels_without_bindings_link_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    run = project(tmp_path, {"a.py": "import _C\n_C.run(x)\n", "k.cu": KERNEL_CU}, ruleset)
    assert not links(run)
    assert [f.rule_id for f in run.findings if f.path == "k.cu"]  # kernels reported as always


def test_a_module_loaded_in_a_notebook(tmp_path: Path, ruleset: RuleSet) -> None:
    """``ext = load_inline(...)`` in one cell, ``ext.run`` in a later one: the link and the build place
    are both positions in the .ipynb (the build line is the JSON line of the call)."""
    import json

    cells = [["from torch.utils.cpp_extension import load_inline\n",
              "ext = load_inline('e', cpp_sources='', cuda_sources=SRC, functions=['run'])\n"],
             ["y = ext.run(x)\n"]]
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": source} for source in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(notebook, indent=1)
    run = project(tmp_path, {"nb.ipynb": text}, ruleset)
    [call] = [f for f in run.findings if f.rule_id == "LL710"]
    lines = text.splitlines()
    assert (call.cell, call.cell_line) == (2, 1) and "ext.run" in lines[call.line - 1]
    [build] = call.depends_on
    assert build.path == "nb.ipynb" and "load_inline(" in lines[build.line - 1]
    assert lines[build.line - 1][build.column - 1:].startswith("load_inline(")


def test_a_build_through_an_alias_with_globbed_sources(tmp_path: Path, ruleset: RuleSet) -> None:
    """detectron2's idiom: ``extension = CUDAExtension`` chosen at run time, sources from ``glob`` in
    ``get_extensions()``, the binding dispatching on ``is_cuda()`` to a launcher in another file."""
    setup = '''import glob
import os
from torch.utils.cpp_extension import CUDA_HOME, CppExtension, CUDAExtension


def get_extensions():
    here = os.path.join(os.path.dirname(__file__), "csrc")
    sources = glob.glob(os.path.join(here, "*.cpp"))
    source_cuda = glob.glob(os.path.join(here, "cuda", "*.cu"))
    extension = CppExtension
    if CUDA_HOME is not None:
        extension = CUDAExtension
        sources = sources + source_cuda
    return [extension("mypkg._C", sources)]
'''
    vision = '''at::Tensor nms_cuda(const at::Tensor& dets);
at::Tensor nms_cpu(const at::Tensor& dets);
inline at::Tensor nms(const at::Tensor& dets) { return dets.is_cuda() ? nms_cuda(dets) : nms_cpu(dets); }
PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("nms", &nms); }
'''
    kernel = '''template <typename T>
__global__ void nms_kernel(const T* dets) {}
at::Tensor nms_cuda(const at::Tensor& dets) {
  AT_DISPATCH_FLOATING_TYPES(dets.scalar_type(), "nms", [&] { nms_kernel<scalar_t><<<1, 64>>>(nullptr); });
  return dets;
}
'''
    files = {"setup.py": setup, "csrc/vision.cpp": vision, "csrc/cuda/nms.cu": kernel,
             "csrc/cpu.cpp": "at::Tensor nms_cpu(const at::Tensor& dets) { return dets; }\n",
             "mypkg/ops.py": "from mypkg import _C\n\ndef nms(boxes):\n    return _C.nms(boxes)\n"}
    assert links(project(tmp_path, files, ruleset)) == {("mypkg/ops.py", 4): [("csrc/cuda/nms.cu", 2)]}


def test_a_dispatch_registry_is_followed(tmp_path: Path, ruleset: RuleSet) -> None:
    """mmcv's idiom: the op calls ``nms_impl``, which dispatches through a registry that a
    file-scope ``REGISTER_DEVICE_IMPL(nms_impl, CUDA, nms_cuda)`` fills."""
    files = {
        "setup.py": "from torch.utils.cpp_extension import CUDAExtension\n"
                    "ext = CUDAExtension('pkg._ext', ['csrc/pybind.cpp', 'csrc/nms.cpp', 'csrc/cudabind.cpp',"
                    " 'csrc/nms_cuda.cu'])\n",
        "csrc/pybind.cpp": 'Tensor nms(Tensor b);\nPYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("nms", &nms); }\n',
        "csrc/nms.cpp": "Tensor nms_impl(Tensor b) { return DISPATCH_DEVICE_IMPL(nms_impl, b); }\n"
                        "Tensor nms(Tensor b) { return nms_impl(b); }\n",
        "csrc/cudabind.cpp": "Tensor NMSLauncher(Tensor b);\nTensor nms_cuda(Tensor b) { return NMSLauncher(b); }\n"
                             "Tensor nms_impl(Tensor b);\nREGISTER_DEVICE_IMPL(nms_impl, CUDA, nms_cuda);\n",
        "csrc/nms_cuda.cu": "__global__ void nms_kernel(float* b) {}\n"
                            "Tensor NMSLauncher(Tensor b) { nms_kernel<<<1, 1>>>(nullptr); return b; }\n",
        "pkg/ops.py": "from pkg import _ext\n_ext.nms(b)\n",
    }
    assert links(project(tmp_path, files, ruleset)) == {("pkg/ops.py", 2): [("csrc/nms_cuda.cu", 1)]}


def test_a_process_pool_links_the_same(repo_run: RunResult, ruleset: RuleSet) -> None:
    """Facts travel back from the workers: ``--jobs 2`` gives the same findings as one process."""
    pooled = check_paths(["."], ruleset, Settings(jobs=2), cwd=REPO_FIXTURE)
    assert pooled.findings == repo_run.findings and pooled.suppressed == repo_run.suppressed
    assert any(f.depends_on for f in pooled.findings)


@pytest.mark.parametrize("settings", [Settings(ignore=("LL600", "LL601")), Settings(ignore=("build",)),
                                      Settings(select=("LL710",))], ids=["ignore-ids", "ignore-category", "select"])
def test_links_do_not_need_the_build_rules_selected(repo_run: RunResult, ruleset: RuleSet, settings: Settings) -> None:
    """The builds are seen even when the rules that report them are not selected (their findings are not)."""
    run = check_paths(["."], ruleset, settings, cwd=REPO_FIXTURE)
    assert not {f.rule_id for f in run.findings} & {"LL600", "LL601"}
    assert [f for f in run.findings if f.rule_id == "LL710"] == [f for f in repo_run.findings if f.rule_id == "LL710"]


def test_report_lists_custom_code_with_its_callers(repo_run: RunResult) -> None:
    from lockin_lint.output.report_formats import render_report_text
    from lockin_lint.score.report import build_report

    report = build_report(repo_run, Settings())
    calls = [f for f in repo_run.findings if f.rule_id == "LL710"]
    assert sum(c["calls"] for c in report["custom_code"]) == sum(len(f.depends_on) for f in calls)
    first = report["custom_code"][0]
    assert (first["path"], first["what"], first["ops"]) == ("csrc/fused_add.cu", "kernel `fused_add_kernel`",
                                                           ["fused_ops._C.fused_add"])
    assert first["calls"] == len([f for f in calls if f.symbol == "fused_ops._C.fused_add"])
    assert "Custom CUDA code called from Python" in render_report_text(report)


def test_assigning_a_fallback_to_an_op_is_not_a_use(tmp_path: Path, ruleset: RuleSet) -> None:
    files = {"k.cu": "__global__ void k(float* x) {}\nvoid run(float* x) { k<<<1, 1>>>(x); }\n"
                     'TORCH_LIBRARY(ns, m) { m.def("op", &run); }\n',
             "use.py": "import torch\ntry:\n    pass\nexcept OSError:\n    torch.ops.ns.op = fallback\n"
                       "y = torch.ops.ns.op(x)\n"}
    assert links(project(tmp_path, files, ruleset)) == {("use.py", 6): [("k.cu", 1)]}


def test_a_kernel_launched_through_its_address(tmp_path: Path, ruleset: RuleSet) -> None:
    """causal-conv1d and mamba's idiom: ``auto kernel = &fwd_kernel<Traits>; kernel<<<...>>>(params)``."""
    kernel = ("template <typename T> __global__ void fwd_kernel(T p) {}\n"
              "void fwd_launch(int p) {\n  auto kernel = &fwd_kernel<int>;\n  kernel<<<1, 1>>>(p);\n}\n"
              "void fwd(int p) { int* q = &p; fwd_launch(*q); }\n"
              'PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("fwd", &fwd); }\n')
    files = {"setup.py": "from torch.utils.cpp_extension import CUDAExtension\nx = CUDAExtension('conv_cuda', ['k.cu'])\n",
             "k.cu": kernel, "use.py": "import conv_cuda\nconv_cuda.fwd(1)\n"}
    assert links(project(tmp_path, files, ruleset)) == {("use.py", 2): [("k.cu", 1)]}


def test_register_operators_and_autograd_functions(tmp_path: Path, ruleset: RuleSet) -> None:
    """torch_scatter's idiom: ``torch::RegisterOperators().op("ns::name", &fn)``, ``fn`` returning
    ``Op::apply(...)`` of a ``torch::autograd::Function`` whose ``forward`` reaches the CUDA code."""
    cpp = ("torch::Tensor scatter_cuda(torch::Tensor src);\n"
           "class ScatterSum : public torch::autograd::Function<ScatterSum> {\n public:\n"
           "  static variable_list forward(AutogradContext* ctx, Variable src) { return {scatter_cuda(src)}; }\n};\n"
           "torch::Tensor scatter_sum(torch::Tensor src) { return ScatterSum::apply(src)[0]; }\n"
           "torch::Tensor plain(torch::Tensor src) { return src; }\n"
           'static auto registry = torch::RegisterOperators().op("scatter::scatter_sum", &scatter_sum)'
           '.op("scatter::plain", &plain);\n')
    cu = "__global__ void scatter_kernel(float* x) {}\ntorch::Tensor scatter_cuda(torch::Tensor src) {\n" \
         "  scatter_kernel<<<1, 1>>>(nullptr);\n  return src;\n}\n"
    files = {"csrc/scatter.cpp": cpp, "csrc/cuda/scatter_cuda.cu": cu,
             "use.py": "import torch\ntorch.ops.scatter.scatter_sum(x)\ntorch.ops.scatter.plain(x)\n"}
    assert links(project(tmp_path, files, ruleset)) == {("use.py", 2): [("csrc/cuda/scatter_cuda.cu", 1)]}


def test_a_keyword_name_is_not_a_variable_to_follow(tmp_path: Path, ruleset: RuleSet) -> None:
    """flash-attn's setup.py: ``CUDAExtension(name=..., sources=[...cu...])`` next to a module-level
    ``sources = [...]`` list of another platform's files; the keyword ``sources`` is not that list."""
    setup = ("from torch.utils.cpp_extension import CUDAExtension\n"
             "sources = ['rocm/ck_api.cpp']\n"
             "ext = CUDAExtension(name='ext_cuda', sources=['k.cu'])\n")
    from lockin_lint.api import check_bytes

    [build] = check_bytes("setup.py", setup.encode(), ruleset).facts.builds
    assert build.sources == ("k.cu",)


SETUP_K = "from torch.utils.cpp_extension import CUDAExtension\next = CUDAExtension('ext', ['csrc/api.cpp', 'csrc/k.cu'])\n"
API_CPP = 'void run(int p);\nPYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("run", &run); }\n'


@pytest.mark.parametrize("kernel_cu, extra, expected", [
    # the launcher is in a header the .cu includes, the kernel in a header that one includes
    ('#include "launch.h"\n',
     {"csrc/launch.h": '#include "impl/kernel_impl.h"\nvoid run(int p) { k<<<1, 1>>>(p); }\n',
      "csrc/impl/kernel_impl.h": "__global__ void k(int p) {}\n"},
     [("csrc/impl/kernel_impl.h", 1, "kernel `k`")]),
    # the kernel is defined by a macro: the launch is what can be pointed at
    ('#define DEFINE_KERNEL(name) __global__ void name(int p) {}\nDEFINE_KERNEL(k)\n'
     'void launch(int p) {\n  auto kernel = &k;\n  kernel<<<1, 1>>>(p);\n}\n'
     'void run(int p) {\n  auto go = &launch;\n  go(p);\n}\n',
     {}, [("csrc/k.cu", 3, "kernel launch in `launch`")]),
    # a function of the same name elsewhere in the run is not this extension's code: the op's own
    # code is host code in a .cu file, and that is what it points at
    ('void run(int p) { helper(p); }\n',
     {"tools/other.cu": "__global__ void unrelated(int p) {}\nvoid helper(int p) { unrelated<<<1, 1>>>(p); }\n"},
     [("csrc/k.cu", 1, "CUDA host code `run`")]),
], ids=["included-headers", "macro-kernel", "not-this-extension"])
def test_an_extension_is_its_sources_and_their_includes(tmp_path: Path, ruleset: RuleSet, kernel_cu: str,
                                                        extra: dict[str, str], expected: list) -> None:
    files = {"setup.py": SETUP_K, "csrc/api.cpp": API_CPP, "csrc/k.cu": kernel_cu, "use.py": "import ext\next.run(1)\n",
             **extra}
    run = project(tmp_path, files, ruleset)
    found = [[(d.path, d.line, d.message) for d in f.depends_on] for f in run.findings if f.rule_id == "LL710"]
    assert found == [expected]


def test_builds_of_one_module_are_merged(tmp_path: Path, ruleset: RuleSet) -> None:
    """flash-attn's setup.py builds ``flash_attn_2_cuda`` from CUDA sources or, on ROCm, from generated
    files the run does not have: the module keeps the CUDA build's kernels."""
    setup = SETUP_K + "if ROCM:\n    ext = CUDAExtension('ext', ['build/generated_*.cu'])\n"
    files = {"setup.py": setup, "csrc/api.cpp": API_CPP, "use.py": "import ext\next.run(1)\n",
             "csrc/k.cu": "__global__ void k(int p) {}\nvoid run(int p) { k<<<1, 1>>>(p); }\n"}
    assert links(project(tmp_path, files, ruleset)) == {("use.py", 2): [("csrc/k.cu", 1)]}


@pytest.mark.parametrize("code, expected", [
    ("from pkg import _C\nops = _C\nops.run(x)\n", [3]),
    ("from pkg import _C\nrun = _C.run\nrun(x)\n", [2, 3]),
    ("import pkg._C\nC = pkg._C\nC.run(x)\n", [3]),
], ids=["module", "op", "dotted"])
def test_a_new_name_for_a_module_or_an_op(tmp_path: Path, ruleset: RuleSet, code: str, expected: list[int]) -> None:
    files = {"setup.py": SETUP, "pkg/k.cu": KERNEL_CU, "pkg/bindings.cpp": BINDINGS_CPP, "pkg/use.py": code}
    assert sorted(line for _, line in links(project(tmp_path, files, ruleset))) == expected


def test_a_new_name_for_a_torch_ops_namespace(tmp_path: Path, ruleset: RuleSet) -> None:
    files = {"k.cu": "__global__ void k(float* x) {}\nvoid run(float* x) { k<<<1, 1>>>(x); }\n"
                     'TORCH_LIBRARY(mylib, m) { m.def("op", &run); }\n',
             "use.py": "import torch\nlib = torch.ops.mylib\nlib.op(x)\nlib.other(x)\n"}
    assert links(project(tmp_path, files, ruleset)) == {("use.py", 3): [("k.cu", 1)]}


def test_stable_abi_registrations_with_preprocessor_blocks(tmp_path: Path, ruleset: RuleSet) -> None:
    """vLLM 0.33's bindings: ``STABLE_TORCH_LIBRARY_FRAGMENT(_C, ops)`` for the schemas,
    ``STABLE_TORCH_LIBRARY_IMPL(_C, CUDA, ops)`` with ``TORCH_BOX(&fn)`` inside ``#ifndef USE_ROCM``."""
    bindings = ('void rms_norm(int x);\nvoid cpu_only(int x);\n'
                'STABLE_TORCH_LIBRARY_FRAGMENT(_C, ops) {\n  ops.def("rms_norm(Tensor x) -> ()");\n'
                '  ops.def("cpu_only(Tensor x) -> ()");\n}\n'
                'STABLE_TORCH_LIBRARY_IMPL(_C, CUDA, ops) {\n#ifndef USE_ROCM\n'
                '  ops.impl("rms_norm", TORCH_BOX(&rms_norm));\n#endif\n}\n'
                'STABLE_TORCH_LIBRARY_IMPL(_C, CPU, ops) { ops.impl("cpu_only", TORCH_BOX(&cpu_only)); }\n')
    kernel = "__global__ void rms_norm_kernel(int x) {}\nvoid rms_norm(int x) { rms_norm_kernel<<<1, 1>>>(x); }\n"
    files = {"csrc/torch_bindings.cpp": bindings, "csrc/layernorm_kernels.cu": kernel,
             "layers.py": "import torch\ntorch.ops._C.rms_norm(x)\ntorch.ops._C.cpu_only(x)\n"}
    assert links(project(tmp_path, files, ruleset)) == {("layers.py", 2): [("csrc/layernorm_kernels.cu", 1)]}


def test_relative_imports_resolve_against_their_package(tmp_path: Path, ruleset: RuleSet) -> None:
    """Two projects in one run, each with its own ``_C``: ``from . import _C`` is the sibling one."""
    files: dict[str, str] = {}
    for project_dir, package in (("a", "fused_ops"), ("b", "ops")):
        files[f"{project_dir}/setup.py"] = ("from torch.utils.cpp_extension import CUDAExtension\n"
                                            f"x = CUDAExtension('{package}._C', ['{package}/k.cu'])\n")
        files[f"{project_dir}/{package}/k.cu"] = (f"__global__ void {package}_kernel(int p) {{}}\n"
                                                  f"void run(int p) {{ {package}_kernel<<<1, 1>>>(p); }}\n"
                                                  'PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("run", &run); }\n')
        files[f"{project_dir}/{package}/__init__.py"] = "from . import _C\n_C.run(1)\n"
        files[f"{project_dir}/{package}/sub/deep.py"] = "from .. import _C\n_C.run(1)\n"
    found = links(project(tmp_path, files, ruleset))
    assert found == {
        ("a/fused_ops/__init__.py", 2): [("a/fused_ops/k.cu", 1)], ("a/fused_ops/sub/deep.py", 2): [("a/fused_ops/k.cu", 1)],
        ("b/ops/__init__.py", 2): [("b/ops/k.cu", 1)], ("b/ops/sub/deep.py", 2): [("b/ops/k.cu", 1)],
    }


def test_a_name_defined_in_two_projects_resolves_to_the_closer(tmp_path: Path, ruleset: RuleSet) -> None:
    files = {
        "proj/csrc/bind.cpp": 'void scale_cuda(int x);\nTORCH_LIBRARY(fused, m) { m.def("scale", &scale_cuda); }\n',
        "proj/csrc/cuda/scale.cu": "__global__ void mine(int x) {}\nvoid scale_cuda(int x) { mine<<<1, 1>>>(x); }\n",
        "other/lib/scale.cu": "__global__ void theirs(int x) {}\nvoid scale_cuda(int x) { theirs<<<1, 1>>>(x); }\n",
        "proj/use.py": "import torch\ntorch.ops.fused.scale(1)\n",
    }
    assert links(project(tmp_path, files, ruleset)) == {("proj/use.py", 2): [("proj/csrc/cuda/scale.cu", 1)]}


_PROBED = {"k.cu": "__global__ void k(float* x) {}\nvoid run(float* x) { k<<<1, 1>>>(x); }\n"
                   'TORCH_LIBRARY(ns, m) { m.def("op(Tensor x) -> Tensor", &run); }\n',
           "test_use.py": "import torch\ndef define():\n    try:\n        torch.ops.ns.op.default\n        return\n"
                          "    except AttributeError:\n        pass\n"
                          '    lib = torch.library.Library("ns", "DEF")\n'
                          '    for schema in ("op(Tensor x) -> Tensor",):\n        lib.define(schema)\n'
                          "g.create_node('call_function', torch.ops.ns.op.default, (x,))\n"}


def test_a_probe_of_an_op_the_file_defines_itself_is_no_use(tmp_path: Path, ruleset: RuleSet) -> None:
    """DeepSpeed's test_list_schedule.py: ``try: torch.ops.dc.release_param.default / except
    AttributeError: pass``, then ``Library("dc", "DEF")`` defines the op; the later use in an FX
    graph (judged true) stays."""
    assert links(project(tmp_path, _PROBED, ruleset)) == {("test_use.py", 11): [("k.cu", 1)]}


@pytest.mark.parametrize("change", [
    ('torch.library.Library("ns", "DEF")', 'torch.library.Library("other", "DEF")'),  # another namespace
    ('"op(Tensor x) -> Tensor",)', '"op2(Tensor x) -> Tensor",)'),  # another op of the namespace
    ("    try:\n        torch.ops.ns.op.default\n        return\n    except AttributeError:\n        pass\n",
     "    if not hasattr(torch.ops.ns, 'x'):\n        torch.ops.ns.op.default\n"),  # no try
    ("        torch.ops.ns.op.default\n        return\n", "        y = torch.ops.ns.op(x)\n        return\n"),  # a call
])
def test_a_probe_of_an_op_the_file_does_not_define_stays(tmp_path: Path, ruleset: RuleSet,
                                                         change: tuple[str, str]) -> None:
    files = _PROBED | {"test_use.py": _PROBED["test_use.py"].replace(*change)}
    assert ("test_use.py", 4) in links(project(tmp_path, files, ruleset))


def test_a_schema_compared_with_is_no_definition(tmp_path: Path, ruleset: RuleSet) -> None:
    """FA3's test_flash_attn.py compares the op's schema with ``parse_schema("flash_attn_3::op(...)")``:
    no ``define``, so a probe there would still be the extension's op."""
    files = _PROBED | {"test_use.py": "import torch\ntry:\n    torch.ops.ns.op.default\nexcept AttributeError:\n"
                                      "    pass\nparse_schema('ns::op(Tensor x) -> Tensor')\n"
                                      "torch.library.define('ns::op2(Tensor x) -> Tensor')\n"}
    assert ("test_use.py", 3) in links(project(tmp_path, files, ruleset))
