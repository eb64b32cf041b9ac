#!/usr/bin/env python3
"""Generate ``rules/python/torch_cuda.generated.yaml`` (LL101-LL112) from the data in ``scripts/data``.

Why a generator: ``torch.cuda`` has ~250 public names and every vendor publishes its own support table.
Typing per-symbol statuses by hand would drift from both; instead every name comes from the torch 2.13
namespace dump, every vendor status from the vendor's own file, and the few judgement calls from
``scripts/data/curated_python.yaml`` (each with a reason). No torch import, no network.

``generate()`` returns the YAML text (tests regenerate in memory and compare byte for byte);
``python scripts/gen_python_rules.py`` writes the file and prints the summary.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

try:  # the C loader is much faster on the 300 kB Cambricon table
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

SCRIPTS = Path(__file__).resolve().parent
DATA = SCRIPTS / "data"
REPO = SCRIPTS.parent
OUTPUT = REPO / "rules" / "python" / "torch_cuda.generated.yaml"

TARGETS: tuple[str, ...] = ("rocm", "ascend", "mlu", "musa", "xpu", "mps", "cpu")
#: Targets whose facts come from the torch dump (same-name device modules).
DEVICE_TARGETS: tuple[str, ...] = ("xpu", "mps", "cpu")
#: Device modules consulted for the automatic ``torch.get_device_module(device).NAME`` rewrite.
DEVICE_MODULES: tuple[str, ...] = ("xpu", "mps", "cpu", "mtia")
#: Namespaces this pack covers (each with everything below it).
SCOPES: tuple[str, ...] = ("torch.cuda", "torch.backends.cuda", "torch.backends.cudnn")
#: Catch-all prefixes: a name below these that the dump does not know still gets a finding.
CATCH_ALL: dict[str, str] = {"torch.cuda": "LL110", "torch.backends.cudnn": "LL111", "torch.backends.cuda": "LL112"}
DEFAULT_RULE = "LL110"

TORCH_DUMP = "torch/torch-2.13.0-namespaces.json"
ASCEND_FUNC_RULES = "ascend/msfmktransplt/transfer_rules/builtin_rules_pytorch_npu.json"
ASCEND_COMMON_RULES = "ascend/msfmktransplt/transfer_rules/builtin_rules.json"
ASCEND_SUPPORTED = "ascend/msfmktransplt/resource/supported_op_2_8.json"
ASCEND_UNSUPPORTED = "ascend/msfmktransplt/resource/op_list_2_8.json"
ASCEND_PATCHES = "ascend/transfer_to_npu_patches.yaml"
MLU_SUPPORT = "cambricon/api_support_lists/r2.4_develop/torch_api.yaml"
MLU_MAPPING = "cambricon/torch_mlu_gpu2mlu_mapping.yaml"
MUSA_MAPS = (
    "musa/general.json",
    "musa/extra.json",
    "musa/include.json",
    "musa/dnn-naming.json",
    "musa/dnn-header.json",
)
SYCL_PYTHON = "syclomatic/python_rules/python_build_script_migration_rule_pytorch_common.yaml"
SYCL_PYTORCH_API = "syclomatic/pytorch_api_rules/pytorch_api.yaml"
CURATED = "curated_python.yaml"

_TORCH_NAME = re.compile(r"\btorch(?:\.[A-Za-z_]\w*)+")
_NPU_NAME = re.compile(r"torch_npu\.npu\.[A-Za-z_][\w.]*[A-Za-z0-9_]")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


# -- small value types ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """One target's verdict for one symbol."""

    status: str
    replacement: str | None = None
    min_torch: str | None = None


UNKNOWN = Fact("unknown")
NATIVE = Fact("native")
#: Rule default: what a member without data (e.g. a catch-all name) gets.
DEFAULT_TARGETS: dict[str, Fact] = {t: (NATIVE if t == "rocm" else UNKNOWN) for t in TARGETS}


@dataclass(frozen=True)
class Portable:
    replacement: str
    min_torch: str | None = None


@dataclass
class Symbol:
    """A qualified name the pack matches, with what the dump says about it."""

    name: str
    kind: str
    defined_in: str | None
    container: str
    rule: str = DEFAULT_RULE
    aliases: tuple[str, ...] = ()
    targets: dict[str, Fact] = field(default_factory=dict)
    portable: list[Portable] = field(default_factory=list)

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]

    def names(self) -> tuple[str, ...]:
        """The name itself first, then every other name of the same object (for table lookups)."""
        return (self.name, *self.aliases)


class GenerationError(Exception):
    """The data contradicts itself or the curated file names something torch does not have."""


# -- loading -------------------------------------------------------------------------------------
def _read_text(rel: str) -> str:
    return (DATA / rel).read_text(encoding="utf-8")


@cache
def _json(rel: str) -> Any:
    return json.loads(_read_text(rel))


@cache
def _yaml(rel: str) -> Any:
    return yaml.load(_read_text(rel), Loader=_Loader)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def under(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def in_scope(name: str) -> bool:
    return any(under(name, scope) for scope in SCOPES)


# -- the torch dump ------------------------------------------------------------------------------
class TorchDump:
    """Public names per namespace of torch 2.13 (from dump_torch_namespace.py)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.modules: dict[str, dict[str, Any]] = {k: v["names"] for k, v in data["modules"].items()}
        self.probes: dict[str, str | None] = data["probes"]
        self.version: str = data["_meta"]["torch_version"]

    def has(self, dotted: str) -> bool:
        """Whether ``dotted`` is a dumped namespace or a public name of one."""
        if dotted in self.modules:
            return True
        parent, _, leaf = dotted.rpartition(".")
        return leaf in self.modules.get(parent, {})

    def resolves(self, dotted: str) -> bool:
        """Like `has`, but also accepts deeper attribute chains below a known name."""
        parts = dotted.split(".")
        return any(self.has(".".join(parts[:size])) for size in range(len(parts), 0, -1))


def collect_symbols(dump: TorchDump, curated: dict[str, Any]) -> dict[str, Symbol]:
    """Every in-scope public name of the dump, plus the curated extras the dump's probes confirm."""
    symbols: dict[str, Symbol] = {}
    for module, names in sorted(dump.modules.items()):
        if not in_scope(module):
            continue
        if module not in SCOPES:
            parent, _, leaf = module.rpartition(".")
            listed = dump.modules.get(parent, {}).get(leaf, {})
            _add(symbols, Symbol(module, listed.get("kind", "module"), module, parent))
        for name, info in sorted(names.items()):
            _add(symbols, Symbol(f"{module}.{name}", info["kind"], info["defined_in"], module))
    for extra in curated["extra_symbols"]:
        name = extra["symbol"]
        kind = dump.probes.get(name)
        if kind is None:
            raise GenerationError(f"extra symbol {name} was not probed, or does not exist in torch {dump.version}")
        _add(symbols, Symbol(name, kind, None, name.rpartition(".")[0]))
    _link_aliases(symbols)
    return symbols


def _add(symbols: dict[str, Symbol], symbol: Symbol) -> None:
    symbols.setdefault(symbol.name, symbol)


def _link_aliases(symbols: dict[str, Symbol]) -> None:
    """Names of the same object (a re-export and its origin) share vendor facts and rewrites."""
    groups: dict[tuple[str, str], list[str]] = {}
    for symbol in symbols.values():
        if symbol.defined_in and symbol.kind in ("class", "function"):
            groups.setdefault((symbol.defined_in, symbol.leaf), []).append(symbol.name)
    for names in groups.values():
        for name in names:
            symbols[name].aliases = tuple(sorted(n for n in names if n != name))


# -- family assignment ---------------------------------------------------------------------------
def module_matches(symbol: Symbol, module: str) -> bool:
    """``symbol`` is ``module``, lies below it, or is an object defined there and re-exported."""
    return under(symbol.name, module) or (symbol.defined_in is not None and under(symbol.defined_in, module))


def family_matches(symbol: Symbol, family: dict[str, Any]) -> bool:
    if "module" in family:
        return module_matches(symbol, family["module"])
    if symbol.container != family["in_module"]:
        return False
    if "names" in family:
        return symbol.leaf in family["names"]
    return re.search(family["name_regex"], symbol.leaf) is not None


def assign_families(symbols: dict[str, Symbol], families: list[dict[str, Any]]) -> None:
    for symbol in symbols.values():
        symbol.rule = next((f["rule"] for f in families if family_matches(symbol, f)), DEFAULT_RULE)
        if symbol.rule == DEFAULT_RULE and not under(symbol.name, "torch.cuda"):
            raise GenerationError(f"{symbol.name}: no family matches and it is not under torch.cuda")


# -- rocm (HIPIFY tables) ------------------------------------------------------------------------
def hipify_table(rel: str) -> dict[str, str]:
    """CUDA name -> HIP name ('' when HIP has none) from a HIPIFY markdown table."""
    table: dict[str, str] = {}
    for line in _read_text(rel).splitlines():
        if not line.startswith("|`"):
            continue
        cells = line.split("|")
        table[cells[1].strip("`")] = cells[6].strip().strip("`") if len(cells) > 6 else ""
    return table


class Rocm:
    """ROCm builds keep torch.cuda; a namespace resting on CUDA APIs that HIP lacks is `missing`."""

    def __init__(self, curated: dict[str, Any]) -> None:
        self.backing: list[tuple[str, bool]] = []
        self.files = sorted({b["table"] for b in curated["rocm_backing"]})
        for backing in curated["rocm_backing"]:
            table = hipify_table(backing["table"])
            absent = [api for api in backing["apis"] if api not in table]
            if absent:
                raise GenerationError(f"{backing['table']} does not list {', '.join(absent)}")
            self.backing.append((backing["module"], all(table[api] for api in backing["apis"])))

    def fact(self, symbol: Symbol) -> Fact:
        for module, has_hip in self.backing:
            if module_matches(symbol, module):
                return NATIVE if has_hip else Fact("missing")
        return NATIVE


# -- ascend (msFmkTransplt + transfer_to_npu) ----------------------------------------------------
class Ascend:
    """torch.cuda.X -> torch_npu.npu.X facts from msFmkTransplt (PyTorch 2.8 lists) and transfer_to_npu."""

    files = (ASCEND_FUNC_RULES, ASCEND_COMMON_RULES, ASCEND_SUPPORTED, ASCEND_UNSUPPORTED, ASCEND_PATCHES)

    def __init__(self, curated: dict[str, Any]) -> None:
        rules = _json(ASCEND_FUNC_RULES)["rules"]["FuncNameModifyRule"]
        self.renames = {r["old_name"]: r["new_name"] for r in rules}
        self.supported: dict[str, str] = _json(ASCEND_SUPPORTED)["op_list"]
        self.unsupported = set(_json(ASCEND_UNSUPPORTED)["op_list"])
        patches = _yaml(ASCEND_PATCHES)
        self.direct: dict[str, str] = patches["direct_replacements (cuda/nccl name -> npu/hccl name)"]
        patched = patches["module_patches (torch.<name> replaced by torch_npu object)"]
        self.module_patches: dict[str, str] = {k: v for k, v in patched.items() if in_scope(k)}
        self._check_module_rename()
        self.overrides = {o["symbol"]: o["status"] for o in curated["ascend_overrides"]}

    def _check_module_rename(self) -> None:
        """msFmkTransplt's generic rule renames module torch.cuda to torch.npu: the patch table must agree."""
        rule = _json(ASCEND_COMMON_RULES)["rules"]["ModuleNameModifyRule"][0]
        if (rule["parent_module"], rule["old_name"], rule["new_name"]) != ("torch", "cuda", "npu"):
            raise GenerationError("msFmkTransplt no longer renames torch.cuda to torch.npu")
        if self.module_patches.get("torch.cuda") != "torch_npu.npu":
            raise GenerationError("transfer_to_npu no longer patches torch.cuda with torch_npu.npu")

    def _known(self, key: str) -> bool:
        tables = (self.renames, self.supported, self.direct, self.module_patches)
        return key in self.unsupported or any(key in t for t in tables)

    def _patched(self, key: str) -> str | None:
        """Name after transfer_to_npu's module patch (longest patched module prefix).

        Only a direct member of a patched module is derived: whether torch_npu mirrors a deeper
        (often private) submodule is not in the data.
        """
        for module in sorted(self.module_patches, key=len, reverse=True):
            if under(key, module):
                rest = key[len(module):]
                return self.module_patches[module] + rest if rest.count(".") <= 1 else None
        return None

    def _replacement(self, key: str) -> str | None:
        named = _NPU_NAME.search(self.supported.get(key, ""))
        return (
            self.renames.get(key)
            or self.direct.get(key)
            or self.module_patches.get(key)
            or (named.group(0) if named else None)
            or self._patched(key)
        )

    def fact(self, symbol: Symbol) -> Fact:
        key = next((k for k in symbol.names() if self._known(k)), None)
        if key is None:
            return UNKNOWN
        if key in self.unsupported:
            return Fact("missing")
        if under(key, "torch.backends"):
            return NATIVE  # torch-level switches that torch_npu honours: the same line works
        note = self.supported.get(key, "-").strip()
        replacement = self._replacement(key)
        status = "rename" if note in ("-", "") and replacement else "equivalent"
        status = self.overrides.get(symbol.name, status)
        return Fact(status, replacement)


# -- mlu (torch_mlu support list + gpu2mlu) ------------------------------------------------------
class Mlu:
    """Cambricon: the r2.4 API support list first, then torch_gpu2mlu's explicit renames."""

    files = (MLU_SUPPORT, MLU_MAPPING)

    def __init__(self) -> None:
        self.support: dict[str, dict[str, Any]] = {}
        for section in _yaml(MLU_SUPPORT):
            for entries in section.values():
                for entry in entries or ():
                    self.support.setdefault(entry["api"], entry)
        self.explicit = self._explicit_renames(_yaml(MLU_MAPPING))

    @staticmethod
    def _explicit_renames(mapping: dict[str, Any]) -> dict[str, str]:
        """Literal dotted renames: regex_dict keys that are plain names, namespace substitutions, direct ones."""
        renames: dict[str, str] = {}
        regex = mapping["torch_gpu2mlu"]["r2.4_develop (PyTorch 2.4)"]["regex_dict"]
        renames.update({k: v for k, v in regex.items() if _DOTTED.match(k) and in_scope(k)})
        patches = mapping["gpu_migration_runtime_patches_r2.4"]
        aliased = patches["namespace_aliasing"]["torch.cuda"].split()[0]
        for sub in patches["namespace_substitutions (torch.cuda.* names -> MLU names)"]["torch.cuda"]:
            renames[f"torch.cuda.{sub['cuda_name']}"] = f"{aliased}.{sub['mlu_name']}"
        renames.update({k: v for k, v in patches["direct_replacements"].items() if in_scope(k)})
        return renames

    def fact(self, symbol: Symbol) -> Fact:
        for key in symbol.names():
            entry = self.support.get(key)
            if entry is None:
                continue
            if not entry.get("supported"):
                return Fact("missing")
            target = entry.get("corresponding MLU api")
            if not target:
                return NATIVE
            return Fact("equivalent" if entry.get("limitations") else "rename", target)
        renamed = next((self.explicit[k] for k in symbol.names() if k in self.explicit), None)
        return Fact("rename", renamed) if renamed else UNKNOWN


# -- musa (torch_musa porting maps) --------------------------------------------------------------
class Musa:
    """torch_musa's maps are CUDA C/C++ identifiers; a Python name only counts if it is a key there."""

    files = MUSA_MAPS

    def __init__(self) -> None:
        self.map: dict[str, str] = {}
        for rel in MUSA_MAPS:
            self.map.update({k: v for k, v in _json(rel).items() if in_scope(k)})

    def fact(self, symbol: Symbol) -> Fact:
        renamed = next((self.map[k] for k in symbol.names() if k in self.map), None)
        return Fact("rename", renamed) if renamed else UNKNOWN


# -- replacement templates -----------------------------------------------------------------------
#: Legacy ``torch.cuda.<Dtype>Tensor(data)`` -> a device-explicit constructor.
LEGACY_TEMPLATE = "torch.tensor(data, dtype=torch.{dtype}, device={{device}})"


def render(template: str, device: str | None) -> str:
    """Fill the {device}/{device_type} placeholders: variable names when portable, a literal per target."""
    if device is None:
        return template.replace("{device_type}", "device_type").replace("{device}", "device")
    return template.replace("{device_type}", f"'{device}'").replace("{device}", f"'{device}'")


def legacy_dtype(symbol: Symbol, dtypes: dict[str, str]) -> str | None:
    """dtype of a dense legacy tensor class directly in torch.cuda (sparse ones have no simple rewrite)."""
    if symbol.rule == "LL109" and symbol.container == "torch.cuda":
        return dtypes.get(symbol.leaf)
    return None


# -- portable rewrites ---------------------------------------------------------------------------
class PortableTable:
    """Curated device-agnostic rewrites, checked against the dump, plus the automatic get_device_module one."""

    def __init__(self, dump: TorchDump, curated: dict[str, Any]) -> None:
        self.dump = dump
        self.entries: list[dict[str, Any]] = curated["portable"]
        self.api_min = {name: spec["min"] for name, spec in curated["api_min_torch"].items()}
        self.dtype_map: dict[str, str] = curated["legacy_tensor_dtypes"]["map"]
        for entry in self.entries:
            self.check_names(entry["replacement"])
        for name in self.api_min:
            self.check_names(name)

    def check_names(self, text: str) -> None:
        for name in _TORCH_NAME.findall(text):
            if not self.dump.resolves(name):
                raise GenerationError(f"{name} (in {text!r}) does not exist in torch {self.dump.version}")

    def min_torch(self, text: str) -> str | None:
        """Highest minimum over the torch APIs ``text`` uses (longest curated prefix per name)."""
        found: list[str] = []
        for name in _TORCH_NAME.findall(text):
            parts = name.split(".")
            for size in range(len(parts), 0, -1):
                version = self.api_min.get(".".join(parts[:size]))
                if version:
                    found.append(version)
                    break
        return max(found, key=_version_key) if found else None

    def _entries_for(self, symbol: Symbol) -> list[dict[str, Any]]:
        keys = set(symbol.names())
        return [e for e in self.entries if keys & set(e["symbols"])]

    def first_for(self, symbol: Symbol, device: str) -> dict[str, Any] | None:
        return next((e for e in self._entries_for(symbol) if device in e.get("works_on", ())), None)

    def _device_module_name(self, symbol: Symbol) -> str | None:
        """NAME for ``torch.get_device_module(device).NAME`` when enough device modules have it."""
        if symbol.kind not in ("function", "class"):
            return None
        for key in symbol.names():
            parent, _, leaf = key.rpartition(".")
            if parent == "torch.cuda":
                present = sum(leaf in self.dump.modules.get(f"torch.{m}", {}) for m in DEVICE_MODULES)
                return leaf if present >= 2 else None
        return None

    def for_symbol(self, symbol: Symbol) -> list[Portable]:
        texts = [render(e["replacement"], None) for e in self._entries_for(symbol)]
        dtype = legacy_dtype(symbol, self.dtype_map)
        if dtype:
            texts.append(render(LEGACY_TEMPLATE.format(dtype=dtype), None))
        name = self._device_module_name(symbol)
        if name:
            call = "()" if symbol.kind == "function" else ""
            texts.append(f"torch.get_device_module(device).{name}{call}")
        unique = list(dict.fromkeys(texts))
        return [Portable(text, self.min_torch(text)) for text in unique]


# -- xpu / mps / cpu (torch dump + curated) ------------------------------------------------------
class Sycl:
    """SYCLomatic's Python rules (``cuda.X`` -> ``xpu.X``); its C++ PyTorch rules are checked to be C++ only."""

    files = (SYCL_PYTHON, SYCL_PYTORCH_API)

    def __init__(self) -> None:
        self.map: dict[str, str] = {}
        for rule in _yaml(SYCL_PYTHON):
            source, out = str(rule.get("In", "")), str(rule.get("Out", ""))
            if source.startswith("cuda.") and _DOTTED.match(source) and _DOTTED.match(out):
                self.map["torch." + source] = "torch." + out
        python_level = [r["In"] for r in _yaml(SYCL_PYTORCH_API) if str(r.get("In", "")).startswith("torch.")]
        if python_level:
            raise GenerationError(f"{SYCL_PYTORCH_API} now has Python-level rules: {python_level}")
        self.confirmed = 0


class Devices:
    """xpu/mps/cpu: same-name rename from the dump, else a curated equivalent, else `missing`."""

    def __init__(self, dump: TorchDump, curated: dict[str, Any], sycl: Sycl, portable: PortableTable) -> None:
        self.dump = dump
        self.sycl = sycl
        self.portable = portable
        pattern = curated["device_name_pattern"]
        self.name_from, self.name_to = pattern["from"], pattern["to"]
        self.equivalents: dict[tuple[str, str], str] = {}
        for entry in curated["device_equivalents"]:
            for name in entry["symbols"]:
                for device in DEVICE_TARGETS:
                    if device in entry:
                        self.equivalents[(name, device)] = entry[device]
        legacy = curated["legacy_tensor_dtypes"]
        self.dtypes: dict[str, str] = legacy["map"]
        self.mps_unsupported = set(legacy["mps_unsupported"])

    def _same_name(self, symbol: Symbol, device: str) -> str | None:
        for key in symbol.names():
            if not under(key, "torch.cuda"):
                continue
            path = key[len("torch.cuda"):]
            parent, _, leaf = path.rpartition(".")
            for candidate in (path, f"{parent}.{leaf.replace(self.name_from, self.name_to[device])}"):
                dotted = f"torch.{device}{candidate}"
                if candidate and self.dump.has(dotted):
                    return dotted
        return None

    def _legacy(self, symbol: Symbol, device: str) -> str | None:
        dtype = legacy_dtype(symbol, self.dtypes)
        if dtype is None or (device == "mps" and dtype in self.mps_unsupported):
            return None
        return render(LEGACY_TEMPLATE.format(dtype=dtype), device)

    def fact(self, symbol: Symbol, device: str) -> Fact:
        renamed = self._same_name(symbol, device)
        if renamed:
            if device == "xpu" and self.sycl.map.get(symbol.name) == renamed:
                self.sycl.confirmed += 1
            return Fact("rename", renamed)
        if device == "xpu" and symbol.name in self.sycl.map:
            return Fact("rename", self.sycl.map[symbol.name])
        for key in symbol.names():
            if (key, device) in self.equivalents:
                return Fact("equivalent", self.equivalents[(key, device)])
        legacy = self._legacy(symbol, device)
        if legacy:
            return Fact("equivalent", legacy)
        entry = self.portable.first_for(symbol, device)
        if entry is not None:
            template = entry["replacement"]
            return Fact("equivalent", render(template, device), self.portable.min_torch(template))
        return Fact("missing")


# -- putting it together -------------------------------------------------------------------------
@dataclass
class Build:
    """Everything `generate` computed; kept for the summary and for tests."""

    symbols: dict[str, Symbol]
    curated: dict[str, Any]
    dump: TorchDump
    sycl_confirmed: int
    files: tuple[str, ...]


def check_curated(curated: dict[str, Any], symbols: dict[str, Symbol]) -> None:
    """Fail on a typo: every rule id and symbol the curated file names must exist."""
    unknown_rules = {f["rule"] for f in curated["families"]} - set(curated["rules"])
    named = [n for e in curated["portable"] + curated["device_equivalents"] for n in e["symbols"]]
    named += [o["symbol"] for o in curated["ascend_overrides"]]
    unknown_symbols = sorted(set(named) - set(symbols))
    if unknown_rules or unknown_symbols:
        raise GenerationError(f"{CURATED} names unknown rules {sorted(unknown_rules)} / symbols {unknown_symbols}")
    empty = sorted(set(curated["rules"]) - {s.rule for s in symbols.values()})
    if empty:
        raise GenerationError(f"rules without members: {empty}")


def build() -> Build:
    curated = _yaml(CURATED)
    dump = TorchDump(_json(TORCH_DUMP))
    symbols = collect_symbols(dump, curated)
    assign_families(symbols, curated["families"])
    check_curated(curated, symbols)
    portable = PortableTable(dump, curated)
    rocm, ascend, mlu, musa, sycl = Rocm(curated), Ascend(curated), Mlu(), Musa(), Sycl()
    devices = Devices(dump, curated, sycl, portable)
    for symbol in symbols.values():
        symbol.targets = {"rocm": rocm.fact(symbol), "ascend": ascend.fact(symbol), "mlu": mlu.fact(symbol),
                          "musa": musa.fact(symbol)}
        for device in DEVICE_TARGETS:
            symbol.targets[device] = devices.fact(symbol, device)
        symbol.portable = portable.for_symbol(symbol)
    files = (TORCH_DUMP, CURATED, *Ascend.files, *Mlu.files, *Musa.files, *Sycl.files, *rocm.files)
    return Build(symbols, curated, dump, sycl.confirmed, files)


# -- YAML emission -------------------------------------------------------------------------------
def q(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def fact_yaml(fact: Fact) -> str:
    parts = [f"status: {fact.status}"]
    if fact.replacement:
        parts.append(f"replacement: {q(fact.replacement)}")
    if fact.min_torch:
        parts.append(f"min_torch: {q(fact.min_torch)}")
    return "{" + ", ".join(parts) + "}"


def portable_yaml(item: Portable) -> str:
    parts = [f"replacement: {q(item.replacement)}"]
    if item.min_torch:
        parts.append(f"min_torch: {q(item.min_torch)}")
    return "{" + ", ".join(parts) + "}"


def symbol_yaml(symbol: Symbol) -> list[str]:
    """The ``symbols:`` entry of one symbol: only what differs from the rule default."""
    changed = [(t, symbol.targets[t]) for t in TARGETS if symbol.targets[t] != DEFAULT_TARGETS[t]]
    if not changed and not symbol.portable:
        return []
    lines = [f"      {symbol.name}:"]
    if changed:
        lines.append("        targets:")
        lines += [f"          {target}: {fact_yaml(fact)}" for target, fact in changed]
    if symbol.portable:
        lines.append("        portable:")
        lines += [f"          - {portable_yaml(p)}" for p in symbol.portable]
    return lines


def docs_yaml(meta: dict[str, Any], torch_version: str) -> list[str]:
    text = (
        f"## What it does\n{meta['what']}\n\n## Why is this bad?\n{meta['why_bad']}\n\n"
        f"## Use instead\n{meta['use_instead']}\n\n"
        "Per-target statuses are generated by `scripts/gen_python_rules.py` from the data in `scripts/data/`: "
        f"the public names of torch {torch_version} and its device modules, HIPIFY (rocm), msFmkTransplt and "
        "transfer_to_npu (ascend), the torch_mlu API support list and gpu2mlu maps (mlu), torch_musa's porting "
        "maps (musa) and SYCLomatic's Python rules (xpu). `unknown` means that data does not mention the name."
    )
    return ["    docs: |"] + [f"      {line}".rstrip() for line in text.splitlines()]


def rule_yaml(rule_id: str, members: list[Symbol], build_: Build) -> list[str]:
    meta = build_.curated["rules"][rule_id]
    lines = [
        f"  - id: {rule_id}",
        f"    name: {meta['name']}",
        "    category: device-api",
        "    languages: [python]",
        f"    severity: {meta['severity']}",
        f"    message: {q(meta['message'])}",
        "    match:",
        "      qualified:",
        *[f"        - {s.name}" for s in members],
    ]
    prefixes = sorted(p for p, r in CATCH_ALL.items() if r == rule_id)
    if prefixes:
        lines.append("      prefixes: [" + ", ".join(prefixes) + "]")
    lines.append("    targets:")
    lines += [f"      {t}: {fact_yaml(DEFAULT_TARGETS[t])}" for t in TARGETS]
    entries = [line for s in members for line in symbol_yaml(s)]
    if entries:
        lines += ["    symbols:", *entries]
    return lines + docs_yaml(meta, build_.dump.version.split("+")[0])


def by_rule(symbols: dict[str, Symbol]) -> dict[str, list[Symbol]]:
    grouped: dict[str, list[Symbol]] = {}
    for symbol in sorted(symbols.values(), key=lambda s: s.name):
        grouped.setdefault(symbol.rule, []).append(symbol)
    return dict(sorted(grouped.items()))


def summary(build_: Build) -> list[str]:
    """Counts for the header and the console: symbols per rule, statuses per target."""
    grouped = by_rule(build_.symbols)
    total = len(build_.symbols)
    lines = [f"{total} symbols in {len(grouped)} rules:"]
    for rule_id, members in grouped.items():
        lines.append(f"  {rule_id} {build_.curated['rules'][rule_id]['name']}: {len(members)}")
    lines.append("per-target statuses (a fact = any status but unknown):")
    for target in TARGETS:
        counts = Counter(s.targets[target].status for s in build_.symbols.values())
        facts = total - counts["unknown"]
        detail = ", ".join(f"{status} {counts[status]}" for status in sorted(counts))
        lines.append(f"  {target}: {facts} facts / {counts['unknown']} unknown ({detail})")
    with_portable = sum(1 for s in build_.symbols.values() if s.portable)
    lines.append(f"{with_portable} symbols have a device-agnostic rewrite (portable)")
    lines.append(f"xpu renames confirmed by SYCLomatic python rules: {build_.sycl_confirmed}")
    return lines


def header(build_: Build) -> list[str]:
    files = "\n".join(f"#   scripts/data/{f}" for f in build_.files)
    report = "\n".join(f"#   {line}" for line in summary(build_))
    text = (
        "# GENERATED FILE - DO NOT EDIT.\n"
        "# Written by scripts/gen_python_rules.py (run: python scripts/gen_python_rules.py) from\n"
        f"{files}\n"
        f"# torch names come from torch {build_.dump.version} (scripts/dump_torch_namespace.py); provenance of\n"
        "# every file is in scripts/data/PROVENANCE.md. tests/test_generated_python_rules.py fails on drift.\n"
        "#\n"
        "# Report:\n"
        f"{report}\n"
    )
    return text.splitlines()


def render_yaml(build_: Build) -> str:
    lines = [*header(build_), "rules:"]
    for rule_id, members in by_rule(build_.symbols).items():
        lines += rule_yaml(rule_id, members, build_)
    return "\n".join(lines) + "\n"


def generate() -> str:
    """The YAML text of rules/python/torch_cuda.generated.yaml (deterministic)."""
    return render_yaml(build())


def main() -> int:
    try:
        build_ = build()
    except GenerationError as exc:
        print(f"gen_python_rules: {exc}", file=sys.stderr)
        return 1
    text = render_yaml(build_)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(REPO)}")
    print("\n".join(summary(build_)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
