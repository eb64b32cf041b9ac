"""Build-variable findings in a test module that fakes torch.cuda's probes
(analyzers/python_faked_cuda_tests.py): kept at ``info``, every target handled with a note naming the
patch; a test module that fakes nothing, patches something else, a runtime variable, and every
non-test module keep their findings."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding
from lockin_lint.score.effort import summarize

from .conftest import set_apart

_HEAD = "import os\nfrom unittest import mock\nfrom unittest.mock import patch\nimport torch\n"
#: The shape of DeepSpeed's tests/unit/ops/test_op_builder.py, rewritten.
_HELPER = ("def check_arch(builder, expected):\n"
           "    with patch.dict(os.environ, {}, clear=False):\n"
           "        os.environ.pop('TORCH_CUDA_ARCH_LIST', None)\n"  # 8 (below the binding)
           "        with {patch}:\n"  # 9
           "            assert builder.compute_capability_args() == []\n"
           "            assert os.environ['TORCH_CUDA_ARCH_LIST'] == expected\n"  # 11
           "\n"
           "def test_sorted(builder):\n"
           "    with patch.dict(os.environ, {'TORCH_CUDA_ARCH_LIST': '8.0;7.5'}):\n"
           "        assert os.environ['TORCH_CUDA_ARCH_LIST'] == '7.5;8.0'\n")  # 15
_NOTE = "test of CUDA-only build code with torch.cuda's probes faked (patch at test_op_builder.py:{})"


def _findings(source: str, ruleset: RuleSet, path: str = "tests/unit/ops/test_op_builder.py",
              rule: str = "LL804") -> dict[int, Finding]:
    result = check_bytes(path, (_HEAD + source).encode(), ruleset)
    assert not result.errors, result.errors
    return {f.line: f for f in result.findings if f.rule_id == rule}


@pytest.mark.parametrize("patched", [
    "patch.object(CUDA_API, 'device_count', return_value=2)",
    "patch.object(CUDA_API, '_is_in_bad_fork', return_value=True)",
    "mock.patch.object(torch.cuda, 'get_device_capability', return_value=(8, 0))",
    "patch.object(builder_module.torch.cuda, 'device_count')",
    "patch('torch.cuda.device_count', return_value=0)",
    "mock.patch('op_builder.builder.torch.cuda.is_available', return_value=True)",
])
def test_a_test_module_faking_torch_cuda_reports_its_arch_list_apart(ruleset: RuleSet, patched: str) -> None:
    source = "CUDA_API = builder_module.torch.cuda\n" + _HELPER.replace("{patch}", patched)
    found = _findings(source, ruleset)
    assert sorted(found) == [8, 11, 15] and all(set_apart(f) for f in found.values())
    # the helper's own patch, then (a test without one) the module's first
    assert set(dict(found[8].handled).values()) == {_NOTE.format(9)}
    assert set(dict(found[15].handled).values()) == {_NOTE.format(9)}
    assert summarize([found[8]], ("cpu",))["cpu"].effort.high == 0


def test_a_monkeypatched_probe_in_a_pytest_fixture_counts(ruleset: RuleSet) -> None:
    source = ("def test_jit(monkeypatch, builder):\n"
              "    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 1)\n"  # 6
              "    os.environ.pop('TORCH_CUDA_ARCH_LIST', None)\n"
              "def test_home(monkeypatch):\n"
              "    monkeypatch.setattr('torch.cuda.is_available', lambda: False)\n"  # 9
              "    os.environ['CUDA_HOME'] = '/usr/local/cuda'\n")
    arch = _findings(source, ruleset)
    home = _findings(source, ruleset, rule="LL802")
    assert [set_apart(f) for f in (*arch.values(), *home.values())] == [True, True]
    assert set(dict(home[10].handled).values()) == {_NOTE.format(9)}


@pytest.mark.parametrize("patched", [
    "patch.object(builder, 'is_compatible', return_value=True)",  # patches something else
    "patch('torch.utils.cpp_extension.load')",
    "patch.object(torch.backends.cudnn, 'enabled', False)",
    "patch.dict(os.environ, {})",
])
def test_a_test_module_that_fakes_nothing_of_torch_cuda_keeps_its_findings(ruleset: RuleSet, patched: str) -> None:
    found = _findings(_HELPER.replace("{patch}", patched), ruleset)
    assert found and not any(f.severity == "info" or f.handled for f in found.values())


def test_non_test_modules_and_runtime_variables_keep_their_findings(ruleset: RuleSet) -> None:
    source = _HELPER.replace("{patch}", "patch.object(torch.cuda, 'device_count')")
    assert not any(set_apart(f) for f in _findings(source, ruleset, path="op_builder/builder.py").values())
    runtime = ("def test_visible():\n    with patch.object(torch.cuda, 'device_count', return_value=1):\n"
               "        os.environ['CUDA_VISIBLE_DEVICES'] = '0'\n")
    kept = _findings(runtime, ruleset, rule="LL800")
    assert kept and not any(set_apart(f) for f in kept.values())
