"""Every suggestion lockin-lint makes is true for the torch release and the vendor plugin it names.

Why: `--fix` will apply replacements as written. A `torch.*` name that a release lacks, a `min_torch`
below the release that added the API, or a vendor name the plugin does not have would turn into code
that fails. The facts are checked against data read from the real packages and committed with their
provenance: `scripts/data/torch/torch-api-history.json` (the torch 2.0 ... 2.13 wheels, written by
`scripts/gen_torch_history.py`) and `scripts/data/vendor/*-names.json` (torch_musa, torch_npu and
torch_mlu sources, written by `scripts/gen_vendor_names.py`). No torch, no network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import load_script

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "scripts" / "data"
RULE_FILES = sorted((REPO / "rules" / "python").glob("*.yaml"))
GEN = load_script(REPO / "scripts" / "gen_python_rules.py")
HISTORY = GEN.TorchHistory(json.loads((DATA / "torch" / "torch-api-history.json").read_text(encoding="utf-8")))

_TORCH_NAME = re.compile(r"\btorch(?:\.[A-Za-z_]\w*)+")
#: vendor spelling -> the attribute root its name list is keyed by
_VENDOR_ROOTS = {"torch_npu.npu": "torch_npu.npu", "torch.npu": "torch_npu.npu", "torch.musa": "torch.musa",
                 "torch_musa": "torch.musa", "torch.mlu": "torch.mlu", "torch_mlu.mlu": "torch.mlu",
                 "torch.backends.mlu": "torch.backends.mlu", "torch.backends.cnnl": "torch.backends.cnnl",
                 "torch.backends.mlufusion": "torch.backends.mlufusion"}
_VENDOR_NAME = re.compile(
    r"\b(torch_npu\.npu|torch\.npu|torch\.musa|torch_musa|torch\.mlu|torch_mlu\.mlu|torch\.backends\.mlu"
    r"|torch\.backends\.cnnl|torch\.backends\.mlufusion)((?:\.[A-Za-z_]\w*)+)")
_VENDOR_FILES = {"ascend": "torch_npu", "mlu": "torch_mlu", "musa": "torch_musa"}


def _version(text: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in (text or "0").split("."))


def suggestions() -> Iterator[tuple[str, str, str, str, str | None]]:
    """(file, where, kind, replacement, min_torch) for every target fact and portable entry of every Python rule."""
    for path in RULE_FILES:
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            scopes: list[tuple[str, dict[str, Any]]] = [(rule["id"], rule)]
            scopes += [(f"{rule['id']} {name}", body) for name, body in (rule.get("symbols") or {}).items()]
            for where, body in scopes:
                for target, fact in (body.get("targets") or {}).items():
                    if fact.get("replacement"):
                        yield path.name, f"{where} {target}", fact["status"], fact["replacement"], fact.get("min_torch")
                for option in body.get("portable") or ():
                    yield path.name, f"{where} portable", "portable", option["replacement"], option.get("min_torch")


SUGGESTIONS = list(suggestions())


def _patched_by_vendor(name: str) -> bool:
    """A torch.* name a plugin adds to torch (torch.distributed.is_hccl_available), per its name list."""
    parent, _, leaf = name.rpartition(".")
    return not HISTORY.current(name) and any(leaf in spaces.get(parent, ()) for spaces in _vendor_lists().values())


def _is_vendor(name: str) -> bool:
    return _VENDOR_NAME.match(name) is not None


def test_history_covers_every_release_from_2_0() -> None:
    versions = HISTORY.versions
    assert versions[0] == "2.0"
    assert [_version(v)[1] for v in versions] == list(range(len(versions))), versions
    assert _version(versions[-1]) >= (2, 13)


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("torch.xpu.memory_allocated", "2.5"),
        ("torch.xpu.mem_get_info", "2.6"),
        ("torch.xpu.get_stream_from_external", "2.7"),
        ("torch.xpu.can_device_access_peer", "2.10"),
        ("torch.xpu.graph", "2.11"),
        ("torch.xpu.memory._dump_snapshot", "2.11"),
        ("torch.cpu.is_initialized", "2.8"),
        ("torch.cpu.Event", "2.2"),
        ("torch.mps.compile_shader", "2.7"),
        ("torch.accelerator.memory.get_memory_info", "2.10"),
        ("torch.accelerator.set_device_index", "2.6"),
        ("torch.Event", "2.4"),
        ("torch.OutOfMemoryError", "2.4"),
        ("torch.utils.cpp_extension.SyclExtension", "2.7"),
        ("torch.utils.cpp_extension.SYCL_HOME", "2.6"),
        ("torch.get_device_module", "2.4"),
    ],
)
def test_history_knows_the_audited_first_releases(name: str, first: str) -> None:
    assert HISTORY.first(name) == first


def test_every_torch_name_in_a_suggestion_exists_and_is_gated_at_its_first_release() -> None:
    """The acceptance check of issue #12: no suggestion whose gate is below its first release."""
    problems = []
    for file, where, _, text, gate in SUGGESTIONS:
        for match in _TORCH_NAME.finditer(text):
            name = match.group(0)
            if _is_vendor(name) or _patched_by_vendor(name) or text[match.end():match.end() + 1] == "*":
                continue  # a vendor's name, or a wildcard such as torch._foreach_*
            if not HISTORY.current(name):
                problems.append(f"{file} {where}: {name} is not in the torch {HISTORY.newest} table ({text!r})")
            elif _version(gate or HISTORY.oldest) < _version(HISTORY.first(name)):
                problems.append(f"{file} {where}: {name} needs torch {HISTORY.first(name)}, gate is {gate} ({text!r})")
    assert not problems, "\n".join(problems)


def test_environment_variables_are_gated_at_the_first_release_that_reads_them() -> None:
    """PYTORCH_ALLOC_CONF is read from 2.9 (found in 2.9's libc10, absent from 2.8's)."""
    env = HISTORY.spaces["<environment>"]
    assert env["PYTORCH_ALLOC_CONF"][0] == "2.9"
    problems = []
    for file, where, _, text, gate in SUGGESTIONS:
        for var, (first, _) in env.items():
            if re.search(rf"\b{var}\b", text) and _version(gate or HISTORY.oldest) < _version(first):
                problems.append(f"{file} {where}: {var} is read from torch {first}, gate is {gate}")
    assert not problems, "\n".join(problems)


@cache
def _vendor_lists() -> dict[str, dict[str, set[str]]]:
    lists = {}
    for target, plugin in _VENDOR_FILES.items():
        data = json.loads((DATA / "vendor" / f"{plugin}-names.json").read_text(encoding="utf-8"))
        assert {"repository", "commit", "version", "how"} <= set(data["_meta"]), plugin
        lists[target] = {ns: set(names) for ns, names in data["namespaces"].items()}
    return lists


def test_every_vendor_name_in_a_replacement_is_in_the_vendor_name_list() -> None:
    vendor = _vendor_lists()
    by_root = {root: vendor[target] for root, target in (
        ("torch_npu.npu", "ascend"), ("torch.musa", "musa"), ("torch.mlu", "mlu"), ("torch.backends.mlu", "mlu"),
        ("torch.backends.cnnl", "mlu"), ("torch.backends.mlufusion", "mlu"))}
    problems = []
    for file, where, _, text, _ in SUGGESTIONS:
        for match in _VENDOR_NAME.finditer(text):
            root = _VENDOR_ROOTS[match.group(1)]
            dotted = root + match.group(2)
            spaces = by_root[root]
            parts = dotted.split(".")
            known = any(
                ".".join(parts[:size]) in spaces and parts[size] in spaces[".".join(parts[:size])]
                for size in range(len(parts) - 1, 0, -1)
            )
            if not known:
                problems.append(f"{file} {where}: {match.group(0)} is not in the vendor name list ({text!r})")
    assert not problems, "\n".join(problems)


def _generated_cuda_statuses(target: str) -> list[str]:
    build = GEN.build()
    return [s.targets[target].status for name, s in build.symbols.items() if GEN.under(name, "torch.cuda")]


def test_musa_unknown_is_at_most_40_percent_of_torch_cuda() -> None:
    statuses = _generated_cuda_statuses("musa")
    assert statuses.count("unknown") <= 0.4 * len(statuses)


def test_device_module_rewrites_keep_arguments_and_work_on_every_in_tree_device() -> None:
    """`torch.get_device_module(device).X` replaces the callee only, and only where xpu, mps and cpu have X."""
    seen = 0
    for _, where, _, text, gate in SUGGESTIONS:
        match = re.fullmatch(r"torch\.get_device_module\(device\)\.(\w+)", text)
        if match is None:
            continue
        seen += 1
        for device in ("cuda", "xpu", "mps", "cpu"):
            dotted = f"torch.{device}.{match.group(1)}"
            assert HISTORY.current(dotted), f"{where}: {text} offered but {dotted} does not exist"
            assert _version(gate) >= _version(HISTORY.first(dotted)), f"{where}: {text} gated {gate}"
    assert seen
    assert not [t for _, _, _, t, _ in SUGGESTIONS if re.search(r"get_device_module\(device\)\.\w+\(\)", t)]


def test_issue_12_wrong_statuses_are_fixed() -> None:
    facts = {(where, text) for _, where, _, text, _ in SUGGESTIONS}
    assert not any(w.endswith(" cpu") and t == ".is_cpu" for w, t in facts), ".is_cuda -> .is_cpu inverts the check"
    build = GEN.build()
    cpu_rng = build.symbols["torch.cuda.get_rng_state"].targets["cpu"]
    assert (cpu_rng.status, cpu_rng.replacement) == ("equivalent", "torch.get_rng_state()")
    snapshot = build.symbols["torch.cuda.memory._dump_snapshot"].targets["xpu"]
    assert (snapshot.status, snapshot.replacement, snapshot.min_torch) == (
        "rename", "torch.xpu.memory._dump_snapshot", "2.11")
