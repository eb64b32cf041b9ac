"""The generated CUDA C/C++ knowledge base: no drift from its generator, and every name really matches.

Why: `rules/cuda/*.generated.yaml` and `docs/kb-coverage.md` are written by `scripts/gen_cuda_rules.py`
from the vendor tables in `scripts/data/`. A hand edit would silently diverge from the data; a name
the C/C++ analyzer cannot find, or finds with other facts than HIPIFY states, would make the report
wrong. The acceptance test reads HIPIFY's Runtime and Driver tables with its own small reader (not
the generator's) and checks every function of them, one call per line, through `check_bytes`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockin_lint.api import check_bytes
from lockin_lint.model import CATEGORIES, TARGETS, Finding
from lockin_lint.kb.ruleset import RuleSet

from .conftest import load_script

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "scripts" / "data"
RULES = REPO / "rules" / "cuda"
GENERATOR = REPO / "scripts" / "gen_cuda_rules.py"
COVERAGE = REPO / "docs" / "kb-coverage.md"
SIGNATURE = "# Written by scripts/gen_cuda_rules.py"

RUNTIME = "hipify/CUDA_Runtime_API_functions_supported_by_HIP.md"
DRIVER = "hipify/CUDA_Driver_API_functions_supported_by_HIP.md"
MUSA_MAPS = ("musa/general.json", "musa/dnn-naming.json", "musa/include.json", "musa/extra.json")


GEN = load_script(GENERATOR)


def _owned_files() -> dict[str, str]:
    """Committed rules/cuda/*.generated.yaml files written by gen_cuda_rules.py (not by other generators)."""
    files = {}
    for path in sorted(RULES.glob("*.generated.yaml")):
        text = path.read_text(encoding="utf-8")
        if any(line.startswith(SIGNATURE) for line in text.splitlines()[:5]):
            files[path.name] = text
    return files


_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # 2.5 MB of YAML: the C loader is ~10x faster
COMMITTED = _owned_files()
PACK: dict[str, list[dict[str, Any]]] = {
    name: yaml.load(text, Loader=_LOADER)["rules"] for name, text in COMMITTED.items()
}
ALL_RULES = [rule for rules in PACK.values() for rule in rules]


def _names(rule: dict[str, Any]) -> list[str]:
    return [*rule["match"].get("identifiers", ()), *rule["match"].get("scoped", ())]


def _expected(rule: dict[str, Any], symbol: str) -> dict[str, tuple[str, str | None]]:
    """The (status, replacement) per target the YAML states for ``symbol`` (rule default + override)."""
    override = (rule.get("symbols") or {}).get(symbol, {}).get("targets", {})
    merged = {**rule["targets"], **override}
    return {t: (merged[t]["status"], merged[t].get("replacement")) for t in TARGETS}


def _got(finding: Finding) -> dict[str, tuple[str, str | None]]:
    return {t: (finding.targets[t].status, finding.targets[t].replacement) for t in TARGETS}


def _findings_by_line(data: bytes, ruleset: RuleSet) -> dict[int, list[Finding]]:
    result = check_bytes("snippet.cu", data, ruleset)
    assert not result.errors, result.errors
    lines: dict[int, list[Finding]] = {}
    for finding in result.findings:
        lines.setdefault(finding.line, []).append(finding)
    return lines


def _calls(names: list[str]) -> tuple[bytes, dict[int, str]]:
    """A .cu snippet calling each name on its own line; returns the bytes and {line: name}."""
    lines = ["void lockin_probe() {"]
    where: dict[int, str] = {}
    for name in names:
        lines.append(f"  {name}(0);")
        where[len(lines)] = name
    lines.append("}")
    return ("\n".join(lines) + "\n").encode(), where


# -- drift ------------------------------------------------------------------------------------------
def test_generated_files_have_no_drift() -> None:
    generated = GEN.generate()
    assert sorted(generated) == sorted(COMMITTED), (
        "rules/cuda has missing or stale generated files: run python scripts/gen_cuda_rules.py"
    )
    for name, text in generated.items():
        assert text == COMMITTED[name], f"rules/cuda/{name} is stale or hand-edited: run scripts/gen_cuda_rules.py"


def test_coverage_report_has_no_drift() -> None:
    """The CUDA part of the file (the torch.cuda section after the marker belongs to gen_python_rules.py)."""
    committed = COVERAGE.read_text(encoding="utf-8").split(GEN.PYTHON_SECTION_MARKER)[0]
    assert GEN.coverage_markdown() + "\n" == committed, (
        "docs/kb-coverage.md is stale or hand-edited: run python scripts/gen_cuda_rules.py"
    )


# -- shape ------------------------------------------------------------------------------------------
def test_rule_ids_categories_targets_and_docs() -> None:
    ids = [rule["id"] for rule in ALL_RULES]
    assert len(ids) == len(set(ids))
    assert len({rule["name"] for rule in ALL_RULES}) == len(ALL_RULES)
    for rule in ALL_RULES:
        assert re.fullmatch(r"LC[1-4]\d{3}", rule["id"]), rule["id"]  # LC5000+ is hand-written
        assert rule["languages"] == ["cuda"]
        assert rule["category"] in CATEGORIES
        assert set(rule["targets"]) == set(TARGETS)
        for heading in ("## What it does", "## Why is this bad?", "## Use instead"):
            assert heading in rule["docs"], (rule["id"], heading)
        assert set(rule.get("symbols") or {}) <= set(_names(rule)), rule["id"]


def test_every_name_is_in_one_rule_only() -> None:
    names = [name for rule in ALL_RULES for name in _names(rule)]
    assert len(names) == len(set(names))


def test_families_use_their_id_ranges() -> None:
    ranges = {"runtime": "LC10", "driver": "LC20", "nvrtc": "LC29", "cublas": "LC30", "cudnn": "LC31",
              "cufft": "LC32", "curand": "LC33", "cusparse": "LC34", "cusolver": "LC35", "cub": "LC36",
              "cutensor": "LC37", "cusparselt": "LC38", "cufile": "LC39", "device": "LC40",
              "cooperative_groups": "LC40", "nccl": "LC41", "nvml": "LC42", "nvshmem": "LC43",
              "thrust": "LC44", "wmma": "LC45", "nvjpeg": "LC46", "cudnn_frontend": "LC47", "complex": "LC48",
              "nvgraph": "LC49"}
    for name, rules in PACK.items():
        prefix = ranges[name.removesuffix(".generated.yaml")]
        assert all(rule["id"].startswith(prefix) for rule in rules), name


def test_curated_facts_all_have_a_why() -> None:
    curated = yaml.safe_load((DATA / "curated_cuda.yaml").read_text(encoding="utf-8"))
    for key in ("not_lock_in", "defaults", "symbols", "patterns"):
        for entry in curated[key]:
            assert str(entry.get("why", "")).strip(), (key, entry)


# -- the acceptance test: every Runtime and Driver API function, with HIPIFY's replacement ------------
def read_hipify_functions(rel: str) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Function sections of a HIPIFY table: [(section title, [(cuda name, hip name, hip removed)])].

    Deliberately independent of the generator: a plain line reader over the markdown.
    """
    sections: list[tuple[str, list[tuple[str, str, bool]]]] = []
    hip_column = 0
    for line in (DATA / rel).read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## \*\*\d+\. (.+)\*\*$", line.strip())
        if heading:
            sections.append((heading.group(1), []))
        elif line.startswith("|**"):
            header = [cell.strip("*") for cell in line.strip().strip("|").split("|")]
            hip_column = header.index("HIP")
        elif line.startswith("|`"):
            cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
            removed = bool(cells[hip_column + 4])  # HIP's A, D, C, R columns follow its name
            sections[-1][1].append((cells[0], cells[hip_column], removed))
    return [(title, rows) for title, rows in sections if "data type" not in title.lower()]


def read_sycl_flags() -> dict[str, str]:
    """Every SYCLomatic CSV except the PTX one: name -> YES/NO (YES when any row says YES)."""
    flags: dict[str, str] = {}
    for path in sorted((DATA / "syclomatic").glob("*_migration_status.csv")):
        if path.name.startswith("ASM_"):
            continue
        for row in list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))[1:]:
            if flags.get(row[0]) != "YES":
                flags[row[0]] = row[1]
    return flags


def read_musa() -> dict[str, str]:
    merged: dict[str, str] = {}
    for rel in MUSA_MAPS:
        for key, value in json.loads((DATA / rel).read_text(encoding="utf-8")).items():
            merged.setdefault(key, value)
    return merged


SYCL_FLAGS = read_sycl_flags()
MUSA = read_musa()
API_SECTIONS = [
    pytest.param(rel, prefix, title, rows, id=f"{prefix}-{title}")
    for rel, prefix in ((RUNTIME, "LC10"), (DRIVER, "LC20"))
    for title, rows in read_hipify_functions(rel)
]


def _rocm_expected(name: str, hip: str, removed: bool) -> tuple[str, str | None]:
    if not hip or removed:
        return ("missing", None)
    if hip == name:
        return ("native", None)  # the same name works unchanged under hipcc
    return ("rename", hip)


@pytest.mark.parametrize(("rel", "prefix", "title", "rows"), API_SECTIONS)
def test_every_runtime_and_driver_function_is_reported(
    rel: str, prefix: str, title: str, rows: list[tuple[str, str, bool]], ruleset: RuleSet
) -> None:
    data, where = _calls([name for name, _, _ in rows])
    found = _findings_by_line(data, ruleset)
    expected = {name: (hip, removed) for name, hip, removed in rows}
    for line, name in where.items():
        on_line = found.get(line, [])
        assert [f.symbol for f in on_line] == [name], (line, name, [(f.rule_id, f.symbol) for f in on_line])
        finding = on_line[0]
        assert finding.rule_id.startswith(prefix), (name, finding.rule_id)
        rocm = finding.targets["rocm"]
        assert (rocm.status, rocm.replacement) == _rocm_expected(name, *expected[name]), name
        flag = SYCL_FLAGS.get(name)
        xpu = {"YES": "equivalent", "NO": "missing", None: "unknown"}[flag]
        assert finding.targets["xpu"].status == xpu, name
        musa = finding.targets["musa"]
        assert (musa.status, musa.replacement) == (("rename", MUSA[name]) if name in MUSA else ("unknown", None)), name


# -- every family: the first name of every rule, with the YAML's facts ---------------------------------
FAMILY_SAMPLES = [
    pytest.param(name, [(rule, _names(rule)[0]) for rule in rules], id=name)
    for name, rules in PACK.items()
]


@pytest.mark.parametrize(("file_name", "samples"), FAMILY_SAMPLES)
def test_a_sample_of_every_family_is_reported_with_its_facts(
    file_name: str, samples: list[tuple[dict[str, Any], str]], ruleset: RuleSet
) -> None:
    data, where = _calls([symbol for _, symbol in samples])
    found = _findings_by_line(data, ruleset)
    for (rule, symbol), line in zip(samples, where):
        on_line = found.get(line, [])
        assert [(f.rule_id, f.symbol) for f in on_line] == [(rule["id"], symbol)], (file_name, symbol)
        assert _got(on_line[0]) == _expected(rule, symbol), (file_name, symbol)


@pytest.mark.parametrize(
    ("source", "rule_id", "symbol", "rocm"),
    [
        ("void f() { cudaMalloc(0, 0); }\n", "LC1011", "cudaMalloc", ("rename", "hipMalloc")),
        ("void f() { cuMemAlloc(0, 0); }\n", "LC2013", "cuMemAlloc", ("rename", "hipMalloc")),
        ("__global__ void k() { __syncthreads(); }\n", "LC4001", "__syncthreads", ("native", None)),
        ("void f() { ncclAllReduce(0); }\n", "LC4101", "ncclAllReduce", ("native", None)),
        ("void f() { thrust::some_future_algorithm(0); }\n", "LC4401", "thrust::some_future_algorithm",
         ("native", None)),
        ("void f() { cub::DeviceScan::InclusiveSum(0); }\n", "LC3602", "cub::DeviceScan::InclusiveSum",
         ("rename", "hipcub::DeviceScan::InclusiveSum")),
        ("using namespace nvcuda;\nvoid f() { wmma::mma_sync(0); }\n", "LC4501", "nvcuda::wmma::mma_sync",
         ("equivalent", "rocwmma::mma_sync")),
        # HIPIFY's row is empty; curated_cuda.yaml corrects it (corrects_table)
        ("__device__ void k(nv_bfloat162* p) {}\n", "LC4002", "nv_bfloat162", ("rename", "__hip_bfloat162")),
        # HIPIFY's row is empty; curated_cuda.yaml corrects it from torch's hipify table
        ("int algo = CUBLAS_GEMM_DEFAULT_TENSOR_OP;\n", "LC3001", "CUBLAS_GEMM_DEFAULT_TENSOR_OP",
         ("rename", "HIPBLAS_GEMM_DEFAULT")),
        # near miss: torch's table maps no numbered algorithm, so HIPIFY's empty row stands
        ("int algo = CUBLAS_GEMM_ALGO0_TENSOR_OP;\n", "LC3001", "CUBLAS_GEMM_ALGO0_TENSOR_OP", ("missing", None)),
        # HIPIFY's rows are empty, HIP's amd_hip_bf16.h has the same conversion (curated corrects_table)
        ("__device__ void k(float f, __nv_bfloat16* o) { *o = __float2bfloat16_rn(f); }\n", "LC4001",
         "__float2bfloat16_rn", ("rename", "__float2bfloat16")),
        ("__device__ void k(int q, __nv_bfloat16* o) { *o = __int2bfloat16_rn(q); }\n", "LC4001",
         "__int2bfloat16_rn", ("native", None)),
        ("__device__ void k(float s, __nv_bfloat162* o) { *o = __float2bfloat162_rn(s); }\n", "LC4001",
         "__float2bfloat162_rn", ("equivalent", "__float22bfloat162_rn")),
        ("__device__ void k(float a, float b, __nv_bfloat162* o) { *o = __floats2bfloat162_rn(a, b); }\n",
         "LC4001", "__floats2bfloat162_rn", ("equivalent", "__float22bfloat162_rn")),
        # near misses: other rounding modes / source types HIP's header lacks keep HIPIFY's empty row
        ("__device__ void k(float f, __nv_bfloat16* o) { *o = __float2bfloat16_rz(f); }\n", "LC4001",
         "__float2bfloat16_rz", ("missing", None)),
        ("__device__ void k(int q, __nv_bfloat16* o) { *o = __int2bfloat16_rz(q); }\n", "LC4001",
         "__int2bfloat16_rz", ("missing", None)),
        ("__device__ void k(unsigned q, __nv_bfloat16* o) { *o = __uint2bfloat16_rn(q); }\n", "LC4001",
         "__uint2bfloat16_rn", ("missing", None)),
        # no HIPIFY row (SYCLomatic's only); curated_cuda.yaml's pattern: HIP has the vector constructors
        ("__global__ void k(float4* p) { *p = make_float4(0, 0, 0, 0); }\n", "LC4099", "make_float4",
         ("native", None)),
    ],
)
def test_spot_checks(source: str, rule_id: str, symbol: str, rocm: tuple[str, str | None], ruleset: RuleSet) -> None:
    result = check_bytes("snippet.cu", source.encode(), ruleset)
    hits = [f for f in result.findings if f.rule_id == rule_id]
    assert [f.symbol for f in hits] == [symbol]
    assert (hits[0].targets["rocm"].status, hits[0].targets["rocm"].replacement) == rocm


def test_a_curated_fact_contradicting_a_vendor_table_fails_unless_it_says_it_corrects_it() -> None:
    data = GEN._curated()
    correction = next(g for g in data["symbols"] if g.get("corrects_table"))
    assert GEN.Builder().curated.corrections  # the real data has one, and builds (the drift test)
    del correction["corrects_table"]
    builder = GEN.Builder()
    builder.curated = GEN.Curated(data)
    with pytest.raises(GEN.GenerationError, match="contradicts the vendor table"):
        for table in GEN.TABLES:
            if table.hip:
                builder.add_hipify(table)
        builder.finish()


def test_standard_c_math_is_not_reported_as_cuda(ruleset: RuleSet) -> None:
    """ISO C math, min/max and OpenGL types are excluded (curated_cuda.yaml: not_lock_in)."""
    source = b"void f() { double a = sin(1.0) + sqrtf(2.0f) + fabs(-1.0); int m = max(1, 2); GLuint t = 0; }\n"
    result = check_bytes("snippet.cpp", source, ruleset)
    generated = {rule["id"] for rule in ALL_RULES}
    assert [f.symbol for f in result.findings if f.rule_id in generated] == []
