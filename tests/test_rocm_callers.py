"""The ROCm path one call up (analyzers/python_callers.py, project/rocm_callers.py): a function whose
every call is kept off ROCm has its findings handled for ROCm, but only when no other file of the
run spells its name."""

from __future__ import annotations

import functools
import multiprocessing
import os
from pathlib import Path

import pytest

from lockin_lint import api
from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding, Settings
from lockin_lint.project import rocm_callers

BUILDER = '''import torch
from torch.utils.cpp_extension import CUDA_HOME


def assert_no_cuda_mismatch(name=""):
    return CUDA_HOME + "/bin/nvcc"


class Builder:
    def is_rocm_pytorch(self):
        return torch.version.hip is not None

    def cuda_flag(self):
        if not self.is_rocm_pytorch():
            assert_no_cuda_mismatch(self.name)
        return "x"

    def nvcc_args(self):
        if self.is_rocm_pytorch():
            return ["-DROCM"]
        else:
            assert_no_cuda_mismatch(self.name)
            return []
'''


def _run(tmp_path: Path, ruleset: RuleSet, files: dict[str, str], settings: Settings | None = None,
         at: tuple[str, int] = ("builder.py", 6)) -> list[Finding]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = check_paths(["."], ruleset, settings, cwd=tmp_path)
    assert not run.errors, run.errors
    return [f for f in run.findings if (f.path, f.line) == at]


def test_a_function_called_only_off_rocm_is_handled_for_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    [found] = _run(tmp_path, ruleset, {"builder.py": BUILDER})
    assert found.rule_id == "LL602" and found.targets["rocm"].status == "native"
    assert dict(found.handled) == {"rocm": "callers run it only off ROCm (builder.py:15, 22)"}
    assert found.targets["ascend"].status != "native"  # only ROCm has the path one call up


def test_another_file_spelling_the_name_keeps_the_finding(tmp_path: Path, ruleset: RuleSet) -> None:
    other = "from builder import assert_no_cuda_mismatch\nassert_no_cuda_mismatch()\n"
    [found] = _run(tmp_path, ruleset, {"builder.py": BUILDER, "setup.py": other})
    assert found.targets["rocm"].status != "native" and not found.handled


def test_a_longer_name_spelling_it_is_no_caller(tmp_path: Path, ruleset: RuleSet) -> None:
    other = "def assert_no_cuda_mismatch_v2():\n    return my_assert_no_cuda_mismatch\n"  # the name, inside longer words
    [found] = _run(tmp_path, ruleset, {"builder.py": BUILDER, "other.py": other})
    assert dict(found.handled) == {"rocm": "callers run it only off ROCm (builder.py:15, 22)"}


def _spy(marker: Path) -> object:
    """`rocm_callers.spelled_in`, noting the id of each process it ran in (pickled by its own name)."""
    real = rocm_callers.spelled_in

    @functools.wraps(real)
    def spelled_in(*args: object) -> object:
        with open(marker, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        return real(*args)  # type: ignore[arg-type]

    return spelled_in


def test_the_pool_searches_the_files_and_finds_the_same(tmp_path: Path, ruleset: RuleSet,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the spy reaches the workers only when they are forked")
    marker = tmp_path.parent / f"{tmp_path.name}-pids"
    monkeypatch.setattr(rocm_callers, "spelled_in", _spy(marker))
    monkeypatch.setattr(rocm_callers, "_CHUNK", 1)  # a chunk per Python file: several pool tasks
    monkeypatch.setattr(api, "_CHUNK", 1)  # a pool for this small tree
    pooled = Settings(jobs=2)
    fillers = {f"filler{i}.py": "x = 1\n" for i in range(3)}
    [handled] = _run(tmp_path, ruleset, {"builder.py": BUILDER, **fillers}, pooled)
    assert dict(handled.handled) == {"rocm": "callers run it only off ROCm (builder.py:15, 22)"}
    other = "from builder import assert_no_cuda_mismatch\nassert_no_cuda_mismatch()\n"
    [kept] = _run(tmp_path, ruleset, {"setup.py": other}, pooled)
    assert not kept.handled
    pids = set(marker.read_text(encoding="utf-8").split())
    assert pids and str(os.getpid()) not in pids  # every search ran in a worker


def test_one_call_that_may_run_on_rocm_keeps_the_finding(tmp_path: Path, ruleset: RuleSet) -> None:
    for extra in ("\n\ndef anywhere():\n    assert_no_cuda_mismatch()\n",  # no guard
                  "\n\ndef on_rocm():\n    if torch.version.hip:\n        assert_no_cuda_mismatch()\n",
                  "\n\nCHECKS = [assert_no_cuda_mismatch]\n",  # a value, called who knows where
                  '\n\n__all__ = ["assert_no_cuda_mismatch"]\n'):  # exported
        [found] = _run(tmp_path, ruleset, {"builder.py": BUILDER + extra})
        assert not found.handled, extra


def test_a_file_alone_only_records_the_candidate(ruleset: RuleSet) -> None:
    result = check_bytes("builder.py", BUILDER.encode(), ruleset)
    [finding] = [f for f in result.findings if f.line == 6]
    assert not finding.handled  # the file cannot know who else calls it
    assert result.facts is not None
    [candidate] = result.facts.rocm_callers
    assert (candidate.name, candidate.places, candidate.calls) == ("assert_no_cuda_mismatch", (("LL602", 6),), (15, 22))


#: vLLM's setup.py (get_nvcc_cuda_version, :854-866) in miniature: every call sits in the body of an
#: NVIDIA-only test (setup.py's own ``_is_cuda()``, true on NVIDIA builds only), one of them through an
#: ``if`` whose test says nothing of the platform.
NVCC = '''import torch
from torch.utils.cpp_extension import CUDA_HOME


def get_nvcc_cuda_version():
    assert CUDA_HOME is not None, "CUDA_HOME is not set"
    return CUDA_HOME


def _is_cuda():
    return torch.version.cuda is not None


def num_jobs():
    if _is_cuda() and CUDA_HOME is not None:
        try:
            return get_nvcc_cuda_version()
        except Exception:
            return None
    return 1


if _is_cuda():
    if PRECOMPILED or (CUDA_HOME and get_nvcc_cuda_version() >= "12.3"):
        MODULES.append("fa3")
'''


def _nvcc(tmp_path: Path, ruleset: RuleSet, source: str) -> Finding:
    (tmp_path / "setup.py").write_text(source, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert not run.errors, run.errors
    [found] = [f for f in run.findings if f.path == "setup.py" and f.line == 6]
    return found


def test_calls_under_an_nvidia_only_test_are_kept_off_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _nvcc(tmp_path, ruleset, NVCC)
    assert found.rule_id == "LL602"
    # Every target: ``_is_cuda()`` is true on NVIDIA builds only, so no ROCm, XPU, MUSA, MPS, ...
    # build reaches the calls (j17B's vLLM setup.py:859, where xpu/musa stayed "rename").
    shown = {"rocm": "ROCm", "ascend": "Ascend", "mlu": "MLU", "musa": "MUSA", "xpu": "XPU", "mps": "MPS",
             "cpu": "CPU"}
    assert dict(found.handled) == {t: f"callers run it only off {name} (setup.py:17, 24)" for t, name in shown.items()}


def test_a_call_in_an_nvidia_only_elif_is_kept_off_every_target(tmp_path: Path, ruleset: RuleSet) -> None:
    """vLLM's version chain ``if _no_device(): ... elif _is_cuda(): ... get_nvcc_cuda_version()``: the
    ``elif`` body runs on NVIDIA builds only. An ``elif`` true on ROCm too keeps the targets open."""
    chain = NVCC.replace("if _is_cuda():\n    if", "if _no_device():\n    pass\nelif _is_cuda():\n    if")
    assert chain != NVCC
    assert set(dict(_nvcc(tmp_path, ruleset, chain).handled)) == {"rocm", "ascend", "mlu", "musa", "xpu", "mps", "cpu"}
    alike = chain.replace("elif _is_cuda():", "elif torch.cuda.is_available():")
    assert not {"rocm", "xpu", "musa", "mps"} & set(dict(_nvcc(tmp_path, ruleset, alike).handled))
    # vLLM's setup.py:887: in the ``else`` of an ``if`` that names no platform, inside the ``elif``.
    in_else = chain.replace('    if PRECOMPILED or (CUDA_HOME and get_nvcc_cuda_version() >= "12.3"):\n',
                            '    if PRECOMPILED:\n        pass\n    else:\n        V = get_nvcc_cuda_version()\n'
                            '    if PRECOMPILED:\n')
    assert in_else != chain
    assert set(dict(_nvcc(tmp_path, ruleset, in_else).handled)) == {"rocm", "ascend", "mlu", "musa", "xpu", "mps", "cpu"}
    platform_else = in_else.replace("    if PRECOMPILED:\n        pass\n", "    if is_xpu():\n        pass\n")
    assert "musa" not in dict(_nvcc(tmp_path, ruleset, platform_else).handled)


def test_calls_under_a_test_only_rocm_skips_are_kept_off_rocm_only(tmp_path: Path, ruleset: RuleSet) -> None:
    """``if not torch.version.hip:`` is true on XPU or MPS builds too: only ROCm is kept off."""
    source = NVCC.replace("if _is_cuda():\n", "if not torch.version.hip:\n")
    assert source != NVCC
    handled = dict(_nvcc(tmp_path, ruleset, source).handled)
    assert "rocm" in handled and not {"xpu", "musa", "mps", "ascend", "mlu"} & set(handled)


@pytest.mark.parametrize("change", [
    ("if _is_cuda():\n", "if torch.cuda.is_available():\n"),   # true on ROCm builds too
    ("if _is_cuda():\n", "if current_platform.is_cuda_alike():\n"),
    ('        MODULES.append("fa3")\n', '        MODULES.append("fa3")\nelse:\n    get_nvcc_cuda_version()\n'),
])
def test_a_call_rocm_may_reach_keeps_the_finding(tmp_path: Path, ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = NVCC.replace(*change)
    assert source != NVCC
    assert "rocm" not in dict(_nvcc(tmp_path, ruleset, source).handled), change


#: DeepSpeed's ``TorchCPUOpBuilder.get_cuda_lib64_path`` (op_builder/builder.py:921-946) in miniature:
#: both calls sit under ``if not self.build_for_cpu:``, which only a CPU build skips.
LIB64 = '''import os
import torch


class CpuBuilder:
    def get_cuda_lib64_path(self):
        return os.path.join(torch.utils.cpp_extension.CUDA_HOME, "lib64")

    def extra_ldflags(self):
        flags = ["-lcurand"]
        if not self.build_for_cpu:
            flags.append(self.get_cuda_lib64_path())
        return flags

    def cxx_args(self):
        if not self.build_for_cpu:
            return ["-L" + self.get_cuda_lib64_path()]
        return ["-fopenmp"]
'''


def _lib64(tmp_path: Path, ruleset: RuleSet, files: dict[str, str]) -> Finding:
    [found] = _run(tmp_path, ruleset, files, at=("builder.py", 7))
    return found


def test_callers_off_a_cpu_build_handle_the_cpu_only(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _lib64(tmp_path, ruleset, {"builder.py": LIB64})
    assert found.rule_id == "LL602"
    assert dict(found.handled) == {"cpu": "callers run it only off CPU (builder.py:12, 17)"}
    assert found.targets["mps"].status == "missing"  # an MPS machine is no CPU build: still a gap


@pytest.mark.parametrize("change", [
    ("        if not self.build_for_cpu:\n            return", "        if self.use_fast:\n            return"),
    ('        return ["-fopenmp"]\n', '        return ["-fopenmp"]\n\n    def both(self):\n        return self.get_cuda_lib64_path()\n'),
])
def test_one_call_a_cpu_build_may_reach_keeps_the_cpu_gap(tmp_path: Path, ruleset: RuleSet,
                                                          change: tuple[str, str]) -> None:
    source = LIB64.replace(*change)
    assert source != LIB64
    assert not _lib64(tmp_path, ruleset, {"builder.py": source}).handled, change


def test_another_file_spelling_the_name_keeps_the_cpu_gap(tmp_path: Path, ruleset: RuleSet) -> None:
    other = "from builder import CpuBuilder\nCpuBuilder().get_cuda_lib64_path()\n"
    assert not _lib64(tmp_path, ruleset, {"builder.py": LIB64, "test_builder.py": other}).handled


#: bitsandbytes' ``diagnostics/main.py`` (sanity_check, :27-114) in miniature: the only call is in the
#: last ``else`` of a chain whose earlier branches take the CPU-only and the XPU machines.
DIAGNOSTICS = '''import torch


def sanity_check():
    return torch.rand(10, 10).cuda()


def main():
    has_rocm = torch.version.hip is not None
    has_cuda = not has_rocm and torch.version.cuda is not None and torch.cuda.is_available()
    has_xpu = hasattr(torch, "xpu") and torch.xpu.is_available()
    if not (has_cuda or has_rocm or has_xpu):
        print("CPU only")
    elif has_xpu:
        print("XPU")
    else:
        sanity_check()
'''


def test_a_call_past_the_cpu_and_xpu_branches_handles_both(tmp_path: Path, ruleset: RuleSet) -> None:
    [found] = _run(tmp_path, ruleset, {"main.py": DIAGNOSTICS}, at=("main.py", 5))
    assert dict(found.handled) == {"cpu": "callers run it only off CPU (main.py:17)",
                                   "xpu": "callers run it only off XPU (main.py:17)"}
    assert {t for t, info in found.targets.items() if info.status != "native"} >= {"mps", "ascend"}


REPORT = '''import torch
import torch.utils.cpp_extension


def nvcc_version():
    return torch.utils.cpp_extension.CUDA_HOME + "/bin/nvcc"


def debug_report(report):
    hip_version = getattr(torch.version, "hip", None)
    report.append(("nvcc version", (None if hip_version else nvcc_version())))
    report.append(("hip", hip_version))
'''


def test_a_call_in_the_else_part_of_a_hip_test_is_kept_off_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    [found] = _run(tmp_path, ruleset, {"report.py": REPORT}, at=("report.py", 6))
    assert found.rule_id == "LL602"
    assert dict(found.handled).get("rocm") == "callers run it only off ROCm (report.py:11)"


@pytest.mark.parametrize("change", [
    ("(None if hip_version else nvcc_version())", "(nvcc_version() if hip_version else None)"),  # ROCm only
    ("    report.append((\"hip\", hip_version))", "    hip_version = None"),  # rebound
    ("if hip_version else", "if torch.version.cuda else"),  # not a ROCm check
    ("if hip_version else", "if not hip_version else"),  # negated
])
def test_a_call_rocm_may_reach_through_a_ternary_keeps_the_gap(tmp_path: Path, ruleset: RuleSet,
                                                                 change: tuple[str, str]) -> None:
    assert change[0] in REPORT
    [found] = _run(tmp_path, ruleset, {"report.py": REPORT.replace(*change)}, at=("report.py", 6))
    assert "rocm" not in dict(found.handled)


def test_an_inline_getattr_hip_test_keeps_the_call_off_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    text = REPORT.replace("if hip_version else", "if getattr(torch.version, \"hip\", None) else")
    [found] = _run(tmp_path, ruleset, {"report.py": text}, at=("report.py", 6))
    assert dict(found.handled).get("rocm") == "callers run it only off ROCm (report.py:11)"
