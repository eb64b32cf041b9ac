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
from collections.abc import Callable
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
COVERAGE = REPO / "docs" / "kb-coverage.md"
#: The same marker as scripts/gen_cuda_rules.py: the CUDA part comes before it, this generator's after.
COVERAGE_MARKER = "<!-- torch.cuda section: written by scripts/gen_python_rules.py -->"
STATUSES: tuple[str, ...] = ("native", "rename", "equivalent", "missing", "unknown")
#: Statuses of the 250 torch.cuda.* symbols per target before issue #12 (commit ec8d521, when musa had
#: no Python facts and no torch release history was read); kept for the before/after table.
BEFORE_ISSUE_12: dict[str, dict[str, int]] = {
    "rocm": {"native": 247, "missing": 3},
    "ascend": {"rename": 102, "equivalent": 18, "missing": 3, "unknown": 127},
    "mlu": {"rename": 100, "equivalent": 6, "missing": 38, "unknown": 106},
    "musa": {"unknown": 250},
    "xpu": {"rename": 99, "equivalent": 31, "missing": 120},
    "mps": {"rename": 21, "equivalent": 34, "missing": 195},
    "cpu": {"rename": 20, "equivalent": 27, "missing": 203},
}

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
TORCH_HISTORY = "torch/torch-api-history.json"
#: Vendor plugin name lists (scripts/gen_vendor_names.py): target -> (file, attribute root used in
#: replacements, the word CUDA becomes in class names).
VENDOR_NAMES: dict[str, tuple[str, str, str]] = {
    "musa": ("vendor/torch_musa-names.json", "torch.musa", "MUSA"),
    "ascend": ("vendor/torch_npu-names.json", "torch_npu.npu", "NPU"),
    "mlu": ("vendor/torch_mlu-names.json", "torch.mlu", "MLU"),
}
#: Device modules a ``torch.get_device_module(device).NAME`` rewrite must work on to be offered: every
#: in-tree backend module lockin-lint has a target for (cuda is the symbol's own module).
PORTABLE_DEVICE_MODULES: tuple[str, ...] = ("xpu", "mps", "cpu")
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


# -- the torch release history -------------------------------------------------------------------
class TorchHistory:
    """First and last torch release (2.0 on) with each public name (scripts/gen_torch_history.py)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.spaces: dict[str, dict[str, list[str]]] = data["namespaces"]
        self.versions: list[str] = data["_meta"]["versions"]
        self.oldest, self.newest = self.versions[0], self.versions[-1]

    def span(self, dotted: str) -> list[str] | None:
        """[first, last] of ``dotted``; a deeper attribute chain takes the span of its first recorded part."""
        parts = dotted.split(".")
        for size in range(len(parts) - 1, 0, -1):
            namespace = ".".join(parts[:size])
            if namespace in self.spaces:
                return self.spaces[namespace].get(parts[size])
        return None

    def current(self, dotted: str) -> bool:
        """``dotted`` exists in the newest release read."""
        span = self.span(dotted)
        return span is not None and span[1] == self.newest

    def first(self, dotted: str) -> str | None:
        span = self.span(dotted)
        return span[0] if span else None

    def gate(self, dotted: str) -> str | None:
        """The ``min_torch`` a suggestion of ``dotted`` needs (None when every release read has it)."""
        first = self.first(dotted)
        return first if first and first != self.oldest else None


def max_version(*versions: str | None) -> str | None:
    present = [v for v in versions if v]
    return max(present, key=_version_key) if present else None


def is_vendor_name(dotted: str) -> bool:
    return any(under(dotted, root) for _, root, _ in VENDOR_NAMES.values())


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

    def __init__(self, curated: dict[str, Any], min_torch: Callable[[str], str | None]) -> None:
        rules = _json(ASCEND_FUNC_RULES)["rules"]["FuncNameModifyRule"]
        self.renames = {r["old_name"]: r["new_name"] for r in rules}
        self.supported: dict[str, str] = _json(ASCEND_SUPPORTED)["op_list"]
        self.unsupported = set(_json(ASCEND_UNSUPPORTED)["op_list"])
        patches = _yaml(ASCEND_PATCHES)
        self.direct: dict[str, str] = patches["direct_replacements (cuda/nccl name -> npu/hccl name)"]
        patched = patches["module_patches (torch.<name> replaced by torch_npu object)"]
        self.module_patches: dict[str, str] = {k: v for k, v in patched.items() if in_scope(k)}
        self._check_module_rename()
        self.overrides: dict[str, Fact] = {}
        for o in curated["ascend_overrides"]:
            replacement = o.get("replacement")
            gate = min_torch(replacement) if replacement else None
            self.overrides[o["symbol"]] = Fact(o["status"], replacement, gate)

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
        override = self.overrides.get(symbol.name)
        if key is None:
            # a curated fact with its replacement stands for a name the tables do not list (source cited)
            return override if override is not None and override.replacement else UNKNOWN
        if key in self.unsupported:
            return Fact("missing")
        if under(key, "torch.backends"):
            return NATIVE  # torch-level switches that torch_npu honours: the same line works
        note = self.supported.get(key, "-").strip()
        replacement = self._replacement(key)
        status = "rename" if note in ("-", "") and replacement else "equivalent"
        if override is not None:
            if override.replacement:
                return override
            status = override.status
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


# -- vendor plugin name lists (musa, ascend, mlu) -----------------------------------------------------
class VendorNames:
    """The public names of a vendor's device module, read from its source (scripts/gen_vendor_names.py).

    Fills only what the vendor tables leave ``unknown``: the same name on the vendor module (``CUDA`` in a
    class name becomes the vendor's word: CUDAGraph -> MUSAGraph) is a ``rename``; a ``torch.cuda``
    function, class or submodule the module lacks is ``missing`` at the recorded plugin version. Legacy
    tensor types (LL109) and plain values are never declared missing: plugins create the former in C++.
    """

    def __init__(self, target: str, dump: TorchDump) -> None:
        rel, self.root, self.word = VENDOR_NAMES[target]
        self.rel = rel
        data = _json(rel)
        self.spaces: dict[str, set[str]] = {ns: set(names) for ns, names in data["namespaces"].items()}
        self.plugin: str = data["_meta"]["plugin"]
        self.version: str = data["_meta"]["version"]
        self.dump = dump
        self.filled: Counter[str] = Counter()

    def has(self, dotted: str) -> bool:
        parent, _, leaf = dotted.rpartition(".")
        return leaf in self.spaces.get(parent, ())

    def _module_matches(self, cuda_module: str, vendor_module: str) -> bool:
        """A submodule counts as the same module when it has at least half of the CUDA one's API."""
        members = [n for n, info in self.dump.modules.get(cuda_module, {}).items()
                   if info["kind"] in ("function", "class")]
        vendor = self.spaces.get(vendor_module, set())
        return not members or 2 * sum(m in vendor for m in members) >= len(members)

    def same_name(self, symbol: Symbol) -> str | None:
        for key in symbol.names():
            if not under(key, "torch.cuda") or key == "torch.cuda":
                continue
            rest = key[len("torch.cuda"):]
            parent, _, leaf = rest.rpartition(".")
            for candidate in dict.fromkeys((rest, f"{parent}.{leaf.replace('CUDA', self.word)}")):
                dotted = self.root + candidate
                if not self.has(dotted):
                    continue
                if symbol.kind == "module" and not self._module_matches(key, dotted):
                    continue
                return dotted
        return None

    def fact(self, symbol: Symbol, known: Fact) -> Fact:
        if known.status != "unknown":
            return known
        renamed = self.same_name(symbol)
        if renamed:
            self.filled["rename"] += 1
            return Fact("rename", renamed)
        if (under(symbol.name, "torch.cuda") and symbol.rule != "LL109"
                and symbol.kind in ("function", "class", "module")):
            self.filled["missing"] += 1
            return Fact("missing", f"not in {self.plugin} {self.version}")
        return known


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

    def __init__(self, dump: TorchDump, history: TorchHistory, vendors: dict[str, VendorNames],
                 curated: dict[str, Any]) -> None:
        self.dump = dump
        self.history = history
        self.vendors = vendors
        self.entries: list[dict[str, Any]] = curated["portable"]
        self.api_min = {name: spec["min"] for name, spec in curated["api_min_torch"].items()}
        self.dtype_map: dict[str, str] = curated["legacy_tensor_dtypes"]["map"]
        for entry in self.entries:
            self.check_names(entry["replacement"])
        for name, version in self.api_min.items():
            self.check_names(name)
            first = history.first(name)
            if first and _version_key(version) <= _version_key(first):
                raise GenerationError(f"api_min_torch {name}: {version} is not above its first release {first}; "
                                      f"drop the entry, the history gives it")

    def check_names(self, text: str) -> None:
        for name in _TORCH_NAME.findall(text):
            if is_vendor_name(name):
                continue
            if not (self.dump.resolves(name) and self.history.current(name)):
                raise GenerationError(f"{name} (in {text!r}) does not exist in torch {self.history.newest}")

    def min_torch(self, text: str) -> str | None:
        """Highest first release over the torch APIs ``text`` uses (history), raised by curated overrides."""
        found: list[str | None] = []
        for name in _TORCH_NAME.findall(text):
            if is_vendor_name(name):
                continue
            found.append(self.history.gate(name))
            parts = name.split(".")
            found += [self.api_min.get(".".join(parts[:size])) for size in range(len(parts), 0, -1)]
        return max_version(*found)

    def _entries_for(self, symbol: Symbol) -> list[dict[str, Any]]:
        keys = set(symbol.names())
        return [e for e in self.entries if keys & set(e["symbols"])]

    def first_for(self, symbol: Symbol, device: str) -> dict[str, Any] | None:
        return next((e for e in self._entries_for(symbol) if device in e.get("works_on", ())), None)

    def device_module_leaf(self, symbol: Symbol) -> str | None:
        """NAME when ``symbol`` is a function or class directly in torch.cuda (a get_device_module candidate)."""
        if symbol.kind not in ("function", "class"):
            return None
        for key in symbol.names():
            parent, _, leaf = key.rpartition(".")
            if parent == "torch.cuda":
                return leaf
        return None

    def device_support(self, leaf: str) -> dict[str, str | None]:
        """Device module -> first torch release having NAME (in-tree modules) or the plugin version (vendors).

        Devices whose module lacks NAME are left out.
        """
        support: dict[str, str | None] = {}
        for device in ("cuda", *DEVICE_MODULES):
            dotted = f"torch.{device}.{leaf}"
            if self.history.current(dotted):
                support[device] = self.history.first(dotted)
        for target, vendor in self.vendors.items():
            if vendor.has(f"{vendor.root}.{leaf}"):
                support[target] = f"{vendor.plugin} {vendor.version}"
        return support

    def _device_module_rewrite(self, symbol: Symbol) -> Portable | None:
        """``torch.get_device_module(device).NAME`` only when every in-tree device module has NAME.

        The rewrite replaces the callee and keeps the call's own arguments; its gate is the newest first
        release over get_device_module and NAME on cuda, xpu, mps and cpu.
        """
        leaf = self.device_module_leaf(symbol)
        if leaf is None:
            return None
        support = self.device_support(leaf)
        devices = ("cuda", *PORTABLE_DEVICE_MODULES)
        if not all(d in support for d in devices):
            return None
        text = f"torch.get_device_module(device).{leaf}"
        return Portable(text, max_version(self.min_torch(text), *(support[d] for d in devices)))

    def for_symbol(self, symbol: Symbol) -> list[Portable]:
        texts = [render(e["replacement"], None) for e in self._entries_for(symbol)]
        dtype = legacy_dtype(symbol, self.dtype_map)
        if dtype:
            texts.append(render(LEGACY_TEMPLATE.format(dtype=dtype), None))
        unique = list(dict.fromkeys(texts))
        found = [Portable(text, self.min_torch(text)) for text in unique]
        rewrite = self._device_module_rewrite(symbol)
        if rewrite and rewrite.replacement not in unique:
            found.append(rewrite)
        return found


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

    def __init__(self, dump: TorchDump, history: TorchHistory, curated: dict[str, Any], sycl: Sycl,
                 portable: PortableTable) -> None:
        self.dump = dump
        self.history = history
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
                        portable.check_names(entry[device])
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
                if candidate and self.history.current(dotted):
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
            return Fact("rename", renamed, self.history.gate(renamed))
        if device == "xpu" and symbol.name in self.sycl.map:
            renamed = self.sycl.map[symbol.name]
            return Fact("rename", renamed, self.portable.min_torch(renamed))
        for key in symbol.names():
            if (key, device) in self.equivalents:
                text = self.equivalents[(key, device)]
                return Fact("equivalent", text, self.portable.min_torch(text))
        legacy = self._legacy(symbol, device)
        if legacy:
            return Fact("equivalent", legacy, self.portable.min_torch(legacy))
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
    history: TorchHistory
    vendors: dict[str, VendorNames]
    portable: PortableTable


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
    history = TorchHistory(_json(TORCH_HISTORY))
    vendors = {target: VendorNames(target, dump) for target in VENDOR_NAMES}
    portable = PortableTable(dump, history, vendors, curated)
    for override in curated["ascend_overrides"]:
        portable.check_names(override.get("replacement", ""))
    rocm, ascend, mlu, musa, sycl = Rocm(curated), Ascend(curated, portable.min_torch), Mlu(), Musa(), Sycl()
    devices = Devices(dump, history, curated, sycl, portable)
    for symbol in symbols.values():
        tables = {"rocm": rocm.fact(symbol), "ascend": ascend.fact(symbol), "mlu": mlu.fact(symbol),
                  "musa": musa.fact(symbol)}
        symbol.targets = {t: (vendors[t].fact(symbol, f) if t in vendors else f) for t, f in tables.items()}
        for device in DEVICE_TARGETS:
            symbol.targets[device] = devices.fact(symbol, device)
        symbol.portable = portable.for_symbol(symbol)
    files = (TORCH_DUMP, TORCH_HISTORY, CURATED, *Ascend.files, *Mlu.files, *Musa.files,
             *(rel for rel, _, _ in VENDOR_NAMES.values()), *Sycl.files, *rocm.files)
    return Build(symbols, curated, dump, sycl.confirmed, files, history, vendors, portable)


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
        "transfer_to_npu (ascend), the torch_mlu API support list and gpu2mlu maps (mlu), SYCLomatic's Python "
        "rules (xpu), and the public names of torch_musa, torch_npu and torch_mlu read from their sources "
        "(`scripts/data/vendor/`: a name the tables leave open is a `rename` when the vendor module has it and "
        "`missing` when it does not). Every `min_torch` is the first torch release (2.0 on) having the names "
        "a suggestion uses (`scripts/data/torch/torch-api-history.json`). `unknown` means that data does not "
        "decide."
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


def coverage_section(build_: Build) -> str:
    """The torch.cuda part of docs/kb-coverage.md (after the marker)."""
    cuda = [s for name, s in sorted(build_.symbols.items()) if under(name, "torch.cuda")]
    history = build_.history
    lines = [
        COVERAGE_MARKER,
        "# Knowledge-base coverage: Python `torch.cuda` (generated)",
        "",
        "Generated by `scripts/gen_python_rules.py` (run `python scripts/gen_python_rules.py`); do not edit.",
        "`tests/test_generated_python_rules.py` fails when this section is stale.",
        "",
        f"Statuses of the {len(cuda)} `torch.cuda.*` symbols of `rules/python/torch_cuda.generated.yaml`, per target, "
        "before issue #12 (commit ec8d521) and now. Now: musa, and what the ascend/mlu tables left `unknown`, come "
        "from the vendor name lists in `scripts/data/vendor/` (same name -> `rename`, absent -> `missing` at the "
        "recorded plugin version); gates come from `scripts/data/torch/torch-api-history.json`.",
        "",
        "| target | native | rename | equivalent | missing | unknown | unknown before |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for target in TARGETS:
        now = Counter(s.targets[target].status for s in cuda)
        before = BEFORE_ISSUE_12[target]
        cells = [f"{before.get(st, 0)} -> {now[st]}" if before.get(st, 0) != now[st] else str(now[st])
                 for st in STATUSES]
        lines.append(f"| {target} | " + " | ".join(cells) + f" | {before.get('unknown', 0)} |")
    gated = Counter(t for s in cuda for t in TARGETS if s.targets[t].min_torch)
    lines += [
        "",
        "Cells read `before -> now` where they changed.",
        "",
        "## Version gates",
        "",
        f"`min_torch` is the first release, of torch {history.oldest} ... {history.newest} "
        f"({len(history.versions)} releases, {sum(len(r) for r in history.spaces.values())} names in "
        f"{len(history.spaces)} namespaces read from the macOS arm64 wheels by `scripts/gen_torch_history.py`), "
        "that has every torch name a suggestion uses. Target facts with a gate: "
        + ", ".join(f"{t} {gated[t]}" for t in TARGETS if gated[t]) + ".",
        "",
        "## `torch.get_device_module(device).NAME`",
        "",
        "Offered as a portable rewrite only when the device modules of cuda, xpu, mps and cpu all have NAME; it "
        "replaces the callee and keeps the call's arguments. The table lists, for every `torch.cuda` function or "
        "class that some other device module also has, the first torch release having NAME there, or the plugin "
        "version whose module has it (read from the plugin's Python sources: legacy `*Tensor` types, which plugins "
        "create in C++, can be absent here yet exist); `-` = absent.",
        "",
    ]
    devices = ("cuda", *DEVICE_MODULES, *sorted(VENDOR_NAMES))
    lines += ["| name | " + " | ".join(devices) + " | portable rewrite |", "|---" * (len(devices) + 2) + "|"]
    for symbol in cuda:
        leaf = build_.portable.device_module_leaf(symbol)
        if leaf is None or symbol.container != "torch.cuda":
            continue
        support = build_.portable.device_support(leaf)
        if set(support) <= {"cuda"}:
            continue
        offered = next((p for p in symbol.portable if "get_device_module" in p.replacement), None)
        rewrite = f"torch >= {offered.min_torch}" if offered else "not offered"
        lines.append(f"| `{leaf}` | " + " | ".join(support.get(d) or "-" for d in devices) + f" | {rewrite} |")
    return "\n".join(lines) + "\n"


def write_coverage(section: str) -> None:
    text = COVERAGE.read_text(encoding="utf-8")
    head = text.split(COVERAGE_MARKER)[0].rstrip("\n") + "\n\n"
    COVERAGE.write_text(head + section, encoding="utf-8")


def render_yaml(build_: Build) -> str:
    lines = [*header(build_), "rules:"]
    for rule_id, members in by_rule(build_.symbols).items():
        lines += rule_yaml(rule_id, members, build_)
    return "\n".join(lines) + "\n"


def generate() -> str:
    """The YAML text of rules/python/torch_cuda.generated.yaml (deterministic)."""
    return render_yaml(build())


def main() -> int:
    from gen_rule_digests import main as write_rule_digests  # lists the written files as validated

    try:
        build_ = build()
    except GenerationError as exc:
        print(f"gen_python_rules: {exc}", file=sys.stderr)
        return 1
    text = render_yaml(build_)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    write_coverage(coverage_section(build_))
    print(f"wrote {OUTPUT.relative_to(REPO)} and the torch.cuda section of {COVERAGE.relative_to(REPO)}")
    print("\n".join(summary(build_)))
    return write_rule_digests()


if __name__ == "__main__":
    sys.exit(main())
