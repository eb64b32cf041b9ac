"""Classes of a folder that per-backend subfolders replace (project/backend_subfolders.py): DeepSpeed's
``op_builder/builder.py`` ``CUDAOpBuilder`` never runs on Ascend, MLU, XPU or CPU, whose accelerators
take their builders from ``op_builder/npu/``, ``mlu/``, ``xpu/``, ``cpu/``; ROCm and MPS run it.
(A cross-file pass: these trees are small projects in ``tmp_path``.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding
from lockin_lint.project import backend_subfolders

from .test_python_dispatch import _write

_BUILDER = '''import os
import torch


class OpBuilder:
    def name(self):
        return "op"


class CUDAOpBuilder(OpBuilder):
    def arch(self):
        return os.environ.get("TORCH_CUDA_ARCH_LIST")

    def probe(self):
        return torch.cuda.get_device_properties(0)


def installed():
    return torch.cuda.get_device_properties(0)
'''
_FUSED = '''import torch

from .builder import CUDAOpBuilder


class FusedAdamBuilder(CUDAOpBuilder):
    def probe(self):
        return torch.cuda.get_device_properties(0)
'''
_SUB_BUILDER = '''try:
    from op_builder.builder import OpBuilder
except ImportError:
    from deepspeed.ops.op_builder.builder import OpBuilder


class {prefix}OpBuilder(OpBuilder):
    pass
'''
_SUB_FUSED = '''from .builder import {prefix}OpBuilder


class FusedAdamBuilder({prefix}OpBuilder):
    pass
'''


def _tree(tmp_path: Path, subs: dict[str, str], fused: str = _SUB_FUSED, extra: dict[str, str] | None = None) -> None:
    files = {"op_builder/builder.py": _BUILDER, "op_builder/fused_adam.py": _FUSED}
    for sub, prefix in subs.items():
        files[f"op_builder/{sub}/builder.py"] = _SUB_BUILDER.format(prefix=prefix)
        files[f"op_builder/{sub}/fused_adam.py"] = fused.format(prefix=prefix)
    _write(tmp_path, files | (extra or {}))


def _findings(tmp_path: Path, ruleset: RuleSet, path: str) -> list[Finding]:
    run = check_paths(["."], ruleset, cwd=tmp_path)
    return [f for f in run.findings if f.path == path]


def _in_class(findings: list[Finding], text: str, tmp_path: Path, path: str) -> Finding:
    lines = (tmp_path / path).read_text().splitlines()
    return next(f for f in findings if text in lines[f.line - 1])


def test_a_class_the_backend_subfolders_replace_is_handled_for_their_targets_only(
        tmp_path: Path, ruleset: RuleSet) -> None:
    _tree(tmp_path, {"npu": "NPU", "xpu": "SYCL", "cpu": "CPU"})
    findings = _findings(tmp_path, ruleset, "op_builder/builder.py")
    arch = _in_class(findings, "TORCH_CUDA_ARCH_LIST", tmp_path, "op_builder/builder.py")
    handled = dict(arch.handled)
    assert "op_builder/npu/" in handled["ascend"] and "CUDAOpBuilder" in handled["ascend"]
    assert "op_builder/xpu/" in handled["xpu"]
    assert arch.targets["ascend"].status == arch.targets["xpu"].status == "native"
    # no subfolder: ROCm and MLU and MUSA still fire
    assert arch.targets["rocm"].status != "native" and "rocm" not in handled
    assert "mlu" not in handled and "musa" not in handled
    # a subclass in another top-level module is replaced too (each subfolder defines FusedAdamBuilder)
    [fused] = _findings(tmp_path, ruleset, "op_builder/fused_adam.py")
    assert "op_builder/npu/" in dict(fused.handled)["ascend"]


def test_module_level_code_and_classes_a_subfolder_imports_keep_firing(tmp_path: Path, ruleset: RuleSet) -> None:
    """The subfolders import ``OpBuilder`` (their base) from the top-level module: it runs there;
    a module-level function may run anywhere."""
    builder = _BUILDER.replace('        return "op"', '        return torch.cuda.get_device_properties(0)')
    _tree(tmp_path, {"npu": "NPU", "xpu": "SYCL"}, extra={"op_builder/builder.py": builder})
    findings = _findings(tmp_path, ruleset, "op_builder/builder.py")
    lines = builder.splitlines()
    base = next(f for f in findings if f.line < lines.index("class CUDAOpBuilder(OpBuilder):") + 1)
    function = next(f for f in findings if f.line > lines.index("def installed():"))
    assert base.handled == () and function.handled == ()


def test_product_code_importing_a_top_level_class_by_path_keeps_it_live(tmp_path: Path, ruleset: RuleSet) -> None:
    """DeepSpeed's ``from ..op_builder.pin_memory import PinMemoryBuilder``: that class runs everywhere."""
    _tree(tmp_path, {"npu": "NPU", "xpu": "SYCL"},
          extra={"pkg/use.py": "from op_builder.fused_adam import FusedAdamBuilder\n"})
    [fused] = _findings(tmp_path, ruleset, "op_builder/fused_adam.py")
    assert fused.handled == ()


@pytest.mark.parametrize("subs, fused", [
    ({"npu": "NPU"}, _SUB_FUSED),  # a single backend subfolder
    ({"npu": "NPU", "hpu": "HPU"}, _SUB_FUSED),  # hpu is no target of ours: one target subfolder
    ({"legacy": "L", "v2": "V"}, _SUB_FUSED),  # subfolders not named for a backend
    ({"npu": "NPU", "xpu": "SYCL"}, "class OtherBuilder:\n    pass\n"),  # no class of the same name
])
def test_near_misses_keep_every_target(tmp_path: Path, ruleset: RuleSet, subs: dict[str, str], fused: str) -> None:
    _tree(tmp_path, subs, fused=fused)
    findings = _findings(tmp_path, ruleset, "op_builder/builder.py")
    findings += _findings(tmp_path, ruleset, "op_builder/fused_adam.py")
    assert findings and all(f.handled == () for f in findings)


def test_a_class_the_folders_init_re_exports_stays_live(tmp_path: Path, ruleset: RuleSet) -> None:
    """``from .fused_adam import FusedAdamBuilder`` in ``op_builder/__init__.py``: ``from op_builder
    import FusedAdamBuilder`` gives the CUDA builder on every backend."""
    _tree(tmp_path, {"npu": "NPU", "xpu": "SYCL"},
          extra={"op_builder/__init__.py": "from .fused_adam import FusedAdamBuilder\n"})
    [fused] = _findings(tmp_path, ruleset, "op_builder/fused_adam.py")
    assert fused.handled == ()


def test_a_class_no_subfolder_defines_is_credited_only_to_those_that_define_it(
        tmp_path: Path, ruleset: RuleSet) -> None:
    """DeepSpeed's ``op_builder/mlu/`` has no ``AsyncIOBuilder`` (the MLU accelerator answers
    ``NotImplementedBuilder``, which raises): the top-level ``AsyncIOBuilder`` is handled for the
    subfolders that define it again, never for MLU; the base both reach stays credited to both."""
    async_io = "import torch\n\nfrom .builder import CUDAOpBuilder\n\n\nclass AsyncIOBuilder(CUDAOpBuilder):\n" \
               "    def probe(self):\n        return torch.cuda.get_device_properties(0)\n"
    _tree(tmp_path, {"npu": "NPU", "mlu": "MLU"}, extra={
        "op_builder/async_io.py": async_io,
        "op_builder/npu/async_io.py": "from .builder import NPUOpBuilder\n\n\nclass AsyncIOBuilder(NPUOpBuilder):\n"
                                      "    pass\n"})
    [probe] = _findings(tmp_path, ruleset, "op_builder/async_io.py")
    handled = dict(probe.handled)
    assert "op_builder/npu/" in handled["ascend"] and "AsyncIOBuilder" in handled["ascend"]
    assert "mlu" not in handled and probe.targets["mlu"].status != "native"
    arch = _in_class(_findings(tmp_path, ruleset, "op_builder/builder.py"), "TORCH_CUDA_ARCH_LIST", tmp_path,
                     "op_builder/builder.py")
    assert {"ascend", "mlu"} <= set(dict(arch.handled))


_CLASS_SHAPES = [
    "class A:\n    pass\n",
    "@decorator\nclass B(Base, metaclass=M):\n    class Inner:\n        pass\n",
    "class \\\n    C:\n    pass\n",  # a line continuation between the keyword and the name
    "class\t\fD : pass\r\nclass \\\r\nE: pass\r\n",  # tab, form feed, CRLF continuation
    "x = 1\nif x:\n    class F:\n        pass\nelse:\n    class G:\n        pass\n",
    "s = 'class H:'\n# class I\nclass subclassJ:\n    pass\n",
    "class Ä:\n    pass\nclass K:\n    pass\n",  # not ASCII: parsed
    "# coding: utf-7\n+AGM-lass L:\n    pass\n",  # a declared encoding spelling `class` in other bytes
    "class M(\n",  # does not parse: no class at all
]


@pytest.mark.parametrize("source", _CLASS_SHAPES)
def test_the_byte_reading_of_class_names_holds_every_top_level_class(source: str) -> None:
    """`_class_names_at_most` is what lets the pass skip parsing: it must never miss a class the
    parser finds at the top of the module (it may find more)."""
    data = source.encode("utf-8")
    tree = backend_subfolders._parse(data, "m.py")
    parsed = set(backend_subfolders._classes(tree)) if tree is not None else set()
    assert parsed <= backend_subfolders._class_names_at_most(data, "m.py")


def test_the_byte_reading_holds_every_fixture_and_test_modules_classes() -> None:
    root = Path(__file__).resolve().parents[1]
    sources = sorted([*root.glob("fixtures/**/*.py"), *root.glob("tests/*.py"), *root.glob("lockin_lint/**/*.py")])
    assert len(sources) > 100
    found = 0
    for path in sources:
        data = path.read_bytes()
        tree = backend_subfolders._parse(data, str(path))
        parsed = set(backend_subfolders._classes(tree)) if tree is not None else set()
        found += len(parsed)
        assert parsed <= backend_subfolders._class_names_at_most(data, str(path)), path
    assert found > 50


def test_backend_subfolders_sharing_no_class_name_are_never_parsed(
        tmp_path: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """torch's ``_inductor/codegen``: ``rocm/`` and ``xpu/`` each have an ``__init__.py`` like the folder
    itself, but no class of the same name as a top-level one: nothing can change, nothing is parsed."""
    parsed: list[str] = []
    real = backend_subfolders._parse

    def counting(data: bytes | None, shown: str) -> ast.Module | None:
        parsed.append(shown)
        return real(data, shown)

    monkeypatch.setattr(backend_subfolders, "_parse", counting)
    _tree(tmp_path, {"npu": "NPU", "xpu": "SYCL"}, fused="class OtherBuilder:\n    pass\n",
          extra={"op_builder/__init__.py": "class Registry:\n    pass\n",
                 "op_builder/npu/__init__.py": "class NpuRegistry:\n    pass\n",
                 "op_builder/xpu/__init__.py": "class XpuRegistry:\n    pass\n"})
    findings = _findings(tmp_path, ruleset, "op_builder/builder.py")
    assert findings and all(f.handled == () for f in findings)
    assert parsed == []
    # the same tree with a subfolder class named like the top-level one is parsed (and handled)
    _tree(tmp_path, {"npu": "NPU", "xpu": "SYCL"})
    assert any(f.handled for f in _findings(tmp_path, ruleset, "op_builder/builder.py")) and parsed


def test_only_the_top_level_modules_named_like_a_subfolders_are_parsed_to_tell(
        tmp_path: Path, ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """torch's ``_inductor/codegen/`` has ``rocm/`` and ``xpu/`` packages whose ``__init__.py`` is named
    like the folder's own, and 57 large modules: deciding that no subfolder stands in for anything needs
    only the modules named like a subfolder's (here ``__init__.py``), so ``builder.py`` is never parsed;
    when the folder does qualify, every top-level module is read, each parsed once."""
    from lockin_lint.project import backend_subfolders

    parsed: list[str] = []
    real = backend_subfolders._parse

    def counting(data: bytes | None, shown: str) -> object:
        parsed.append(shown)
        return real(data, shown)

    monkeypatch.setattr(backend_subfolders, "_parse", counting)
    _write(tmp_path, {"op_builder/__init__.py": "", "op_builder/builder.py": _BUILDER,
                      "op_builder/npu/__init__.py": "", "op_builder/xpu/__init__.py": "",
                      "op_builder/npu/kernels.py": "X = 1\n", "op_builder/xpu/kernels.py": "X = 1\n"})
    findings = _findings(tmp_path, ruleset, "op_builder/builder.py")
    assert findings and all(f.handled == () for f in findings)
    assert "op_builder/builder.py" not in parsed
    parsed.clear()
    other = tmp_path / "qualifies"
    _tree(other, {"npu": "NPU", "xpu": "SYCL"})
    findings = _findings(other, ruleset, "op_builder/builder.py")
    assert any(f.handled for f in findings)  # the pass still works where it applies
    top = [p for p in parsed if p.count("/") == 1]
    assert sorted(top) == ["op_builder/builder.py", "op_builder/fused_adam.py"]  # each once
