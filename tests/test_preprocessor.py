"""The ROCm/CUDA model of preprocessor conditions, and what it does to findings."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lockin_lint.analyzers.preprocessor import (_DIRECTIVE, NEUTRAL, NOT_ON_ROCM, ROCM_ONLY, _directives,
                                                _logical_lines, evaluate, line_states, never_compiled)
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

from .conftest import FIXTURES, REPO


@pytest.mark.parametrize("condition, in_rocm, in_cuda", [
    ("defined(USE_ROCM)", True, False),
    ("!defined(USE_ROCM)", False, True),
    ("defined __HIPCC__", True, False),
    ("defined(__HIP_PLATFORM_AMD__) and ROCM_WAVEFRONT_SIZE == 64", None, False),
    ("defined __CUDA_ARCH__ && __CUDA_ARCH__ >= 610 || defined USE_ROCM", True, None),
    ("(!defined(__CUDA_ARCH__) || __CUDA_ARCH__ < 800) && !defined(USE_ROCM)", False, None),
    ("defined(__gfx942__)", None, False),       # an AMD architecture: unknown even in a ROCm build
    ("HIP_VERSION >= 50000", None, False),      # undefined, so 0, in a CUDA build
    ("defined(__HIP_PLATFORM_NVIDIA__)", False, None),
    ("BUILD_CUDA || BUILD_HIP", True, None),
    ("defined(__CUDA_ARCH__)", None, None),     # names no ROCm macro: unknown in both
    ("__has_include(<hip/hip_runtime.h>)", None, None),
    ("0", False, False),
    ("(1 + 2) * 3 == 9 && 0x10 > 010", True, True),
    ("defined(", None, None),                   # malformed: unknown, never an exception
    ("FOO ? 1 : 0", None, None),
])
def test_conditions_in_a_rocm_and_a_cuda_build(condition: str, in_rocm: bool | None, in_cuda: bool | None) -> None:
    assert (evaluate(condition, rocm=True), evaluate(condition, rocm=False)) == (in_rocm, in_cuda)


def test_line_states_follow_nesting_elif_and_continuations() -> None:
    source = b"\n".join([
        b"a",                            # 1
        b"#if defined(__CUDA_ARCH__)",   # 2
        b"b",                            # 3  unknown condition: neutral
        b"#ifdef __HIPCC__",             # 4
        b"c",                            # 5  ROCm only
        b"#elif \\",                     # 6
        b"  1",                          # 7
        b"d",                            # 8  a ROCm build took the branch before
        b"#endif",                       # 9
        b"#endif",                       # 10
        b"e",                            # 11
    ])
    states = line_states(source)
    assert states is not None
    assert [states[i - 1] for i in (1, 3, 5, 8, 11)] == [NEUTRAL, NEUTRAL, ROCM_ONLY, NOT_ON_ROCM, NEUTRAL]


def test_files_without_rocm_conditions_cost_nothing() -> None:
    assert line_states(b"#ifdef __CUDA_ARCH__\nx\n#endif\n") is None
    assert line_states(b"// hip hip hooray\nint x;\n") is None


def test_cuda_side_of_a_rocm_branch_is_native_for_rocm_only(ruleset: RuleSet) -> None:
    path = FIXTURES / "cuda" / "ported_branches.cu"
    result = check_bytes(path.relative_to(REPO).as_posix(), path.read_bytes(), ruleset)
    by_line = {f.line: f for f in result.findings}
    handled = by_line[9]
    assert handled.targets["rocm"].status == "native" and handled.handled == (("rocm", "preprocessor branch"),)
    assert handled.targets["ascend"].status != "native"
    unknown_condition = by_line[23]  # ``#elif defined(__CUDA_ARCH__)`` after a condition that is unknown on ROCm
    assert unknown_condition.handled == () and unknown_condition.targets["rocm"].status != "native"


def test_files_of_another_backend_report_nothing(ruleset: RuleSet) -> None:
    data = b"void f(float* p) { cudaFree(p); }\n"
    assert check_bytes("csrc/kernels/copy.cu", data, ruleset).findings
    assert not check_bytes("csrc/rocm/copy.cu", data, ruleset).findings
    assert not check_bytes("csrc/kernels/copy_hip.cu", data, ruleset).findings


def test_a_directive_line_belongs_to_the_group_around_it() -> None:
    source = b"#ifdef USE_ROCM\n#ifndef CUDA_SUCCESS\n#define CUDA_SUCCESS hipSuccess\n#endif\n#endif\n#if CUDA_VERSION\n#endif\n"
    states = line_states(source)
    assert states is not None
    assert states[0] == NEUTRAL and states[1] == ROCM_ONLY and states[3] == ROCM_ONLY and states[5] == NEUTRAL


def test_an_elif_after_a_rocm_branch_is_never_read_by_a_rocm_build() -> None:
    source = b"#if defined(__HIPCC__)\n#define HD __host__ __device__\n#elif defined(__CUDACC__)\n#define HD x\n#endif\n"
    states = line_states(source)
    assert states is not None and states[2] == NOT_ON_ROCM and states[1] == ROCM_ONLY


def test_no_build_compiles_an_if_0_branch_nor_what_it_nests() -> None:
    source = (b"a\n#if 0\nb\n#ifdef X\nc\n#endif\n#else\nd\n#endif\n"
              b"#if 1\ne\n#elif Y\nf\n#else\ng\n#endif\n#ifdef Z\nh\n#endif\n")
    dead = never_compiled(source)
    assert dead is not None
    lines = source.split(b"\n")
    assert {lines[i] for i, d in enumerate(dead) if d} == {b"b", b"#ifdef X", b"c", b"#endif", b"f", b"g"}
    assert never_compiled(b"#if FOO\nx\n#endif\n#if 0 || defined(Y)\ny\n#endif\n") is None


def test_findings_in_an_if_0_branch_are_dropped(ruleset: RuleSet) -> None:
    data = b"void f(float* p) {\n#if 0\n  cudaFree(p);\n#else\n  cudaFree(p + 1);\n#endif\n}\n"
    assert [f.line for f in check_bytes("csrc/copy.cu", data, ruleset).findings] == [5]


def test_a_cuda_build_flag_is_off_in_a_rocm_build_only_where_its_rocm_twin_is_tested(ruleset: RuleSet) -> None:
    # bitsandbytes' pythonInterface.cpp shape: one ``#if`` per build flag, the project spells both
    both = b"#if BUILD_CUDA\n#include <cuda_runtime_api.h>\n#endif\n#if BUILD_HIP\n#include <hip/hip_runtime.h>\n#endif\n"
    states = line_states(both)
    assert states is not None and states[1] == NOT_ON_ROCM and states[4] == ROCM_ONLY
    found = {f.line: f for f in check_bytes("csrc/interface.cpp", both, ruleset).findings}
    assert found[2].handled == (("rocm", "preprocessor branch"),) and found[2].targets["rocm"].status == "native"
    # near misses: BUILD_CUDA tested alone, or BUILD_HIP only mentioned outside a condition, stays unknown
    alone = b"#if BUILD_CUDA\n#include <cuda_runtime_api.h>\n#endif\n"
    assert line_states(alone) is None
    assert check_bytes("csrc/interface.cpp", alone, ruleset).findings[0].handled == ()
    mentioned = b"// built with BUILD_HIP elsewhere\n#if BUILD_CUDA\n#include <cuda_runtime_api.h>\n#endif\n"
    assert line_states(mentioned) is None


_PIECES = ["#if USE_ROCM", "#ifdef __HIP_PLATFORM_AMD__", "#else", "#endif", "#elif CUDA_VERSION > 1", "code", "\\",
           "  ", "\r", "#ifndef USE_ROCM", " # if 0", "int x; \\", "#", "if", "#define A \\", "#include <x>"]


@given(st.lists(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3), max_size=14))
@settings(max_examples=400, deadline=None)
@example([["#", "\\"], ["if"]])  # ``#\`` then ``if``: one directive, ``# if``
@example([["  ", "\\"], ["#if USE_ROCM"], ["code", "\\"], ["#endif"]])  # blanks continued; code continued
def test_directives_are_the_logical_lines_a_directive_starts(lines: list[list[str]]) -> None:
    """`line_states` reads only the directives' logical lines (`_directives`): exactly those of
    `_logical_lines` that `_DIRECTIVE` matches, continuations (a blank line ending in a backslash
    before ``#if``, ``#`` then ``if`` on the next line) and ``\\r`` included."""
    source = "\n".join("".join(pieces) for pieces in lines).encode()
    expected = [(first, last, m.group(0)) for first, last, text in _logical_lines(source)
                if (m := _DIRECTIVE.match(text)) is not None]
    assert [(first, last, m.group(0)) for first, last, m in _directives(source)] == expected


def test_a_runtime_version_gate_with_an_else_is_off_in_a_rocm_build_of_a_file_testing_a_rocm_flag(
        ruleset: RuleSet) -> None:
    # bitsandbytes' cprefetch shape: a HIP build never defines CUDART_VERSION and compiles the #else
    gate = b"#if CUDART_VERSION >= 13000\n  cudaMemLocation loc{};\n#else\n  int loc = 0;\n#endif\n"
    both = b"#if BUILD_HIP\n#define cudaStream_t hipStream_t\n#endif\n" + gate
    states = line_states(both)
    assert states is not None and states[4] == NOT_ON_ROCM and states[6] == NEUTRAL
    found = {f.line: f for f in check_bytes("csrc/interface.cpp", both, ruleset).findings}
    assert found[5].handled == (("rocm", "preprocessor branch"),) and found[5].targets["rocm"].status == "native"
    elif_gate = b"#ifdef USE_ROCM\nint a;\n#endif\n#if CUDA_VERSION >= 12000\nx\n#elif 1\ny\n#endif\n"
    assert (line_states(elif_gate) or [])[4] == NOT_ON_ROCM
    # near misses: no ROCm flag tested, no #else, CUBLAS_VERSION, or the ROCm flag only in a comment
    assert line_states(b"// hip\n" + gate) is None
    no_else = b"#if BUILD_HIP\n#define A 1\n#endif\n#if CUDART_VERSION >= 13000\n  cudaMemLocation loc{};\n#endif\n"
    assert (line_states(no_else) or [NEUTRAL] * 7)[4] == NEUTRAL
    cublas = both.replace(b"CUDART_VERSION", b"CUBLAS_VERSION")
    assert (line_states(cublas) or [NEUTRAL] * 7)[4] == NEUTRAL
    commented = b"// BUILD_HIP builds elsewhere\n" + gate
    assert line_states(commented) is None
