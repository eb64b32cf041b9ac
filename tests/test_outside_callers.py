"""Calls from the project's other files, read (project/outside_callers.py): a base builder's method
called off ROCm in its own file and in its subclasses' files (``self.arch_args()`` under ``if not
self.is_rocm_pytorch():``), and with no guard only by a test module faking torch.cuda's probes, is
handled for ROCm; any other spelling elsewhere keeps the finding (the shape of DeepSpeed's
``CUDAOpBuilder.compute_capability_args()``, #11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

BASE = '''import os

import torch


class CudaBuilder:
    def is_rocm_pytorch(self):
        return torch.version.hip is not None

    def arch_args(self):
        archs = os.environ.get("TORCH_CUDA_ARCH_LIST", "")
        return ["-gencode=" + a for a in archs.split(";") if a]

    def nvcc_args(self):
        if self.is_rocm_pytorch():
            return ["-DROCM"]
        else:
            return ["-O3"] + self.arch_args()
'''

SUBCLASS = '''from base import CudaBuilder


class AdamBuilder(CudaBuilder):
    def nvcc_args(self):
        flags = ["-O3"]
        if not self.is_rocm_pytorch():
            flags.extend(["-lineinfo"] + self.arch_args())
        return flags
'''

FAKED_TEST = '''import os
from unittest import mock

import torch

from base import CudaBuilder

CUDA_API = torch.cuda


def test_arch_args_without_a_device():
    with mock.patch.object(CUDA_API, "device_count", return_value=0):
        assert CudaBuilder().arch_args() == []
'''

PLAIN_TEST = '''from base import CudaBuilder


def test_arch_args():
    assert CudaBuilder().arch_args() == []
'''

NOTE = "callers run it only off ROCm (base.py:18, adam.py:8"


def _arch(tmp_path: Path, ruleset: RuleSet, files: dict[str, str]) -> Finding:
    for name, text in {"base.py": BASE, **files}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert not run.errors, run.errors
    [found] = [f for f in run.findings if (f.path, f.line, f.rule_id) == ("base.py", 11, "LL804")]
    return found


def test_a_subclass_calling_the_method_off_rocm_does_not_keep_the_finding(tmp_path: Path,
                                                                          ruleset: RuleSet) -> None:
    found = _arch(tmp_path, ruleset, {"adam.py": SUBCLASS})
    assert dict(found.handled)["rocm"] == NOTE + ")"
    assert found.targets["rocm"].status == "native"
    assert found.targets["mlu"].status != "native" and "mlu" not in dict(found.handled)  # other targets as before


def test_a_test_faking_torch_cuda_is_set_aside_and_named(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _arch(tmp_path, ruleset, {"adam.py": SUBCLASS, "test_builder.py": FAKED_TEST})
    assert dict(found.handled)["rocm"] == NOTE + "; tests faking torch.cuda's probes aside: test_builder.py)"


@pytest.mark.parametrize("files", [
    # a subclass whose call may run on ROCm
    {"adam.py": SUBCLASS.replace("if not self.is_rocm_pytorch():", "if True:")},
    # a subclass overriding the method: its own definition is no guarded call
    {"adam.py": SUBCLASS + "\n    def arch_args(self):\n        return []\n"},
    # an ordinary test calling it, with no torch.cuda faked
    {"adam.py": SUBCLASS, "test_builder.py": PLAIN_TEST},
    # a module faking torch.cuda that is no test
    {"adam.py": SUBCLASS, "helpers.py": FAKED_TEST},
    # a test patching something other than torch.cuda
    {"test_builder.py": FAKED_TEST.replace("CUDA_API = torch.cuda", "CUDA_API = torch.backends")},
])
def test_any_other_caller_elsewhere_keeps_the_rocm_gap(tmp_path: Path, ruleset: RuleSet,
                                                       files: dict[str, str]) -> None:
    found = _arch(tmp_path, ruleset, files)
    assert "rocm" not in dict(found.handled) and found.targets["rocm"].status == "rename"
