"""What an op's evidence may resolve a C++ name to (#11, eighth session, fG).

FlashAttention-3's ``torch.ops.flash_attn_3.bwd`` was said to need "CUDA host code `to`" and
"`zero_`": the ``inline __device__`` members of ``struct Vec`` in another extension
(``csrc/layer_norm/ln_utils.cuh``), matched by bare name to the free calls ``to<Tensor>(stack[0])``
and ``torch::stable::zero_(t)`` of ``hopper/flash_api_stable.cpp``. A class member is reached only
from a member of a class or by a call qualified with its class, and GPU-only code is never host code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.kb.ruleset import RuleSet

from .test_op_links import _scan, project

#: The other extension: a vector type with members named like tensor methods, one of them host code too.
OTHER_EXTENSION = """
template <typename T, int N>
struct Vec {
    T data[N];
    template <typename S>
    inline __device__ void to(Vec<S, N> &other) { other.data[0] = S(data[0]); }
    inline __host__ __device__ void zero_() { data[0] = T(0); }  // host code too: only (2) rules it out
};
"""
#: This extension: a boxed op whose free calls spell the same names, and a launcher out of sight.
OP_SOURCE = """
void run_bwd(Params &params);
void mha_bwd(Tensor dout, Tensor dq) {
    torch::stable::zero_(dq);
    Params params;
    run_bwd(params);
}
void boxed_mha_bwd(StableIValue* stack, uint64_t num_args, uint64_t num_outputs) {
    auto dout = to<Tensor>(stack[0]);
    auto dq = to<Tensor>(stack[1]);
    mha_bwd(dout, dq);
}
TORCH_LIBRARY(fa3, m) { m.def("bwd(Tensor dout, Tensor dq) -> ()"); }
TORCH_LIBRARY_IMPL(fa3, CUDA, m) { m.impl("bwd", &boxed_mha_bwd); }
"""
LAUNCHER_CU = """
template <typename T>
void run_bwd_(Params &params) { run_cutlass_bwd<T>(params); }
void run_bwd(Params &params) { run_bwd_<float>(params); }
"""


def evidence(tmp_path: Path, ruleset: RuleSet, files: dict[str, str]) -> list[str]:
    run = project(tmp_path, files, ruleset)
    [call] = [f for f in run.findings if f.rule_id == "LL710"]
    return [f"{d.path}:{d.line} {d.message}" for d in call.depends_on]


def test_free_calls_do_not_reach_another_extensions_device_members(tmp_path: Path, ruleset: RuleSet) -> None:
    files = {"csrc/layer_norm/ln_utils.cuh": OTHER_EXTENSION, "hopper/flash_api.cpp": OP_SOURCE,
             "hopper/bwd.cu": LAUNCHER_CU, "use.py": "import torch\ntorch.ops.fa3.bwd(dout, dq)\n"}
    assert evidence(tmp_path, ruleset, files) == ["hopper/bwd.cu:3 CUDA host code `run_bwd_`",
                                                  "hopper/bwd.cu:4 CUDA host code `run_bwd`"]


def test_a_device_only_function_is_never_host_code(tmp_path: Path, ruleset: RuleSet) -> None:
    """A free ``__device__`` function reached by name is GPU code; ``__host__ __device__`` stays."""
    files = {"util.cuh": "__device__ float clamp(float x) { return x; }\n"
                         "__host__ __device__ float scale(float x) { return x; }\n",
             "api.cpp": "void op(float x) { clamp(x); scale(x); }\n"
                        'TORCH_LIBRARY_IMPL(ns, CUDA, m) { m.impl("op", &op); }\n',
             "use.py": "import torch\ntorch.ops.ns.op(x)\n"}
    assert evidence(tmp_path, ruleset, files) == ["util.cuh:2 CUDA host code `scale`"]


#: Near misses: members reached the ways C++ can reach them, each launching its own kernel.
MEMBERS_CU = """
__global__ void static_k(float* x) { x[0] = 1; }
__global__ void sibling_k(float* x) { x[0] = 2; }
__global__ void outside_k(float* x) { x[0] = 3; }
struct Launcher {
    static void run(float* x) { static_k<<<1, 1>>>(x); }
    void go(float* x) { step(x); }
    void step(float* x) { sibling_k<<<1, 1>>>(x); }
};
struct Runner { void launch(float* x); };
void Runner::launch(float* x) { outside_k<<<1, 1>>>(x); }
void via_static(float* x) { Launcher::run(x); }
void via_out_of_line(float* x) { launch(x); }
TORCH_LIBRARY_IMPL(ns, CUDA, m) {
    m.impl("a", &via_static);
    m.impl("b", &Launcher::go);
    m.impl("c", &via_out_of_line);
}
"""


@pytest.mark.parametrize("op, kernel", [
    ("a", "static_k"),  # ``Launcher::run(x)``: qualified with the member's class
    ("b", "sibling_k"),  # ``step(x)`` inside another member of the class
    ("c", "outside_k"),  # an out-of-line ``Runner::launch`` (``Runner`` might be a namespace): as before
])
def test_members_reached_as_cpp_reaches_them(tmp_path: Path, ruleset: RuleSet, op: str, kernel: str) -> None:
    files = {"k.cu": MEMBERS_CU, "use.py": f"import torch\ntorch.ops.ns.{op}(x)\n"}
    [found] = evidence(tmp_path, ruleset, files)
    assert found.endswith(f"kernel `{kernel}`")


def test_the_facts_record_how_names_are_spelled() -> None:
    facts = _scan("""
struct Vec { inline __device__ void to(int o) {} __host__ __device__ int g() { return 0; } };
template <typename T> void f(T t) { a::Vec<T>::to(1); to<int>(2); ::g(); t.zero_(); auto p = &ns::h; }
""")
    functions = {f.name: f for f in facts.functions}
    assert (functions["to"].device, functions["to"].owner) == (True, "Vec")
    assert (functions["g"].device, functions["g"].owner) == (False, "Vec")
    assert functions["f"].qualified == {("Vec", "to"), ("ns", "h")}
    assert functions["f"].bare == {"to", "g"}
    assert "zero_" not in functions["f"].calls  # a member call is not followed at all
