"""The two readings of analyzers/python_scoped_exits.py (docs/validation.md, #11, seventh session, f20a):
a build script's chain nested in an NVIDIA-only branch handles every target, and a test file's early
exit off CUDA before an architecture check that only leaves reads as a CUDA-only skip; each with the
near misses that keep their old reading (runtime code, a test CUDA passes on ROCm too, a function that
returns a value, a check whose value is read again)."""

from __future__ import annotations

from lockin_lint.analyzers.python_chain_shapes import CUDA_ONLY_SKIP
from lockin_lint.analyzers.python_cuda_branches import INSIDE_CUDA_BRANCH
from lockin_lint.analyzers.python_dispatch import FALLBACK
from lockin_lint.analyzers.python_scoped_exits import is_test_file
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import TARGETS


def _handled(path: str, source: str, ruleset: RuleSet, line: int, rule: str) -> dict[str, str]:
    result = check_bytes(path, source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and f.rule_id == rule]
    return dict(found.handled)


# -- a build script's chain nested in an NVIDIA-only branch (vLLM setup.py:971/981) ------------------
_SETUP = ("from torch.utils.cpp_extension import CUDA_HOME\nmods = []\nif _is_cuda():\n"
          '    mods.append("fa2")\n    if PRECOMPILED or (CUDA_HOME and nvcc_version() >= (12, 3)):\n'
          '        mods.append("fa3")\n')


def test_a_build_scripts_nvidia_only_branch_handles_every_target(ruleset: RuleSet) -> None:
    assert _handled("setup.py", _SETUP, ruleset, 5, "LL602") == dict.fromkeys(
        TARGETS, f"{INSIDE_CUDA_BRANCH} (setup.py:3)")
    assert _handled("hopper/setup.py", _SETUP, ruleset, 5, "LL602")["rocm"] == \
        f"{INSIDE_CUDA_BRANCH} (hopper/setup.py:3)"


def test_runtime_code_or_a_branch_rocm_enters_keeps_the_cpu_note_alone(ruleset: RuleSet) -> None:
    assert _handled("vllm/model.py", _SETUP, ruleset, 5, "LL602") == {"cpu": f"{INSIDE_CUDA_BRANCH} (vllm/model.py:3)"}
    available = "import torch\n" + _SETUP.replace("if _is_cuda():", "if torch.cuda.is_available():")
    assert _handled("setup.py", available, ruleset, 6, "LL602") == {"cpu": f"{INSIDE_CUDA_BRANCH} (setup.py:4)"}


# -- a test file's early exit off CUDA, then an arch check that only leaves (DeepSpeed FP6 test) -----
_FP6 = ("import torch\n\n\ndef _fp6_helper(tokens):\n    # FP6 runs on Ampere only\n"
        "    if not 'cuda' in get_accelerator().current_device_name():\n        return\n"
        "    major, _ = torch.cuda.get_device_capability()\n    if major != 8:\n        return\n"
        "    x = torch.randn(tokens)\n")
_SKIP = {t: f"{CUDA_ONLY_SKIP} (tests/unit/test_fp6.py:6)" for t in TARGETS if t != "rocm"}


def test_an_arch_check_after_an_early_exit_off_cuda_reads_as_a_skip(ruleset: RuleSet) -> None:
    assert _handled("tests/unit/test_fp6.py", _FP6, ruleset, 8, "LL101") == _SKIP
    inline = _FP6.replace("    major, _ = torch.cuda.get_device_capability()\n    if major != 8:\n        return\n",
                          "    if torch.cuda.get_device_capability()[0] < 8:\n        pytest.skip('Ampere')\n")
    assert _handled("tests/unit/test_fp6.py", inline.replace("not 'cuda' in", "'cuda' not in"), ruleset, 8,
                    "LL101") == _SKIP


def test_the_same_shape_outside_a_test_file_or_feeding_a_value_keeps_the_fallback(ruleset: RuleSet) -> None:
    assert _handled("deepspeed/fp6.py", _FP6, ruleset, 8, "LL101") == {"cpu": FALLBACK}
    returns = _FP6.replace("    x = torch.randn(tokens)\n", "    return torch.randn(tokens) * major\n")
    assert _handled("tests/unit/test_fp6.py", returns, ruleset, 8, "LL101") == {"cpu": FALLBACK}
    computes = _FP6.replace("    x = torch.randn(tokens)\n", "    x = torch.randn(tokens * major)\n")
    assert _handled("tests/unit/test_fp6.py", computes, ruleset, 8, "LL101") == {"cpu": FALLBACK}
    no_exit = _FP6.replace("    if not 'cuda' in get_accelerator().current_device_name():\n        return\n",
                           "    if not enabled:\n        return\n")
    assert not any(CUDA_ONLY_SKIP in how for how in _handled("tests/unit/test_fp6.py", no_exit, ruleset, 8,
                                                              "LL101").values())
    does_more = _FP6.replace("    if major != 8:\n        return\n", "    if major != 8:\n        tokens = 1\n")
    assert _handled("tests/unit/test_fp6.py", does_more, ruleset, 8, "LL101") == {"cpu": FALLBACK}


def test_test_files_are_told_by_folder_or_name() -> None:
    assert is_test_file("tests/unit/util.py") and is_test_file("pkg/test_x.py") and is_test_file("pkg/x_test.py")
    assert not is_test_file("deepspeed/testing.py") and not is_test_file("contest/x.py")
