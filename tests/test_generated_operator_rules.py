"""The operator-coverage pack (LL901-LL904): no drift from its generator, hand-verified mappings, no noise.

Why: `rules/python/operators.generated.yaml` and `scripts/data/operators/operator_facts.generated.json`
are written by `scripts/gen_operator_facts.py` from committed data (the API -> aten map recorded with
torch by `scripts/trace_api_ops.py`, dispatch tables, vendor lists). CI has no torch, so the drift test
regenerates from the committed inputs; the mapping itself is pinned by a few cases checked by hand
against PyTorch's sources. Common operators must stay silent: this family reports only what a source
says is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockin_lint.api import check_bytes
from lockin_lint.model import TARGETS, Finding
from lockin_lint.kb.ruleset import RuleSet

from .conftest import load_script

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "rules" / "python" / "operators.generated.yaml"
FACTS = REPO / "scripts" / "data" / "operators" / "operator_facts.generated.json"
TRACE = REPO / "scripts" / "data" / "operators" / "api_ops-torch-2.13.0.json"
GENERATOR = REPO / "scripts" / "gen_operator_facts.py"

GEN = load_script(GENERATOR)
PACK: list[dict[str, Any]] = yaml.safe_load(GENERATED.read_text(encoding="utf-8"))["rules"]
FACTS_DATA: dict[str, Any] = json.loads(FACTS.read_text(encoding="utf-8"))
TRACED: dict[str, Any] = json.loads(TRACE.read_text(encoding="utf-8"))["apis"]


def findings(source: str, ruleset: RuleSet) -> list[Finding]:
    result = check_bytes("snippet.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.category == "operator"]


def test_generated_files_have_no_drift() -> None:
    rules_text, facts_text = GEN.generate()
    assert rules_text == GENERATED.read_text(encoding="utf-8"), (
        "rules/python/operators.generated.yaml is stale or hand-edited: run python scripts/gen_operator_facts.py"
    )
    assert facts_text == FACTS.read_text(encoding="utf-8"), (
        "operator_facts.generated.json is stale or hand-edited: run python scripts/gen_operator_facts.py"
    )


def test_rules_are_operator_rules_that_only_ever_say_missing() -> None:
    assert [r["id"] for r in PACK] == ["LL901", "LL902", "LL903", "LL904"]
    for rule in PACK:
        assert rule["category"] == "operator"
        assert rule["targets"] == {t: {"status": "native"} for t in TARGETS}
        for heading in ("## What it does", "## Why is this bad?", "## Use instead"):
            assert heading in rule["docs"], (rule["id"], heading)
        for symbol, override in rule["symbols"].items():
            # every fact says missing, for the newest list or for one torch release's (`versions`)
            facts = [entry for entry in override["targets"].values()]
            facts += [f for entry in facts for f in entry.get("versions", {}).values()]
            assert "missing" in {f["status"] for f in facts} <= {"missing", "native"}, (rule["id"], symbol)
            assert all(e["status"] == "missing" for e in override["targets"].values() if "versions" not in e)
            # no source in the data lists what ROCm or MUSA lack
            assert not {"rocm", "musa"} & set(override["targets"]), symbol


@pytest.mark.parametrize(
    ("api", "op"),
    [
        # checked by hand in PyTorch: ctc_loss is CompositeImplicitAutograd and calls _ctc_loss
        ("torch.nn.functional.ctc_loss", "aten::_ctc_loss"),
        # embedding_bag (CompositeImplicitAutograd) -> _embedding_bag when grad is required
        ("torch.nn.functional.embedding_bag", "aten::_embedding_bag"),
        ("torch.std_mean", "aten::std_mean.correction"),
        ("torch.nn.Linear", "aten::addmm"),
        ("torch.matmul", "aten::mm"),
        ("torch.nn.functional.relu", "aten::relu"),
        ("torch.nn.Conv2d", "aten::convolution"),
        ("torch.linalg.svd", "aten::_linalg_svd"),
        ("torch.nn.CTCLoss", "aten::_ctc_loss"),
    ],
)
def test_hand_verified_mapping(api: str, op: str) -> None:
    entry = TRACED[api]
    assert op in entry["ops"], sorted(entry["ops"])
    assert entry["how"] and entry["samples"] >= 1


@pytest.mark.parametrize(
    ("api", "target", "why"),
    [
        ("torch.nn.functional.ctc_loss", "mps", "_ctc_loss has CPU and CUDA kernels only"),
        ("torch.nn.CTCLoss", "mps", "same operator through the module"),
        ("torch.nn.GRU", "ascend", "op_list_2_8.json lists torch.nn.GRU"),
        ("torch.nn.functional.embedding_bag", "ascend", "op_list_2_8.json"),
        ("torch.std_mean", "ascend", "op_list_2_8.json"),
        ("torch.linalg.eig", "xpu", "linalg_eig is in torch-xpu-ops' CPU fallback_list"),
        ("torch.cudnn_convolution", "cpu", "cudnn_convolution has a CUDA kernel only"),
    ],
)
def test_known_missing_facts(api: str, target: str, why: str) -> None:
    assert target in FACTS_DATA["apis"][api]["missing"], why


def test_ascend_facts_are_kept_per_torch_version() -> None:
    maxpool = FACTS_DATA["apis"]["torch.nn.MaxPool2d"]["ascend"]
    assert maxpool == {"2.1": "missing", "2.6": "missing", "2.7": "native", "2.8": "native"}
    assert FACTS_DATA["_meta"]["ascend_default_version"] == "2.8"
    assert "ascend" not in FACTS_DATA["apis"]["torch.nn.MaxPool2d"]["missing"]  # 2.8 is the default


def test_ctc_loss_finding_names_the_operator_and_the_fallback(ruleset: RuleSet) -> None:
    found = findings("import torch.nn.functional as F\nF.ctc_loss(a, b, c, d)\n", ruleset)
    assert [(f.rule_id, f.symbol, f.line) for f in found] == [("LL902", "torch.nn.functional.ctc_loss", 2)]
    mps = found[0].targets["mps"]
    assert mps.status == "missing"
    assert "aten::_ctc_loss" in (mps.replacement or "") and "PYTORCH_ENABLE_MPS_FALLBACK=1" in (mps.replacement or "")
    assert {t for t, info in found[0].targets.items() if info.status != "native"} == {"mps"}


COMMON = """\
import torch
import torch.nn.functional as F
from torch import nn
x = torch.randn(4, 4)
y = torch.matmul(x, x) @ x
z = x.matmul(x).relu().sum().mean().std()
a = F.relu(F.linear(x, x))
b = F.softmax(x, dim=-1) + F.gelu(x) + F.layer_norm(x, (4,)) + F.dropout(x)
c = F.cross_entropy(x, torch.zeros(4, dtype=torch.long)) + F.mse_loss(x, x)
m = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.LayerNorm(4), nn.Dropout(), nn.Embedding(4, 4))
conv = nn.Conv2d(3, 3, 3)
bn = nn.BatchNorm2d(3)
attn = F.scaled_dot_product_attention(x, x, x)
t = torch.cat([x, x]).view(-1).reshape(2, -1).transpose(0, 1).contiguous()
w = torch.zeros(3) + torch.ones(3) * torch.arange(3)
"""


def test_common_operators_stay_silent(ruleset: RuleSet) -> None:
    assert findings(COMMON, ruleset) == []


@pytest.mark.parametrize(
    ("source", "symbol"),
    [
        ("from torch import nn\nm = nn.GRU(4, 4)\n", "torch.nn.GRU"),
        ("import torch.nn as tnn\nm = tnn.GRU(4, 4)\n", "torch.nn.GRU"),
        ("from torch.nn import GRU as G\nm = G(4, 4)\n", "torch.nn.GRU"),
        ("import torch\nm = torch.nn.modules.rnn.GRU\nn = torch.nn.GRU(4, 4)\n", "torch.nn.GRU"),
    ],
)
def test_module_classes_count_where_constructed(source: str, symbol: str, ruleset: RuleSet) -> None:
    found = findings(source, ruleset)
    assert [(f.symbol, f.line) for f in found] == [(symbol, source.count("\n"))]


def test_imports_and_isinstance_are_not_uses(ruleset: RuleSet) -> None:
    source = "from torch.nn import GRU\nfrom torch import nn\nok = isinstance(m, nn.GRU)\nkind = GRU\n"
    assert findings(source, ruleset) == []


def test_ambiguous_method_names_are_not_matched() -> None:
    methods = next(r for r in PACK if r["id"] == "LL904")["match"]["methods"]
    ambiguous = {n for entry in GEN._yaml(GEN.CURATED)["ambiguous_methods"] for n in entry["names"]}
    assert methods and not set(methods) & ambiguous


def test_every_symbol_is_found_with_its_targets(ruleset: RuleSet) -> None:
    """Each symbol fires where a list says missing: without --torch-version for the newest facts, and
    with the torch release of each per-version fact (Ascend's lists)."""
    from lockin_lint.api import check_bytes
    from lockin_lint.model import Settings

    for rule in PACK:
        for symbol, override in rule["symbols"].items():
            # a torch tensor: names other libraries share are reported on proven tensors only
            use = f"def f(x: torch.Tensor):\n    x.{symbol}()" if rule["id"] == "LL904" else f"{symbol}()"
            source = f"import torch\n{use}\n".encode()
            releases = {None} | {v for e in override["targets"].values() for v in e.get("versions", {})}
            for release in releases:
                want = {t: override["targets"].get(t, {"status": "native"}) for t in TARGETS}
                want_status = {t: e.get("versions", {}).get(release, e)["status"] if release else e["status"]
                               for t, e in want.items()}
                found = [f for f in check_bytes("t.py", source, ruleset, Settings(torch_version=release)).findings
                         if f.category == "operator"]
                if "missing" not in want_status.values():
                    assert found == [], (symbol, release)
                    continue
                assert len(found) == 1, (symbol, release, [(f.rule_id, f.symbol) for f in found])
                assert found[0].rule_id == rule["id"]
                assert {t: info.status for t, info in found[0].targets.items()} == want_status, (symbol, release)


def test_api_names_are_word_tokens_of_the_prefilter(ruleset: RuleSet) -> None:
    """Hundreds of API names must not cost one byte scan each: they are found as whole words."""
    from lockin_lint.kb.python_index import build_python_index
    from lockin_lint.kb.prefilter import is_candidate, present_triggers

    index = build_python_index(ruleset)
    assert {b"ctc_loss", b"embedding_bag", b"std_mean", b"GRU", b"unique_consecutive"} <= index.word_triggers
    assert len(index.triggers) < 20, index.trigger_text

    def candidate(source: str) -> bool:
        data = source.encode()
        return is_candidate(index, data, present_triggers(index, data))

    assert candidate("import torch.nn.functional as F\nF.ctc_loss(a, b, c, d)\n")
    assert not candidate("def my_ctc_loss_helper():\n    return std_mean_of_rows\n")
    assert not candidate("import torch\nx = torch.zeros(3)\n")


def test_an_alias_of_a_word_token_is_followed(ruleset: RuleSet) -> None:
    source = "from torch.nn.functional import ctc_loss as c\nloss = c(a, b, x, y)\n"
    assert [(f.symbol, f.line) for f in findings(source, ruleset)] == [("torch.nn.functional.ctc_loss", 2)]


def test_torch_version_picks_the_ascend_list_of_that_release(ruleset: RuleSet) -> None:
    """Ascend's lists differ per torch release: nn.MaxPool2d is unsupported with 2.1 only, nn.Transformer
    with 2.8 only. Without --torch-version the newest list speaks; an API native on every configured
    target is not reported at all."""
    from lockin_lint.model import Settings

    source = b"import torch.nn as nn\npool = nn.MaxPool2d(2)\nmodel = nn.Transformer()\n"

    def ascend(version: str | None) -> dict[str, str]:
        found = check_bytes("m.py", source, ruleset, Settings(torch_version=version)).findings
        return {f.symbol: f.targets["ascend"].status for f in found if f.category == "operator"}

    assert ascend(None) == {"torch.nn.Transformer": "missing"}
    assert ascend("2.8") == ascend("2.9") == ascend(None)
    assert ascend("2.1") == {"torch.nn.MaxPool2d": "missing"}
    assert ascend("2.7") == {}
    only_rocm = check_bytes("m.py", source, ruleset, Settings(targets=("rocm",))).findings
    assert [f for f in only_rocm if f.category == "operator"] == []
