"""One construct, one finding: arguments, declared types and kernel heads join their construct."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import STATUSES, finding_dict


def _findings(source: str, ruleset: RuleSet) -> list[tuple[str, str, tuple[str, ...]]]:
    result = check_bytes("k.cu", source.encode(), ruleset)
    return [(f.rule_id, f.symbol, f.extra_symbols) for f in result.findings]


def test_enum_arguments_join_the_call(ruleset: RuleSet) -> None:
    found = _findings("void f(float* d, float* s) { cudaMemcpy(d, s, 4, cudaMemcpyHostToDevice); }\n", ruleset)
    assert found == [("LC1011", "cudaMemcpy", ("cudaMemcpyHostToDevice",))]


def test_a_call_in_the_arguments_stays_its_own_finding(ruleset: RuleSet) -> None:
    found = _findings("void f(float* p) { cudaCheck(cudaFree(p)); }\n", ruleset)
    assert [symbol for _, symbol, _ in found] == ["cudaCheck", "cudaFree"]


def test_arguments_of_an_unmatched_call_are_reported(ruleset: RuleSet) -> None:
    found = _findings("void f(float* d) { my_copy(d, cudaMemcpyHostToDevice); }\n", ruleset)
    assert found == [("LC1036", "cudaMemcpyHostToDevice", ())]


def test_a_declared_type_joins_its_initializer_call(ruleset: RuleSet) -> None:
    source = "void f() { cudaStream_t s = at::cuda::getCurrentCUDAStream(); cudaStream_t t = s; }\n"
    found = _findings(source, ruleset)
    assert ("LC5001", "at::cuda::getCurrentCUDAStream", ("cudaStream_t",)) in found
    assert ("LC1036", "cudaStream_t", ()) in found  # ``t = s`` has no matched initializer


def test_a_template_typed_declaration_tree_sitter_misreads_still_joins(ruleset: RuleSet) -> None:
    source = ("namespace cg = cooperative_groups;\n__global__ void k() {\n"
              "  cg::thread_block b = cg::this_thread_block();\n"
              "  cg::thread_block_tile<32> w = cg::tiled_partition<32>(b);\n"
              "  cg::thread_block_tile<32> v = w;\n}\n")
    found = [f for f in _findings(source, ruleset) if f[1] != "cooperative_groups"]
    assert ("LC4010", "cooperative_groups::tiled_partition", ("cooperative_groups::thread_block_tile",)) in found
    # no call to join: the type is its own finding
    assert [f for f in found if f[1] == "cooperative_groups::thread_block_tile"] == [
        ("LC7030", "cooperative_groups::thread_block_tile", ())]


def test_the_joined_finding_keeps_the_worst_status_per_target(ruleset: RuleSet) -> None:
    source = "__global__ void k(float* x) { x[0] = __shfl_xor_sync(0xffffffff, x[0], 1); }\n"
    result = check_bytes("k.cu", source.encode(), ruleset)
    shfl = next(f for f in result.findings if f.symbol == "__shfl_xor_sync")
    alone = check_bytes("k.cu", b"__global__ void k(float* x) { x[0] = __shfl_xor_sync(m, x[0], 1); }\n", ruleset)
    before = next(f for f in alone.findings if f.symbol == "__shfl_xor_sync")
    assert shfl.extra_symbols == ("0xffffffff",) and "0xffffffff" in shfl.message
    assert before.targets["rocm"].status == "native"
    assert STATUSES.index(shfl.targets["rocm"].status) > STATUSES.index("native")  # the mask needs a change
    assert finding_dict(shfl)["extra_symbols"] == ["0xffffffff"]


def test_one_condition_is_one_construct(ruleset: RuleSet) -> None:
    source = "#if defined(CUBLAS_VERSION) && CUBLAS_VERSION >= 11000\nint x;\n#elif CUDART_VERSION\nint y;\n#endif\n"
    found = [(f.line, f.symbol) for f in check_bytes("k.cu", source.encode(), ruleset).findings
             if f.rule_id == "LC9000" or f.symbol == "CUDART_VERSION"]
    assert [line for line, _ in found].count(1) == 1


def test_a_name_only_a_catch_all_matched_does_not_make_the_call_unknown(ruleset: RuleSet) -> None:
    def gemm(argument: str) -> dict[str, str]:
        source = f"void f(cublasHandle_t h, void* a) {{ cublasGemmStridedBatchedEx(h, a, {argument}, 1); }}\n"
        found = next(f for f in check_bytes("k.cu", source.encode(), ruleset).findings
                     if f.symbol == "cublasGemmStridedBatchedEx")
        assert found.extra_symbols == ((argument,) if argument != "1" else ())
        return {target: info.status for target, info in found.targets.items()}

    alone = gemm("1")
    assert alone["rocm"] != "unknown"  # a known port
    assert gemm("CUBLAS_LOWP") == alone  # the project's own macro, a name no rule lists
    loose = check_bytes("k.cu", b"void f(void* a) { my_gemm(a, CUBLAS_LOWP); }\n", ruleset).findings
    assert [f.targets["rocm"].status for f in loose if f.symbol == "CUBLAS_LOWP"] == ["unknown"]


def test_a_name_only_a_vendor_header_lists_does_not_make_the_call_unknown(ruleset: RuleSet) -> None:
    """``ncclFloat``/``ncclSum`` are listed (LC4102, from nccl.h) with no Ascend fact; the call's is known."""
    def all_reduce(arguments: str) -> dict[str, str]:
        source = f"void f(void* a, ncclComm_t c, cudaStream_t s) {{ ncclAllReduce(a, a, 1, {arguments}, c, s); }}\n"
        found = next(f for f in check_bytes("k.cu", source.encode(), ruleset).findings if f.symbol == "ncclAllReduce")
        return {target: info.status for target, info in found.targets.items()}

    alone = all_reduce("1, 2")
    assert alone["ascend"] != "unknown"  # HCCL's HcclAllReduce
    assert all_reduce("ncclFloat, ncclSum") == alone
    loose = check_bytes("k.cu", b"void f() { int t = ncclFloat; }\n", ruleset).findings
    assert [f.targets["ascend"].status for f in loose if f.symbol == "ncclFloat"] == ["unknown"]


def test_a_joined_name_with_no_data_on_a_target_does_not_hide_the_constructs_status(ruleset: RuleSet) -> None:
    """DeepSpeed's ``__global__ void fused_bias_residual_layer_norm(__half* ...)``: ``__half`` has no
    XPU or CPU fact, the kernel has (a SYCL rewrite, a CPU re-implementation)."""
    def kernel(parameter: str) -> tuple[tuple[str, ...], dict[str, str]]:
        source = f"__global__ void k({parameter}* out, int n) {{ out[0] = out[n]; }}\n"
        found = next(f for f in check_bytes("k.cu", source.encode(), ruleset).findings if f.rule_id == "LC7000")
        return found.extra_symbols, {target: info.status for target, info in found.targets.items()}

    half = next(f for f in check_bytes("k.cu", b"void f() { __half h; }\n", ruleset).findings if f.symbol == "__half")
    unknown_on = {target for target, info in half.targets.items() if info.status == "unknown"}
    assert {"xpu", "cpu"} <= unknown_on  # alone, still reported as unknown there
    extra, joined = kernel("__half")
    assert extra == ("__half",)
    assert joined == kernel("float")[1]
    assert joined["xpu"] == "equivalent" and joined["cpu"] == "missing"


def test_a_known_worse_joined_status_still_wins_and_an_unknown_call_stays_unknown(ruleset: RuleSet) -> None:
    """Among known statuses the worse wins: ``__shfl_xor_sync`` runs natively on ROCm, its 32-bit mask
    does not. A call no table knows on a target stays unknown there whatever its arguments say."""
    source = "__global__ void k(float* x) { x[0] = __shfl_xor_sync(0xffffffff, x[0], 1); }\n"
    shfl = next(f for f in check_bytes("k.cu", source.encode(), ruleset).findings if f.symbol == "__shfl_xor_sync")
    assert shfl.targets["rocm"].status == "equivalent"
    create = "void g(cudaStream_t* s) { cudaStreamCreateWithFlags(s, %s); }\n"
    alone = next(f for f in check_bytes("k.cu", (create % "0").encode(), ruleset).findings
                 if f.symbol == "cudaStreamCreateWithFlags")
    argument = next(f for f in check_bytes("k.cu", b"int m = cudaMemcpyHostToDevice;\n", ruleset).findings)
    assert alone.targets["mlu"].status == "unknown" and argument.targets["mlu"].status == "rename"
    joined = next(f for f in check_bytes("k.cu", (create % "cudaMemcpyHostToDevice").encode(), ruleset).findings
                  if f.symbol == "cudaStreamCreateWithFlags")
    assert joined.extra_symbols == ("cudaMemcpyHostToDevice",) and joined.targets["mlu"].status == "unknown"
