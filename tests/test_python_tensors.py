"""LL904 reports a tensor method only where the receiver can be a plain torch tensor running torch's
own operator (analyzers/python_tensors.py, project/tensor_methods.py): always on a proven tensor,
on a receiver of unknown type only for a distinctive name (no usual array/quantization library and
no class of the project defines it), never on a known non-torch instance."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lockin_lint.analyzers.python_tensors import LIBRARY_METHODS
from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet

_ROOT = Path(__file__).resolve().parent.parent


def _lines(source: str, ruleset: RuleSet, name: str = "m.py") -> list[int]:
    result = check_bytes(name, source.encode(), ruleset)
    assert not result.errors, result.errors
    return sorted(f.line for f in result.findings if f.rule_id == "LL904")


def test_a_library_shared_name_needs_a_proven_tensor(ruleset: RuleSet) -> None:
    """mslk's ``ScaledTensor.dequantize`` (xformers' FP8 test), pandas' ``to_dense``: on a receiver of
    unknown type the name says nothing about torch; on a proven torch tensor it is torch's operator."""
    source = """\
import torch
from torch import Tensor
from mslk import pack


class Holder:
    def __init__(self, w):
        self.weight = torch.empty(4, device=w.device)

    def run(self):
        return self.weight.dequantize()


def f(x: Tensor, y, p, m, opt: "torch.Tensor | None"):
    packed = pack(y)
    a = packed.dequantize()
    b = y.to_dense()
    c = x.dequantize()
    d = p.grad.to_dense()
    e = (x * 2)[0].to(y.device).to_dense()
    g = torch.softmax(x, dim=-1).to_dense()
    h = opt.to_dense()
    k = m.data.to_dense()
    return a, b, c, d, e, g, h, k
"""
    assert _lines(source, ruleset) == [11, 18, 19, 20, 21, 22]


def test_a_tensor_proof_needs_every_binding(ruleset: RuleSet) -> None:
    source = """\
import torch


def f(x: torch.Tensor, y, items):
    z = torch.zeros(2, device=y.device)
    z = y if items else z
    for x in items:
        pass
    return z.to_dense(), x.to_dense()
"""
    assert _lines(source, ruleset) == []  # z also holds a parameter; x is rebound by the loop
    chain = """\
import torch


def f(y, d):
    z = torch.zeros(2, device=d)
    z = z.to(torch.float16)
    y = y.to(d)
    return z.to_dense(), y.to_dense()
"""
    assert _lines(chain, ruleset) == [8]  # z stays a tensor; y was a parameter of unknown type


def test_a_distinctive_name_is_reported_on_an_unknown_receiver(ruleset: RuleSet) -> None:
    source = "def f(buf, stream):\n    buf.record_stream(stream)\n    return buf.sparse_mask(stream)\n"
    assert _lines(source, ruleset) == [2, 3]


def test_a_class_of_the_file_defining_the_name_makes_it_the_projects(ruleset: RuleSet) -> None:
    """DeepSpeed's ``SparseTensor.to_dense`` read on a receiver of unknown type; a proven tensor keeps it."""
    source = """\
import torch


class Sparse:
    @staticmethod
    def sparse_mask(mask):
        return mask


def f(t, g: torch.Tensor, m):
    return t.sparse_mask(m), g.sparse_mask(m)
"""
    assert _lines(source, ruleset) == [11]
    assert _lines(source.replace("class Sparse:", "def outer():"), ruleset) == [11, 11]  # no class: no method
    assert _lines(source.replace("    @staticmethod\n", ""), ruleset) == [10]


def test_a_torch_function_of_a_foreign_instance_is_one_too(ruleset: RuleSet) -> None:
    """xformers' ``torch.softmax(a_sparse, dim=-1).to_dense()`` with ``a_sparse`` a
    ``BlockSparseTensor``: the subclass's ``__torch_function__`` makes the result."""
    source = """\
import torch


def test(values, layout):
    a_sparse = BlockSparseTensor(values, layout)
    res_sparse = torch.softmax(a_sparse, dim=-1)
    res = torch.relu(res_sparse)
    other = torch.softmax(values, dim=-1)
    return res_sparse.sparse_mask(values), res.sparse_mask(values), other.sparse_mask(values)
"""
    assert _lines(source, ruleset) == [9]
    assert _lines(source.replace("res = torch.relu(res_sparse)", "res = torch.relu(torch.relu(res_sparse))"),
                  ruleset) == [9, 9]  # a nested call is not followed: a possible tensor


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


_USE = "def f(t, m):\n    return t.sparse_mask(m)\n"
_CLASS = "class Sparse:\n    def sparse_mask(self, m):\n        return m\n"


def _project(root: Path, ruleset: RuleSet, paths: list[str] | None = None, cache: bool = False) -> list[str]:
    run = check_paths(paths or ["."], ruleset, cwd=root, use_cache=cache)
    return sorted(f.path for f in run.findings if f.rule_id == "LL904")


def test_a_class_elsewhere_in_the_project_makes_the_name_the_projects(
        tmp_path: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-project pass: a product class drops the findings everywhere, a test class (a mock
    tensor) in test files only; a one-file run sees only its own file's classes."""
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    _write(tmp_path, {"pkg/use.py": _USE, "tests/test_use.py": _USE, "pkg/sparse.py": _CLASS})
    assert _project(tmp_path, ruleset) == []
    assert _project(tmp_path, ruleset, ["pkg/use.py"]) == ["pkg/use.py"]
    (tmp_path / "pkg/sparse.py").unlink()
    _write(tmp_path, {"tests/mock.py": _CLASS})
    assert _project(tmp_path, ruleset) == ["pkg/use.py"]


def test_the_cached_run_follows_the_defining_file(tmp_path: Path, ruleset: RuleSet,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    _write(tmp_path, {"pkg/use.py": _USE, "pkg/sparse.py": _CLASS})
    assert _project(tmp_path, ruleset, cache=True) == []
    assert _project(tmp_path, ruleset, cache=True) == []  # replayed from the cache
    _write(tmp_path, {"pkg/sparse.py": "class Sparse:\n    pass\n"})
    assert _project(tmp_path, ruleset, cache=True) == ["pkg/use.py"]
    _write(tmp_path, {"pkg/sparse.py": _CLASS})
    assert _project(tmp_path, ruleset, cache=True) == []


def test_the_library_names_are_the_measured_ones() -> None:
    curated = yaml.safe_load((_ROOT / "scripts/data/operators/curated_operators.yaml").read_text())
    assert LIBRARY_METHODS == {name for entry in curated["library_methods"] for name in entry["names"]}


def test_defined_methods_reads_whole_definition_names() -> None:
    """Only a whole ``def NAME(`` of a class counts: not a longer name, nor ``undef``, nor a function."""
    import tree_sitter as ts
    import tree_sitter_python as tsp

    from lockin_lint.analyzers.python_tensors import defined_methods

    source = (b"class A:\n    def to_dense(self): ...\n    def to_dense_x(self): ...\n"
              b"    undef to_sparse(self): ...\n    @property\n    def  svd (self): ...\ndef solve(x): ...\n")
    root = ts.Parser(ts.Language(tsp.language())).parse(source).root_node
    names = frozenset({"to_dense", "to_sparse", "svd", "solve", "to_dense_x"})
    assert defined_methods(source, root, names) == {"to_dense", "to_dense_x", "svd"}
    assert defined_methods(source, root, frozenset({"to_dense"})) == {"to_dense"}


def test_operator_methods_are_each_indexs_own(ruleset: RuleSet) -> None:
    """`operator_methods` is computed once per index: a run with another selection (another index)
    gets its own names, not the last run's."""
    from lockin_lint.analyzers.python_tensors import operator_methods
    from lockin_lint.kb.python_index import build_python_index

    every = build_python_index(ruleset)
    none = build_python_index(ruleset, select=("LL101",))
    expected = frozenset(name for name, rules in every.methods.items() if any(r.category == "operator" for r in rules))
    assert expected and operator_methods(every) == expected
    assert operator_methods(every) is operator_methods(every)
    assert operator_methods(none) == frozenset()
    assert operator_methods(every) == expected
