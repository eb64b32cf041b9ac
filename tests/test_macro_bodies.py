"""``#define`` bodies read as token streams (fixtures/cuda/macro_bodies.h holds the annotated shapes)."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet


def test_macro_bodies_spanning_lines_report_each_call_at_its_line(ruleset: RuleSet) -> None:
    source = (b"#define RUN(kernel, stream)                     \\\n"
              b"  CHECK(cudaLaunchKernel(kernel, 1, 1, 0, 0, stream)); \\\n"
              b"  CHECK(cudaGetLastError())\n")
    found = [(f.line, f.column, f.symbol) for f in check_bytes("macros.h", source, ruleset).findings]
    assert found == [(2, 9, "cudaLaunchKernel"), (3, 9, "cudaGetLastError")]


def test_a_pasted_or_stringised_name_is_not_a_name(ruleset: RuleSet) -> None:
    source = b"#define NAME(x) cuda##x(); #cudaMalloc; x##cudaFree\n"
    assert not check_bytes("macros.h", source, ruleset).findings


def test_launches_in_macro_bodies_name_their_kernel_when_they_can(ruleset: RuleSet) -> None:
    source = b"#define A(g) my_kernel<<<g, 1>>>()\n#define B(g) Kernel<float, 140><<<g, 1>>>()\n"
    assert [f.symbol for f in check_bytes("macros.h", source, ruleset).findings] == ["my_kernel<<<...>>>",
                                                                                   "kernel<<<...>>>"]


def test_names_in_literals_and_comments_of_a_body_are_not_names(ruleset: RuleSet) -> None:
    # apex groupbn: the API named again in the error message; llm.c: alternatives in a trailing comment
    source = (b"#define SET(f, name) \\\n"
              b"  cudaFuncSetAttribute(f, cudaFuncAttributePreferredSharedMemoryCarveout, 100); \\\n"
              b"  check(name + \" (cudaFuncSetAttribute carveout)\", '\"'); cudaGetLastError()\n"
              b"#define LOWP CUDA_R_16BF // CUDA_R_16F or CUDA_R_32F\n"
              b"#define NOTE /* cudaFree(p) */ 1\n")
    found = [(f.line, f.column, f.symbol) for f in check_bytes("macros.h", source, ruleset).findings]
    assert found == [(2, 3, "cudaFuncSetAttribute"), (3, 58, "cudaGetLastError"), (4, 14, "CUDA_R_16BF")]
