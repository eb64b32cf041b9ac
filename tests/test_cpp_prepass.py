"""The C/C++ pre-pass: macros blanked or read as ``__device__``, every byte offset kept."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lockin_lint.analyzers import cpp_prepass
from lockin_lint.analyzers.cpp_prepass import prepare
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet


def _never(_: bytes) -> bool:
    return False


def _same_layout(before: bytes, after: bytes) -> None:
    assert len(after) in (len(before), len(before) + 1)
    assert [i for i, c in enumerate(before) if c == 0x0A] == [i for i, c in enumerate(after[:len(before)]) if c == 0x0A]


def test_device_macros_read_as_device_and_attributes_are_blanked() -> None:
    source = (b"#define HD __host__ __device__\n#define MY_HOST_DEVICE __host__ __device__\n"
              b"CUTLASS_DEVICE int a();\nMY_HOST_DEVICE int b();\nFORCE_INLINE static int c();\n"
              b"struct __align__(8) S { int x; };\nint n = MAX_DEVICE + 1;\n")
    out = prepare(source, _never)
    _same_layout(source, out)
    assert b"__device__     int a();" in out
    assert b"__device__     int b();" in out       # the file's own macro, as long as ``__device__``
    assert b"#define MY_HOST_DEVICE __host__" in out  # directives are never touched
    assert b"             static int c();" in out
    assert b"struct              S" in out
    assert b"int n = MAX_DEVICE + 1;" in out         # a constant in an expression is no attribute


def test_attribute_macros_named_for_device_code_read_as_device() -> None:
    source = b"DS_D_INLINE float a();\nMY_DEVICE_INLINE int b();\nDS_INLINE int c();\nLIB_HOST_INLINE int d();\n"
    out = prepare(source, _never)
    _same_layout(source, out)
    assert out.split(b"\n")[:4] == [b"__device__  float a();", b"__device__       int b();",
                                     b"          int c();", b"                int d();"]


def test_statement_like_invocations_are_blanked_only_without_possible_findings() -> None:
    source = b"void f();\nINSTANTIATE_ALL(float, 128)\nREGISTER_KERNEL(cudaMalloc)\nTORCH_CHECK(x);\nPy_END_ALLOW_THREADS\n"
    out = prepare(source, lambda text: b"cuda" in text)
    _same_layout(source, out)
    lines = out.split(b"\n")
    assert lines[1].strip() == b""
    assert lines[2] == b"REGISTER_KERNEL(cudaMalloc)"  # might hold a finding: kept as written
    assert lines[3] == b"TORCH_CHECK(x);"               # a statement with its semicolon is fine as it is
    assert lines[4].strip() == b""


def test_an_invocation_that_continues_an_expression_is_kept() -> None:
    source = b"int x = 1;\nSOME_MACRO(a)\n  + b;\n"
    assert prepare(source, _never) == source


def test_a_final_line_without_newline_gets_one() -> None:
    assert prepare(b'#include "a.cu"', _never) == b'#include "a.cu"\n'


def test_findings_after_an_unknown_macro_are_kept_and_the_parse_is_complete(ruleset: RuleSet) -> None:
    source = (b"#include <cuda_fp16.h>\nGN_INSTANTIATE(64, 512)\n"
              b"CUTLASS_DEVICE float f(const float* p) { return __ldg(p); }\n")
    result = check_bytes("gn.h", source, ruleset)
    assert [f.symbol for f in result.findings] == ["cuda_fp16.h", "__ldg"]
    assert not result.errors


def test_amd_assembly_is_not_inline_ptx(ruleset: RuleSet) -> None:
    amd = b'__device__ int f(int a, int b) { int r; asm volatile("v_pk_max_f16 %0, %1, %2" : "=v"(r) : "v"(a), "v"(b)); return r; }\n'
    dpp = b'__device__ int g(int a) { int r; asm volatile("s_nop 1\\n v_add_u32 %0, %1, %1 row_shr:1 bound_ctrl:0" : "=v"(r) : "v"(a)); return r; }\n'
    ptx = b'__device__ int h(int a) { int r; asm volatile("mov.b32 %0, %1;" : "=r"(r) : "r"(a)); return r; }\n'
    assert not [f for f in check_bytes("k.cu", amd, ruleset).findings if f.symbol == "asm"]
    assert not [f for f in check_bytes("k.cu", dpp, ruleset).findings if f.symbol == "asm"]
    assert [f.rule_id for f in check_bytes("k.cu", ptx, ruleset).findings if f.symbol == "asm"] == ["LC7010"]



_PIECES = [b"TORCH_API", b" ", b"\n", b"void", b"f(", b")", b";", b"__align__(8)", b"x", b"MY_DEVICE_INLINE", b"\r",
           b"#define HD __host__ __device__", b"HD", b"CUTLASS_DEVICE", b"\xc3", b"{", b"Py_END_ALLOW_THREADS",
           b"GN_INST(1, 2)", b"_", b"#", b"\t", b"A__HOST", b"X_API_", b"9_DEVICE"]


def groups(matches: Iterator[re.Match[bytes]]) -> list[tuple[tuple[int, int], tuple[bytes | None, ...]]]:
    return [(m.span(), m.groups()) for m in matches]


@given(st.lists(st.sampled_from(_PIECES), max_size=30))
@settings(max_examples=400, deadline=None)
@example([b"TORCH_API", b" ", b"void", b"\n", b"Py_END_ALLOW_THREADS", b"\n", b"GN_INST(1, 2)", b"\n", b"__align__(8)"])
def test_the_quick_searches_find_what_the_plain_regexes_find(pieces: list[bytes]) -> None:
    """`prepare` finds its macros with searches that start from a literal byte (issue 17); they must
    find exactly the matches of the plain regexes: ``\\b`` words, ``^``/``$`` at line starts and ends."""
    source = b"".join(pieces)
    assert groups(cpp_prepass._attributes(source)) == groups(cpp_prepass._ATTRIBUTE.finditer(source))
    assert groups(cpp_prepass._aligns(source)) == groups(re.finditer(rb"\b" + cpp_prepass._ALIGN.pattern, source))
    for plain, quick in ((cpp_prepass._INVOCATION_START, cpp_prepass._INVOCATION_AFTER_NEWLINE),
                         (cpp_prepass._BARE_MACRO, cpp_prepass._BARE_MACRO_AFTER_NEWLINE),
                         (cpp_prepass._DEVICE_DEFINE, cpp_prepass._DEVICE_DEFINE_AFTER_NEWLINE)):
        found = [(m.span(m.re.groups), m.end(), m.groups()) for m in cpp_prepass._at_line_starts(plain, quick, source)]
        assert found == [(m.span(m.re.groups), m.end(), m.groups()) for m in plain.finditer(source)]
