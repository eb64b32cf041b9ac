"""The generated torch.cuda rule pack: no drift from its generator, and every symbol really matches.

Why: `rules/python/torch_cuda.generated.yaml` is written by `scripts/gen_python_rules.py` from the data
in `scripts/data/`. A hand edit would silently diverge from the data, and a symbol the analyzer cannot
resolve (or that two rules claim) would be dead weight; both are caught here, for every symbol.
No torch import: the generator reads the committed namespace dump.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lockin_lint.api import check_bytes
from lockin_lint.model import TARGETS, Finding
from lockin_lint.kb.ruleset import RuleSet, load_rules

from .conftest import load_script

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "rules" / "python" / "torch_cuda.generated.yaml"
GENERATOR = REPO / "scripts" / "gen_python_rules.py"


GEN = load_script(GENERATOR)
PACK: list[dict[str, Any]] = yaml.safe_load(GENERATED.read_text(encoding="utf-8"))["rules"]
KINDS: dict[str, str] = {name: symbol.kind for name, symbol in GEN.build().symbols.items()}


def _expected(rule: dict[str, Any], symbol: str) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The target table and portable list the YAML states for ``symbol`` (rule default + override)."""
    override = (rule.get("symbols") or {}).get(symbol, {})
    targets = {**rule["targets"], **override.get("targets", {})}
    portable = override.get("portable", rule.get("portable", []))
    return targets, portable


CASES = [
    pytest.param(rule, symbol, id=symbol)
    for rule in PACK
    for symbol in rule["match"]["qualified"]
]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def snippet(symbol: str, kind: str) -> bytes:
    """Line 2 uses ``symbol``: a call for callables, an attribute read for modules and values."""
    use = f"{symbol}()" if kind in ("function", "class") else f"value = {symbol}"
    return f"import torch\n{use}\n".encode()


def findings_on(data: bytes, line: int, ruleset: RuleSet) -> list[Finding]:
    result = check_bytes("snippet.py", data, ruleset)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.line == line]


def test_generated_file_has_no_drift() -> None:
    assert GEN.generate() == GENERATED.read_text(encoding="utf-8"), (
        "rules/python/torch_cuda.generated.yaml is stale or hand-edited: run python scripts/gen_python_rules.py"
    )


def test_coverage_section_has_no_drift() -> None:
    committed = (REPO / "docs" / "kb-coverage.md").read_text(encoding="utf-8")
    assert GEN.COVERAGE_MARKER in committed
    assert GEN.coverage_section(GEN.build()) == committed[committed.index(GEN.COVERAGE_MARKER):], (
        "the torch.cuda section of docs/kb-coverage.md is stale: run python scripts/gen_python_rules.py"
    )


def test_every_rule_lists_all_targets_and_required_docs() -> None:
    assert [r["id"] for r in PACK] == [f"LL{n}" for n in range(101, 113)]
    for rule in PACK:
        assert set(rule["targets"]) == set(TARGETS)
        for heading in ("## What it does", "## Why is this bad?", "## Use instead"):
            assert heading in rule["docs"], (rule["id"], heading)


def test_symbols_are_unique_across_rules() -> None:
    names = [s for rule in PACK for s in rule["match"]["qualified"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("rule", "symbol"), CASES)
def test_symbol_is_found_with_its_targets(rule: dict[str, Any], symbol: str, rules: RuleSet) -> None:
    found = findings_on(snippet(symbol, KINDS[symbol]), 2, rules)
    assert len(found) == 1, [(f.rule_id, f.symbol) for f in found]
    finding = found[0]
    assert (finding.rule_id, finding.symbol) == (rule["id"], symbol)
    targets, portable = _expected(rule, symbol)
    for target in TARGETS:
        got, want = finding.targets[target], targets[target]
        assert (got.status, got.replacement, got.min_torch) == (
            want["status"],
            want.get("replacement"),
            want.get("min_torch"),
        ), target
    first = (portable[0]["replacement"], portable[0].get("min_torch")) if portable else None
    got_portable = (finding.portable.replacement, finding.portable.min_torch) if finding.portable else None
    assert got_portable == first


@pytest.mark.parametrize(
    ("source", "rule_id", "symbol"),
    [
        ("from torch.cuda import amp\n", "LL105", "torch.cuda.amp"),
        ("import torch.cuda.amp as a\nwith a.autocast():\n    pass\n", "LL105", "torch.cuda.amp.autocast"),
        ("from torch import cuda\ncuda.synchronize()\n", "LL101", "torch.cuda.synchronize"),
        (
            "import torch\ntorch.backends.cuda.matmul.allow_tf32 = True\n",
            "LL112",
            "torch.backends.cuda.matmul.allow_tf32",
        ),
        ("import torch\ntorch.backends.cudnn.benchmark = True\n", "LL111", "torch.backends.cudnn.benchmark"),
        ("import torch\ns = torch.cuda.Stream()\ns.synchronize()\n", "LL102", "torch.cuda.Stream"),
    ],
)
def test_import_forms(source: str, rule_id: str, symbol: str, rules: RuleSet) -> None:
    result = check_bytes("snippet.py", source.encode(), rules)
    assert (rule_id, symbol) in {(f.rule_id, f.symbol) for f in result.findings}


@pytest.mark.parametrize(
    ("name", "rule_id"),
    [
        ("torch.cuda.some_future_api", "LL110"),
        ("torch.backends.cudnn.some_future_flag", "LL111"),
        ("torch.backends.cuda.some_future_flag", "LL112"),
    ],
)
def test_catch_all_prefixes_report_unknown(name: str, rule_id: str, rules: RuleSet) -> None:
    found = findings_on(f"import torch\n{name}()\n".encode(), 2, rules)
    assert [(f.rule_id, f.symbol) for f in found] == [(rule_id, name)]
    statuses = {t: info.status for t, info in found[0].targets.items()}
    assert statuses == {t: ("native" if t == "rocm" else "unknown") for t in TARGETS}


BUILT = GEN.build().symbols


@pytest.mark.parametrize(
    ("symbol", "target", "fact"),
    [
        # torch_npu's caching allocator raises c10's OutOfMemoryError (= torch.OutOfMemoryError), though
        # torch_npu.npu has no OutOfMemoryError: an ascend override with a replacement, cited in PROVENANCE.md
        ("torch.cuda.OutOfMemoryError", "ascend", ("equivalent", "torch.OutOfMemoryError", "2.4")),
        ("torch.cuda.OutOfMemoryError", "xpu", ("equivalent", "torch.OutOfMemoryError", "2.4")),
        # near misses: MPS and CPU allocators raise a plain RuntimeError on OOM, nothing to catch it with
        ("torch.cuda.OutOfMemoryError", "mps", ("missing", None, None)),
        ("torch.cuda.OutOfMemoryError", "cpu", ("missing", None, None)),
        # a name torch_npu lacks and no override covers is still `missing` from the vendor name list
        ("torch.cuda.clock_rate", "ascend", ("missing", "not in torch_npu 2.13", None)),
        # an override without a replacement keeps the table's replacement and changes only the status
        ("torch.cuda.DoubleTensor", "ascend", ("equivalent", "torch.npu.FloatTensor", None)),
    ],
)
def test_spot_checks(symbol: str, target: str, fact: tuple[str, str | None, str | None]) -> None:
    got = BUILT[symbol].targets[target]
    assert (got.status, got.replacement, got.min_torch) == fact
