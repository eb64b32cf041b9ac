"""CUDA names a project's compatibility header defines for ROCm builds are already ported for rocm."""

from __future__ import annotations

from pathlib import Path

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet

COMPAT = """#pragma once
#ifdef USE_ROCM
  #include <hip/hip_runtime_api.h>
typedef hipDeviceptr_t CUdeviceptr;
  #define cuMemCreate hipMemCreate
#endif
"""


def test_names_aliased_under_a_rocm_branch_are_native_for_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "compat.h").write_text(COMPAT)
    (tmp_path / "alloc.cpp").write_text('#include "compat.h"\n#include <cuda.h>\n'
                                        "void f(CUdeviceptr p, void* h) { cuMemCreate(h, 0, 0, 0); cuMemMap(p, 0, 0, h, 0); }\n")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    by_symbol = {f.symbol: f for f in run.findings if f.path == "alloc.cpp"}
    assert by_symbol["CUdeviceptr"].targets["rocm"].status == "native"
    assert dict(by_symbol["cuMemCreate"].handled) == {"rocm": "ROCm alias in compat.h"}
    assert by_symbol["cuMemMap"].targets["rocm"].status != "native"  # no alias for it: still to port
    assert by_symbol["CUdeviceptr"].targets["ascend"].status != "native"


def test_aliases_outside_a_rocm_branch_change_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "compat.h").write_text(COMPAT.replace("#ifdef USE_ROCM", "#ifdef SOMETHING_ELSE"))
    (tmp_path / "alloc.cpp").write_text('#include "compat.h"\nvoid f(CUdeviceptr p) {}\n')
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert all(not f.handled for f in run.findings)


WRAPPERS = """#pragma once
#ifdef USE_ROCM
extern "C" {
// Virtual memory: the driver calls {wrapped} for HIP
CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size,
                        const CUmemAccessDesc* desc, size_t count) {
  return hipMemSetAccess(ptr, size, desc, count);
}
static inline CUresult cuMemUnmap(CUdeviceptr ptr, size_t size) { return hipMemUnmap(ptr, size); }
CUresult cuMemRelease(CUmemGenericAllocationHandle handle);
void release_all() { cuMemAddressFree(0, 0); }
CUresult Pool::cuMemMap(CUdeviceptr p) { return hipMemMap(p, 0, 0, 0, 0); }
}
#else
CUresult cuMemAddressReserve(CUdeviceptr* p, size_t n) { return CUDA_SUCCESS; }
#endif
CUresult cuMemGetAllocationGranularity(size_t* g) { return CUDA_SUCCESS; }
"""


def test_functions_defined_under_a_rocm_branch_are_aliases(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "compat.h").write_text(WRAPPERS)
    (tmp_path / "alloc.cpp").write_text(
        '#include "compat.h"\n#include <cuda.h>\nvoid f(CUdeviceptr p, size_t n, CUmemAccessDesc* d) {\n'
        "  cuMemSetAccess(p, n, d, 1);\n  cuMemUnmap(p, n);\n  cuMemRelease(0);\n  cuMemAddressFree(p, n);\n"
        "  cuMemMap(p, n, 0, 0, 0);\n  cuMemAddressReserve(&p, n, 0, 0, 0);\n"
        "  cuMemGetAllocationGranularity(&n, 0, 0);\n}\n")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    rocm = {f.symbol: f.targets["rocm"].status for f in run.findings if f.path == "alloc.cpp"}
    handled = {f.symbol: dict(f.handled) for f in run.findings if f.path == "alloc.cpp"}
    # wrappers defined with a body on ROCm-only lines, one spanning lines, one inline
    assert handled["cuMemSetAccess"] == {"rocm": "ROCm alias in compat.h"}
    assert rocm["cuMemSetAccess"] == rocm["cuMemUnmap"] == "native"
    # near misses: a prototype, a call, a method, the CUDA branch's function, a definition outside any branch
    for unported in ("cuMemRelease", "cuMemAddressFree", "cuMemMap", "cuMemAddressReserve",
                     "cuMemGetAllocationGranularity"):
        assert rocm[unported] != "native", unported


KERNEL_UTILS = """#pragma once
#ifdef __HIP_PLATFORM_AMD__
#define HALF_OK 1
#else
#define PTX_OK
#define HALF_OK 1
#endif
"""


def _lane(macro: str) -> str:
    return (f'__device__ int lane_{macro.lower()}() {{\n#ifdef {macro}\n  int r;\n'
            '  asm("mov.u32 %0, %%laneid;" : "=r"(r));\n  return r;\n#else\n  return 0;\n#endif\n}\n')


def test_a_branch_on_a_macro_a_header_defines_only_off_rocm_is_handled(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "kernel_utils.h").write_text(KERNEL_UTILS)
    (tmp_path / "lane.cu").write_text('#include "kernel_utils.h"\n' + _lane("PTX_OK") + _lane("HALF_OK")
                                      + _lane("OTHER_OK"))
    (tmp_path / "alone.cu").write_text(_lane("PTX_OK"))  # does not include the header: nothing known
    run = check_paths(["."], ruleset, cwd=tmp_path)
    asm = {(f.path, f.line): f for f in run.findings if f.rule_id == "LC7010"}
    assert dict(asm[("lane.cu", 5)].handled) == {"rocm": "preprocessor branch (macros of kernel_utils.h)"}
    assert asm[("lane.cu", 5)].targets["rocm"].status == "native"
    assert asm[("lane.cu", 5)].targets["xpu"].status != "native"
    # near misses: a macro defined for ROCm too, an unknown macro, a file without the header
    for key in (("lane.cu", 14), ("lane.cu", 23), ("alone.cu", 4)):
        assert asm[key].targets["rocm"].status != "native", key


SIMD_COMPAT = """#pragma once
#if defined(USE_ROCM)
static __device__ __forceinline__ unsigned __vcmpeq4(const unsigned a, const unsigned b) { return a == b; }
#endif
"""
SIMD_USER = "__device__ unsigned signs(unsigned a) { return __vcmpeq4(a, 0x08040201u); }\n"


def test_a_header_takes_the_aliases_its_includers_include_before_it(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "common.h").write_text(SIMD_COMPAT)
    (tmp_path / "vecdot.cuh").write_text(SIMD_USER)
    (tmp_path / "kernel.cu").write_text('#include "common.h"\n#include "vecdot.cuh"\nvoid f(cudaStream_t s) {}\n')
    run = check_paths(["."], ruleset, cwd=tmp_path)
    (finding,) = [f for f in run.findings if f.symbol == "__vcmpeq4"]
    assert finding.targets["rocm"].status == "native"
    assert dict(finding.handled) == {"rocm": "ROCm alias in common.h, included before it"}


def test_an_alias_included_after_the_header_or_by_one_includer_only_changes_nothing(tmp_path: Path,
                                                                                     ruleset: RuleSet) -> None:
    (tmp_path / "common.h").write_text(SIMD_COMPAT)
    (tmp_path / "vecdot.cuh").write_text(SIMD_USER)
    (tmp_path / "late.cu").write_text('#include "vecdot.cuh"\n#include "common.h"\nvoid f(cudaStream_t s) {}\n')
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert [f.targets["rocm"].status for f in run.findings if f.symbol == "__vcmpeq4"] == ["missing"]
    (tmp_path / "late.cu").unlink()
    (tmp_path / "early.cu").write_text('#include "common.h"\n#include "vecdot.cuh"\nvoid f(cudaStream_t s) {}\n')
    (tmp_path / "other.cu").write_text('#include "vecdot.cuh"\nvoid g(cudaStream_t s) {}\n')
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert [f.targets["rocm"].status for f in run.findings if f.symbol == "__vcmpeq4"] == ["missing"]


CUB_HELPERS = """#pragma once
#ifndef USE_ROCM
  #include <cub/cub.cuh>
#else
  #include <hipcub/hipcub.hpp>
namespace cub = hipcub;
#endif
"""
CUB_USER = ('#include "cub_helpers.h"\n'
            "__global__ void k(float* x) { using R = cub::BlockReduce<float, 256>; cub::BlockScan<int, 256> s; }\n")


def test_a_namespace_aliased_under_a_rocm_branch_ports_its_names(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "cub_helpers.h").write_text(CUB_HELPERS)
    (tmp_path / "quant.cu").write_text(CUB_USER)
    run = check_paths(["."], ruleset, cwd=tmp_path)
    cub = [f for f in run.findings if f.symbol.startswith("cub::")]
    assert {f.symbol for f in cub} >= {"cub::BlockReduce", "cub::BlockScan"}
    assert all(f.targets["rocm"].status == "native" for f in cub)
    assert all(dict(f.handled) == {"rocm": "ROCm alias in cub_helpers.h"} for f in cub)
    assert all(f.targets["ascend"].status != "native" for f in cub)


def test_a_namespace_alias_off_a_rocm_branch_changes_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    not_rocm = ("#pragma once\nnamespace cub = hipcub;\n",
                "#pragma once\n#ifndef USE_ROCM\nnamespace cub = hipcub;\n#endif\n",
                CUB_HELPERS.replace("namespace cub", "namespace other"))
    for header in not_rocm:
        (tmp_path / "cub_helpers.h").write_text(header)
        (tmp_path / "quant.cu").write_text(CUB_USER)
        run = check_paths(["."], ruleset, cwd=tmp_path)
        cub = [f for f in run.findings if f.symbol.startswith("cub::")]
        assert cub and all(f.targets["rocm"].status != "native" and not f.handled for f in cub), header
