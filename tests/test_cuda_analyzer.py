"""The C/C++/CUDA matcher on its own rules, independent of the shipped knowledge base."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet, load_rules

from .conftest import ALL_UNKNOWN


def cuda_rule(rule_id: str, match: str, category: str = "device-api") -> str:
    return (
        f"  - id: {rule_id}\n    name: t-{rule_id.lower()}\n    category: {category}\n    languages: [cuda]\n"
        f"    severity: warning\n    message: '`{{symbol}}`'\n    match: {match}\n    targets: {ALL_UNKNOWN}\n"
        f"    docs: '## What it does\\nA rule for tests.'\n"
    )


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    directory = tmp_path_factory.mktemp("cuda-rules")
    (directory / "r.yaml").write_text(
        "rules:\n"
        + cuda_rule("LC9901", "{identifiers: [cudaMalloc, cudaStream_t, cudaMemcpyHostToDevice]}")
        + cuda_rule("LC9902", "{scoped: [at::cuda::getCurrentCUDAStream], scoped_prefixes: [nvcuda::wmma]}")
        + cuda_rule("LC9903", "{includes: [cuda_runtime.h, ATen/cuda/]}")
        + cuda_rule("LC9904", "{patterns: ['^cuda[A-Z]\\w*$']}")
        + cuda_rule("LC9905", "{methods: [is_cuda]}"),
        encoding="utf-8",
    )
    return load_rules(directory, use_cache=False)


def found(rules: RuleSet, code: str, path: str = "t.cu") -> list[tuple[int, str, str]]:
    result = check_bytes(path, code.encode(), rules)
    return [(f.line, f.rule_id, f.symbol) for f in result.findings]


def test_identifiers_types_enums_and_includes(rules: RuleSet) -> None:
    code = (
        "#include <cuda_runtime.h>\n"
        '#include "ATen/cuda/CUDAContext.h"\n'
        "void f(cudaStream_t s) {\n"
        "  cudaMalloc(&p, 4);\n"
        "  copy(cudaMemcpyHostToDevice);\n"
        "}\n"
    )
    assert found(rules, code) == [(1, "LC9903", "cuda_runtime.h"), (2, "LC9903", "ATen/cuda/CUDAContext.h"),
                                  (3, "LC9901", "cudaStream_t"), (4, "LC9901", "cudaMalloc"),
                                  (5, "LC9901", "cudaMemcpyHostToDevice")]


def test_never_in_comments_strings_or_longer_names(rules: RuleSet) -> None:
    code = (
        "// cudaMalloc(&p, 4);\n"
        "/* cudaStream_t s; */\n"
        'const char* m = "cudaMalloc failed";\n'
        "int barracuda_cudaMalloc_count = 0;\n"
        "int my_cudaMalloc = 1;\n"
    )
    assert found(rules, code) == []


def test_scoped_names_follow_using_and_aliases(rules: RuleSet) -> None:
    code = (
        "auto a = at::cuda::getCurrentCUDAStream();\n"
        "auto b = ::at::cuda::getCurrentCUDAStream();\n"
        "namespace ac = at::cuda;\n"
        "auto c = ac::getCurrentCUDAStream();\n"
        "using namespace nvcuda;\n"
        "wmma::fragment<wmma::matrix_a, 16, 16, 16, half> frag;\n"
        "auto d = std::getCurrentCUDAStream();\n"
    )
    lines = [(line, rule) for line, rule, _ in found(rules, code)]
    assert lines[:4] == [(1, "LC9902"), (2, "LC9902"), (4, "LC9902"), (6, "LC9902")]
    assert (7, "LC9902") not in lines


def test_using_directives_do_not_capture_other_namespaces(tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("ns-rules")
    (directory / "r.yaml").write_text("rules:\n" + cuda_rule("LC9906", "{scoped_prefixes: [at::cuda]}"),
                                      encoding="utf-8")
    rules = load_rules(directory, use_cache=False)
    code = (
        "using namespace at::cuda::detail;\n"
        "int a = std::min(1, 2);\n"
        "int b = ::min(1, 2);\n"
        "auto c = cuda::getCurrentCUDAStream();\n"
    )
    assert [(line, symbol) for line, _, symbol in found(rules, code)] == [(1, "at::cuda::detail")]


def test_using_a_cuda_namespace_is_itself_reported(rules: RuleSet) -> None:
    code = "using namespace nvcuda::wmma;\nfragment<matrix_a, 16, 16, 16, half> frag;\n"
    assert found(rules, code)[0] == (1, "LC9902", "nvcuda::wmma")


def test_catch_all_patterns_skip_the_files_own_definitions(rules: RuleSet) -> None:
    code = (
        "#define cudaCheck(x) x\n"
        "int cudaHelper(int v) { return v; }\n"
        "void f() { cudaCheck(cudaHelper(cudaBrandNewApi(1))); }\n"
    )
    assert found(rules, code) == [(3, "LC9904", "cudaBrandNewApi")]


def test_methods_on_any_receiver(rules: RuleSet) -> None:
    assert found(rules, "bool f(const at::Tensor& t) { return t.is_cuda() && is_cuda; }\n") == [
        (1, "LC9905", ".is_cuda()")
    ]


def test_plain_cpp_costs_no_parse(rules: RuleSet) -> None:
    result = check_bytes("plain.cpp", b"#include <vector>\nint main() { std::vector<int> v; return v.size(); }\n", rules)
    assert result.skipped and not result.findings


def test_c_and_header_suffixes_use_the_cuda_analyzer(rules: RuleSet) -> None:
    for path in ("a.c", "a.cc", "a.cpp", "a.cxx", "a.h", "a.hh", "a.hpp", "a.hxx", "a.inl", "a.inc", "a.cuh"):
        assert found(rules, "void f() { cudaMalloc(0, 0); }\n", path) == [(1, "LC9901", "cudaMalloc")], path


def test_malformed_cuda_still_yields_what_parses(rules: RuleSet) -> None:
    code = (
        "#define DECLARE_KERNEL(name) __global__ void name(\n"
        "void broken( { {\n"
        "  cudaMalloc(&p, 4);\n"
        "MACRO_THE_GRAMMAR_CANNOT_PARSE(x) y z;\n"
        "void ok() { cudaStream_t s; }\n"
    )
    result = check_bytes("broken.cu", code.encode(), rules)
    assert [(f.line, f.symbol) for f in result.findings] == [(3, "cudaMalloc"), (5, "cudaStream_t")]
    assert len(result.errors) == 1 and result.errors[0].partial and "syntax error" in result.errors[0].message


def test_suppression_with_slash_comments(rules: RuleSet) -> None:
    code = "void f() {\n  cudaMalloc(&p, 4);  // lockin: ignore[LC9901]\n  // lockin: ignore\n  cudaMalloc(&q, 4);\n}\n"
    assert found(rules, code) == []
