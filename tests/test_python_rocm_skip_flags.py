"""A module flag the ROCm build sets True (analyzers/python_rocm_skip_flags.py): a helper called only
in the body of ``if not FLAG:`` is kept off ROCm by the caller reading (flash-attention's
``hopper/setup.py``: ``check_if_cuda_home_none`` under ``if not SKIP_CUDA_BUILD:``, which
``FLASH_ATTENTION_TRITON_AMD_ENABLE`` sets), and nothing else changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

HEAD = '''import os
from torch.utils.cpp_extension import CUDA_HOME

SKIP_CUDA_BUILD = os.getenv("PKG_SKIP_CUDA_BUILD", "FALSE") == "TRUE"
USE_TRITON_ROCM = os.getenv("PKG_TRITON_AMD_ENABLE", "FALSE") == "TRUE"
'''
SETS = '''if USE_TRITON_ROCM:
    SKIP_CUDA_BUILD = True
'''
TAIL = '''

def nvcc_present(option):
    if CUDA_HOME is not None:
        return
    print(option, "needs nvcc")


if not SKIP_CUDA_BUILD:
    nvcc_present("pkg")
    home = CUDA_HOME
'''


def _findings(tmp_path: Path, ruleset: RuleSet, text: str) -> dict[int, Finding]:
    (tmp_path / "setup.py").write_text(text, encoding="utf-8")
    run = check_paths(["."], ruleset, None, cwd=tmp_path)
    assert not run.errors, run.errors
    return {f.line: f for f in run.findings if f.rule_id == "LL602"}


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_helper_called_only_under_a_flag_the_rocm_build_sets_is_off_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    text = HEAD + SETS + TAIL
    found = _findings(tmp_path, ruleset, text)
    helper = found[_line(text, "if CUDA_HOME is not None")]
    call, sets = _line(text, 'nvcc_present("pkg")'), _line(text, "SKIP_CUDA_BUILD = True")
    assert helper.targets["rocm"].status == "native"
    assert dict(helper.handled) == {
        "rocm": f"callers run it only off ROCm (setup.py:{call}; SKIP_CUDA_BUILD set True for the ROCm build at line {sets})"}
    assert helper.targets["cpu"].status == "missing"  # the flag may be True elsewhere: only ROCm is credited
    direct = found[_line(text, "home = CUDA_HOME")]
    assert not direct.handled  # only the caller reading reads the flag


@pytest.mark.parametrize("sets", [
    "SKIP_CUDA_BUILD = USE_TRITON_ROCM or SKIP_CUDA_BUILD\n",  # from the ROCm test, in an `or`
    "import torch\nif torch.version.hip is not None:\n    SKIP_CUDA_BUILD = True\n",  # torch's own ROCm test
])
def test_other_rocm_settings_of_the_flag(tmp_path: Path, ruleset: RuleSet, sets: str) -> None:
    text = HEAD + sets + TAIL
    helper = _findings(tmp_path, ruleset, text)[_line(text, "if CUDA_HOME is not None")]
    assert helper.targets["rocm"].status == "native" and "SKIP_CUDA_BUILD set True" in dict(helper.handled)["rocm"]


@pytest.mark.parametrize("sets", [
    SETS + "SKIP_CUDA_BUILD = False\n",  # reset after the ROCm setting
    SETS + "\ndef force():\n    global SKIP_CUDA_BUILD\n    SKIP_CUDA_BUILD = False\n",  # a function may reset it
    "USE_TRITON = os.getenv('PKG_TRITON', 'FALSE') == 'TRUE'\nif USE_TRITON:\n    SKIP_CUDA_BUILD = True\n",  # no ROCm test
    "ROCM_FOUND = os.path.exists('/opt/rocm')\nif ROCM_FOUND:\n    SKIP_CUDA_BUILD = True\n",  # not an env flag
    "if USE_TRITON_ROCM:\n    try:\n        SKIP_CUDA_BUILD = True\n    except Exception:\n        pass\n",  # not directly in the body
    "if USE_TRITON_ROCM:\n    pass\nelse:\n    SKIP_CUDA_BUILD = True\n",  # set on the other side
])
def test_flags_the_rocm_build_may_leave_false_keep_the_gap(tmp_path: Path, ruleset: RuleSet, sets: str) -> None:
    text = HEAD + sets + TAIL
    helper = _findings(tmp_path, ruleset, text)[_line(text, "if CUDA_HOME is not None")]
    assert helper.targets["rocm"].status != "native" and not helper.handled, sets


@pytest.mark.parametrize("tail", [
    TAIL.replace("if not SKIP_CUDA_BUILD:", "if SKIP_CUDA_BUILD:"),  # the flag's true side
    TAIL + 'nvcc_present("again")\n',  # one call with no guard
])
def test_calls_the_rocm_build_may_reach_keep_the_gap(tmp_path: Path, ruleset: RuleSet, tail: str) -> None:
    text = HEAD + SETS + tail
    helper = _findings(tmp_path, ruleset, text)[_line(text, "if CUDA_HOME is not None")]
    assert helper.targets["rocm"].status != "native" and not helper.handled
