#!/usr/bin/env python3
"""Generate the CUDA C/C++ knowledge base ``rules/cuda/*.generated.yaml`` (LC1xxx-LC4xxx) and
``docs/kb-coverage.md`` from the vendor tables in ``scripts/data``.

Why a generator: HIPIFY, SYCLomatic and torch_musa together list ~15,000 CUDA names with per-vendor
support. Typed by hand, the rules would drift from every one of them; instead each name, section and
rocm/xpu/musa status is read from the vendor's own file, and the few judgement calls (ascend, mlu,
mps, cpu, and rocm for libraries HIPIFY does not cover) come from ``scripts/data/curated_cuda.yaml``,
each with a reason. No network, no imports beyond PyYAML.

Shape: one rule per HIPIFY table section (id = table base + section number), plus one rule per table
for the names only SYCLomatic lists (or per SYCLomatic table where HIPIFY has none). A name belongs to
exactly one rule: tables claim names in the order of ``TABLES`` (HIPIFY tables first, then the
SYCLomatic-only names in ``SYCL_SOURCES`` order), later claims are dropped and counted.

Per-target facts:
  rocm  HIPIFY: the HIP (or, for cuDNN, MIOpen) column -> ``rename`` (``native`` when the name is the same,
        ``missing`` when the replacement was removed from ROCm); empty, but the ROC column of the
        rocBLAS/rocRAND/rocSOLVER/rocSPARSE table has one -> ``equivalent`` (a different library than
        the hip* one the rest of the file is ported to); both empty -> ``missing``; not listed -> curated.
  xpu   SYCLomatic "Migration Support": YES -> ``equivalent`` (dpct migrates it to SYCL code, no 1:1 name),
        NO -> ``missing``, not listed -> ``unknown``. A name listed twice with both flags counts as YES.
  musa  torch_musa's porting maps: listed -> ``rename`` to the MUSA name; else ``unknown``.
  rest  curated_cuda.yaml (per name, per regex, per family), else ``unknown``.

``generate()`` returns {file name: YAML text}; ``coverage_markdown()`` the coverage report;
``python scripts/gen_cuda_rules.py`` writes both and removes stale files this script generated.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Iterable

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vendor_headers import declared_names  # noqa: E402

try:  # the C loader is faster; the curated file is small, but keep parity with gen_python_rules
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

SCRIPTS = Path(__file__).resolve().parent
DATA = SCRIPTS / "data"
REPO = SCRIPTS.parent
RULES_DIR = REPO / "rules" / "cuda"
COVERAGE = REPO / "docs" / "kb-coverage.md"
#: docs/kb-coverage.md continues with the torch.cuda section of scripts/gen_python_rules.py from this line.
PYTHON_SECTION_MARKER = "<!-- torch.cuda section: written by scripts/gen_python_rules.py -->"
SUFFIX = ".generated.yaml"
#: The section of a rule holding the names of a vendor header (`Builder.add_header`).
HEADER_SECTION = "types, enumerators, macros and functions of the vendor header"
#: Written into every generated file; also how stale files of this generator are recognised.
SIGNATURE = "# Written by scripts/gen_cuda_rules.py"

TARGETS: tuple[str, ...] = ("rocm", "ascend", "mlu", "musa", "xpu", "mps", "cpu")
STATUSES: tuple[str, ...] = ("native", "rename", "equivalent", "missing", "unknown")
#: Targets whose facts a vendor table states; curated_cuda.yaml may not contradict them.
TABLE_TARGETS: tuple[str, ...] = ("rocm", "xpu", "musa")
#: Targets the coverage report counts facts for (DESIGN: the vendor-data targets), then mps/cpu.
REPORT_TARGETS: tuple[str, ...] = ("rocm", "xpu", "ascend", "mlu", "musa", "mps", "cpu")

CURATED = "curated_cuda.yaml"
MUSA_MAPS: tuple[str, ...] = ("musa/general.json", "musa/dnn-naming.json", "musa/include.json", "musa/extra.json")
#: Copied with the other CSVs but not read: PTX mnemonics (add, mov, ...) are not C identifiers; inline
#: PTX is matched structurally by the hand-written inline-asm rule LC7010.
SYCL_UNUSED: tuple[str, ...] = ("syclomatic/ASM_API_migration_status.csv",)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCOPED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)+$")
_SECTION = re.compile(r"^## \*\*(\d+)\. (.+?)\*\*\s*$")
_VERSION_COLUMNS = frozenset({"A", "D", "C", "R", "U", "E"})
#: Plain scalars YAML 1.1 would read as something other than a string.
_YAML_SPECIAL = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


# -- table definitions (structure, not facts) -------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """One source family: its HIPIFY tables, its rule ids, and where SYCLomatic-only names go.

    ``hip`` is the primary HIPIFY table (its replacement column gives ``rename``), ``roc`` the
    ROC-library table (``equivalent``), ``combined`` the side-by-side table that must agree with both,
    ``legacy`` tables only feed the docs. ``sycl_rule`` is the full id number of the rule holding the
    names that only SYCLomatic lists, labelled ``sycl_section``.
    """

    key: str
    id_base: int
    category: str
    hip: str | None = None
    roc: str | None = None
    combined: str | None = None
    legacy: tuple[str, ...] = ()
    sycl_rule: int | None = None
    sycl_section: str = "names SYCLomatic lists but HIPIFY does not"
    scoped_prefix: str | None = None
    #: The vendor's own header (NVIDIA's ``nccl.h.in``) for the names no table lists, in rule ``header_rule``
    #: (`add_header`), with the regex of the library's spelling and the ROCm port's header of the same names.
    header: str | None = None
    header_rule: int | None = None
    header_spelling: str = ""
    header_rocm: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f for f in (self.hip, self.roc, self.combined, *self.legacy, self.header, self.header_rocm) if f)


def _h(name: str) -> str:
    return f"hipify/{name}"


#: Claim order: a name listed by several tables belongs to the first (HIPIFY tables in this order,
#: then SYCLomatic-only names in SYCL_SOURCES order).
TABLES: tuple[Table, ...] = (
    Table("runtime", 1000, "device-api", _h("CUDA_Runtime_API_functions_supported_by_HIP.md"), sycl_rule=1099),
    Table("driver", 2000, "device-api", _h("CUDA_Driver_API_functions_supported_by_HIP.md"), sycl_rule=2099),
    Table("nvrtc", 2900, "device-api", _h("CUDA_RTC_API_supported_by_HIP.md"), sycl_rule=2999),
    Table("device", 4000, "kernel", _h("CUDA_Device_API_supported_by_HIP.md"), sycl_rule=4099),
    Table("cooperative_groups", 4000, "kernel", sycl_rule=4010, sycl_section="cooperative_groups:: namespace"),
    Table("complex", 4800, "library", _h("cuComplex_API_supported_by_HIP.md")),
    Table("cublas", 3000, "library", _h("CUBLAS_API_supported_by_HIP.md"), _h("CUBLAS_API_supported_by_ROC.md"),
          _h("CUBLAS_API_supported_by_HIP_and_ROC.md"), sycl_rule=3099),
    Table("cudnn", 3100, "library", _h("CUDNN_API_supported_by_MIOPEN.md"),
          legacy=(_h("legacy_hipdnn_rocm6.4/CUDNN_API_supported_by_HIP.md"),
                  _h("legacy_hipdnn_rocm6.4/CUDNN_API_supported_by_HIP_and_MIOPEN.md")), sycl_rule=3199),
    Table("cufft", 3200, "library", _h("CUFFT_API_supported_by_HIP.md"), sycl_rule=3299),
    Table("curand", 3300, "library", _h("CURAND_API_supported_by_HIP.md"), _h("CURAND_API_supported_by_ROC.md"),
          _h("CURAND_API_supported_by_HIP_and_ROC.md"), sycl_rule=3399),
    Table("cusparse", 3400, "library", _h("CUSPARSE_API_supported_by_HIP.md"), _h("CUSPARSE_API_supported_by_ROC.md"),
          _h("CUSPARSE_API_supported_by_HIP_and_ROC.md"), sycl_rule=3499),
    Table("cusolver", 3500, "library", _h("CUSOLVER_API_supported_by_HIP.md"), _h("CUSOLVER_API_supported_by_ROC.md"),
          _h("CUSOLVER_API_supported_by_HIP_and_ROC.md"), sycl_rule=3599),
    Table("cub", 3600, "library", _h("CUB_API_supported_by_HIP.md"), sycl_rule=3602,
          sycl_section="cub:: namespace", scoped_prefix="cub"),
    Table("cutensor", 3700, "library", _h("CUTENSOR_API_supported_by_HIP.md")),
    Table("cusparselt", 3800, "library", _h("CUSPARSELT_API_supported_by_HIP.md")),
    Table("cufile", 3900, "library", _h("cuFile_API_supported_by_HIP.md")),
    Table("nccl", 4100, "distributed", sycl_rule=4101, sycl_section="NCCL API", header="nccl/nccl.h.in",
          header_rule=4102, header_spelling=r"nccl[A-Z]\w*|NCCL_[A-Z0-9_]+", header_rocm="nccl/rccl-nccl.h.in"),
    Table("nvml", 4200, "library", sycl_rule=4201, sycl_section="NVML API"),
    Table("nvshmem", 4300, "library", sycl_rule=4301, sycl_section="NVSHMEM API"),
    Table("thrust", 4400, "library", sycl_rule=4401, sycl_section="thrust:: namespace", scoped_prefix="thrust"),
    Table("wmma", 4500, "kernel", sycl_rule=4501, sycl_section="nvcuda::wmma:: namespace",
          scoped_prefix="nvcuda::wmma"),
    Table("nvjpeg", 4600, "library", sycl_rule=4601, sycl_section="nvJPEG API"),
    Table("cudnn_frontend", 4700, "library", sycl_rule=4701, sycl_section="cudnn_frontend:: namespace",
          scoped_prefix="cudnn_frontend"),
    Table("nvgraph", 4900, "library", sycl_rule=4901, sycl_section="nvGRAPH API"),
)
TABLE_BY_KEY: dict[str, Table] = {t.key: t for t in TABLES}


def _s(name: str) -> str:
    return f"syclomatic/{name}_API_migration_status.csv"


#: Each SYCLomatic CSV, in claim order, with (regex, table key) routes for the names HIPIFY does not
#: list: the Runtime_and_Driver CSV also carries device functions, NVRTC and cooperative groups.
SYCL_SOURCES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (_s("Runtime_and_Driver"), (
        (r"^cooperative_groups::", "cooperative_groups"),
        (r"^_*cuda", "runtime"),
        (r"^(cu[A-Z]|CU)", "driver"),
        (r"^nvrtc", "nvrtc"),
        (r"", "device"),
    )),
    (_s("cuBLAS"), ((r"", "cublas"),)),
    (_s("cuDNN"), ((r"", "cudnn"),)),
    (_s("cuFFT"), ((r"", "cufft"),)),
    (_s("cuRAND"), ((r"", "curand"),)),
    (_s("cuSPARSE"), ((r"", "cusparse"),)),
    (_s("cuSOLVER"), ((r"", "cusolver"),)),
    (_s("CUB"), ((r"", "cub"),)),
    (_s("NCCL"), ((r"", "nccl"),)),
    (_s("NVML"), ((r"", "nvml"),)),
    (_s("nvSHMEM"), ((r"", "nvshmem"),)),
    (_s("thrust"), ((r"", "thrust"),)),
    (_s("wmma"), ((r"", "wmma"),)),
    (_s("nvJPEG"), ((r"", "nvjpeg"),)),
    (_s("cudnn_frontend"), ((r"", "cudnn_frontend"),)),
    (_s("nvGRAPH"), ((r"", "nvgraph"),)),
)


# -- small value types ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """One target's verdict for one name."""

    status: str
    replacement: str | None = None


UNKNOWN = Fact("unknown")


@dataclass
class Entry:
    """A name a rule matches, with everything the tables say about it."""

    name: str
    facts: dict[str, Fact] = field(default_factory=dict)
    notes: frozenset[str] = frozenset()  # cuda-deprecated, cuda-removed, rocm-experimental, ...


@dataclass
class RuleSpec:
    """One generated rule before rendering."""

    number: int
    table: Table
    section: str
    source: str  # "HIPIFY section 11" or "SYCLomatic"
    entries: list[Entry] = field(default_factory=list)
    defaults: dict[str, Fact] = field(default_factory=dict)
    scoped_prefixes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"LC{self.number:04d}"


class GenerationError(Exception):
    """The data contradicts itself, or the curated file names something the data does not have."""


# -- loading ----------------------------------------------------------------------------------------
def _read_text(rel: str) -> str:
    return (DATA / rel).read_text(encoding="utf-8")


@cache
def _json(rel: str) -> Any:
    return json.loads(_read_text(rel))


@cache
def _curated() -> dict[str, Any]:
    return yaml.load(_read_text(CURATED), Loader=_Loader)


@dataclass(frozen=True)
class Block:
    """One name column of a HIPIFY row (CUDA, HIP, ROC or MIOPEN) with its version columns."""

    label: str
    name: str
    versions: dict[str, str]


@dataclass(frozen=True)
class Row:
    """One HIPIFY table row: the CUDA name, its section, and the replacement blocks after it."""

    section: int
    title: str
    cuda: Block
    targets: tuple[Block, ...]


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("*").strip("`") for cell in line.rstrip().split("|")[1:-1]]


def _blocks(header: list[str], cells: list[str]) -> list[Block]:
    """Split a row at every name column: a header cell that is not a version letter starts a block."""
    blocks: list[Block] = []
    for label, cell in zip(header, cells):
        if label in _VERSION_COLUMNS:
            blocks[-1].versions[label] = cell
        else:
            blocks.append(Block(label, cell, {}))
    return blocks


@cache
def hipify_rows(rel: str) -> tuple[Row, ...]:
    """Every data row of a HIPIFY markdown table, with its section number and title."""
    rows: list[Row] = []
    section: tuple[int, str] | None = None
    header: list[str] = []
    for line in _read_text(rel).splitlines():
        heading = _SECTION.match(line)
        if heading:
            section = (int(heading.group(1)), heading.group(2))
        elif line.startswith("|**"):
            header = _cells(line)
        elif line.startswith("|`"):
            if section is None:
                raise GenerationError(f"{rel}: table row before any section heading")
            cuda, *targets = _blocks(header, _cells(line))
            rows.append(Row(section[0], section[1], cuda, tuple(targets)))
    if not rows:
        raise GenerationError(f"{rel}: no table rows found")
    return tuple(rows)


@cache
def sycl_rows(rel: str) -> tuple[tuple[str, str], ...]:
    """(name, YES/NO) rows of a SYCLomatic migration-status CSV, in file order."""
    reader = csv.reader(io.StringIO(_read_text(rel), newline=""))
    header = next(reader)
    if header[:2] != ["Function", "Migration Support"]:
        raise GenerationError(f"{rel}: unexpected header {header}")
    rows = tuple((row[0].strip(), row[1].strip()) for row in reader if row)
    bad = sorted({flag for _, flag in rows} - {"YES", "NO"})
    if bad:
        raise GenerationError(f"{rel}: unexpected Migration Support values {bad}")
    return rows


# -- per-target knowledge ---------------------------------------------------------------------------
class Sycl:
    """xpu facts: every SYCLomatic CSV merged (YES wins when a name is listed with both flags)."""

    def __init__(self) -> None:
        self.flags: dict[str, str] = {}
        self.source: dict[str, str] = {}
        for rel, _ in SYCL_SOURCES:
            for name, flag in sycl_rows(rel):
                if self.flags.get(name) != "YES":
                    self.flags[name] = flag
                self.source.setdefault(name, rel)

    def fact(self, name: str) -> Fact | None:
        flag = self.flags.get(name)
        if flag is None:
            return None
        return Fact("equivalent") if flag == "YES" else Fact("missing")


class Musa:
    """musa facts: torch_musa's CUDA -> MUSA identifier maps (first map listing a name wins)."""

    def __init__(self) -> None:
        self.map: dict[str, str] = {}
        self.source: dict[str, str] = {}
        for rel in MUSA_MAPS:
            for cuda_name, musa_name in _json(rel).items():
                if _IDENT.match(cuda_name) and cuda_name not in self.map:
                    self.map[cuda_name] = musa_name
                    self.source[cuda_name] = rel

    def fact(self, name: str) -> Fact | None:
        renamed = self.map.get(name)
        return Fact("rename", renamed) if renamed else None


class Hipify:
    """rocm facts of one table: the primary column, the ROC fallback, and docs notes."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows = hipify_rows(table.hip) if table.hip else ()
        self.roc: dict[str, Block] = {}
        if table.roc:
            self.roc = {row.cuda.name: row.targets[0] for row in hipify_rows(table.roc)}
        self._check_combined()
        self.legacy_names = self._legacy_names()

    def _check_combined(self) -> None:
        """The side-by-side table must state exactly what the separate tables state."""
        if not self.table.combined:
            return
        primary = {row.cuda.name: row.targets[0].name for row in self.rows}
        for row in hipify_rows(self.table.combined):
            hip, roc = row.targets[0].name, row.targets[1].name
            roc_block = self.roc.get(row.cuda.name)
            if primary.get(row.cuda.name) != hip or roc_block is None or roc_block.name != roc:
                raise GenerationError(f"{self.table.combined}: {row.cuda.name} disagrees with the HIP/ROC tables")

    def _legacy_names(self) -> set[str]:
        """Names the ROCm 6.4 hipDNN table mapped (docs only: hipDNN never shipped, ROCm 7 dropped it)."""
        names: set[str] = set()
        for rel in self.table.legacy:
            names |= {row.cuda.name for row in hipify_rows(rel) if row.targets[0].name}
        return names

    def fact(self, row: Row) -> Fact:
        primary = row.targets[0]
        if primary.name:
            if primary.versions.get("R"):
                return Fact("missing")  # the replacement was removed from ROCm
            if primary.name == row.cuda.name:
                return Fact("native")
            return Fact("rename", primary.name)
        roc = self.roc.get(row.cuda.name)
        if roc is not None and roc.name:
            return Fact("equivalent", roc.name)
        return Fact("missing")

    @staticmethod
    def notes(row: Row) -> frozenset[str]:
        primary = row.targets[0]
        found = {
            "cuda-deprecated": bool(row.cuda.versions.get("D")),
            "cuda-removed": bool(row.cuda.versions.get("R")),
            "rocm-experimental": bool(primary.name and primary.versions.get("E")),
            "rocm-deprecated": bool(primary.name and primary.versions.get("D")),
            "rocm-removed": bool(primary.name and primary.versions.get("R")),
        }
        return frozenset(k for k, v in found.items() if v)


# -- curated facts ----------------------------------------------------------------------------------
def _fact(raw: dict[str, Any]) -> Fact:
    return Fact(raw["status"], raw.get("replacement"))


@dataclass
class Default:
    """A family-level fact for one target; ``namespace`` derives per-name replacements."""

    fact: Fact
    namespace: tuple[str, str] | None = None
    specificity: int = 0


class Curated:
    """curated_cuda.yaml, checked: every entry has a `why`, every table/section/name exists."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.families: dict[str, dict[str, str]] = data["families"]
        self.excluded = self._excluded(data["not_lock_in"])
        self.symbols: dict[tuple[str, str], Fact] = {}
        #: (target, name) whose curated fact replaces a vendor table's: the table has no mapping for a
        #: name the target does have (HIPIFY leaves ``nv_bfloat162`` empty; HIP has ``__hip_bfloat162``).
        self.corrections: set[tuple[str, str]] = set()
        for group in data["symbols"]:
            self._require_why(group)
            pairs = list(group.get("map", {}).items()) + [(n, None) for n in group.get("names", ())]
            for name, replacement in pairs:
                key = (group["target"], name)
                if key in self.symbols:
                    raise GenerationError(f"{CURATED}: {name} has two {group['target']} facts")
                self.symbols[key] = Fact(group["status"], replacement)
                if group.get("corrects_table"):
                    self.corrections.add(key)
        self.patterns: list[tuple[str, re.Pattern[str], Fact]] = []
        for pattern in data["patterns"]:
            self._require_why(pattern)
            self.patterns.append((pattern["target"], re.compile(pattern["regex"]), _fact(pattern)))
        for entry in data["defaults"]:
            self._require_why(entry)

    @staticmethod
    def _require_why(entry: dict[str, Any]) -> None:
        if not str(entry.get("why", "")).strip():
            raise GenerationError(f"{CURATED}: entry without a why: {entry}")

    def _excluded(self, groups: list[dict[str, Any]]) -> dict[str, str]:
        excluded: dict[str, str] = {}
        for group in groups:
            self._require_why(group)
            for name in group["names"]:
                excluded[name] = group["why"]
                if group.get("float_variants"):
                    excluded[name + "f"] = group["why"]
        return excluded

    def defaults_for(self, table: str, section: str) -> dict[str, Default]:
        """The most specific family-level fact per target for one rule (sections > tables > "*")."""
        chosen: dict[str, Default] = {}
        for entry in self.data["defaults"]:
            tables, sections = entry["tables"], entry.get("sections")
            if table not in tables and "*" not in tables:
                continue
            if sections is not None and section not in sections:
                continue
            specificity = 2 if sections else (1 if table in tables else 0)
            for target in TARGETS:
                if target not in entry:
                    continue
                raw = entry[target]
                namespace = tuple(raw["namespace"]) if "namespace" in raw else None
                replacement = raw.get("replacement") or (namespace[1] if namespace else None)
                candidate = Default(Fact(raw["status"], replacement), namespace, specificity)
                current = chosen.get(target)
                if current is not None and current.specificity == specificity and current != candidate:
                    raise GenerationError(f"{CURATED}: two {target} defaults of equal rank for {table} / {section}")
                if current is None or specificity > current.specificity:
                    chosen[target] = candidate
        return chosen

    def symbol_fact(self, target: str, name: str) -> Fact | None:
        fact = self.symbols.get((target, name))
        if fact is not None:
            return fact
        return next((f for t, regex, f in self.patterns if t == target and regex.fullmatch(name)), None)

    def check_references(self, names: set[str]) -> None:
        """Fail on a typo: unknown tables or sections, names no rule matches, patterns matching nothing."""
        if set(self.families) != set(TABLE_BY_KEY):
            raise GenerationError(f"{CURATED}: families must be exactly {sorted(TABLE_BY_KEY)}")
        for entry in self.data["defaults"]:
            unknown = set(entry["tables"]) - set(TABLE_BY_KEY) - {"*"}
            if unknown:
                raise GenerationError(f"{CURATED}: unknown tables {sorted(unknown)}")
            for section in entry.get("sections", ()):
                if not any(_section_exists(TABLE_BY_KEY[t], section) for t in entry["tables"] if t != "*"):
                    raise GenerationError(f"{CURATED}: no table of {entry['tables']} has a section {section!r}")
        missing = sorted({name for _, name in self.symbols} - names)
        if missing:
            raise GenerationError(f"{CURATED}: names no generated rule matches: {missing}")
        unmatched = [r.pattern for _, r, _ in self.patterns if not any(r.fullmatch(n) for n in names)]
        if unmatched:
            raise GenerationError(f"{CURATED}: patterns matching no name: {unmatched}")


def _section_exists(table: Table, section: str) -> bool:
    titles = {row.title for row in hipify_rows(table.hip)} if table.hip else set()
    return section in titles or section == table.sycl_section


# -- building the rules -----------------------------------------------------------------------------
@dataclass
class Stats:
    """What was dropped and why, for the report."""

    duplicates: Counter[str] = field(default_factory=Counter)  # by the table whose claim was dropped
    duplicate_examples: list[str] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)
    not_identifiers: list[str] = field(default_factory=list)
    sycl_known: int = 0  # SYCLomatic names a HIPIFY table already holds (they only add xpu facts)
    roc_fallback: Counter[str] = field(default_factory=Counter)
    legacy_only: Counter[str] = field(default_factory=Counter)


@dataclass
class Build:
    """Everything `generate` computed; kept for the report and the tests."""

    rules: list[RuleSpec]
    stats: Stats
    sycl: Sycl
    musa: Musa

    def by_file(self) -> dict[str, list[RuleSpec]]:
        files: dict[str, list[RuleSpec]] = {}
        for rule in sorted(self.rules, key=lambda r: r.number):
            files.setdefault(rule.table.key + SUFFIX, []).append(rule)
        return {name: files[name] for name in (t.key + SUFFIX for t in TABLES) if name in files}


class Builder:
    """Claims names table by table and attaches the per-target facts."""

    def __init__(self) -> None:
        self.curated = Curated(_curated())
        self.sycl = Sycl()
        self.musa = Musa()
        self.stats = Stats()
        self.owner: dict[str, RuleSpec] = {}  # name -> the rule that claimed it
        self.rules: dict[int, RuleSpec] = {}

    def _rule(self, number: int, table: Table, section: str, source: str) -> RuleSpec:
        rule = self.rules.get(number)
        if rule is None:
            rule = self.rules[number] = RuleSpec(number, table, section, source)
        elif rule.section != section:
            raise GenerationError(f"LC{number:04d} would hold two sections: {rule.section!r}, {section!r}")
        return rule

    def _claim(self, name: str, rule: RuleSpec) -> bool:
        """True when ``name`` is new; otherwise counts why it was dropped.

        A row a table repeats (SYCLomatic's cuBLAS and NVML CSVs list some names twice) is not a
        duplicate between tables and is skipped silently.
        """
        if name in self.curated.excluded:
            self.stats.excluded[rule.table.key] += 1
            return False
        if not (_IDENT.match(name) or _SCOPED.match(name)):
            self.stats.not_identifiers.append(name)
            return False
        owner = self.owner.get(name)
        if owner is rule:
            return False
        if owner is not None:
            self.stats.duplicates[rule.table.key] += 1
            if len(self.stats.duplicate_examples) < 12:
                self.stats.duplicate_examples.append(f"`{name}` ({rule.table.key}, kept in {owner.id})")
            return False
        self.owner[name] = rule
        return True

    def add_hipify(self, table: Table) -> None:
        hipify = Hipify(table)
        for row in hipify.rows:
            if not 0 < row.section < 99:
                raise GenerationError(f"{table.hip}: section {row.section} does not fit the LC id scheme")
            rule = self._rule(table.id_base + row.section, table, row.title, f"HIPIFY section {row.section}")
            if not self._claim(row.cuda.name, rule):
                continue
            rocm = hipify.fact(row)
            if rocm.status == "equivalent":
                self.stats.roc_fallback[table.key] += 1
            if row.cuda.name in hipify.legacy_names and rocm.status == "missing":
                self.stats.legacy_only[table.key] += 1
            rule.entries.append(Entry(row.cuda.name, {"rocm": rocm}, hipify.notes(row)))

    def add_sycl(self, rel: str, routes: tuple[tuple[str, str], ...]) -> None:
        """Names of one SYCLomatic CSV that no HIPIFY table lists go to the routed table's SYCLomatic rule."""
        for name, _ in sycl_rows(rel):
            owner = self.owner.get(name)
            if owner is not None and owner.source != "SYCLomatic":
                self.stats.sycl_known += 1
                continue
            table = TABLE_BY_KEY[self._route(name, routes)]
            if table.sycl_rule is None:
                raise GenerationError(f"{rel}: {name} routes to {table.key}, which takes no SYCLomatic names")
            rule = self._rule(table.sycl_rule, table, table.sycl_section, "SYCLomatic")
            if self._claim(name, rule):
                rule.entries.append(Entry(name))

    def add_header(self, table: Table) -> None:
        """Names the vendor's header declares that no table lists (types, enumerators, macros, newer
        functions) go to the table's header rule; rocm is ``native`` when the ROCm port's header spells
        the same name, else ``unknown`` (the port may name it otherwise, or lack it)."""
        if table.header is None or table.header_rule is None:
            return
        rocm_names = set(declared_names(_read_text(table.header_rocm), table.header_spelling)) \
            if table.header_rocm else set()
        rule = self._rule(table.header_rule, table, HEADER_SECTION, "header")
        for name in declared_names(_read_text(table.header), table.header_spelling):
            if name not in self.owner and self._claim(name, rule):
                rocm = Fact("native") if name in rocm_names else UNKNOWN
                rule.entries.append(Entry(name, {"rocm": rocm} if table.header_rocm else {}))

    @staticmethod
    def _route(name: str, routes: tuple[tuple[str, str], ...]) -> str:
        return next(key for regex, key in routes if re.match(regex, name))

    def finish(self) -> Build:
        rules = [r for _, r in sorted(self.rules.items()) if r.entries]
        for rule in rules:
            if rule.table.scoped_prefix and rule.source == "SYCLomatic":
                rule.scoped_prefixes = (rule.table.scoped_prefix,)
            self._attach_facts(rule)
        self.curated.check_references(set(self.owner))
        return Build(rules, self.stats, self.sycl, self.musa)

    def _attach_facts(self, rule: RuleSpec) -> None:
        defaults = self.curated.defaults_for(rule.table.key, rule.section)
        rule.defaults = {t: defaults[t].fact if t in defaults else UNKNOWN for t in TARGETS}
        for entry in rule.entries:
            entry.facts = {t: self._fact(t, entry, defaults.get(t)) for t in TARGETS}

    def _fact(self, target: str, entry: Entry, default: Default | None) -> Fact:
        table_fact = {
            "rocm": entry.facts.get("rocm"),
            "xpu": self.sycl.fact(entry.name),
            "musa": self.musa.fact(entry.name),
        }.get(target)
        curated = self.curated.symbol_fact(target, entry.name)
        if curated is not None and (target, entry.name) in self.curated.corrections:
            return curated
        if table_fact is not None:
            if curated is not None:
                raise GenerationError(f"{CURATED}: {target} fact for {entry.name} contradicts the vendor table")
            return table_fact
        if curated is not None:
            return curated
        if default is None:
            return UNKNOWN
        if default.namespace and entry.name.startswith(default.namespace[0]):
            return Fact(default.fact.status, default.namespace[1] + entry.name[len(default.namespace[0]):])
        return default.fact


def build() -> Build:
    builder = Builder()
    for table in TABLES:
        if table.hip:
            builder.add_hipify(table)
    for rel, routes in SYCL_SOURCES:
        builder.add_sycl(rel, routes)
    for table in TABLES:
        builder.add_header(table)
    return builder.finish()


# -- YAML emission ----------------------------------------------------------------------------------
def q(text: str) -> str:
    """A YAML scalar: plain when it is an unambiguous identifier, else double-quoted (JSON is YAML)."""
    if _IDENT.match(text) and text.lower() not in _YAML_SPECIAL:
        return text
    return json.dumps(text, ensure_ascii=False)


def fact_yaml(fact: Fact) -> str:
    parts = [f"status: {fact.status}"]
    if fact.replacement:
        parts.append(f"replacement: {q(fact.replacement)}")
    return "{" + ", ".join(parts) + "}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def rule_name(rule: RuleSpec) -> str:
    """kebab-case name: table prefix plus section, without repeating the prefix (cuda-driver-data-types)."""
    prefix = {"runtime": "cuda-runtime", "driver": "cuda-driver", "device": "cuda-device"}.get(
        rule.table.key, slug(rule.table.key))
    if rule.source == "SYCLomatic":
        return f"{prefix}-other" if rule.table.hip and rule.table.key != "cub" else f"{prefix}-api"
    if rule.source == "header":
        return f"{prefix}-header"
    section = slug(rule.section)
    for head in (prefix, prefix.rsplit("-", 1)[-1]):
        if section.startswith(head + "-"):
            section = section[len(head) + 1:]
            break
    return f"{prefix}-{section}"


def message(rule: RuleSpec) -> str:
    title = _curated()["families"][rule.table.key]["title"]
    if rule.source == "SYCLomatic":
        if rule.table.hip:
            return f"`{{symbol}}` is part of the {title} (listed by SYCLomatic, not by HIPIFY)"
        return f"`{{symbol}}` is part of the {title}"
    if rule.source == "header":
        return f"`{{symbol}}` is part of the {title} (declared in `{Path(rule.table.header or '').stem}`)"
    return f"`{{symbol}}` is part of the {title} ({rule.section})"


def notes_text(rule: RuleSpec) -> str:
    counts = Counter(note for entry in rule.entries for note in entry.notes)
    parts = [
        f"{counts[key]} {label}" for key, label in (
            ("cuda-deprecated", "deprecated in CUDA"),
            ("cuda-removed", "removed from CUDA"),
            ("rocm-experimental", "with an experimental HIP replacement"),
            ("rocm-deprecated", "with a HIP replacement deprecated in ROCm"),
            ("rocm-removed", "whose HIP replacement was removed from ROCm (status `missing`)"),
        ) if counts[key]
    ]
    return f"HIPIFY marks {', '.join(parts)}." if parts else ""


DATA_NOTE = (
    "Per-name statuses are generated by `scripts/gen_cuda_rules.py` from the data in `scripts/data/`: "
    "rocm from HIPIFY's tables (`rename`: hipify-clang / hipify-perl rewrite the name to the HIP (for cuDNN: "
    "MIOpen) one; `native`: the same name works under hipcc; `equivalent`: only the roc* library (rocBLAS, "
    "rocSPARSE) has it; `missing`: HIPIFY lists no counterpart), xpu from SYCLomatic's migration-status tables "
    "(`equivalent`: dpct/SYCLomatic migrates the call to SYCL code; `missing`: it does not), musa from "
    "torch_musa's porting maps, and ascend, mlu, mps and cpu from `curated_cuda.yaml`. "
    "`unknown` means that data does not mention the name."
)


def docs_yaml(rule: RuleSpec) -> list[str]:
    family = _curated()["families"][rule.table.key]
    examples = ", ".join(f"`{e.name}`" for e in rule.entries[:3])
    where = (f"SYCLomatic's {family['title']} table ({rule.section})" if rule.source == "SYCLomatic"
             else f"the vendor header `scripts/data/{rule.table.header}` that no table lists (rocm: `native` when "
                  f"`scripts/data/{rule.table.header_rocm}`, the ROCm port's header, spells the same name, else "
                  "`unknown`)" if rule.source == "header"
             else f'section "{rule.section}" of HIPIFY\'s {family["title"]} table')
    text = (
        f"## What it does\nFlags the {len(rule.entries)} names of {where}, e.g. {examples}. {family['what']}\n\n"
        f"## Why is this bad?\n{family['why_bad']}\n\n"
        f"## Use instead\n{family['use_instead']}\n\n{DATA_NOTE}"
    )
    notes = notes_text(rule)
    if notes:
        text += f" {notes}"
    return ["    docs: |"] + [f"      {line}".rstrip() for line in text.splitlines()]


def entry_yaml(rule: RuleSpec, entry: Entry) -> str | None:
    changed = [(t, entry.facts[t]) for t in TARGETS if entry.facts[t] != rule.defaults[t]]
    if not changed:
        return None
    targets = ", ".join(f"{t}: {fact_yaml(f)}" for t, f in changed)
    return f"      {q(entry.name)}: {{targets: {{{targets}}}}}"


def rule_yaml(rule: RuleSpec) -> list[str]:
    identifiers = [e.name for e in rule.entries if "::" not in e.name]
    scoped = [e.name for e in rule.entries if "::" in e.name]
    lines = [
        f"  - id: {rule.id}",
        f"    name: {rule_name(rule)}",
        f"    category: {rule.table.category}",
        "    languages: [cuda]",
        "    severity: warning",
        f"    message: {json.dumps(message(rule), ensure_ascii=False)}",
        "    match:",
    ]
    if identifiers:
        lines += ["      identifiers:", *[f"        - {q(n)}" for n in identifiers]]
    if scoped:
        lines += ["      scoped:", *[f"        - {q(n)}" for n in scoped]]
    if rule.scoped_prefixes:
        lines.append("      scoped_prefixes: [" + ", ".join(q(p) for p in rule.scoped_prefixes) + "]")
    lines.append("    targets:")
    lines += [f"      {t}: {fact_yaml(rule.defaults[t])}" for t in TARGETS]
    overrides = [line for line in (entry_yaml(rule, e) for e in rule.entries) if line]
    if overrides:
        lines += ["    symbols:", *overrides]
    return lines + docs_yaml(rule)


def facts_count(rules: Iterable[RuleSpec], target: str) -> int:
    return sum(1 for r in rules for e in r.entries if e.facts[target].status != "unknown")


def files_used(rules: list[RuleSpec], build_: Build) -> list[str]:
    """The data files that contributed to these rules, in a stable order."""
    tables = {r.table.key: r.table for r in rules}
    files = [f for t in tables.values() for f in t.files]
    names = [e.name for r in rules for e in r.entries]
    files += sorted({build_.sycl.source[n] for n in names if n in build_.sycl.source})
    files += [m for m in MUSA_MAPS if any(build_.musa.source.get(n) == m for n in names)]
    return list(dict.fromkeys(files + [CURATED]))


def header(rules: list[RuleSpec], build_: Build) -> list[str]:
    ids = f"{rules[0].id}-{rules[-1].id}" if len(rules) > 1 else rules[0].id
    entries = sum(len(r.entries) for r in rules)
    facts = ", ".join(f"{t} {facts_count(rules, t)}" for t in ("rocm", "xpu", "ascend", "mlu", "musa"))
    lines = [
        "# GENERATED FILE - DO NOT EDIT.",
        f"{SIGNATURE} (run: python scripts/gen_cuda_rules.py) from",
        *[f"#   scripts/data/{f}" for f in files_used(rules, build_)],
        "# Provenance of every file: scripts/data/PROVENANCE.md. tests/test_generated_cuda_rules.py fails on drift.",
        "#",
        f"# Report: {entries} entries in {len(rules)} rule{'s' if len(rules) > 1 else ''} ({ids}); "
        "entries with a fact (status not unknown):",
        f"#   {facts}.",
    ]
    return lines


def render_file(rules: list[RuleSpec], build_: Build) -> str:
    lines = [*header(rules, build_), "rules:"]
    for rule in rules:
        lines += rule_yaml(rule)
    return "\n".join(lines) + "\n"


def generate() -> dict[str, str]:
    """{file name under rules/cuda: YAML text}, deterministic."""
    build_ = build()
    return {name: render_file(rules, build_) for name, rules in build_.by_file().items()}


# -- coverage report --------------------------------------------------------------------------------
def coverage_from(build_: Build) -> str:
    files = build_.by_file()
    head = "| file | ids | rules | entries | " + " | ".join(REPORT_TARGETS) + " |"
    lines = [
        "# Knowledge-base coverage: CUDA C/C++ (generated)",
        "",
        "Generated by `scripts/gen_cuda_rules.py` (run `python scripts/gen_cuda_rules.py`); do not edit.",
        "`tests/test_generated_cuda_rules.py` fails when this file is stale.",
        "",
        "Per generated rule file: how many names it matches (entries) and how many of them have a *fact* for",
        "each target, i.e. a status other than `unknown`. rocm comes from HIPIFY (and curated facts for",
        "libraries HIPIFY has no table for), xpu from SYCLomatic, musa from torch_musa's porting maps,",
        "ascend / mlu / mps / cpu from `scripts/data/curated_cuda.yaml` (per name or per family).",
        "",
        head,
        "|" + "---|" * 4 + "---:|" * len(REPORT_TARGETS),
    ]
    for name, rules in files.items():
        ids = f"{rules[0].id}-{rules[-1].id}" if len(rules) > 1 else rules[0].id
        counts = " | ".join(str(facts_count(rules, t)) for t in REPORT_TARGETS)
        lines.append(f"| `{name}` | {ids} | {len(rules)} | {sum(len(r.entries) for r in rules)} | {counts} |")
    every = build_.rules
    total = " | ".join(f"**{facts_count(every, t)}**" for t in REPORT_TARGETS)
    entries = sum(len(r.entries) for r in every)
    lines.append(f"| **total** | | **{len(every)}** | **{entries}** | {total} |")
    lines += ["", "## Statuses per target", "", "| target | " + " | ".join(STATUSES) + " |",
              "|---|" + "---:|" * len(STATUSES)]
    for target in REPORT_TARGETS:
        counts = Counter(e.facts[target].status for r in every for e in r.entries)
        lines.append(f"| {target} | " + " | ".join(str(counts[s]) for s in STATUSES) + " |")
    lines += ["", "## Dropped and special names", "", *stats_lines(build_.stats)]
    return "\n".join(lines) + "\n"


def stats_lines(stats: Stats) -> list[str]:
    dup_detail = ", ".join(f"{k} {v}" for k, v in sorted(stats.duplicates.items()))
    excl_detail = ", ".join(f"{k} {v}" for k, v in sorted(stats.excluded.items()))
    roc = ", ".join(f"{k} {v}" for k, v in sorted(stats.roc_fallback.items()))
    legacy = ", ".join(f"{k} {v}" for k, v in sorted(stats.legacy_only.items())) or "none"
    return [
        f"- Duplicates dropped (a name already claimed by an earlier table; claim order in "
        f"`scripts/gen_cuda_rules.py: TABLES`, then `SYCL_SOURCES`): {sum(stats.duplicates.values())}"
        + (f" ({dup_detail}); e.g. {'; '.join(stats.duplicate_examples[:5])}." if dup_detail else "."),
        f"- Not CUDA lock-in (`curated_cuda.yaml: not_lock_in`: ISO C math, OpenGL types, `asm`, ...): "
        f"{sum(stats.excluded.values())}" + (f" ({excl_detail})." if excl_detail else "."),
        f"- SYCLomatic names not usable as C/C++ names (e.g. `thrust::operator==`): {len(stats.not_identifiers)}"
        + (f" ({', '.join(f'`{n}`' for n in stats.not_identifiers[:6])}"
           f"{', ...' if len(stats.not_identifiers) > 6 else ''})." if stats.not_identifiers else "."),
        f"- SYCLomatic names a HIPIFY table already lists (they add the xpu fact only): {stats.sycl_known}.",
        f"- rocm `equivalent` via the ROC-library column (no hip* name, a roc* one): "
        f"{sum(stats.roc_fallback.values())}" + (f" ({roc})." if roc else "."),
        f"- cuDNN names only the legacy ROCm 6.4 hipDNN table mapped (hipDNN never shipped; status stays "
        f"`missing`): {legacy}.",
        f"- Not read: {', '.join(f'`{f}`' for f in SYCL_UNUSED)} (PTX mnemonics, not C identifiers; inline PTX is "
        "the hand-written rule LC7010).",
    ]


def coverage_markdown() -> str:
    """The text of docs/kb-coverage.md (deterministic)."""
    return coverage_from(build())


# -- entry point ------------------------------------------------------------------------------------
def owned_files() -> list[Path]:
    """Existing rules/cuda/*.generated.yaml files written by this script (others have other generators)."""
    owned = []
    for path in sorted(RULES_DIR.glob("*" + SUFFIX)):
        with path.open(encoding="utf-8") as handle:
            if any(line.startswith(SIGNATURE) for _, line in zip(range(5), handle)):
                owned.append(path)
    return owned


def main() -> int:
    from gen_rule_digests import main as write_rule_digests  # lists the written files as validated

    try:
        build_ = build()
    except GenerationError as exc:
        print(f"gen_cuda_rules: {exc}", file=sys.stderr)
        return 1
    outputs = {name: render_file(rules, build_) for name, rules in build_.by_file().items()}
    RULES_DIR.mkdir(parents=True, exist_ok=True)
    for stale in owned_files():
        if stale.name not in outputs:
            stale.unlink()
            print(f"removed stale {stale.relative_to(REPO)}")
    for name, text in outputs.items():
        (RULES_DIR / name).write_text(text, encoding="utf-8")
    COVERAGE.parent.mkdir(parents=True, exist_ok=True)
    previous = COVERAGE.read_text(encoding="utf-8") if COVERAGE.exists() else ""
    python_section = previous[previous.find(PYTHON_SECTION_MARKER):] if PYTHON_SECTION_MARKER in previous else ""
    COVERAGE.write_text(coverage_from(build_) + ("\n" + python_section if python_section else ""), encoding="utf-8")
    entries = sum(len(r.entries) for r in build_.rules)
    print(f"wrote {len(outputs)} files under {RULES_DIR.relative_to(REPO)} ({len(build_.rules)} rules, "
          f"{entries} entries) and {COVERAGE.relative_to(REPO)}")
    print("\n".join(stats_lines(build_.stats)))
    return write_rule_digests()


if __name__ == "__main__":
    sys.exit(main())
