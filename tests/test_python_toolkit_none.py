"""A ``CUDA_HOME is None`` test whose body is the project's path without the CUDA toolkit
(analyzers/python_toolkit_none.py): DeepSpeed's ``AsyncIOBuilder.extra_ldflags``, judged false when
rocm stayed "rename to ROCM_HOME" (j17B, docs/validation.md, #11), and the refusing shapes that keep
the gap (DeepSpeed's ``gds.py``, ``env_report.py``, ``builder.py``; apex's ``setup.py``)."""

from __future__ import annotations

import pytest

from lockin_lint.analyzers.python_toolkit_none import NONE_BRANCH
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_LDFLAGS = ("import os\n"
            "def extra_ldflags(self):\n"
            "    import torch.utils.cpp_extension\n"
            "    home = torch.utils.cpp_extension.CUDA_HOME\n"
            "    if home is None:\n"
            "        flags = ['-laio']  # the ROCm build\n"
            "    else:\n"
            "        flags = [f'-L{home}', '-lcuda', '-lcudart']\n"
            "    return flags\n")


def _ll602(source: str, ruleset: RuleSet, path: str = "op_builder/aio.py") -> list[Finding]:
    result = check_bytes(path, source.encode(), ruleset)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == "LL602"]


def test_a_none_branch_that_does_work_handles_rocm(ruleset: RuleSet) -> None:
    """The binding is still reported (the CUDA side links the CUDA libraries), rocm noted by the
    ``None`` test's line; the other targets keep their statuses."""
    [found] = _ll602(_LDFLAGS, ruleset)
    assert found.line == 4
    assert dict(found.handled)["rocm"] == f"{NONE_BRANCH} (op_builder/aio.py:5)"
    assert "xpu" not in dict(found.handled)


def test_the_bare_imported_name_tested_and_used_on_the_cuda_side(ruleset: RuleSet) -> None:
    """``if not CUDA_HOME:`` on the imported name: the test and the ``else`` side are credited."""
    source = ("from torch.utils.cpp_extension import CUDA_HOME\n"
              "def flags():\n"
              "    if not CUDA_HOME:\n"
              "        return ['-DUSE_ROCM']\n"
              "    else:\n"
              "        return ['-I' + CUDA_HOME]\n")
    found = {f.line: dict(f.handled) for f in _ll602(source, ruleset)}
    assert found[3]["rocm"] == found[6]["rocm"] == f"{NONE_BRANCH} (op_builder/aio.py:3)"
    assert "rocm" not in found[1]  # the import itself is no part of the test


@pytest.mark.parametrize("body", [
    "        raise RuntimeError('nvcc not found')\n",
    "        self.warning('install CUDA')\n        return False\n",
    "        return\n",
    "        return None\n",
    "        return f'[FAIL] cannot find CUDA_HOME'\n",
    "        assert False\n",
    "        sys.exit(1)\n",
    "        print('no CUDA')\n",
])
def test_a_none_branch_that_refuses_or_does_nothing_keeps_the_gap(ruleset: RuleSet, body: str) -> None:
    """DeepSpeed's ``gds.py:52`` (``return False``), ``env_report.py:66`` (a failure message),
    ``builder.py:50`` (``raise``): without CUDA the code refuses, which is no ROCm path."""
    source = _LDFLAGS.replace("        flags = ['-laio']  # the ROCm build\n", body)
    [found] = _ll602(source, ruleset)
    assert "rocm" not in dict(found.handled)


def test_a_rebound_name_or_another_test_keeps_the_gap(ruleset: RuleSet) -> None:
    """A local bound twice, or a test that is not ``is None`` / ``not``, is not read."""
    rebound = _LDFLAGS.replace("    if home is None:", "    home = home or '/usr/local/cuda'\n    if home is None:")
    assert all("rocm" not in dict(f.handled) for f in _ll602(rebound, ruleset))
    other = _LDFLAGS.replace("if home is None:", "if home is not None:")
    assert all("rocm" not in dict(f.handled) for f in _ll602(other, ruleset))
    elsewhere = _LDFLAGS.replace("    if home is None:", "    def g():\n        pass\n    if other is None:")
    assert all("rocm" not in dict(f.handled) for f in _ll602(elsewhere, ruleset))
