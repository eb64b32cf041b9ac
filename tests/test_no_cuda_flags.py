"""A helper called only under ``if not self.<flag>:``, where the file sets the flag True only where CUDA
is absent (`analyzers.python_no_cuda_flags`): every target but ROCm is kept off the calls (DeepSpeed's
``op_builder/builder.py:924``, judged debatable three times with mps/xpu/ascend left open)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

from .test_rocm_callers import _run

#: DeepSpeed's ``op_builder/builder.py`` in miniature: ``build_for_cpu`` is set False in ``__init__``,
#: ``not torch.cuda.is_available()`` in ``jit_load`` (:578) and True in ``except MissingCUDAException``
#: (:805); ``get_cuda_lib64_path`` (:921) is called only under ``if not self.build_for_cpu:`` (:938, :946).
BUILDER = '''import os
import torch


class MissingCUDAException(Exception):
    pass


class OpBuilder:
    def __init__(self):
        self.build_for_cpu = False

    def jit_load(self):
        if not self.is_rocm_pytorch():
            self.build_for_cpu = not torch.cuda.is_available()

    def builder(self):
        try:
            self.check_toolkit()
            self.build_for_cpu = False
        except MissingCUDAException:
            self.build_for_cpu = True


class HostOpBuilder(OpBuilder):
    def get_cuda_lib64_path(self):
        return os.path.join(torch.utils.cpp_extension.CUDA_HOME, "lib64")

    def extra_ldflags(self):
        flags = ["-lcurand"]
        if not self.build_for_cpu:
            flags.append(self.get_cuda_lib64_path())
        return flags

    def cxx_args(self):
        if not self.build_for_cpu and self.verbose:
            return ["-L" + self.get_cuda_lib64_path()]
        return ["-fopenmp"]
'''
_AT = ("builder.py", 27)
_NOTE = "callers run it only where CUDA is present (builder.py:32, 37)"


def _lib64(tmp_path: Path, ruleset: RuleSet, files: dict[str, str]) -> Finding:
    [found] = _run(tmp_path, ruleset, files, at=_AT)
    assert found.rule_id == "LL602"
    return found


def test_a_flag_only_a_missing_cuda_sets_keeps_every_target_but_rocm_off(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _lib64(tmp_path, ruleset, {"builder.py": BUILDER})
    handled = dict(found.handled)
    assert handled.pop("cpu") == "callers run it only off CPU (builder.py:32, 37)"  # the CPU-build reading
    assert handled == {t: _NOTE for t in ("ascend", "mlu", "musa", "xpu", "mps")}
    assert found.targets["rocm"].status != "native"  # `not self.build_for_cpu` is true on ROCm builds too


@pytest.mark.parametrize("change", [
    # a write any machine with CUDA can make: an option, a parameter, an environment variable
    ("        self.build_for_cpu = False\n\n    def jit_load",
     "        self.build_for_cpu = os.environ.get('DS_BUILD_CPU') == '1'\n\n    def jit_load"),
    ("    def __init__(self):\n        self.build_for_cpu = False",
     "    def __init__(self, cpu=False):\n        self.build_for_cpu = cpu"),
    # True outside a missing-CUDA except, or under another exception
    ("        except MissingCUDAException:\n", "        except RuntimeError:\n"),
    ("MissingCUDAException", "CUDAKernelError"),
    # a positive availability test sets it where CUDA is present
    ("self.build_for_cpu = not torch.cuda.is_available()", "self.build_for_cpu = torch.cuda.is_available()"),
    # the flag read the other way round: the call runs where CUDA is absent
    ("        if not self.build_for_cpu and self.verbose:", "        if self.build_for_cpu or self.verbose:"),
])
def test_a_flag_something_else_can_set_keeps_the_gaps(tmp_path: Path, ruleset: RuleSet,
                                                      change: tuple[str, str]) -> None:
    source = BUILDER.replace(*change)
    assert source != BUILDER
    assert _NOTE not in dict(_lib64(tmp_path, ruleset, {"builder.py": source}).handled).values(), change


def test_another_file_assigning_the_flag_keeps_the_gaps(tmp_path: Path, ruleset: RuleSet) -> None:
    other = "def configure(builder, cpu):\n    builder.build_for_cpu = cpu\n"
    found = _lib64(tmp_path, ruleset, {"builder.py": BUILDER, "setup.py": other})
    assert dict(found.handled) == {"cpu": "callers run it only off CPU (builder.py:32, 37)"}


def test_another_file_reading_the_flag_changes_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    other = "def sources(builder):\n    if builder.build_for_cpu == True:\n        return []\n    return ['a.cu']\n"
    found = _lib64(tmp_path, ruleset, {"builder.py": BUILDER, "async_io.py": other})
    assert dict(found.handled)["xpu"] == _NOTE
