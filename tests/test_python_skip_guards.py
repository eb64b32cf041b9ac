"""Tests pytest runs only off CUDA (analyzers/python_skip_guards.py). fixtures/python/pytest_skips.py
holds the decorator, helper and in-function skip shapes; these are the module-wide guards and the
limits of the helper reading."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_HEAD = "import pytest\nimport torch\nimport unittest\nfrom vllm.platforms import current_platform\n"
_BODY = "    torch.set_default_device('cuda')\n"


def _lines(source: str, ruleset: RuleSet) -> list[int]:
    result = check_bytes("tests/test_m.py", (_HEAD + source).encode(), ruleset)
    assert not result.errors, result.errors
    return sorted(f.line - _HEAD.count("\n") for f in result.findings if f.rule_id == "LL200")


def test_pytestmark_guards_the_module_tests_not_its_other_code(ruleset: RuleSet) -> None:
    source = ("pytestmark = [pytest.mark.slow, pytest.mark.skipif(not current_platform.is_rocm(), reason='rocm')]\n"
              "def test_a():\n" + _BODY +  # 3: dropped
              "class TestB:\n    def test_c(self):\n    " + _BODY +  # 6: dropped
              "torch.set_default_device('cuda')\n")  # 7: module code runs on import everywhere
    assert _lines(source, ruleset) == [7]


def test_a_cuda_only_pytestmark_guards_nothing(ruleset: RuleSet) -> None:
    source = "pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='gpu')\ndef test_a():\n" + _BODY
    assert _lines(source, ruleset) == [3]


def test_a_module_level_skip_guards_what_follows(ruleset: RuleSet) -> None:
    source = ("torch.set_default_device('cuda')\n"  # 1: before the skip
              "if not current_platform.is_rocm():\n    pytest.skip('ROCm only', allow_module_level=True)\n"
              "def test_a():\n" + _BODY)  # 5: dropped
    assert _lines(source, ruleset) == [1]


def test_unittest_skips_and_class_decorators(ruleset: RuleSet) -> None:
    source = ("@unittest.skipUnless(current_platform.is_rocm(), 'rocm')\nclass T(unittest.TestCase):\n"
              "    def test_a(self):\n    " + _BODY +  # 4: dropped
              "@unittest.skipIf(not torch.version.hip, 'hip')\ndef test_b():\n" + _BODY +  # 7: dropped
              "@unittest.skipUnless(torch.cuda.is_available(), 'gpu')\ndef test_c():\n" + _BODY)  # 10: kept
    assert _lines(source, ruleset) == [10]


def test_helpers_of_helpers_and_helpers_used_elsewhere(ruleset: RuleSet) -> None:
    rocm = "@pytest.mark.skipif(not current_platform.is_rocm(), reason='rocm')\n"
    source = ("def inner():\n" + _BODY +  # 2: only outer calls it: dropped
              "def outer():\n    inner()\n" +
              "def used_at_import():\n" + _BODY +  # 6: also called at module level: kept
              "DEVICE = used_at_import()\n" +
              "def unused():\n" + _BODY +  # 9: never called: kept
              rocm + "def test_a():\n    outer()\n    used_at_import()\n")
    assert _lines(source, ruleset) == [6, 9]
