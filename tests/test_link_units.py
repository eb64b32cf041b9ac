"""A call's same-named definitions, narrowed to its own translation unit (#11, eighth session, fI).

apex's ``amp_C.multi_tensor_lamb`` was said to need kernel ``cleanup`` of both
``multi_tensor_l2norm_kernel.cu`` (right: lamb calls ``multi_tensor_l2norm_cuda``, which launches it)
and ``multi_tensor_l2norm_kernel_mp.cu`` (wrong: that ``static`` kernel is launched only by
``multi_tensor_l2norm_mp_cuda``, which lamb never calls). A launch means the kernel its own file (or a
header it includes) defines; every same-named definition stays a candidate only when none does.
"""

from __future__ import annotations

from pathlib import Path

from lockin_lint.kb.ruleset import RuleSet

from .test_op_links import project

#: Two files of one extension, each with its own ``static`` kernel ``cleanup`` and a launcher of it.
L2NORM_CU = """
static __global__ void cleanup(float* out) { out[0] = 0; }
void l2norm_cuda(float* x) { cleanup<<<1, 1>>>(x); }
"""
L2NORM_MP_CU = """
static __global__ void cleanup(float* out) { out[0] = 1; }
void l2norm_mp_cuda(float* x) { cleanup<<<1, 1>>>(x); }
"""
LAMB_CU = """
void l2norm_cuda(float* x);
void lamb_cuda(float* x) { l2norm_cuda(x); }
"""
FRONTEND = """
TORCH_LIBRARY_IMPL(amp, CUDA, m) {
    m.impl("lamb", &lamb_cuda);
    m.impl("l2norm_mp", &l2norm_mp_cuda);
}
"""


def evidence(tmp_path: Path, ruleset: RuleSet, files: dict[str, str]) -> dict[int, list[str]]:
    """Each LL710 call's line -> what it depends on, as ``path:line message``."""
    run = project(tmp_path, files, ruleset)
    return {f.line: [f"{d.path}:{d.line} {d.message}" for d in f.depends_on]
            for f in run.findings if f.rule_id == "LL710"}


def test_a_launch_means_the_kernel_its_own_file_defines(tmp_path: Path, ruleset: RuleSet) -> None:
    files = {"csrc/l2norm.cu": L2NORM_CU, "csrc/l2norm_mp.cu": L2NORM_MP_CU, "csrc/lamb.cu": LAMB_CU,
             "csrc/frontend.cpp": FRONTEND,
             "use.py": "import torch\ntorch.ops.amp.lamb(x)\ntorch.ops.amp.l2norm_mp(x)\n"}
    assert evidence(tmp_path, ruleset, files) == {2: ["csrc/l2norm.cu:2 kernel `cleanup`"],
                                                  3: ["csrc/l2norm_mp.cu:2 kernel `cleanup`"]}


def test_a_kernel_in_a_header_both_files_include_stays_found(tmp_path: Path, ruleset: RuleSet) -> None:
    """Near miss: the launching files define no ``fill``; the header they include (through another
    header) does, and so does a file of the extension that is not in their unit."""
    setup = ("from torch.utils.cpp_extension import CUDAExtension\n"
             "ext = [CUDAExtension('pkg._C', ['csrc/a.cu', 'csrc/b.cu', 'csrc/other.cu', 'csrc/bind.cpp'])]\n")
    files = {"setup.py": setup,
             "csrc/common/fill.cuh": "__global__ void fill(float* x) { x[0] = 2; }\n",
             "csrc/common.h": '#include "common/fill.cuh"\n',
             "csrc/a.cu": '#include "common.h"\nvoid a_cuda(float* x) { fill<<<1, 1>>>(x); }\n',
             "csrc/b.cu": '#include "common.h"\nvoid b_cuda(float* x) { fill<<<1, 1>>>(x); }\n',
             "csrc/other.cu": "static __global__ void fill(float* x) { x[0] = 3; }\n"
                              "void other_cuda(float* x) { fill<<<1, 1>>>(x); }\n",
             "csrc/bind.cpp": 'PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {\n'
                              '  m.def("a", &a_cuda); m.def("b", &b_cuda);\n}\n',
             "use.py": "from pkg import _C\n_C.a(x)\n_C.b(x)\n"}
    assert evidence(tmp_path, ruleset, files) == {2: ["csrc/common/fill.cuh:1 kernel `fill`"],
                                                  3: ["csrc/common/fill.cuh:1 kernel `fill`"]}


def test_a_name_its_unit_does_not_define_keeps_every_definition(tmp_path: Path, ruleset: RuleSet) -> None:
    """Near miss: a launcher linked in from another file, defined in two (a CUDA and an ``_mp`` build
    of one name), is not narrowed: either may be the one linked."""
    files = {"csrc/run_a.cu": "__global__ void ka(float* x) { x[0] = 1; }\nvoid run(float* x) { ka<<<1, 1>>>(x); }\n",
             "csrc/run_b.cu": "__global__ void kb(float* x) { x[0] = 2; }\nvoid run(float* x) { kb<<<1, 1>>>(x); }\n",
             "csrc/op.cpp": "void run(float* x);\nvoid op(float* x) { run(x); }\n"
                            'TORCH_LIBRARY_IMPL(ns, CUDA, m) { m.impl("op", &op); }\n',
             "use.py": "import torch\ntorch.ops.ns.op(x)\n"}
    assert evidence(tmp_path, ruleset, files) == {2: ["csrc/run_a.cu:1 kernel `ka`", "csrc/run_b.cu:1 kernel `kb`"]}
