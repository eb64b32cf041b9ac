"""Findings in a test that is always skipped (analyzers/python_skipped_tests.py): kept, at ``info``,
every target handled with a note naming the decorator and its line, and out of the effort; a
conditional skip, a skip in the body, or a skip on another test changes nothing."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding
from lockin_lint.score.effort import summarize

_HEAD = "import pytest\nimport torch\nimport unittest\n"
_BODY = "    x = torch.rand(4, device='cuda')\n"


def _findings(source: str, ruleset: RuleSet) -> dict[int, Finding]:
    result = check_bytes("tests/test_m.py", (_HEAD + source).encode(), ruleset)
    assert not result.errors, result.errors
    return {f.line - _HEAD.count("\n"): f for f in result.findings if f.rule_id == "LL200"}


def _set_apart(finding: Finding) -> bool:
    return finding.severity == "info" and all(info.status == "native" for info in finding.targets.values())


@pytest.mark.parametrize("decorator", [
    "@unittest.skip('No longer support output fp16 param')",
    "@unittest.skip",
    "@pytest.mark.skip",
    "@pytest.mark.skip(reason='Not working; '\n    'needs investigation.')",
    "@pytest.mark.skip('TODO: fix the accuracy issue')",
])
def test_a_test_always_skipped_is_reported_apart(ruleset: RuleSet, decorator: str) -> None:
    source = (decorator + "\n@pytest.mark.parametrize('n', [1])\ndef test_a(n):\n" + _BODY
              + "def test_b():\n" + _BODY)
    found = _findings(source, ruleset)
    skipped, kept = sorted(found)
    assert _set_apart(found[skipped]) and not _set_apart(found[kept])
    spelled = decorator.split("(")[0].split("\n")[0]
    assert set(dict(found[skipped].handled).values()) == {
        f"in a test that is always skipped ({spelled}, test_m.py:{_HEAD.count(chr(10)) + 1})"}
    assert found[kept].severity == "warning" and not found[kept].handled


def test_a_skipped_class_covers_its_methods_and_stays_out_of_the_effort(ruleset: RuleSet) -> None:
    source = ("@unittest.skip('dropped feature')\nclass TestOld(unittest.TestCase):\n"
              "    def test_a(self):\n    " + _BODY + "class TestNew(unittest.TestCase):\n    def test_b(self):\n    "
              + _BODY)
    found = _findings(source, ruleset)
    assert [_set_apart(found[line]) for line in sorted(found)] == [True, False]
    skipped, kept = (summarize([found[line]], ("ascend",))["ascend"] for line in sorted(found))
    assert skipped.statuses["native"] == 1 and skipped.effort.high == 0
    assert kept.statuses["native"] == 0 and kept.statuses["rename"] == 1


@pytest.mark.parametrize("source", [
    "@unittest.skipIf(not torch.cuda.is_available(), 'gpu')\ndef test_a():\n" + _BODY,
    "@pytest.mark.skipif(not torch.cuda.is_available(), reason='gpu')\ndef test_a():\n" + _BODY,
    "@unittest.skipUnless(torch.cuda.is_available(), 'gpu')\ndef test_a():\n" + _BODY,
    "@pytest.mark.xfail(reason='flaky')\ndef test_a():\n" + _BODY,
    "@pytest.mark.skip(not torch.cuda.is_available(), reason='gpu')\ndef test_a():\n" + _BODY,
    "@unittest.skip(REASON)\ndef test_a():\n" + _BODY,
    "def test_a():\n    if not torch.cuda.is_available():\n        pytest.skip('gpu')\n" + _BODY,
    "class TestT:\n    @unittest.skip('old')\n    def test_old(self):\n        pass\n    def test_a(self):\n    " + _BODY,
    "pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='gpu')\ndef test_a():\n" + _BODY,
])
def test_near_misses_keep_their_severity(ruleset: RuleSet, source: str) -> None:
    found = _findings(source, ruleset)
    assert found and not any(_set_apart(f) or f.handled for f in found.values())


def test_an_unconditional_pytestmark_skips_the_module_tests_only(ruleset: RuleSet) -> None:
    source = ("pytestmark = [pytest.mark.slow, pytest.mark.skip(reason='broken')]\n"
              "def test_a():\n" + _BODY +  # 3: a test
              "class TestB:\n    def test_c(self):\n    " + _BODY +  # 6: a test class
              "def helper():\n" + _BODY)  # 8: no test
    found = _findings(source, ruleset)
    assert {line: _set_apart(f) for line, f in found.items()} == {3: True, 6: True, 8: False}
    assert set(dict(found[3].handled).values()) == {
        "in a test that is always skipped (pytestmark = pytest.mark.skip, test_m.py:4)"}


def _lines(source: str, ruleset: RuleSet) -> dict[int, list[Finding]]:
    """Every finding of ``source``, by line (after the head)."""
    result = check_bytes("tests/test_m.py", (_HEAD + source).encode(), ruleset)
    assert not result.errors, result.errors
    found: dict[int, list[Finding]] = {}
    for finding in result.findings:
        found.setdefault(finding.line - _HEAD.count("\n"), []).append(finding)
    return found


@pytest.mark.parametrize(("decorator", "spelled"), [
    ("@pytest.mark.skipif(True, reason='TODO: broken on nightly')", "@pytest.mark.skipif(True)"),
    ("@unittest.skipIf(True, 'always skipped')", "@unittest.skipIf(True)"),
    ("@pytest.mark.skipif(1, reason='off')", "@pytest.mark.skipif(1)"),
])
def test_a_skip_if_on_a_literal_truth_covers_the_test_and_its_own_decorators(
        ruleset: RuleSet, decorator: str, spelled: str) -> None:
    source = (decorator + "\n@pytest.mark.parametrize('device', ['cuda'])\n"  # 2: the test's own decorator
              "def test_a(device):\n" + _BODY  # 4: its body
              + "@pytest.mark.parametrize('device', ['cuda'])\ndef test_b(device):\n" + _BODY)  # 5, 7: kept
    found = _lines(source, ruleset)
    assert {line: all(_set_apart(f) for f in found[line]) for line in found} == {2: True, 4: True, 5: False, 7: False}
    note = f"in a test that is always skipped ({spelled}, test_m.py:{_HEAD.count(chr(10)) + 1})"
    assert {value for line in (2, 4) for f in found[line] for value in dict(f.handled).values()} == {note}


def test_a_skipped_decorated_test_covers_its_decorators_only(ruleset: RuleSet) -> None:
    source = ("@pytest.mark.parametrize('device', ['cuda'])\n"  # 1: a class decorator, the class not skipped
              "class TestT:\n"
              "    @pytest.mark.parametrize('dtype', [1])\n"
              "    @pytest.mark.skip(reason='broken')\n"
              "    @pytest.mark.parametrize('device', ['cuda'])\n"  # 5: the skipped method's own decorator
              "    def test_a(self, device):\n    " + _BODY  # 7
              + "    @pytest.mark.parametrize('device', ['cuda'])\n"  # 8: the next method's decorator
              "    def test_b(self, device):\n    " + _BODY)  # 10
    found = _lines(source, ruleset)
    assert {line: all(_set_apart(f) for f in found[line]) for line in found} == {
        1: False, 5: True, 7: True, 8: False, 10: False}


@pytest.mark.parametrize("decorator", [
    "@pytest.mark.skipif(False, reason='never')",
    "@unittest.skipIf(0, 'never')",
    "@pytest.mark.skipif(not torch.cuda.is_available(), reason='gpu')",
    "@pytest.mark.skipif(True or FLAG, reason='x')",
    "@pytest.mark.skipif(ALWAYS, reason='x')",
    "@pytest.mark.skipif(True, reason=REASON)",
    "@pytest.mark.skipif",
    "@unittest.skipUnless(True, 'x')",
    "@pytest.mark.xfail(True, reason='x')",
])
def test_a_skip_if_on_anything_but_a_literal_truth_keeps_the_test_and_its_decorators(
        ruleset: RuleSet, decorator: str) -> None:
    source = decorator + "\n@pytest.mark.parametrize('device', ['cuda'])\ndef test_a(device):\n" + _BODY
    found = _lines(source, ruleset)
    assert set(found) >= {2, 4} and not any(_set_apart(f) for fs in found.values() for f in fs)
