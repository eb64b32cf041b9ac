"""The shortcuts the C/C++ analysis takes for speed give what the longer way gave.

Each test compares a shortcut with the plain computation it replaced, on inputs written to sit at its
edges: `cpp_gate._warpish` with `cpp_gate._WARPISH_LINE` run over every line, `cpp_gate._lines` with
``finditer`` of the catch-all pattern, the include verdicts kept by written path with the index's
lookup, `cuda_matcher._reached_by` with the walk over the scoped names, the bare result of a dismissed
header with `findings.skipped`, and the matcher's skipped walk to a directive with the walk itself.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lockin_lint.analyzers.cpp_gate import _WARPISH_LINE, _includes_a_rule, _lines, _tables, _warpish
from lockin_lint.analyzers.cuda_matcher import CudaFileMatcher, _reached_by
from lockin_lint.analyzers.findings import skipped
from lockin_lint.api import engine_for
from lockin_lint.kb.ruleset import RuleSet

WORDS = st.lists(st.text(alphabet="laneLANEwarpWARP_x09\xe9", min_size=1, max_size=10), min_size=1, max_size=12)


def _joined(words: list[str]) -> bytes:
    return b"\n".join(w.encode() for w in words)


@settings(max_examples=300, deadline=None)
@given(WORDS)
def test_warpish_finds_the_lines_the_regex_finds(words: list[str]) -> None:
    joined = _joined(words)
    expected = {m.group(0) for m in _WARPISH_LINE.finditer(joined)}
    assert set(_warpish(joined)) == expected
    assert bool(_warpish(joined, first=True)) == bool(expected)
    assert len(_warpish(joined, first=True)) <= 1


def test_warpish_edges() -> None:
    joined = b"lane\n9warp\nWARP_SIZE\nlane\xc3\xa9\nkLaneS\nwarplane\n_lane"
    assert set(_warpish(joined)) == {b"lane", b"WARP_SIZE", b"kLaneS", b"warplane", b"_lane"}
    assert _warpish(b"") == [] and _warpish(b"9lane\nx") == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="cudaCUDA_nvtxNCL0123Malloc\xe9", min_size=1, max_size=12), min_size=1, max_size=12))
def test_split_catch_all_lines_are_what_finditer_finds(ruleset: RuleSet, words: list[str]) -> None:
    index = engine_for(ruleset).run.cuda
    tables = _tables(index)
    assert index.catch_all_lines is not None and tables.first_line is not None and tables.later_lines is not None
    joined = _joined(words)
    assert _lines(tables.first_line, tables.later_lines, joined) == {
        m.group(0) for m in index.catch_all_lines.finditer(joined)}


def test_include_verdicts_kept_by_path_agree_with_the_lookup(ruleset: RuleSet) -> None:
    index = engine_for(ruleset).run.cuda
    for header in (b"#include <cuda_runtime.h>\n", b'#include "cuda_runtime.h"\n', b"#include <vector>\n",
                   b"#include <cub/cub.cuh>\n", b'#include "my/own.h"\n'):
        expected = index.lookup_include(header.split()[1].decode().strip('<>"')) is not None
        for _ in range(2):  # the second answer comes from the kept verdict
            assert _includes_a_rule(index, header) is expected


def test_reach_of_a_using_directive_is_the_walk_over_scoped_names(ruleset: RuleSet) -> None:
    index = engine_for(ruleset).run.cuda
    for namespace in ("at::cuda", "cub", "thrust", "std", "nvcuda::wmma", "at"):
        expected = {last for last, fulls in index.scoped_by_last.items()
                    if any(full.startswith(namespace + "::") for full in fulls)}
        assert _reached_by(index, namespace) == expected
        assert _reached_by(index, namespace) == expected  # kept


def test_a_dismissed_header_is_what_skipped_gives(ruleset: RuleSet) -> None:
    engine = engine_for(ruleset)
    for data in (b"int f();\n", b"int f(); // noqa: LC5001\n", b"// lockin: ignore[LC5001]\nint f();\n",
                 b"#pragma once\nint g(int);\n"):
        result = engine.check("h.h", data)
        assert result.skipped
        expected = skipped(engine.run, "h.h", data, result.lines, engine.run.cuda_parser)
        assert (result.findings, result.unused_suppressions, result.lines, result.facts) == (
            expected.findings, expected.unused_suppressions, expected.lines, expected.facts)


DIRECTIVE_FREE = [
    b"__global__ void k(int* p) { p[threadIdx.x % 32] = cudaSuccess; }\n",
    b"namespace cuda { void f() { cudaMalloc(0, 0); } }  // namespace cuda\n",
    b"void f() { at::cuda::getCurrentCUDAStream(); std::min(1, 2); }\n",
    b"using std::min;\nvoid f() { cudaDeviceSynchronize(); }\n",
]
WITH_DIRECTIVES = [
    b"using namespace at::cuda;\nvoid f() { getCurrentCUDAStream(); }\n",
    b"namespace cu = at::cuda;\nvoid f() { cu::getCurrentCUDAStream(); }\n",
    b"void f() { cudaMalloc(0, 0) }\nusing namespace cub\n",  # a parse error
]


def test_the_directive_walk_is_skipped_only_where_it_finds_nothing(ruleset: RuleSet) -> None:
    """A file without a using-namespace directive or alias (and without parse errors) never needs the
    walk: forcing it on gives the same matches; a file with one keeps walking."""
    engine = engine_for(ruleset)
    index, parser = engine.run.cuda, engine.run.cuda_parser
    for source in DIRECTIVE_FREE + WITH_DIRECTIVES:
        tree = parser.parse(source)

        def matches(force: bool) -> list[tuple[str, str, int, int]]:
            matcher = CudaFileMatcher(index, source, tree.root_node, True)
            if force:
                matcher._collect_namespaces = _forced(matcher)  # type: ignore[method-assign]
            return sorted((m.rule.id, m.symbol, *m.bounds) for m in matcher.run())

        assert matches(force=False) == matches(force=True), source
    for source in WITH_DIRECTIVES:
        matcher = CudaFileMatcher(index, source, parser.parse(source).root_node, True)
        matcher.run()
        assert matcher._directives or matcher._unsure
    for source in DIRECTIVE_FREE:
        matcher = CudaFileMatcher(index, source, parser.parse(source).root_node, True)
        matcher.run()
        assert not matcher._directives and not matcher._unsure


def test_only_names_inside_a_directive_walk_up_to_it(ruleset: RuleSet) -> None:
    engine = engine_for(ruleset)
    source = b"using namespace at::cuda;\nvoid f() { getCurrentCUDAStream(); }\n"
    root = engine.run.cuda_parser.parse(source).root_node
    matcher = CudaFileMatcher(engine.run.cuda, source, root, True)
    matcher.run()
    inside = root.descendant_for_byte_range(source.index(b"cuda"), source.index(b"cuda") + 4)
    outside = root.descendant_for_byte_range(source.index(b"getCurrent"), source.index(b"getCurrent") + 3)
    assert inside is not None and outside is not None
    assert matcher._in_directive(inside) and not matcher._in_directive(outside)


def _forced(matcher: CudaFileMatcher):  # type: ignore[no-untyped-def]
    collect = matcher._collect_namespaces

    def collect_and_walk() -> set[str]:
        found = collect()
        matcher._unsure = True  # walk up from every name, as before
        return found

    return collect_and_walk


def test_an_invocation_at_a_line_start_is_only_an_upper_case_name() -> None:
    from lockin_lint.analyzers.cpp_prepass import _INVOCATION_START, _MACRO_NAME

    old = re.compile(rb"^([ \t]*)([A-Za-z_]\w*)[ \t]*\(", re.MULTILINE)
    source = b"  foo(1)\nFOO_BAR(2)\n_X_Y(3)\n\tABCD (4)\nAb_C(5)\nx = F(6)\n"
    kept = [m.span() for m in old.finditer(source) if _MACRO_NAME.match(m.group(2))]
    assert [m.span() for m in _INVOCATION_START.finditer(source) if _MACRO_NAME.match(m.group(2))] == kept
    assert len(kept) == 3


SOURCE_BYTES = st.lists(st.sampled_from([b"cuda", b"CUDA", b"cudaMalloc", b"_cuda", b"cuda_", b" ", b"\n", b"(", b"::",
                                         b"\xc3\xa9", b"0", b"HOST_DEVICE", b"C10_HOST_DEVICE", b"\t(", b"#", b"x"]),
                        max_size=20).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(SOURCE_BYTES, st.sampled_from([b"cuda", b"CUDA", b"x", b"cuda_", b"HOST_DEVICE", b"a::b", b"\xc3\xa9"]))
def test_word_spans_are_the_whole_word_occurrences(data: bytes, word: bytes) -> None:
    from lockin_lint.kb.prefilter import word_spans
    from lockin_lint.kb.prefilter import word_occurrences

    spans: list[tuple[int, int]] = [(0, 0)]
    word_spans(data, word, spans)
    assert spans == [(0, 0)] + [(s, s + len(word)) for s in word_occurrences(data, word)]


@settings(max_examples=300, deadline=None)
@given(SOURCE_BYTES, st.sampled_from([b"HOST_DEVICE", b"C10_HOST_DEVICE", b"cuda", b"x"]))
def test_macro_uses_are_what_the_regex_finds(data: bytes, name: bytes) -> None:
    from lockin_lint.analyzers.cpp_prepass import _uses

    expected = [m.span() for m in re.finditer(rb"\b" + re.escape(name) + rb"\b(?![ \t]*\()", data)]
    assert list(_uses(data, name)) == expected


def test_remembered_conditions_are_evaluated_as_before() -> None:
    from lockin_lint.analyzers.preprocessor import _evaluated, _literal_branch, evaluate

    conditions = ["defined(USE_ROCM)", "!defined(USE_ROCM)", "0", "1", "defined(__HIP_PLATFORM_AMD__) || BUILD_CUDA",
                  "CUDA_VERSION >= 11000", "PTX_AVAILABLE", "(", "X == 1"]
    for condition in conditions:
        for rocm in (True, False):
            for cuda_only in (frozenset(), frozenset({"PTX_AVAILABLE", "BUILD_CUDA"})):
                for _ in range(2):
                    assert _evaluated(condition, rocm, cuda_only) == evaluate(condition, rocm, cuda_only)
        for taken in (True, False):
            assert _literal_branch(condition, taken, {}) == _literal_branch(condition, taken, None)
            assert _literal_branch("X == 1", taken, {"X": 1}) == (taken, True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"(", b")", b";", b"{", b"}", b"a", b" ", b"\n"]), max_size=30).map(b"".join))
def test_closing_paren_is_the_byte_loop(tail: bytes) -> None:
    from lockin_lint.analyzers.cpp_prepass import _closing_paren

    source = b"X(" + tail

    def by_bytes(open_at: int) -> int | None:
        depth = 0
        for index in range(open_at, len(source)):
            char = source[index]
            if char == 0x28:
                depth += 1
            elif char == 0x29:
                depth -= 1
                if depth == 0:
                    return index + 1
            elif char in (0x3B, 0x7B, 0x7D):
                return None
        return None

    assert _closing_paren(source, 1) == by_bytes(1)


def test_device_macro_groups_hold_every_library_macro() -> None:
    from lockin_lint.analyzers.cpp_prepass import _LIBRARY_DEVICE_MACROS, _MACRO_GROUPS, _device_macros

    assert sorted(name for _, names in _MACRO_GROUPS for name in names) == sorted(_LIBRARY_DEVICE_MACROS)
    assert all(part in name for part, names in _MACRO_GROUPS for name in names)
    source = b"#define MY_HD __host__ __device__\nC10_HOST_DEVICE int f();\nFLASHINFER_INLINE int g();\n"
    found = _device_macros(source)
    assert found[b"MY_HD"] == b"__device__" and found[b"C10_HOST_DEVICE"] == b"__device__"
    assert b"FLASHINFER_INLINE" in found and b"QUALIFIERS" not in found
