"""Shared fixtures: the bundled rule set is loaded once per test session (it is immutable)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet, load_rules
from lockin_lint.model import Finding

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Keep the compiled-rules cache of the test run (and its subprocesses) out of the user's home."""
    import os
    import tempfile

    os.environ.setdefault("LOCKIN_LINT_CACHE_DIR", tempfile.mkdtemp(prefix="lockin-lint-cache-"))
FIXTURES = REPO / "fixtures"


def load_script(path: Path) -> ModuleType:
    """A script of scripts/ imported by path (it is not a package), registered under its stem because
    dataclasses look their module up while a class is built."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_rules()


def set_apart(finding: Finding) -> bool:
    """Is ``finding`` kept but reported apart (`model.reported_apart`): ``info``, every target handled?"""
    return finding.severity == "info" and all(info.status == "native" for info in finding.targets.values())


ALL_UNKNOWN = (
    "{rocm: {status: native}, ascend: {status: unknown}, mlu: {status: unknown}, musa: {status: unknown},"
    " xpu: {status: unknown}, mps: {status: missing}, cpu: {status: missing}}"
)


def rule_yaml(rule_id: str, match: str, category: str = "device-api", extra: str = "") -> str:
    """One rule in YAML with the boilerplate filled in, for tests that need their own rules."""
    return (
        f"  - id: {rule_id}\n    name: test-{rule_id.lower()}\n    category: {category}\n"
        f"    languages: [python]\n    severity: warning\n    message: '`{{symbol}}` test'\n"
        f"    match: {match}\n    targets: {ALL_UNKNOWN}\n{extra}"
        f"    docs: '## What it does\\nA rule for tests.'\n"
    )


def write_rules(directory: Path, *rules: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "rules.yaml").write_text("rules:\n" + "".join(rules), encoding="utf-8")
    return directory


def finding_at(source: str, ruleset: RuleSet, line: int, rule: str = "") -> Finding:
    """The one finding of ``source`` (checked as ``m.py``) at ``line`` whose rule id contains ``rule``."""
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and rule in f.rule_id]
    return found
