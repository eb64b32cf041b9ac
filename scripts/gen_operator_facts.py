#!/usr/bin/env python3
"""Generate the operator-coverage facts and rule pack (LL901-LL904) from the data in ``scripts/data``.

A model with no ``torch.cuda`` call can still be stuck on a target that lacks an operator it uses
(``F.ctc_loss`` -> ``aten::_ctc_loss`` has no MPS kernel; ``nn.GRU`` is unsupported on Ascend). This
script joins three kinds of committed data, all with provenance in ``scripts/data/PROVENANCE.md``:

* which aten operators a public Python API reaches: ``operators/api_ops-torch-<v>.json``, recorded by
  ``trace_api_ops.py`` with real torch over PyTorch's OpInfo/ModuleInfo samples; an API without a record
  falls back to the aten operator of the same name (``torch.linalg.X`` -> ``linalg_X``, ``torch.fft.X`` ->
  ``fft_X``, ``torch.special.X`` -> ``special_X``), or stays unmapped;
* which operators a backend implements: ``native_functions.yaml`` of torch (CPU, CUDA, MPS, XPU keys;
  ``structured_delegate`` followed; ``CompositeExplicitAutograd*`` kernels serve every backend and
  ``CompositeImplicitAutograd`` operators are as available as their decomposition, which the tracer
  already records in their place), torch-xpu-ops' copy of it and its CPU ``fallback_list`` (XPU), and
  torch_musa's registrations (MUSA);
* which APIs a vendor lists as unsupported: msFmkTransplt's per-torch-version lists (Ascend) and
  torch_mlu's ``torch_api.yaml`` (Cambricon).

Only what a source says is missing becomes ``missing``; everything else is ``native`` (an operator that
is merely absent from a list is not reported: that family must add no noise). ROCm runs CUDA's kernels
through HIP and no ROCm exclusion list is in the data, so ROCm is never ``missing`` here; MUSA's list
says what is registered, not what is absent, so MUSA is never ``missing`` either.

Outputs (both regenerated and compared byte for byte by ``tests/test_generated_operator_rules.py``):
``scripts/data/operators/operator_facts.generated.json`` (per target: the missing operators; per API:
how it was mapped, the operators it needs and each target's verdict, Ascend per torch version) and
``rules/python/operators.generated.yaml``. No torch import, no network.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Iterable

import yaml

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
sys.path.insert(0, str(REPO))
from lockin_lint.model import TARGETS  # noqa: E402 - the one list of targets

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when PyYAML has it
DATA = SCRIPTS / "data"
RULES_OUTPUT = REPO / "rules" / "python" / "operators.generated.yaml"
FACTS_OUTPUT = DATA / "operators" / "operator_facts.generated.json"
TORCH_VERSION = "2.13.0"
API_OPS = f"operators/api_ops-torch-{TORCH_VERSION}.json"
NATIVE_FUNCTIONS = f"operators/native_functions-torch-{TORCH_VERSION}.json"
XPU_FUNCTIONS = "operators/xpu/torch-xpu-ops-native_functions.json"
XPU_FALLBACK = "operators/xpu/xpu-fallback-list.json"
MUSA_OPS = "operators/musa/torch_musa-aten-ops.json"
CURATED = "operators/curated_operators.yaml"
TORCH_DUMP = "torch/torch-2.13.0-namespaces.json"
#: msFmkTransplt's lists per torch version (file suffix per its trans_utils.py: 2.7.1 -> _2_7).
ASCEND_VERSIONS: dict[str, str] = {"2.1": "2_1", "2.6": "2_6", "2.7": "2_7", "2.8": "2_8"}
ASCEND_DEFAULT = "2.8"
ASCEND_UNSUPPORTED = "ascend/msfmktransplt/resource/op_list_{}.json"
ASCEND_SUPPORTED = "ascend/msfmktransplt/resource/supported_op_{}.json"
MLU_SUPPORT = "cambricon/api_support_lists/r2.4_develop/torch_api.yaml"

#: Python namespaces whose functions are operators, and the aten prefix a same-name match adds.
FUNCTION_NAMESPACES: dict[str, str] = {
    "torch": "", "torch.nn.functional": "", "torch.linalg": "linalg_", "torch.fft": "fft_",
    "torch.special": "special_",
}
COMPOSITE_KEYS = frozenset({"CompositeExplicitAutograd", "CompositeExplicitAutogradNonFunctional"})
#: Backends judged from the dispatch tables (rocm uses CUDA's kernels).
DISPATCH_TARGETS: dict[str, str] = {"cpu": "CPU", "mps": "MPS", "xpu": "XPU", "rocm": "CUDA"}

RULES: dict[str, dict[str, str]] = {
    "LL901": {"name": "operator-torch-function", "what": "torch.*, torch.linalg.*, torch.fft.*, torch.special.*"},
    "LL902": {"name": "operator-functional", "what": "torch.nn.functional.*"},
    "LL903": {"name": "operator-nn-module", "what": "torch.nn module classes, where they are used (constructed)"},
    "LL904": {"name": "operator-tensor-method", "what": "Tensor methods, by method name on a receiver that can be a torch tensor"},
}


class GenerationError(Exception):
    """The data contradicts itself or the curated file names something the data does not have."""


# -- loading -------------------------------------------------------------------------------------
@cache
def _json(rel: str) -> Any:
    return json.loads((DATA / rel).read_text(encoding="utf-8"))


@cache
def _yaml(rel: str) -> Any:
    return yaml.load((DATA / rel).read_text(encoding="utf-8"), Loader=_Loader)


def base_name(op: str) -> str:
    return op.removeprefix("aten::").partition(".")[0]


# -- what each backend implements ----------------------------------------------------------------
class DispatchTable:
    """Kernels per operator overload of one native_functions.yaml (delegates followed)."""

    def __init__(self, ops: dict[str, dict[str, Any]]) -> None:
        self.ops = ops
        self.by_base: dict[str, list[str]] = {}
        for name in ops:
            self.by_base.setdefault(base_name(name), []).append(name)

    @cache  # noqa: B019 - a handful of instances, each lives for the whole run
    def keys(self, op: str) -> frozenset[str]:
        entry = self.ops.get(op)
        if entry is None:
            return frozenset()
        keys = set(entry["dispatch"])
        if entry["delegate"]:
            keys |= self.keys(entry["delegate"])
        return frozenset(keys)

    def has_kernel(self, op: str, backend: str) -> bool:
        keys = self.keys(op)
        return backend in keys or bool(keys & COMPOSITE_KEYS) or "CompositeImplicitAutograd" in keys


class Backends:
    """cpu/mps/rocm from torch's table; xpu from torch's table, torch-xpu-ops' copy and its fallback list."""

    def __init__(self) -> None:
        self.torch = DispatchTable(_json(NATIVE_FUNCTIONS)["ops"])
        self.xpu = DispatchTable(_json(XPU_FUNCTIONS)["ops"])
        self.xpu_fallback = set(_json(XPU_FALLBACK)["ops"])
        self.musa = set(_json(MUSA_OPS)["ops"])
        # torch-xpu-ops' HEAD builds against a newer torch: its list may name operators 2.13 lacks
        self.xpu_fallback_not_in_torch = sorted(op for op in self.xpu_fallback if op not in self.torch.ops)
        if len(self.xpu_fallback_not_in_torch) > len(self.xpu_fallback) // 2:
            raise GenerationError(f"{XPU_FALLBACK}: most names are not operators of torch {TORCH_VERSION}")

    def known(self, op: str) -> bool:
        return op in self.torch.ops

    def on_cuda(self, op: str) -> bool:
        return self.torch.has_kernel(op, "CUDA")

    def _chain(self, op: str) -> Iterable[str]:
        """``op`` and the overloads it delegates to (a functional op -> its ``.out`` kernel)."""
        current: str | None = op
        while current:
            yield current
            current = self.torch.ops.get(current, {}).get("delegate")

    def missing(self, op: str, target: str) -> bool:
        """True only where a source says ``target`` has no kernel for ``op``."""
        if target == "xpu":
            return any(name in self.xpu_fallback for name in self._chain(op))
        backend = DISPATCH_TARGETS.get(target)
        if backend is None:
            return False
        return not self.torch.has_kernel(op, backend)

    def backend_specific(self, op: str) -> bool:
        """``op`` needs a kernel per backend (no composite kernel serves it)."""
        keys = self.torch.keys(op)
        return bool(keys & {"CPU", "CUDA"}) and not keys & (COMPOSITE_KEYS | {"CompositeImplicitAutograd"})

    def xpu_kernel(self, op: str) -> bool:
        return self.torch.has_kernel(op, "XPU") or self.xpu.has_kernel(op, "XPU")


# -- API-level vendor lists ----------------------------------------------------------------------
class Ascend:
    """msFmkTransplt: ``op_list_<v>.json`` are APIs unsupported on torch_npu for torch <v>."""

    def __init__(self) -> None:
        self.unsupported = {v: set(_json(ASCEND_UNSUPPORTED.format(s))["op_list"]) for v, s in ASCEND_VERSIONS.items()}
        self.supported = {v: set(_json(ASCEND_SUPPORTED.format(s))["op_list"]) for v, s in ASCEND_VERSIONS.items()}

    def names(self) -> set[str]:
        return set().union(*self.unsupported.values(), *self.supported.values())

    def verdicts(self, api: str) -> dict[str, str]:
        """Per torch version: ``missing`` (unsupported list), ``native`` (supported list); absent: nothing."""
        out: dict[str, str] = {}
        for version in ASCEND_VERSIONS:
            if api in self.unsupported[version]:
                out[version] = "missing"
            elif api in self.supported[version]:
                out[version] = "native"
        return out


class Mlu:
    """torch_mlu r2.4 ``torch_api.yaml``: ``supported: false`` is unsupported."""

    def __init__(self) -> None:
        self.support: dict[str, bool] = {}
        for section in _yaml(MLU_SUPPORT):
            for entries in section.values():
                for entry in entries or ():
                    self.support.setdefault(entry["api"], bool(entry.get("supported")))

    def names(self) -> set[str]:
        return set(self.support)


# -- APIs ----------------------------------------------------------------------------------------
@dataclass
class Api:
    name: str
    rule: str
    how: str  # traced:<label,...> | same-name | unmapped
    ops: list[str] = field(default_factory=list)
    missing_ops: dict[str, list[str]] = field(default_factory=dict)
    ascend: dict[str, str] = field(default_factory=dict)
    mlu: bool | None = None
    statuses: dict[str, str] = field(default_factory=dict)
    trigger: str | None = None  # the name's component the prefilter relies on; None: too common to match

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]


def rule_for(api: str, module_classes: set[str]) -> str | None:
    parent, _, leaf = api.rpartition(".")
    if parent == "torch.Tensor":
        return "LL904"
    if parent == "torch.nn.functional":
        return "LL902"
    if parent == "torch.nn":
        return "LL903" if api in module_classes else None
    if parent in FUNCTION_NAMESPACES:
        return "LL901" if leaf and not leaf.startswith("_") else None
    return None


def same_name_ops(api: str, table: DispatchTable) -> list[str]:
    parent, _, leaf = api.rpartition(".")
    prefix = "" if parent == "torch.Tensor" else FUNCTION_NAMESPACES.get(parent)
    if prefix is None:
        return []
    return sorted(table.by_base.get(prefix + leaf, []))


class Build:
    """Everything the outputs are written from."""

    def __init__(self) -> None:
        self.curated = _yaml(CURATED)
        self.backends = Backends()
        self.ascend = Ascend()
        self.mlu = Mlu()
        self.traced: dict[str, dict[str, Any]] = _json(API_OPS)["apis"]
        self.trace_meta: dict[str, Any] = _json(API_OPS)["_meta"]
        self.module_classes = self._module_classes()
        self.ambiguous_methods = {n for e in self.curated["ambiguous_methods"] for n in e["names"]}
        self.common_identifiers = {n for e in self.curated["common_identifiers"] for n in e["names"]}
        self.mlu_supported_ops = self._mlu_supported_ops()
        self.apis: dict[str, Api] = {}
        for name in sorted(self._candidates()):
            api = self._api(name)
            if api is not None:
                self.apis[name] = api

    def _module_classes(self) -> set[str]:
        """``torch.nn.X`` module classes: traced through ModuleInfo, or named by a vendor list (not a container)."""
        traced = {n for n, e in self.traced.items() if any(h.startswith("moduleinfo:") for h in e["how"])}
        excluded = {f"torch.nn.{n}" for e in self.curated["not_operator_modules"] for n in e["names"]}
        named = {n for n in self.ascend.names() | self.mlu.names() if re.fullmatch(r"torch\.nn\.[A-Z]\w*", n)}
        return traced | (named - excluded)

    def _mlu_supported_ops(self) -> set[str]:
        """Operators reached by some API that torch_mlu's list marks supported."""
        return {op for name, ok in self.mlu.support.items() if ok for op in self._needed(self._mapping(name)[1])}

    def _needed(self, ops: list[str]) -> list[str]:
        # An operator without a CUDA kernel was the CPU build's own path (mkldnn, *_for_cpu): a CUDA
        # program never reaches it, so other targets are not judged on it.
        return sorted(op for op in ops if self.backends.known(op) and self.backends.on_cuda(op))

    def _candidates(self) -> set[str]:
        dump = _json(TORCH_DUMP)["modules"]["torch"]["names"]
        names = set(self.traced) | self.ascend.names() | self.mlu.names()
        names |= {f"torch.{n}" for n, info in dump.items() if info["kind"] == "function"}
        return {n for n in names if rule_for(n, self.module_classes) is not None}

    def _mapping(self, name: str) -> tuple[str, list[str]]:
        entry = self.traced.get(name)
        if entry is not None:
            # An operator only some samples reach is an argument-dependent path (norm(p="nuc") -> svd):
            # recorded in the trace, not held against the API.
            usual = [op for op, count in entry["ops"].items() if 2 * count >= entry["samples"]]
            return "traced:" + ",".join(entry["how"]), [op.removeprefix("aten::") for op in usual
                                                        if op.startswith("aten::")]
        ops = same_name_ops(name, self.backends.torch)
        return ("same-name", ops) if ops else ("unmapped", [])

    def _api(self, name: str) -> Api | None:
        how, ops = self._mapping(name)
        if how == "unmapped" and rule_for(name, self.module_classes) != "LL903":
            return None  # not an operator (torch.from_dlpack, torch.SymInt): outside this family
        api = Api(name, rule_for(name, self.module_classes) or "", how)
        api.ops = self._needed(ops)
        for target in ("cpu", "mps", "xpu", "rocm"):
            if how == "same-name":
                # any overload of the name that the target has is enough (the call could use it)
                lacking = api.ops if api.ops and all(self.backends.missing(o, target) for o in api.ops) else []
            else:
                lacking = [op for op in api.ops if self.backends.missing(op, target)]
            if lacking:
                api.missing_ops[target] = lacking
        api.ascend = self.ascend.verdicts(name)
        api.mlu = self.mlu.support.get(name)
        api.statuses = {t: "native" for t in TARGETS}
        for target in api.missing_ops:
            api.statuses[target] = "missing"
        if api.ascend.get(ASCEND_DEFAULT) == "missing":
            api.statuses["ascend"] = "missing"
        if api.mlu is False and (how == "unmapped" or self._mlu_lacks(api.ops)):
            api.statuses["mlu"] = "missing"
        if "missing" not in api.statuses.values() and "missing" not in api.ascend.values():
            return None
        if api.rule == "LL904" and api.leaf in self.ambiguous_methods:
            return None
        if api.rule == "LL904":
            api.trigger = None if api.leaf in self.common_identifiers or len(api.leaf) < 3 else api.leaf
        else:
            api.trigger = self._trigger(name)
        return api

    def _trigger(self, name: str) -> str | None:
        """The component of ``name`` the prefilter looks for: the leaf, else another component (3+
        characters, the schema's minimum, and not a common word); None when there is none."""
        parts = name.split(".")[1:]
        return next((p for p in reversed(parts) if len(p) >= 3 and p not in self.common_identifiers), None)

    def _mlu_lacks(self, ops: list[str]) -> bool:
        """Whether torch_mlu's ``supported: false`` is borne out at operator level.

        The list also marks APIs unsupported that need no kernel (``torch.numel``) or whose every kernel
        the same list supports through another API (``Tensor.softmax`` is false, ``F.softmax`` true; both
        reach ``_softmax``): only an operator with per-backend kernels that no supported API reaches counts.
        """
        return any(self.backends.backend_specific(op) and op not in self.mlu_supported_ops for op in ops)

    def reported(self) -> list[Api]:
        """APIs with a ``missing`` target under the default facts that a rule can match (the ones it lists)."""
        return [a for a in self.apis.values() if a.trigger and ("missing" in a.statuses.values()
                                                                or "missing" in a.ascend.values())]


# -- texts ---------------------------------------------------------------------------------------
def _ops_text(ops: list[str]) -> str:
    shown = ", ".join(f"aten::{op}" for op in ops[:3])
    return shown + (f" and {len(ops) - 3} more" if len(ops) > 3 else "")


def replacement(api: Api, target: str, version: str = ASCEND_DEFAULT) -> str | None:
    ops = api.missing_ops.get(target, [])
    if target == "mps":
        return f"PYTORCH_ENABLE_MPS_FALLBACK=1 runs {_ops_text(ops)} on the CPU (no MPS kernel)"
    if target == "xpu":
        return f"CPU fallback: torch-xpu-ops runs {_ops_text(ops)} on the CPU"
    if target == "cpu":
        return f"none: {_ops_text(ops)} has no CPU kernel"
    if target == "rocm":
        return f"none: {_ops_text(ops)} has no CUDA/HIP kernel"
    if target == "ascend":
        return f"CPU fallback or a new kernel: torch_npu lists it unsupported for torch {version} (msFmkTransplt)"
    if target == "mlu":
        return "run it on the CPU or write a kernel: torch_mlu r2.4 lists it unsupported (torch_api.yaml)"
    return None


# -- YAML emission -------------------------------------------------------------------------------
def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _ascend_varies(api: Api) -> bool:
    """Whether Ascend's lists for the torch versions disagree on this API (`--torch-version` picks)."""
    return len({api.ascend.get(v, "native") for v in ASCEND_VERSIONS}) > 1


def ascend_versions_yaml(api: Api) -> str:
    """The newest list's fact, and every list's under ``versions`` (each valid up to the next one)."""
    def fact(version: str) -> str:
        status = "missing" if api.ascend.get(version) == "missing" else "native"
        return fact_yaml(status, replacement(api, "ascend", version) if status == "missing" else None)

    newest = fact(ASCEND_DEFAULT)
    versions = ", ".join(f"{q(v)}: {fact(v)}" for v in ASCEND_VERSIONS)
    return newest[:-1] + f", versions: {{{versions}}}}}"


def fact_yaml(status: str, text: str | None) -> str:
    return "{status: " + status + (f", replacement: {q(text)}" if text else "") + "}"


DOCS = {
    "what": "Reports a use of {what} when the data says a target does not implement an operator it needs: the "
            "API dispatches to an aten operator without a kernel for that backend, or the vendor lists the API "
            "as unsupported.",
    "why": "The code has no CUDA call at all and still does not run: on the target the operator raises at run "
           "time, or falls back to the CPU (`PYTORCH_ENABLE_MPS_FALLBACK=1` on Apple, torch-xpu-ops' CPU "
           "fallback list on Intel, torch_npu's CPU fallback on Ascend), one operator at a time. Each missing "
           "operator is a kernel to write, or a CPU fallback to accept and measure.",
    "instead": "Accept the CPU fallback where the target has one and measure it, move that part of the model to "
               "the CPU explicitly, replace the API by one the target supports, or implement the kernel. "
               "Only `missing` is ever reported: a target the sources do not mention is `native` here.",
}


def docs_yaml(rule_id: str, build: Build) -> list[str]:
    what = RULES[rule_id]["what"]
    text = (
        f"## What it does\n{DOCS['what'].format(what=what)}\n\n## Why is this bad?\n{DOCS['why']}\n\n"
        f"## Use instead\n{DOCS['instead']}\n\n"
        "Generated by `scripts/gen_operator_facts.py`: operators per API recorded with torch "
        f"{build.trace_meta['torch_version'].split('+')[0]} over PyTorch's OpInfo/ModuleInfo samples (else the "
        "same-name aten operator); kernels per backend from `native_functions.yaml` (cpu, mps), torch-xpu-ops' "
        "CPU fallback list (xpu); unsupported APIs from msFmkTransplt's list for torch "
        f"{ASCEND_DEFAULT} (ascend; with `--torch-version` the list for that release: "
        f"{', '.join(v for v in ASCEND_VERSIONS if v != ASCEND_DEFAULT)}) and torch_mlu r2.4's `torch_api.yaml` "
        "(mlu). rocm and musa are never `missing`: no source in the data lists what they lack. "
        "See `docs/operators.md`."
    )
    return ["    docs: |"] + [f"      {line}".rstrip() for line in text.splitlines()]


def rule_yaml(rule_id: str, members: list[Api], build: Build) -> list[str]:
    meta = RULES[rule_id]
    lines = [
        f"  - id: {rule_id}",
        f"    name: {meta['name']}",
        "    category: operator",
        "    languages: [python]",
        "    severity: warning",
        f"    message: {q('`{symbol}` needs an operator or API that some targets do not implement')}",
        "    match:",
    ]
    if rule_id == "LL904":
        lines.append("      methods:")
        lines += [f"        - {a.leaf}" for a in members]
    else:
        lines.append("      qualified:")
        lines += [f"        - {a.name}" for a in members]
    if rule_id in ("LL901", "LL902", "LL903"):
        lines.append("      when: {call: true}")
    if rule_id != "LL904":  # a method's token is its name already
        # one whole component per name (no other name part contains it): the prefilter then finds
        # them through the file's set of words, whatever their number
        lines.append("      triggers: [" + ", ".join(sorted({a.trigger for a in members if a.trigger})) + "]")
    lines.append("    targets:")
    lines += [f"      {t}: {{status: native}}" for t in TARGETS]
    lines.append("    symbols:")
    for api in members:
        key = api.leaf if rule_id == "LL904" else api.name  # a method's symbol is its bare name
        lines += [f"      {key}:", "        targets:"]
        lines += [f"          {t}: {fact_yaml('missing', replacement(api, t))}"
                  for t in TARGETS if api.statuses[t] == "missing" and not (t == "ascend" and _ascend_varies(api))]
        if _ascend_varies(api):
            lines.append(f"          ascend: {ascend_versions_yaml(api)}")
    return lines + docs_yaml(rule_id, build)


def summary(build: Build) -> list[str]:
    reported = build.reported()
    lines = [f"{len(build.traced)} APIs traced with torch {build.trace_meta['torch_version']}; "
             f"{len(reported)} APIs reported (a missing target under the default facts):"]
    for rule_id, meta in RULES.items():
        lines.append(f"  {rule_id} {meta['name']}: {sum(1 for a in reported if a.rule == rule_id)}")
    lines.append("APIs missing per target (operators missing among those the APIs need):")
    for target in TARGETS:
        apis = [a for a in reported if a.statuses[target] == "missing"]
        ops = {op for a in apis for op in a.missing_ops.get(target, [])}
        lines.append(f"  {target}: {len(apis)} APIs" + (f", {len(ops)} operators" if ops else ""))
    unmatched = sorted(a.name for a in build.apis.values() if "missing" in a.statuses.values() and not a.trigger)
    lines.append(f"not matched (only common words to prefilter on): {', '.join(unmatched)}")
    hows = Counter(a.how.partition(":")[0] for a in reported)
    lines.append("mapping of reported APIs: " + ", ".join(f"{k} {v}" for k, v in sorted(hows.items())))
    for version in ASCEND_VERSIONS:
        count = sum(1 for a in build.apis.values() if a.ascend.get(version) == "missing")
        lines.append(f"ascend, torch {version} list: {count} APIs in scope unsupported")
    return lines


def render_rules(build: Build) -> str:
    files = [API_OPS, NATIVE_FUNCTIONS, XPU_FUNCTIONS, XPU_FALLBACK, MUSA_OPS, CURATED, TORCH_DUMP, MLU_SUPPORT,
             *(ASCEND_UNSUPPORTED.format(s) for s in ASCEND_VERSIONS.values()),
             *(ASCEND_SUPPORTED.format(s) for s in ASCEND_VERSIONS.values())]
    head = [
        "# GENERATED FILE - DO NOT EDIT.",
        "# Written by scripts/gen_operator_facts.py (run: python scripts/gen_operator_facts.py) from",
        *[f"#   scripts/data/{f}" for f in files],
        "# provenance of every file is in scripts/data/PROVENANCE.md; tests/test_generated_operator_rules.py",
        "# fails on drift. docs/operators.md explains the facts.",
        "#",
        "# Report:",
        *[f"#   {line}" for line in summary(build)],
        "rules:",
    ]
    body: list[str] = []
    reported = build.reported()
    for rule_id in RULES:
        members = [a for a in reported if a.rule == rule_id]
        if members:
            body += rule_yaml(rule_id, members, build)
    return "\n".join(head + body) + "\n"


def render_facts(build: Build) -> str:
    backends = build.backends
    torch_ops = backends.torch.ops
    per_target: dict[str, Any] = {}
    for target in ("cpu", "mps", "xpu", "rocm"):
        missing = sorted(op for op in torch_ops if backends.on_cuda(op) and backends.missing(op, target))
        per_target[target] = {"missing_operators": missing}
    cuda_ops = [op for op in torch_ops if backends.on_cuda(op)]
    xpu_kernels = sum(1 for op in cuda_ops if backends.xpu_kernel(op))
    per_target["xpu"]["operators_with_cuda_kernel_and_an_xpu_kernel_in_the_tables"] = xpu_kernels
    per_target["xpu"]["fallback_list_names_not_in_this_torch"] = backends.xpu_fallback_not_in_torch
    per_target["musa"] = {"registered_operators": len(backends.musa),
                          "operators_with_cuda_kernel_registered": sum(1 for op in cuda_ops if op in backends.musa)}
    data = {
        "_meta": {
            "generator": "scripts/gen_operator_facts.py",
            "torch_version": TORCH_VERSION,
            "operators_with_a_cuda_kernel": len(cuda_ops),
            "statuses": "only `missing` is stated; an API or operator a source does not name is native here",
            "ascend_default_version": ASCEND_DEFAULT,
        },
        "targets": per_target,
        "apis": {
            a.name: {"rule": a.rule, "how": a.how, "ops": a.ops, "missing_ops": a.missing_ops,
                     "ascend": a.ascend, "mlu": a.mlu, "matched": a.trigger is not None,
                     "missing": sorted(t for t in TARGETS if a.statuses[t] == "missing")}
            for a in build.apis.values()
        },
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def generate() -> tuple[str, str]:
    """(rules YAML text, facts JSON text), deterministic."""
    build = Build()
    return render_rules(build), render_facts(build)


def main() -> int:
    from gen_rule_digests import main as write_rule_digests  # lists the written files as validated

    try:
        build = Build()
    except GenerationError as exc:
        print(f"gen_operator_facts: {exc}", file=sys.stderr)
        return 1
    RULES_OUTPUT.write_text(render_rules(build), encoding="utf-8")
    FACTS_OUTPUT.write_text(render_facts(build), encoding="utf-8")
    print(f"wrote {RULES_OUTPUT.relative_to(REPO)} and {FACTS_OUTPUT.relative_to(REPO)}")
    print("\n".join(summary(build)))
    return write_rule_digests()


if __name__ == "__main__":
    sys.exit(main())
