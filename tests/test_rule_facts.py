"""Hand-written rule packs agree with the vendor tables they cite.

The replacements in rules/python/{devices,device_strings,distributed,build,plugins,env}.yaml are typed by
hand, but where a vendor migration table states the same fact, these tests read the committed copy of
that table under scripts/data/ (never shared/) and fail when the two drift apart.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockin_lint.model import Rule
from lockin_lint.kb.ruleset import RuleSet

from .conftest import REPO

DATA = REPO / "scripts" / "data"

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


@lru_cache(maxsize=None)
def _yaml(relative: str) -> Any:
    text = (DATA / relative).read_text(encoding="utf-8")
    # SYCLomatic rule files start with a preprocessor `!include` line that is not YAML.
    text = "\n".join(line for line in text.splitlines() if not line.startswith("!include"))
    return yaml.load(text, Loader=_Loader)


@lru_cache(maxsize=None)
def _json(relative: str) -> Any:
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


def _section(mapping: dict[str, Any], prefix: str) -> Any:
    """A section whose key starts with ``prefix`` (the transcribed tables annotate some keys)."""
    found = [value for key, value in mapping.items() if key == prefix or key.startswith(prefix + " ")]
    assert len(found) == 1, f"expected one section {prefix!r}, found keys {sorted(mapping)}"
    return found[0]


def _mlu_map() -> dict[str, Any]:
    return _yaml("cambricon/torch_mlu_gpu2mlu_mapping.yaml")


def _mlu_patches() -> dict[str, Any]:
    return _mlu_map()["gpu_migration_runtime_patches_r2.4"]


def _mlu_direct() -> dict[str, str]:
    """torch_mlu's direct replacements with its ``c10d`` alias spelled out."""
    patches = _mlu_patches()
    alias = patches["aliases"]["c10d"]
    return {_expand(k, alias): v for k, v in patches["direct_replacements"].items()}


def _expand(name: str, c10d: str) -> str:
    return c10d + name[len("c10d") :] if name.startswith("c10d.") else name


def _npu_patches() -> dict[str, Any]:
    return _yaml("ascend/transfer_to_npu_patches.yaml")


def _npu_direct() -> dict[str, str]:
    return _section(_npu_patches(), "direct_replacements")


def _transplt_rules() -> dict[str, list[dict[str, Any]]]:
    return _json("ascend/msfmktransplt/transfer_rules/builtin_rules.json")["rules"]


def _mlu_api_list() -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for group in _yaml("cambricon/api_support_lists/r2.4_develop/torch_api.yaml"):
        for items in group.values():
            for item in items or ():
                entries[item["api"]] = item
    return entries


def _mlu_custom_ops() -> set[str]:
    return {item["api"] for group in _yaml("cambricon/api_support_lists/r2.4_develop/mlu_custom_operators.yaml")
            for items in group.values() for item in items}


def _sycl_rules(name: str) -> dict[str, dict[str, Any]]:
    return {rule["Rule"]: rule for rule in _yaml(f"syclomatic/python_rules/{name}.yaml")}


@pytest.fixture(scope="module")
def rules(ruleset: RuleSet) -> dict[str, Rule]:
    return ruleset.by_id()


def _replacement(rule: Rule, target: str, symbol: str | None = None) -> str:
    info = rule.info_for(symbol) if symbol else rule.default
    value = info.targets[target].replacement
    assert value, f"{rule.id} {symbol or ''} has no {target} replacement"
    return value


def _last(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


# -- device-api ---------------------------------------------------------------------------------------


def test_cuda_method_renames_match_vendor_tables(rules: dict[str, Rule]) -> None:
    npu, mlu = _npu_direct(), _mlu_direct()
    rule = rules["LL120"]
    assert _replacement(rule, "ascend") == f".{_last(npu['torch.Tensor.cuda'])}()"
    assert _last(npu["torch.nn.Module.cuda"]) == _last(npu["torch.Tensor.cuda"])
    assert _replacement(rule, "mlu") == f".{_last(mlu['torch.Tensor.cuda'])}()"
    assert _last(mlu["torch.nn.Module.cuda"]) == _last(mlu["torch.Tensor.cuda"])
    assert {"old_name": "cuda", "new_name": "npu"} in _transplt_rules()["FuncNameModifyRule"]
    # Every `.cuda` the vendors rewrite on tensors and modules is a qualified name of the rule.
    vendor_names = {k for k in (*npu, *mlu) if k.endswith(".cuda") and k.split(".")[1] in ("Tensor", "nn")}
    assert vendor_names <= set(rule.match.qualified)


def test_is_cuda_renames_match_vendor_tables(rules: dict[str, Rule]) -> None:
    rule = rules["LL121"]
    assert _replacement(rule, "ascend") == "." + _last(_npu_direct()["torch.Tensor.is_cuda"])
    assert _replacement(rule, "mlu") == "." + _last(_mlu_direct()["torch.Tensor.is_cuda"])
    assert {"old_name": "is_cuda", "new_name": "is_npu"} in _transplt_rules()["ReplaceAttributeRule"]


def test_musa_renames_follow_the_torch_musa_map(rules: dict[str, Rule]) -> None:
    device = _json("musa/general.json")["cuda"]
    assert _replacement(rules["LL200"], "musa") == device
    assert _replacement(rules["LL120"], "musa") == f".{device}()"
    assert _replacement(rules["LL121"], "musa") == f".is_{device}"


# -- device strings -----------------------------------------------------------------------------------


def test_named_device_strings_state_the_same_facts(rules: dict[str, Rule]) -> None:
    """LL201 is LL200's string in other places: same pattern, same triggers, same per-target facts."""
    named, direct = rules["LL201"], rules["LL200"]
    assert named.match.string_pattern == direct.match.string_pattern
    assert named.match.triggers == direct.match.triggers
    assert named.default == direct.default


def test_device_string_renames_match_vendor_tables(rules: dict[str, Rule]) -> None:
    rule = rules["LL200"]
    npu_pairs = dict(map(tuple, _npu_patches()["device_string_rewrite"]["string_replacements"]))
    mlu_pairs = dict(map(tuple, _mlu_patches()["device_string_rewrites"]))
    assert _replacement(rule, "ascend") == npu_pairs["cuda"]
    assert _replacement(rule, "mlu") == mlu_pairs["cuda"]
    replace_string = {(r["str_old"], r["str_new"]) for r in _transplt_rules()["ReplaceStringRule"]}
    assert ("cuda", npu_pairs["cuda"]) in replace_string
    assert ("cuda:", npu_pairs["cuda"] + ":") in replace_string


def test_device_string_contexts_cover_the_vendor_device_keywords(rules: dict[str, Rule]) -> None:
    contexts = rules["LL200"].match.string_contexts
    generic_keywords = {c.keyword for c in contexts if c.call is None and c.method is None and c.keyword}
    # device_id takes an index, not a device string.
    npu_keywords = set(_npu_patches()["device_string_rewrite"]["device_kwargs_list"]) - {"device_id"}
    assert npu_keywords <= generic_keywords
    positional_calls = {c.call for c in contexts if c.call and c.position is not None}
    npu_torch = set(_section(_npu_patches()["device_arg_whitelists"], "torch"))
    mlu_torch = set(_mlu_patches()["device_arg_rewrite_targets"]["torch"])
    # Functions both vendors rewrite whose *first* argument is the device.
    for name in ("set_default_device", "get_device_module", "autocast"):
        assert name in npu_torch | mlu_torch, name
        assert f"torch.{name}" in positional_calls, name


def test_device_string_pattern() -> None:
    pattern = re.compile(_yaml_rule("device_strings", "LL200")["match"]["strings"]["pattern"])
    for value in ("cuda", "cuda:0", "cuda:15"):
        assert pattern.search(value), value
    for value in ("cpu", "cuda:nccl", "cudagraph", "CUDA", "xcuda", "cuda:"):
        assert not pattern.search(value), value


def _yaml_rule(stem: str, rule_id: str) -> dict[str, Any]:
    data = yaml.load((REPO / "rules" / "python" / f"{stem}.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    return next(rule for rule in data["rules"] if rule["id"] == rule_id)


# -- distributed --------------------------------------------------------------------------------------


def test_nccl_backend_renames_match_vendor_tables(rules: dict[str, Rule]) -> None:
    rule = rules["LL300"]
    npu_pairs = dict(map(tuple, _npu_patches()["backend_string_rewrite"]["string_replacements"]))
    mlu_pairs = dict(map(tuple, _mlu_patches()["device_string_rewrites"]))
    assert _replacement(rule, "ascend") == npu_pairs["nccl"]
    assert _replacement(rule, "mlu") == mlu_pairs["nccl"]
    assert {"str_old": "nccl", "str_new": npu_pairs["nccl"], "strict": True} in _transplt_rules()["ReplaceStringRule"]


def test_nccl_backend_contexts_cover_the_functions_vendors_patch(rules: dict[str, Rule]) -> None:
    calls = {c.call for c in rules["LL300"].match.string_contexts if c.call}
    alias = _mlu_patches()["aliases"]["c10d"]
    patched = {
        _expand(name, alias)
        for name, wrapper in _mlu_patches()["wrapped_functions"].items()
        if wrapper == "replace_nccl_with_cncl" and not name.endswith("__init__")
    }
    patched |= {
        name for name, wrapper in _npu_patches()["wrapped_callables"]["targets"].items()
        if "hccl" in wrapper and not name.rsplit(".", 1)[-1].startswith("_")
    }
    assert patched and patched <= calls, sorted(patched - calls)


def test_nccl_backend_pattern() -> None:
    pattern = re.compile(_yaml_rule("distributed", "LL300")["match"]["strings"]["pattern"])
    for value in ("nccl", "cuda:nccl", "cpu:gloo,cuda:nccl", "cuda:nccl,cpu:gloo"):
        assert pattern.search(value), value
    for value in ("gloo", "ncclx", "mynccl", "cpu:gloo"):
        assert not pattern.search(value), value


def test_is_nccl_available_matches_vendor_tables(rules: dict[str, Rule]) -> None:
    rule = rules["LL301"]
    npu, mlu = _npu_direct(), _mlu_direct()
    assert _replacement(rule, "ascend") == npu["torch.distributed.is_nccl_available"]
    assert _replacement(rule, "mlu") == mlu["torch.distributed.is_nccl_available"]
    vendor_names = {k for k in (*npu, *mlu) if k.endswith(".is_nccl_available")}
    assert vendor_names <= set(rule.match.qualified)


def test_process_group_nccl_matches_vendor_tables(rules: dict[str, Rule]) -> None:
    rule = rules["LL302"]
    npu, mlu = _npu_direct(), _mlu_direct()
    assert _replacement(rule, "ascend") == npu["torch.distributed.ProcessGroupNCCL"]
    assert _replacement(rule, "mlu") == mlu["torch.distributed.ProcessGroupNCCL"]
    vendor_names = {k for k in (*npu, *mlu) if k.endswith(".ProcessGroupNCCL")}
    assert vendor_names <= set(rule.match.qualified)


# -- build --------------------------------------------------------------------------------------------


def test_cuda_extension_matches_vendor_tables(rules: dict[str, Rule]) -> None:
    rule = rules["LL600"]
    mlu_api = _mlu_api_list()["torch.utils.cpp_extension.CUDAExtension"]
    assert _replacement(rule, "mlu") == mlu_api["corresponding MLU api"]
    sycl = _sycl_rules("python_build_script_migration_rule_pytorch")["rule_CUDAExtension"]
    assert sycl["In"] == "CUDAExtension"
    assert rule.default.targets["xpu"].status != "missing"


def test_cpp_extension_load_matches_vendor_tables(rules: dict[str, Rule]) -> None:
    rule = rules["LL601"]
    api_list = _mlu_api_list()
    regex = _section(_mlu_map()["torch_gpu2mlu"], "r2.4_develop")["regex_dict"]
    mlu_replacement = _replacement(rule, "mlu")
    for name in rule.match.qualified:
        assert api_list[name]["corresponding MLU api"] == regex[name]
        assert _last(regex[name]) in mlu_replacement
    assert mlu_replacement.startswith(regex["torch.utils.cpp_extension.load"])
    sycl = _sycl_rules("python_build_script_migration_rule_pytorch")
    xpu = _replacement(rule, "xpu")
    for key in ("rule_cpp_extension_load_no_extra_cflags", "rule_cpp_extension_load_no_extra_ldflags"):
        added = re.search(r"(extra_\w+=\[[^\]]*\])", sycl[key]["Out"])
        assert added and added.group(1) in xpu, key


def test_cuda_home_matches_syclomatic(rules: dict[str, Rule]) -> None:
    common = _sycl_rules("python_build_script_migration_rule_pytorch_common")["rule_CUDA_HOME"]
    assert common["In"] == "CUDA_HOME"
    assert _last(_replacement(rules["LL602"], "xpu")) == common["Out"]
    ipex = _sycl_rules("python_build_script_migration_rule_ipex")["rule_cpp_extension_import_CUDA_HOME_only"]
    env = re.search(r"environ\.get\('(\w+)'\)", ipex["Out"])
    assert env and _replacement(rules["LL802"], "xpu") == env.group(1)


# -- plugins ------------------------------------------------------------------------------------------


def test_fused_optimizers_match_torch_mlu_custom_ops(rules: dict[str, Rule]) -> None:
    ops = _mlu_custom_ops()
    apex = rules["LL502"]
    for symbol in ("apex.optimizers.FusedAdam", "apex.optimizers.FusedLAMB", "apex.optimizers.FusedSGD"):
        assert _replacement(apex, "mlu", symbol) in ops, symbol
        assert _last(_replacement(apex, "mlu", symbol)) == _last(symbol), symbol
    assert _replacement(rules["LL514"], "mlu", "deepspeed.ops.lamb.FusedLamb") in ops


def test_fused_optimizers_match_ascend_advice(rules: dict[str, Rule]) -> None:
    advice = _json("ascend/msfmktransplt/resource/precision_performance_advice.json")["api_performance_dict"]

    def suggested(torch_api: str) -> str:
        found = re.search(r"Try modifying to ([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", advice[torch_api])
        assert found, torch_api
        return found.group(1)

    apex = rules["LL502"]
    assert _replacement(apex, "ascend", "apex.optimizers.FusedAdam").split()[0] == suggested("torch.optim.AdamW")
    assert _replacement(apex, "ascend", "apex.optimizers.FusedSGD").split()[0] == suggested("torch.optim.SGD")
    assert _replacement(apex, "ascend", "apex.optimizers.FusedLAMB") == suggested("torch.optim.Lamb")
    assert _replacement(rules["LL514"], "ascend", "deepspeed.ops.lamb.FusedLamb") == suggested("torch.optim.Lamb")


# -- env ----------------------------------------------------------------------------------------------

ENV_RULES = ("LL800", "LL801", "LL802", "LL803", "LL804", "LL805", "LL806")


def _env_map() -> dict[str, str]:
    return _section(_mlu_map(), "env_var_map_r2.4")["map"]


def _matching_env_rules(rules: dict[str, Rule], name: str) -> list[str]:
    return [rid for rid in ENV_RULES if re.search(rules[rid].match.string_pattern or "(?!)", name)]


def test_every_cuda_variable_torch_mlu_maps_is_reported_by_exactly_one_rule(rules: dict[str, Rule]) -> None:
    for name in _env_map():
        assert len(_matching_env_rules(rules, name)) == 1, (name, _matching_env_rules(rules, name))


def test_env_renames_match_torch_mlu_map(rules: dict[str, Rule]) -> None:
    env = _env_map()
    for rule_id, name in (("LL800", "CUDA_VISIBLE_DEVICES"), ("LL805", "PYTORCH_CUDA_ALLOC_CONF")):
        assert _matching_env_rules(rules, name) == [rule_id]
        assert rules[rule_id].default.targets["mlu"].status == "rename"
        assert _replacement(rules[rule_id], "mlu") == env[name]
    # An empty value means torch_mlu does not support the variable.
    assert env["CUDA_LAUNCH_BLOCKING"] == ""
    assert rules["LL801"].default.targets["mlu"].status == "missing"


def test_nccl_variable_prefixes_match_torch_mlu_map(rules: dict[str, Rule]) -> None:
    replacement = _replacement(rules["LL803"], "mlu")
    targets = {value for name, value in _env_map().items() if "NCCL_" in name and value}
    assert targets
    for value in targets:
        prefix = value.split("CNCL_")[0] + "CNCL_"
        assert prefix + "*" in replacement, value


def test_env_rule_triggers_occur_in_the_names_they_match(rules: dict[str, Rule]) -> None:
    for name in _env_map():
        for rule_id in _matching_env_rules(rules, name):
            assert any(token in name for token in rules[rule_id].match.triggers), (rule_id, name)


def test_copied_tables_are_the_ones_cited() -> None:
    """Each table a hand-written rule file cites in its header comment is committed under scripts/data."""
    cited: set[str] = set()
    for stem in ("devices", "device_strings", "distributed", "build", "plugins", "env"):
        header = (REPO / "rules" / "python" / f"{stem}.yaml").read_text(encoding="utf-8").split("\nrules:")[0]
        cited |= set(re.findall(r"\b((?:ascend|cambricon|musa|syclomatic)/[\w./-]+?\.(?:yaml|json))", header))
    missing = sorted(p for p in cited if not (DATA / p).is_file())
    assert len(cited) >= 10 and not missing, missing


STRING_RULES = ("LL200", "LL201", "LL300", *ENV_RULES)


@pytest.mark.parametrize("rule_id", STRING_RULES)
def test_string_rule_triggers_are_sound(rule_id: str, ruleset: RuleSet) -> None:
    """Any string a rule's pattern matches spells one of its triggers, so the prefilter never skips it."""
    rule = ruleset.by_id()[rule_id]
    pattern, triggers = rule.match.string_pattern, rule.match.triggers
    assert pattern and triggers

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(pattern, fullmatch=True))
    def check(value: str) -> None:
        assert any(token in value for token in triggers), (rule_id, value)

    check()
