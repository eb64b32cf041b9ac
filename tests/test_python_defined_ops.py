"""An op whose schema the file itself defines, with no kernel, fails on every target alike
(analyzers/python_defined_ops.py; docs/validation.md, #11, seventh session, f20b): DeepSpeed's
``test_list_schedule.py`` defines the ``dc`` schemas with ``torch.library.Library("dc", "DEF")``
and only builds FX graphs on ``torch.ops.dc.<op>.default``. Every target is handled with one note;
the near misses keep LL710's statuses open."""

from __future__ import annotations

from pathlib import Path

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import TARGETS, Finding

_KERNEL = ("__global__ void k(float* x) {}\nvoid run(float* x) { k<<<1, 1>>>(x); }\n"
           'TORCH_LIBRARY(dc, m) { m.def("release_param", &run); m.def("reduce_grad", &run); }\n'
           'TORCH_LIBRARY(other, m) { m.def("release_param", &run); }\n')

# DeepSpeed's test_list_schedule.py:33-53 and :130-134, rewritten
_TEST = '''import torch

_LIBS = []


def _stub_ops():
    lib = torch.library.Library("dc", "DEF")
    for schema in ("release_param(Tensor(a) a, int n) -> Tensor(a)", "wait(Tensor a) -> Tensor"):
        lib.define(schema)
    _LIBS.append(lib)


def _release(graph, arg):
    return graph.create_node("call_function", torch.ops.dc.release_param.default, (arg, 0))


def _other(graph, arg):
    return graph.create_node("call_function", torch.ops.other.release_param.default, (arg, 0))


def _undefined(graph, arg):
    return graph.create_node("call_function", torch.ops.dc.reduce_grad.default, (arg, 0))
'''
_NOTE = "schema defined in this file (test_sched.py:7)"


def _linked(tmp_path: Path, ruleset: RuleSet, module: str) -> dict[int, Finding]:
    """The LL710 findings of ``module`` checked beside the extension, by line."""
    (tmp_path / "k.cu").write_text(_KERNEL, encoding="utf-8")
    (tmp_path / "test_sched.py").write_text(module, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    return {f.line: f for f in run.findings if f.path == "test_sched.py" and f.rule_id == "LL710"}


def test_an_op_whose_schema_the_file_defines_is_handled_everywhere(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _linked(tmp_path, ruleset, _TEST)
    assert sorted(found) == [14, 18, 22]
    assert dict(found[14].handled) == {t: _NOTE for t in TARGETS}
    # near misses: another namespace, and an op of the namespace the file does not define
    assert found[18].handled == () and found[22].handled == ()


def test_a_literal_schema_counts_too(tmp_path: Path, ruleset: RuleSet) -> None:
    module = _TEST.replace("for schema in (", "lib.define('reduce_grad(Tensor a) -> Tensor')\n    for schema in (")
    found = _linked(tmp_path, ruleset, module)
    assert dict(found[23].handled) == {t: _NOTE for t in TARGETS}


def test_a_kernel_registered_for_the_namespace_keeps_every_op_open(tmp_path: Path, ruleset: RuleSet) -> None:
    module = _TEST.replace("    _LIBS.append(lib)", '    lib.impl("release_param", lambda a, n: a, "CUDA")\n'
                                                    "    _LIBS.append(lib)")
    found = _linked(tmp_path, ruleset, module)
    assert all(f.handled == () for f in found.values())


def test_an_impl_only_library_defines_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _linked(tmp_path, ruleset, _TEST.replace('"DEF"', '"IMPL"'))
    assert all(f.handled == () for f in found.values())
