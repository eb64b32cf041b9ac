"""Each unit of the effort model (docs/scoring.md): kernels, libraries, APIs, renames, edits, hooks.

Costs are compared with the model's own ranges (``EffortModel.cost``), so the tests follow a
reconfigured default, and with each other (an intrinsic adds to its kernel, never a unit of its own).
"""

from __future__ import annotations

import dataclasses

from lockin_lint.model import TARGETS, Finding, Location, Portable, TargetInfo
from lockin_lint.score.costs import DISTINCT_MEMBER_LINES
from lockin_lint.score.effort import EffortModel, summarize, unit_costs
from lockin_lint.score.plan import costs_by_target, top_blockers
from lockin_lint.score.ranges import Range
from lockin_lint.score.scopes import ScopeRules
from lockin_lint.score.units import group_units, library_name

MODEL = EffortModel()
ALL_NATIVE = {t: TargetInfo("native") for t in TARGETS}


@dataclasses.dataclass(frozen=True, slots=True)
class Flagged(Finding):
    """A finding as the dispatch and --fix subsystems will extend it (attributes read through getattr)."""

    fixable: object = None
    dispatch: bool = False


def make(rule: str, category: str, path: str, line: int, symbol: str, status: str = "missing",
         end_line: int | None = None, target: str = "ascend", **extra: object) -> Finding:
    targets = {**ALL_NATIVE, target: TargetInfo(status, extra.pop("replacement", None))}  # type: ignore[arg-type]
    cls = Flagged if extra.keys() & {"fixable", "handled", "dispatch"} else Finding
    return cls(rule, category, "warning", path, line, 1, end_line or line, 2, symbol, "m", targets,  # type: ignore[arg-type]
               fingerprint=f"{rule}{path}{line}{symbol}", **extra)


def effort(found: list[Finding], target: str = "ascend", model: EffortModel = MODEL) -> Range:
    return summarize(found, (target,), model=model)[target].effort


def close(a: Range, b: Range) -> bool:
    """Equal up to the two decimals summaries are rounded to."""
    return abs(a.low - b.low) < 0.011 and abs(a.high - b.high) < 0.011


def kernel(line: int = 10, end: int = 59, status: str = "missing") -> Finding:
    return make("LC7000", "kernel", "k.cu", line, "__global__ k", status, end_line=end)


def test_a_kernel_is_one_unit_sized_by_its_body() -> None:
    small, big = effort([kernel(end=19)]), effort([kernel(end=209)])
    rate = MODEL.cost("kernel-rewrite-line", "missing", "kernel")
    assert abs(big.high - small.high - rate.high * 190) < 0.02
    assert close(small, MODEL.cost("kernel-rewrite", "missing", "kernel") + rate.times(10))


def test_intrinsics_ptx_and_warp_size_add_to_their_kernel_not_new_units() -> None:
    members = [make("LC4001", "kernel", "k.cu", 20 + i, name) for i, name in
               enumerate(["__hfma2", "__syncthreads", "__expf", "__syncthreads"])]
    ptx = make("LC7010", "kernel", "k.cu", 30, "asm")
    units = group_units([kernel(), *members, ptx])
    assert [u.kind for u in units] == ["kernel"]
    alone, full = effort([kernel()]), effort([kernel(), *members, ptx])
    rate = MODEL.cost("kernel-rewrite-line", "missing", "kernel")
    three_distinct = rate.times(3 * DISTINCT_MEMBER_LINES)
    assert full.high > alone.high + three_distinct.high  # the PTX adds more than the three intrinsics
    assert full.high < alone.high * 2  # ... but nowhere near a kernel each (the old model: 32 h apiece)


def test_device_code_outside_any_kernel_is_one_unit_per_file() -> None:
    helpers = [make("LC4001", "kernel", "h.cuh", i, f"__i{i}") for i in range(1, 6)]
    assert [u.kind for u in group_units(helpers)] == ["device-code"]


def test_a_library_is_one_unit_per_library_and_a_family_per_file() -> None:
    uses = [make("LC5101", "library", f"g{i % 2}.cu", i, f"cutlass::sym{i}") for i in range(100)]
    units = group_units(uses)
    assert [(u.kind, u.name) for u in units] == [("library", "CUTLASS")]
    expected = (MODEL.cost("library-replace", "missing", "library")
                + MODEL.cost("library-family-replace", "missing", "library").times(2))
    assert close(effort(uses), expected)


def test_library_names_group_symbols_and_spellings() -> None:
    assert library_name(make("LC5101", "library", "a.cu", 1, "cute::Tensor")) == "CUTLASS"
    assert library_name(make("LC3007", "library", "a.cu", 1, "cublasSgemm")) == "cuBLAS"
    assert library_name(make("LL510", "plugin", "a.py", 1, "flash_attn.flash_attn_func")) == "flash_attn"
    assert library_name(make("LD105", "plugin", "requirements.txt", 1, "flash-attn")) == "flash_attn"
    assert library_name(make("LD103", "library", "requirements.txt", 1, "cupy-cuda12x")) == "cupy"
    assert library_name(make("LC6000", "library", "a.cu", 1, "cuda_fp16.h")) is None  # an include: an edit


def test_a_missing_api_is_written_once_then_each_call_is_an_edit() -> None:
    calls = [make("LL112", "device-api", "a.py", i, "torch.cuda.graphs") for i in range(1, 11)]
    assert close(effort(calls), MODEL.cost("reimplement", "missing", "device-api")
                 + MODEL.cost("edit", "missing", "device-api").times(10))


def test_a_rename_costs_minutes_and_nothing_when_check_fix_applies_it() -> None:
    cpp = make("LC1036", "device-api", "a.cu", 1, "cudaStream_t", "rename", replacement="hipStream_t")
    assert close(effort([cpp]), MODEL.cost("rename", "rename", "device-api"))
    assert effort([cpp]).high <= 5 / 60 + 1e-9
    python = make("LL101", "device-api", "a.py", 1, "torch.cuda.synchronize", "rename",
                  replacement="torch.npu.synchronize")
    assert effort([python]) == Range()
    summary = summarize([python, cpp], ("ascend",), model=MODEL)["ascend"]
    assert summary.fixable == 1 and close(summary.fix_saves, MODEL.cost("rename", "rename", "device-api"))


def test_the_fixable_hook_overrides_the_rule_data() -> None:
    python = make("LL101", "device-api", "a.py", 1, "torch.cuda.synchronize", "rename", replacement="x",
                  fixable=False)
    assert close(effort([python]), MODEL.cost("rename", "rename", "device-api"))
    cpp = make("LC1036", "device-api", "a.cu", 1, "cudaStream_t", "rename", fixable="safe")
    assert effort([cpp]) == Range()
    unsafe = make("LL101", "device-api", "a.py", 1, "torch.cuda.x", "equivalent", fixable={"ascend": "unsafe"})
    assert close(effort([unsafe]), MODEL.cost("adapt", "equivalent", "device-api") + MODEL.cost(
        "edit", "equivalent", "device-api"))


def test_a_portable_rewrite_is_a_fix_for_api_calls_not_for_plugins() -> None:
    call = dataclasses.replace(make("LL120", "device-api", "a.py", 1, "torch.cuda.amp.autocast", "equivalent"),
                               portable=Portable("torch.amp.autocast('cuda')"))
    plugin = dataclasses.replace(make("LL510", "plugin", "a.py", 1, "flash_attn"), portable=Portable("sdpa"))
    assert effort([call]) == Range() and effort([plugin]).high > 0


def test_device_strings_and_configuration_are_edits() -> None:
    edits = [make("LL200", "device-string", "a.py", 1, "cuda", "equivalent"),
             make("LL800", "env", "a.py", 2, "CUDA_VISIBLE_DEVICES", "missing"),
             make("LB103", "build", "CMakeLists.txt", 3, "CMAKE_CUDA_ARCHITECTURES", "missing")]
    assert [u.kind for u in group_units(edits)] == ["edit"] * 3
    expected = (MODEL.cost("edit", "equivalent", "device-string") + MODEL.cost("edit", "missing", "env")
                + MODEL.cost("edit", "missing", "build"))
    assert close(effort(edits), expected)


def test_code_handled_for_a_target_costs_nothing_there_only() -> None:
    both = {**ALL_NATIVE, "ascend": TargetInfo("missing"), "rocm": TargetInfo("missing")}
    plain = Finding("LC7000", "kernel", "warning", "k.cu", 1, 1, 50, 2, "__global__ k", "m", both, fingerprint="k")
    handled = dataclasses.replace(plain, handled=(("rocm", "#ifdef USE_ROCM"),))  # as model.with_handled notes it
    assert effort([handled], "rocm") == Range() and effort([handled], "ascend") == effort([plain], "ascend")
    dispatch = Flagged(*[getattr(plain, f.name) for f in dataclasses.fields(Finding)], dispatch=True)
    assert effort([dispatch], "ascend") == Range()


def test_a_call_into_a_custom_kernel_costs_nothing() -> None:
    call = dataclasses.replace(make("LL710", "kernel", "a.py", 1, "ops.fused"),
                               depends_on=(Location("k.cu", 10, 1, "kernel"),))
    assert effort([call]) == Range()
    assert summarize([call], ("ascend",))["ascend"].blocking_units == 0


def test_configured_hours_scale_the_model() -> None:
    doubled = EffortModel(status_hours={**MODEL.status_hours, "missing": 16.0})
    assert close(effort([kernel()], model=doubled), effort([kernel()]).times(2))
    kernels_x2 = EffortModel(category_factor={**MODEL.category_factor, "kernel": 8.0})
    assert close(effort([kernel()], model=kernels_x2), effort([kernel()]).times(2))


def test_blockers_are_units_ranked_by_effort_then_size() -> None:
    big = kernel(line=100, end=400)
    small = dataclasses.replace(kernel(line=10, end=20), symbol="__global__ small", fingerprint="s")
    intrinsics = [make("LC4001", "kernel", "k.cu", 150 + i, f"__i{i}") for i in range(20)]
    twins = [make("LL112", "device-api", p, 1, "torch.cuda.graphs") for p in ("x.py", "y.py")]
    found = [small, big, *intrinsics, *twins]
    units = group_units(found)
    rows = top_blockers(units, costs_by_target(units, found, ("ascend",), MODEL))
    assert [r["name"] for r in rows[:2]] == ["k", "small"]
    assert all(r["kind"] != "member" and not r["name"].startswith("__i") for r in rows)
    assert rows[0]["size_lines"] == 301 and rows[0]["findings"] == 21
    tie_a = make("LL112", "device-api", "z.py", 1, "torch.cuda.a")
    tie_b = [make("LL112", "device-api", "z.py", i, "torch.cuda.b") for i in (2, 3)]
    units = group_units([tie_a, *tie_b])
    costs = {"ascend": {id(u): Range(1, 1) for u in units}}  # equal effort: the bigger unit first
    assert [r["symbol"] for r in top_blockers(units, costs)] == ["torch.cuda.b", "torch.cuda.a"]


def test_unit_costs_cover_every_finding_once() -> None:
    found = [kernel(), make("LC4001", "kernel", "k.cu", 12, "__expf"), make("LL200", "device-string", "a.py", 1, "cuda")]
    units = [u for u, _ in unit_costs(found, "ascend", MODEL)]
    assert sorted(id(f) for u in units for f in u.findings) == sorted(id(f) for f in found)


def test_scopes_tell_product_tests_and_vendored_code_apart() -> None:
    rules = ScopeRules()
    assert rules.scope_of("vllm/engine.py") == "product"
    assert rules.scope_of("tests/kernels/test_attention.py") == "tests"
    assert rules.scope_of("pkg/test_utils.py") == "tests"
    assert rules.scope_of("csrc/third_party/cutlass/gemm.h") == "vendored"
    assert rules.scope_of("third_party/x/tests/test_a.py") == "vendored"
    assert ScopeRules(tests=("bench/*",)).scope_of("tests/a.py") == "product"
    assert rules.with_vendored(("deps/cutlass/*",)).scope_of("deps/cutlass/a.h") == "vendored"


def test_dependencies_are_one_row_per_library_with_uses_files_and_effort() -> None:
    from lockin_lint.score.tables import dependencies

    uses = [make("LC5101", "library", f"csrc/g{i % 3}.cu", i, sym) for i, sym in
            enumerate(["cute", "cutlass::gemm", "cute::Tensor", "cutlass::fmha::kernel", "cute::copy"])]
    plugin = [make("LL510", "plugin", "m.py", 1, "flash_attn.flash_attn_func"),
              make("LD105", "plugin", "requirements.txt", 2, "flash-attn")]
    found = [*uses, *plugin]
    units = group_units(found)
    rows = dependencies(found, units, costs_by_target(units, found, ("ascend",), MODEL))
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"CUTLASS", "flash_attn"}
    assert (by_name["CUTLASS"]["count"], len(by_name["CUTLASS"]["files"])) == (5, 3)
    assert by_name["flash_attn"]["files"] == ["m.py", "requirements.txt"]
    assert rows[0]["name"] == "CUTLASS" and rows[0]["effort_high"]["ascend"] > rows[1]["effort_high"]["ascend"]
