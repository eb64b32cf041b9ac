"""Python: one construct, one finding (analyzers/python_joins.py), positions at the offending token,
and the per-call replacements of CUDA-only libraries (LL409 NVML, LL410 CuPy, LL517/LL518 attention)."""

from __future__ import annotations

from lockin_lint.api import check_bytes, engine_for
from lockin_lint.fix.plan import FixOptions
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding, Settings, finding_dict

from .fixhelp import fix_in_memory


def _findings(source: str, ruleset: RuleSet) -> list[Finding]:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return list(result.findings)


def test_chained_cuda_on_its_own_line_is_reported_there(ruleset: RuleSet) -> None:
    [found] = _findings("y = (model(x)\n     .float()\n     .cuda())\n", ruleset)
    assert (found.line, found.column, found.end_line, found.end_column) == (3, 7, 3, 11)


def test_qualified_name_split_over_lines_is_reported_from_its_cuda_part(ruleset: RuleSet) -> None:
    # `(torch` alone on a line is not what an editor should underline; `.cuda` and what follows is.
    [paren] = _findings("import torch\n(torch\n .cuda\n .synchronize())\n", ruleset)
    assert (paren.line, paren.column, paren.end_line, paren.end_column) == (3, 3, 4, 14)
    [slash] = _findings("import torch\nx = torch.backends \\\n    .cudnn.benchmark\n", ruleset)
    assert (slash.line, slash.column, slash.end_line, slash.end_column) == (3, 6, 3, 21)
    [one_line] = _findings("import torch\ntorch.cuda.synchronize()\n", ruleset)
    assert (one_line.column, one_line.end_column) == (1, 23)  # a chain on one line keeps its whole span


def test_fix_still_rewrites_a_qualified_name_split_over_lines(ruleset: RuleSet) -> None:
    text = "import torch\nx = (torch.cuda\n     .memory_allocated())\n"
    fixed = fix_in_memory("m.py", text, ruleset, FixOptions(unsafe=True))
    assert "torch.cuda" not in fixed.after and len(fixed.fixed) == 1


def test_import_of_plugin_names_is_one_finding(ruleset: RuleSet) -> None:
    [found] = _findings("from apex.optimizers import FusedAdam, FusedLAMB\n", ruleset)
    assert found.rule_id == "LL500"
    assert found.extra_symbols == ("apex.optimizers.FusedAdam", "apex.optimizers.FusedLAMB")
    assert finding_dict(found)["extra_symbols"] == ["apex.optimizers.FusedAdam", "apex.optimizers.FusedLAMB"]


def test_device_choice_is_one_finding(ruleset: RuleSet) -> None:
    [found] = _findings('import torch\nd = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n', ruleset)
    assert found.rule_id == "LL200"
    assert found.extra_symbols == ("torch.cuda.is_available",)


def test_checks_elsewhere_on_the_line_stay_their_own(ruleset: RuleSet) -> None:
    found = _findings('import torch\nok = torch.cuda.is_available(); d = "cuda" if flag else "cpu"\n', ruleset)
    assert sorted(f.rule_id for f in found) == ["LL101"]  # `d` is no device name: only the check


def test_a_rule_selected_alone_is_not_joined_away(ruleset: RuleSet) -> None:
    result = check_bytes("m.py", b"from apex import amp\n", ruleset)
    assert {f.rule_id for f in result.findings} == {"LL500"}
    only = engine_for(ruleset, Settings(select=("LL501",))).check("m.py", b"from apex import amp\nx = amp.initialize(m)\n")
    assert [f.rule_id for f in only.findings] == ["LL501", "LL501"]


def test_nvml_memory_query_has_torch_replacements(ruleset: RuleSet) -> None:
    found = _findings("import pynvml\nfree = pynvml.nvmlDeviceGetMemoryInfo(h).free\npynvml.nvmlInit()\n", ruleset)
    by_symbol = {f.symbol: f for f in found}
    memory = by_symbol["pynvml.nvmlDeviceGetMemoryInfo"]
    assert memory.targets["xpu"].replacement == "torch.xpu.mem_get_info()"
    assert "amdsmi" in (by_symbol["pynvml.nvmlInit"].targets["rocm"].replacement or "")
    assert by_symbol["pynvml"].rule_id == "LL407"  # the import stays the blocker


def test_cupy_calls_are_reported_and_reads_are_not(ruleset: RuleSet) -> None:
    found = _findings("import cupy as cp\na = cp.asarray(x)\nt = cp.float32\nk = cp.RawKernel(src, 'k')\n", ruleset)
    assert [(f.line, f.rule_id, f.symbol) for f in found] == [
        (1, "LL400", "cupy"), (2, "LL410", "cupy.asarray"), (4, "LL701", "cupy.RawKernel")]
    assert found[1].targets["ascend"].replacement == "torch.as_tensor(x, device='npu')"


def test_attention_calls_point_to_sdpa(ruleset: RuleSet) -> None:
    found = _findings("from flash_attn.flash_attn_interface import flash_attn_varlen_func as fa\n"
                      "o = fa(q, k, v, cu, cu, m, m)\n"
                      "import xformers.ops as xops\no = xops.fmha.memory_efficient_attention(q, k, v)\n", ruleset)
    calls = [f for f in found if f.rule_id in ("LL517", "LL518")]
    assert [(f.line, f.symbol) for f in calls] == [
        (2, "flash_attn.flash_attn_interface.flash_attn_varlen_func"), (4, "xformers.ops.fmha.memory_efficient_attention")]
    assert all("scaled_dot_product_attention" in (f.portable.replacement if f.portable else "") for f in calls)
