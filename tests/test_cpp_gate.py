"""The word-level gate (`analyzers.cpp_gate`) skips a header only when the full analysis finds nothing.

Every case compares the gated check with ``prefilter=False`` (no prefilter, no gate, every file parsed
and matched), on hand-written headers that the byte prefilter lets through, on every C/C++ fixture
read as a header, and on random headers made of fixture lines and lines written to sit at the edge of
each of the gate's arguments (namespace definitions, aliases, device macros, masks).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockin_lint.analyzers import SOURCE_SUFFIXES, language_of
from lockin_lint.analyzers.cpp_gate import _MASKS, _tables, file_words, relevant_words
from lockin_lint.analyzers.cpp_prepass import may_write_device, prepare, writes_device
from lockin_lint.api import engine_for
from lockin_lint.kb.cuda_index import passes_prefilter
from lockin_lint.kb.cuda_words import line_safe
from lockin_lint.kb.prefilter import IDENT_BYTE
from lockin_lint.kb.ruleset import RuleSet

from .conftest import FIXTURES

SKIPPED = [
    "namespace at { namespace cuda {\nint f();\n} // namespace cuda\n}\n",
    "namespace at::cuda {\nint f();\n}\n",
    'const char* device = "cuda";\n',
    "// cuda\nfloat f(float x) { return rsqrt(x); }\n",
    "// cuda\nunsigned m = 0xffffffff;\n",
    "// cuda\nc10::DeviceType t;\n",
    '// cuda\nvoid f() { asm("mov.u32 %0, %%laneid;" : "=r"(x)); }\n',
    "// cuda\nauto d = c10::DeviceType::CPU;\n",
    "namespace c10 {\nauto d = DeviceType::CUDA;\n}  // no using-directive: the matcher resolves nothing\n",
    "// cuda\nauto x = foo::cub::Sum();\n",
    "#define PYBIND11_MODULE(name, variable) int name(variable)  // pybind11.h defines it: cuda\n",
    "// cuda\nint lanes = 4;\n",
    "// The only #includes we need are for custom classes: cuda\n#include <vector>\n",
    "// cuda\nstruct T { bool is_cuda() const; };\n",
]
#: Parsed: those with a finding, and a few the bytes cannot settle (a comment inside a name, a macro path).
PARSED = [
    "void f() { at::cuda::getCurrentCUDAStream(); }\n",
    "namespace cu = at::cuda;\nvoid f() { cu::getCurrentCUDAStream(); }\n",
    "using namespace at::cuda;\nvoid f() { getCurrentCUDAStream(); }\n",
    "using /* a comment */ namespace at::cuda;\nvoid f() { getCurrentCUDAStream(); }\n",
    "// cuda\nC10_HOST_DEVICE float f(float x) { return rsqrt(x); }\n",
    "// cuda\nMY_DEVICE_INLINE float f(float x) { return rsqrt(x); }\n",
    "#include <cuda_runtime.h>\n",
    "// cuda\n__device__ void f() { unsigned mask = 0xffffffff; }\n",
    "// cuda\nvoid f(int v) { g(__shfl_sync(0xffffffff, v, 0)); }\n",
    "// cuda\nc10::DeviceType t = c10::DeviceType::CUDA;\n",
    "// cuda\nvoid f() { auto d = c10::kCUDA; }\n",
    '// cuda\n__device__ void f() { asm("mov.u32 %0, %%laneid;" : "=r"(x)); }\n',
    "// cuda\n#define X(a) cudaMalloc(a)\n",
    "// cuda\nint x = cuMemAlloc(p);\n",
    "// cuda\nauto x = ::cub::ShuffleUp(a, b, c, d);\n",
    "// cuda\nauto d = c10::DeviceType :: /* why */ CPU;\n",
    "#include /* a comment */ <cuda.h>\n",
    "#include \\\n  <cuda.h>\n",
    "#include CUB_WRAPPED(cub/cub.cuh)\n",
    "// cuda\nbool f(T& t) { return t.is_cuda(); }\n",
    "// cuda\nbool f(T* t) { return t -> is_cuda (); }\n",
    "cudaNoSuchCall();\n",  # one word, a catch-all name only: the catch-all search's first line (`_Tables.first_line`)
    "// cuda\nvoid f(int v) { g(__shfl_sync(0xffffffffu, v, 0)); }\n",  # the mask inside a longer word
]


@pytest.mark.parametrize(("code", "skipped"), [(c, True) for c in SKIPPED] + [(c, False) for c in PARSED])
def test_gate_decisions(ruleset: RuleSet, code: str, skipped: bool) -> None:
    engine = engine_for(ruleset)
    data = code.encode()
    assert passes_prefilter(engine.run.cuda, data)  # the byte prefilter lets each through: the gate decides
    gated = engine.check("t.h", data)
    assert gated.skipped is skipped
    full = engine.check("t.h", data, prefilter=False)
    assert gated.findings == full.findings
    assert not (skipped and full.findings)


def test_a_suppression_comment_is_still_parsed(ruleset: RuleSet) -> None:
    """An unused ``lockin: ignore`` is reported as before, from a parse."""
    result = engine_for(ruleset).check("t.h", b"namespace cuda {} // lockin: ignore[LC5001]\n")
    assert not result.skipped and len(result.unused_suppressions) == 1


C_FIXTURES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in SOURCE_SUFFIXES and language_of(str(p)) == "cuda")


def test_fixtures_are_there() -> None:
    assert len(C_FIXTURES) >= 20


@pytest.mark.parametrize("path", C_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_gate_is_sound_on_every_c_fixture_read_as_a_header(ruleset: RuleSet, path: Path) -> None:
    engine = engine_for(ruleset)
    data = path.read_bytes()
    assert passes_prefilter(engine.run.cuda, data) or not engine.check("f.h", data, prefilter=False).findings
    for name in ("f.h", "f.cpp"):  # not ``.cu``: the gate only judges host-language files
        assert engine.check(name, data).findings == engine.check(name, data, prefilter=False).findings


EDGE_LINES = [
    "namespace cuda {", "} // namespace cuda", "namespace at::cuda {", "}", "namespace cu = at::cuda;",
    "namespace t = thrust;", "using namespace cub;", "using namespace at::cuda;", "using namespace c10;",
    "auto s = cu::getCurrentCUDAStream();", "auto s = getCurrentCUDAStream();", "auto k = kCUDA;",
    "c10::DeviceType t;", "auto d = c10::DeviceType::CUDA;", "thrust::sort(a, b);", "auto v = sort(a, b);",
    "C10_HOST_DEVICE inline float g(float x) { return rsqrt(x); }", "__device__ float h(float x) {",
    "float k(float x) { return erfinv(x); }", "  return rsqrt(x) + erfinv(x);", "  unsigned mask = 0xffffffff;",
    "__device__ void m() { unsigned mask = 0xffffffff; }", "void n() { unsigned mask = 0xffffffff; }",
    "  int lane = x % 32;", "  int w = warp_id * 32;", '  asm volatile("mov.u32 %0, %%laneid;" : "=r"(r));',
    '__device__ void a() { asm volatile("mov.u32 %0, %%laneid;" : "=r"(r)); }', "}",
    "  return __shfl_sync(0xffffffff, v, 0);", "#define FULL_MASK 0xffffffff", "#define X(a) thrust::sort(a)",
    '#include "cuda_utils.h"', "#include <cub/cub.cuh>", "#include <vector>", "// cudaMalloc in a comment",
    'const char* s = "cudaMalloc";', "cudaStream_t stream;", "MY_DEVICE_INLINE void q() {}",
    "#define HD __host__ __device__",
    "HD float r(float x) { return rsqrt(x); }", "#define WARP_SIZE 32", "k<<<1, 1>>>(p);",
    "auto d = DeviceType::CUDA;", "auto d = c10::DeviceType::CPU;", "auto y = foo::cub::Sum();",
    "auto z = ::cub::Sum();",
    "namespace c10 {", "auto s = c10::cuda::getCurrentCUDAStream();", "auto s = native::cuda::getCurrentCUDAStream();",
    "auto t = at::/* c */cuda::getCurrentCUDAStream();", "auto u = at::template cuda<int>::x;", "auto k = c10::kCUDA;",
    "PYBIND11_MODULE(m, x) {}", "TORCH_LIBRARY(ops, m) {}", "TORCH_LIBRARY_IMPL(ops, CUDA, m) {}",
    "#include_next <cuda.h>", "#include MACRO_PATH", "// #includes here", "bool is_cuda() const;",
    "return t.is_cuda();", "return p->is_cuda();", "return is_cuda();", "return t.is_cuda<int>();",
]
FIXTURE_LINES = sorted({line for path in C_FIXTURES for line in path.read_text(encoding="utf-8").splitlines()
                        if line.strip() and "lockin:" not in line})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(EDGE_LINES), st.sampled_from(FIXTURE_LINES)), min_size=1, max_size=8))
def test_gate_never_hides_a_finding(ruleset: RuleSet, lines: list[str]) -> None:
    """Random headers of edge and fixture lines: what the gate skips has no finding at all. (Only the
    headers the byte prefilter passes: it knowingly skips ``C10_HOST_DEVICE`` code without a CUDA token,
    `kb.cuda_index.DEVICE_MACROS`, which is its own trade, tested in test_prefilter.py.)"""
    engine = engine_for(ruleset)
    data = ("\n".join(lines) + "\n").encode()
    if passes_prefilter(engine.run.cuda, data):
        assert engine.check("t.h", data).findings == engine.check("t.h", data, prefilter=False).findings


@pytest.mark.parametrize(
    ("pattern", "safe"),
    [(r"^cuda[A-Z]\w*$", True), (r"^curand(_|[A-Z])\w*$", True), (r"^CU_[A-Z0-9_]+$", True), (r"^a\.b$", True),
     (r"^a|b$", False), (r"^a.b$", False), (r"^a\sb$", False), (r"^a[^x]$", False), (r"^a\x0ab$", False),
     (r"cu\w*", False), (r"^(?s)a$", False)],
)
def test_line_safe_patterns(pattern: str, safe: bool) -> None:
    assert line_safe(pattern) is safe


WORDS = st.text(alphabet="cudaCUDA_nvtxNCL0123laneWRPé", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS, max_size=30))
def test_one_search_over_joined_words_finds_what_each_fullmatch_finds(ruleset: RuleSet, words: list[str]) -> None:
    index = engine_for(ruleset).run.cuda
    assert index.catch_all_lines is not None  # the shipped patterns are all line-safe
    data = " ".join(words).encode()
    found = relevant_words(index, file_words(data))
    assert found == relevant_words(replace(index, catch_all_lines=None), file_words(data))
    assert found >= {w for w in file_words(data) if index.catch_all is not None and index.catch_all.fullmatch(w)}
    warpish = {w for w in file_words(data) if re.fullmatch(rb"[A-Za-z_]\w*", w) and re.search(rb"(?i)lane|warp", w)}
    assert found >= warpish


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(WORDS, st.sampled_from(["cudaMalloc", "cuMemAlloc", "NCCL_X", "nvtxMark", "CU_A"])),
                max_size=30))
def test_the_split_catch_all_search_finds_what_one_search_finds(ruleset: RuleSet, words: list[str]) -> None:
    """`may_find` tries the first word with ``match`` and the others behind a literal newline: the same
    line starts as one ``catch_all_lines.search`` over the joined words, in any order of the words."""
    index = engine_for(ruleset).run.cuda
    tables = _tables(index)
    assert index.catch_all_lines is not None and tables.first_line is not None and tables.later_lines is not None
    joined = "\n".join(words).encode()
    split = tables.first_line.match(joined) is not None or tables.later_lines.search(joined) is not None
    assert split is (index.catch_all_lines.search(joined) is not None)


def test_the_masks_are_found_in_the_words() -> None:
    """The gate looks for the full masks in the joined words, not the file: sound only because a mask is
    made of identifier bytes, so each of its occurrences lies inside one word."""
    assert all(IDENT_BYTE[byte] for mask in _MASKS for byte in mask)


def test_another_index_gets_its_own_tables(ruleset: RuleSet) -> None:
    index = engine_for(ruleset).run.cuda
    other = replace(index, direct_words=frozenset({b"onlyhere"}))
    assert b"onlyhere" in _tables(other).gated and b"onlyhere" not in _tables(index).gated


MACRO_LINES = ["C10_HOST_DEVICE float f();", "CUTLASS_DEVICE void g();", "DS_D_INLINE int h();",
               "MY_DEVICE_INLINE int k();", "FOO_API int m();", "FORCE_INLINE static int n();", "int x = MAX_DEVICE + 1;",
               "#define HD __host__ __device__", "HD int p();", "QUALIFIERS float q();", "int r(int DEV_HD_INLINE);"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(MACRO_LINES), min_size=1, max_size=5))
def test_device_macros_read_from_words_cover_the_pre_pass(lines: list[str]) -> None:
    """The gate reads an ASCII file's words for what the pre-pass would turn into ``__device__``; it may
    say yes more often, never less."""
    data = ("\n".join(lines) + "\n").encode()
    if may_write_device(data) or b"__device__" in prepare(data, lambda text: False):
        assert writes_device(file_words(data)) or b"__device__" in data
