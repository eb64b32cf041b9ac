"""Device/platform dispatch in Python (analyzers/python_dispatch.py), files dedicated to another
backend, and the CUDA backend modules of a project's accelerator abstraction (project/backend_modules.py).

fixtures/python/dispatch.py holds which lines are reported at all; these tests hold what the
reported ones say per target.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter as ts
import tree_sitter_python

from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.analyzers.python_platform_tests import PLATFORMS, classify
from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding
from lockin_lint.score.effort import summarize

_PARSER = ts.Parser(ts.Language(tree_sitter_python.language()))


def _findings(source: str, ruleset: RuleSet, path: str = "m.py") -> list[Finding]:
    result = check_bytes(path, source.encode(), ruleset)
    assert not result.errors, result.errors
    return list(result.findings)


def _at(findings: list[Finding], line: int) -> Finding:
    [found] = [f for f in findings if f.line == line]
    return found


def _condition(expression: str) -> ts.Node:
    tree = _PARSER.parse(f"if {expression}:\n    pass\n".encode())
    node = tree.root_node.children[0].child_by_field_name("condition")
    assert node is not None
    return node


@pytest.mark.parametrize(("expression", "may"), [
    ("torch.version.hip", {"rocm"}),
    ("torch.version.hip is not None", {"rocm"}),
    ("torch.version.cuda", {"cuda"}),
    ("current_platform.is_rocm()", {"rocm"}),
    ("self.is_rocm_pytorch()", {"rocm"}),
    ("current_platform.is_cuda()", {"cuda"}),
    ("current_platform.is_cuda_alike()", {"cuda", "rocm"}),
    ("_is_cuda()", {"cuda"}),
    ("_is_cuda_alike()", {"cuda", "rocm"}),
    ("torch.cuda.is_available()", {"cuda", "rocm"}),
    ("torch.xpu.is_available()", {"xpu"}),
    ("is_torch_npu_available()", {"ascend"}),
    ('device.type == "xpu"', {"xpu"}),
    ('get_accelerator().device_name() == "cuda"', {"cuda", "rocm"}),
    ('backend in ("hccl", "gloo")', {"ascend", "other", "cpu"}),
    ('hasattr(torch, "mlu")', {"mlu"}),
    ('str(x.device).startswith("mps")', {"mps"}),
    ("is_rocm() or is_xpu()", {"rocm", "xpu"}),
    ("torch.cuda.is_available() and torch.version.hip", {"rocm"}),
    ('SYSTEM == "ipex"', {"xpu", "cpu"}),
    ("is_ipex_available()", {"xpu", "cpu"}),
    ("is_sdaa_available()", {"other"}),
    ("state.distributed_type == DistributedType.MULTI_XPU", {"xpu"}),
    ("self._enum == PlatformEnum.ROCM", {"rocm"}),
    ("backend in [Backend.NCCL, Backend.GLOO]", {"cuda", "rocm", "cpu"}),
])
def test_platform_tests_are_read(expression: str, may: set[str]) -> None:
    assert classify(_condition(expression)).may == frozenset(may)


@pytest.mark.parametrize("expression", [
    "flag", "args.use_cuda_graph", 'name == "model"', 'sys.platform.startswith("darwin")', "x > 1",
    "mode == Mode.XPU", "kind == DistributedType.FSDP", 'SYSTEM == "ipex_old"',
])
def test_other_conditions_say_nothing(expression: str) -> None:
    assert not classify(_condition(expression)).known


def test_compiled_op_feature_check_leaves_a_cpu_fallback(ruleset: RuleSet) -> None:
    """``hasattr(torch.ops._C, "op")``: the op is used only where it was built; without it the plain
    fallback runs, which handles cpu and nothing else."""
    assert classify(_condition('hasattr(torch.ops._C, "rms_norm")')).may == PLATFORMS - {"cpu"}
    source = ('import torch\nif hasattr(torch.ops._C, "rms_norm"):\n    torch.cuda.synchronize()\n')
    assert _at(_findings(source, ruleset), 3).handled == (("cpu", FALLBACK),)


def test_negating_a_partly_unknown_test_stays_honest() -> None:
    """``not (flag and is_cpu())`` may be true anywhere; only its else branch is known (CPU only)."""
    test = classify(_condition("not (flag and is_cpu())"))
    assert test.may == classify(_condition("flag")).may
    assert test.negated().may == {"cpu"}


def test_not_of_a_known_test_is_the_other_platforms() -> None:
    test = classify(_condition("not current_platform.is_cuda()"))
    assert "cuda" not in test.may and "rocm" in test.may and test.named == {"cuda"}


def test_cuda_side_of_a_rocm_branch_handles_rocm_only(ruleset: RuleSet) -> None:
    found = _at(_findings("import torch\nif torch.version.hip:\n    pass\nelse:\n    torch.cuda.synchronize()\n",
                          ruleset), 5)
    assert found.handled == (("rocm", BRANCH),)
    assert found.targets["rocm"].status == "native"
    assert found.targets["ascend"].status != "native"


def test_a_private_is_cuda_leaves_rocm_to_its_elif(ruleset: RuleSet) -> None:
    """vLLM's setup.py: ``if _is_cuda() and CUDA_HOME is not None: ... nvcc`` / ``elif _is_hip() and
    ROCM_HOME is not None: ... -DROCM_PATH``: the elif is the ROCm port, so rocm is handled."""
    source = ("from torch.utils.cpp_extension import CUDA_HOME, ROCM_HOME\n"
              "if _is_cuda() and CUDA_HOME is not None:\n    args = [f'{CUDA_HOME}/bin/nvcc']\n"
              "elif _is_hip() and ROCM_HOME is not None:\n    args = [ROCM_HOME]\n")
    found = _at(_findings(source, ruleset), 3)
    assert dict(found.handled) == {"rocm": BRANCH, "cpu": FALLBACK}
    alike = _at(_findings(source.replace("_is_cuda()", "_is_cuda_alike()"), ruleset), 3)
    assert "rocm" not in dict(alike.handled)  # CUDA or ROCm: the elif is not ROCm's only path


def test_availability_check_handles_cpu_only(ruleset: RuleSet) -> None:
    """Falling back to the CPU on Ascend is still Ascend lock-in."""
    findings = _findings("import torch\nif torch.cuda.is_available():\n    x = x.cuda()\n", ruleset)
    for line in (2, 3):
        found = _at(findings, line)
        assert found.handled == (("cpu", FALLBACK),)
        assert found.targets["cpu"].status == "native"
        assert found.targets["ascend"].status == "rename"


def test_no_visible_device_is_no_other_platform(ruleset: RuleSet) -> None:
    """``torch.cuda.is_available()`` is false on a CUDA or ROCm build with no device visible too (a
    build machine cross-compiling), so the body of its negation is no ROCm path (apex's and
    flash-attention's ``TORCH_CUDA_ARCH_LIST`` setting there said "rocm: device/platform branch");
    an early exit on it still leaves the code after it a CPU fallback."""
    assert classify(_condition("not torch.cuda.is_available()")).may == PLATFORMS
    body = ('import os\nimport torch\nif not torch.cuda.is_available():\n'
            '    os.environ["TORCH_CUDA_ARCH_LIST"] = "8.0"\n')
    assert _at(_findings(body, ruleset), 4).handled == ()
    guarded = ("import torch\ndef f():\n    if not torch.cuda.is_available():\n        return\n"
               "    torch.cuda.synchronize()\n")
    assert _at(_findings(guarded, ruleset), 5).handled == (("cpu", FALLBACK),)


def test_sibling_ifs_on_the_same_subject_are_a_dispatch(ruleset: RuleSet) -> None:
    """``if backend == "nccl" and ...:`` then ``if backend == "xccl" and ...:`` (accelerate's
    state.py): XPU has its own path, as with ``elif``; a sibling testing another subject names
    nothing for this one."""
    source = ('def f(self, name):\n    if self.backend == "nccl" and name:\n        pass\n'
              '    if self.backend == "xccl" and name:\n        pass\n')
    found = _at(_findings(source, ruleset), 2)
    assert dict(found.handled).get("xpu") == BRANCH
    assert "xpu" not in found.message
    other = source.replace('if self.backend == "xccl"', 'if name == "xccl"')
    assert "xpu" not in dict(_at(_findings(other, ruleset), 2).handled)


def test_a_sibling_is_credited_past_an_operand_that_tests_no_platform(ruleset: RuleSet) -> None:
    """accelerate's state.py (judged false, j16A): ``x.backend != Enum.NO and ... and device.type ==
    "cuda"`` then the same for "musa": the ``!=`` tests no platform, so musa has its own path; a
    ``!=`` against a platform (``dev != "cpu"``) keeps its negated reading and credits nothing."""
    source = ('import torch\ndef f(self):\n'
              '    if self.backend != Backend.NO and self.mode is not None and self.device.type == "cuda":\n'
              '        torch.backends.cuda.matmul.allow_tf32 = True\n'
              '    if self.backend != Backend.NO and self.mode is not None and self.device.type == "musa":\n'
              '        torch.backends.musa.matmul.allow_tf32 = True\n')
    found = _at(_findings(source, ruleset), 4)
    assert dict(found.handled).get("musa") == BRANCH
    assert "musa" not in found.message
    negated = ('import torch\ndef f(dev, x):\n    if dev != "cpu" and x:\n        torch.cuda.synchronize()\n'
               '    if dev == "musa" and x:\n        torch.musa.synchronize()\n')
    assert "musa" not in dict(_at(_findings(negated, ruleset), 4).handled)


def test_a_cpu_fallback_says_which_targets_take_it(ruleset: RuleSet) -> None:
    """The message names the accelerators that silently get the CPU path; a branch names its own."""
    choice = _at(_findings('import torch\ndevice = "cuda" if torch.cuda.is_available() else "cpu"\n', ruleset), 2)
    tail = choice.message.split("a fallback no test names ", 1)[1]
    assert tail.startswith("ascend, mlu, musa, xpu, mps in, so there it may silently run on the CPU")
    source = ("import torch\nif torch.cuda.is_available():\n    torch.cuda.synchronize()\n"
              "elif torch.xpu.is_available():\n    torch.xpu.synchronize()\n")
    assert "names ascend, mlu, musa, mps in" in _at(_findings(source, ruleset), 3).message
    hip = _at(_findings("import torch\nif torch.version.hip:\n    pass\nelse:\n    torch.cuda.synchronize()\n",
                        ruleset), 5)
    assert "fallback" not in hip.message  # no CPU fallback there: the message is the rule's own


def test_every_named_branch_is_handled(ruleset: RuleSet) -> None:
    source = ("import torch\ndef f(x):\n    if x.device.type == 'cuda':\n        return x.cuda()\n"
              "    elif x.device.type == 'npu':\n        return x.npu()\n    elif x.device.type == 'xpu':\n"
              "        return x.xpu()\n")
    found = _at(_findings(source, ruleset), 4)
    assert dict(found.handled) == {"ascend": BRANCH, "xpu": BRANCH, "cpu": FALLBACK}
    assert {t for t, info in found.targets.items() if info.status == "native"} == {"rocm", "ascend", "xpu", "cpu"}


def test_handled_targets_cost_nothing(ruleset: RuleSet) -> None:
    # NVTX: missing on ascend and musa (a rename or a portable rewrite would cost nothing anyway)
    body = "    torch_npu.npu.synchronize()\nelse:\n    torch.cuda.nvtx.range_push('step')\n"
    plain = _findings("import torch\nif flag:\n" + body, ruleset)
    dispatched = _findings("import torch\nif torch.npu.is_available():\n" + body, ruleset)
    before = summarize(plain, ("ascend", "musa"), 100)
    after = summarize(dispatched, ("ascend", "musa"), 100)
    assert before["ascend"].blockers == 1 and after["ascend"].blockers == 0
    assert after["ascend"].statuses["native"] == 1 and after["ascend"].effort_hours == 0
    assert after["musa"].blockers == 1  # the branch names npu only


def test_a_branch_that_only_raises_handles_nothing(ruleset: RuleSet) -> None:
    source = ("import torch\nif torch.version.hip:\n    raise ValueError('NVIDIA only')\n"
              "elif torch.cuda.get_device_properties(0).major != 8:\n    pass\n")
    assert _at(_findings(source, ruleset), 4).handled == ()


def test_unknown_condition_changes_nothing(ruleset: RuleSet) -> None:
    found = _at(_findings("import torch\nif use_graphs:\n    torch.cuda.synchronize()\n", ruleset), 3)
    assert found.handled == ()


@pytest.mark.parametrize("path", ["vllm/platforms/rocm.py", "csrc/rocm/build.py", "tests/test_amd_fp8.py",
                                  "accelerator/xpu_accelerator.py"])
def test_files_dedicated_to_another_backend_are_not_cuda_lock_in(path: str, ruleset: RuleSet) -> None:
    assert _findings("import torch\ntorch.cuda.synchronize()\n", ruleset, path) == []


@pytest.mark.parametrize("path", ["vllm/platforms/cuda.py", "ops/hipster.py", "src/chip.py"])
def test_other_files_are_checked(path: str, ruleset: RuleSet) -> None:
    assert len(_findings("import torch\ntorch.cuda.synchronize()\n", ruleset, path)) == 1


def _project(root: Path, names: list[str]) -> None:
    folder = root / "accelerator"
    folder.mkdir()
    for name in names:
        (folder / name).write_text("import torch\ntorch.cuda.synchronize()\n", encoding="utf-8")


def test_cuda_backend_module_with_siblings_is_info_and_handled(tmp_path: Path, ruleset: RuleSet) -> None:
    _project(tmp_path, ["cuda_accelerator.py", "xpu_accelerator.py", "npu_accelerator.py", "abstract_accelerator.py"])
    run = check_paths(["."], ruleset, cwd=tmp_path)
    [found] = [f for f in run.findings if f.path.endswith("cuda_accelerator.py")]
    assert found.severity == "info"
    assert {info.status for info in found.targets.values()} == {"native"}
    assert "beside npu, xpu" in dict(found.handled)["ascend"]
    assert summarize([found], ("ascend",), 100)["ascend"].effort_hours == 0


def test_cuda_module_without_siblings_is_lock_in(tmp_path: Path, ruleset: RuleSet) -> None:
    _project(tmp_path, ["cuda_accelerator.py", "abstract_accelerator.py", "cuda_utils.py"])
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert {f.severity for f in run.findings} == {"warning"}
    assert all(f.handled == () for f in run.findings)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_a_project_using_its_own_package_does_not_depend_on_it(tmp_path: Path, ruleset: RuleSet) -> None:
    """Scanning apex: apex's modules, tests and benchmarks importing apex are apex itself."""
    uses = ("from apex.optimizers import FusedAdam\nimport xformers.ops\nimport torch\ntorch.cuda.synchronize()\n"
            "import amp_C\n")
    setup = ("from setuptools import setup\nfrom torch.utils.cpp_extension import CUDAExtension\n"
             "setup(ext_modules=[CUDAExtension('amp_C', ['csrc/amp_C_frontend.cpp'])])\n")
    _write(tmp_path, {"apex/__init__.py": "", "apex/contrib/__init__.py": "", "apex/contrib/lamb.py": uses,
                      "tests/test_lamb.py": uses, "benchmarks/bench.py": uses, "setup.py": setup})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    for path in ("apex/contrib/lamb.py", "tests/test_lamb.py", "benchmarks/bench.py"):
        rules = {f.rule_id for f in run.findings if f.path == path}
        assert not any(r.startswith("LL50") for r in rules), (path, rules)  # apex: the project's own
        assert "LL101" in rules and any(r.startswith("LL51") for r in rules), (path, rules)  # xformers: not


def test_a_module_named_after_an_own_package_is_its_own(tmp_path: Path, ruleset: RuleSet) -> None:
    """flash-attention's ``flash_attn/flash_attn_interface.py`` imports ``flash_attn_2_cuda``, the
    extension it builds (with a build file the run may not hold); another project's import is not."""
    uses = "import flash_attn_2_cuda\n"
    _write(tmp_path, {"flash_attn/__init__.py": "", "flash_attn/flash_attn_interface.py": uses})
    assert not check_paths(["."], ruleset, cwd=tmp_path).findings
    _write(tmp_path / "other", {"serving/__init__.py": "", "serving/attention.py": uses})
    assert {f.rule_id for f in check_paths(["."], ruleset, cwd=tmp_path / "other").findings} == {"LL510"}


def test_a_subpackage_is_not_a_project_of_its_own(tmp_path: Path) -> None:
    from lockin_lint.project.own_packages import own_packages, script_modules

    paths = ["apex/__init__.py", "apex/contrib/__init__.py", "third_party/flash/flash_attn/__init__.py",
             "scripts/run.py", "__init__.py"]
    assert own_packages(paths) == {"apex", "flash_attn"}
    assert own_packages(["/abs/repo/apex/__init__.py", "/abs/repo/apex/amp/__init__.py"]) == {"apex"}
    modules = script_modules(["hopper/__init__.py", "hopper/flash_attn_interface.py", "vllm/__init__.py",
                              "vllm/backends/__init__.py", "vllm/backends/xformers.py", "op_builder/transformer.py"])
    assert modules["hopper"] == {"flash_attn_interface"} and modules["op_builder"] == {"transformer"}
    assert "vllm/backends" not in modules  # inside a package, `import xformers` is the real xFormers


def test_only_a_package_lends_its_name_to_modules(tmp_path: Path, ruleset: RuleSet) -> None:
    """DeepSpeed's ``op_builder/transformer.py`` makes no ``transformer_engine`` import its own."""
    uses = "import transformer_engine.pytorch as te\n"
    _write(tmp_path, {"op_builder/transformer.py": "", "tests/test_fp8.py": uses, "op_builder/fp8.py": uses})
    assert {f.path for f in check_paths(["."], ruleset, cwd=tmp_path).findings} == {"tests/test_fp8.py",
                                                                                    "op_builder/fp8.py"}


def test_the_other_side_of_a_platform_value_test_handles_what_it_named(ruleset: RuleSet) -> None:
    """``if SYSTEM == "ipex": ... else: import flash_attn_2_cuda``: a value test's false side may still
    run anywhere, but the project has a path for the platforms its true side was for."""
    source = ('import torch\nif SYSTEM == "ipex":\n    import intel_extension_for_pytorch\nelse:\n'
              '    torch.cuda.synchronize()\nif device.type != "xpu":\n    torch.cuda.synchronize()\n')
    findings = _findings(source, ruleset)
    assert dict(_at(findings, 5).handled) == {"xpu": BRANCH, "cpu": BRANCH}
    assert _at(findings, 7).handled == ()  # `!=`: its true side is for no named platform


def test_a_test_of_cuda_within_a_test_that_takes_xpu_too(ruleset: RuleSet) -> None:
    found = _at(_findings("import torch\nif (x.is_cuda or x.is_xpu) and n > 1:\n    pass\n", ruleset), 2)
    assert dict(found.handled)["xpu"] == BRANCH
    body = _at(_findings("import torch\nif x.is_cuda or x.is_xpu:\n    torch.cuda.synchronize()\n", ruleset), 3)
    assert "xpu" not in dict(body.handled)  # the body runs on XPU too: not a port


def test_a_table_keyed_by_platform_is_a_dispatch(ruleset: RuleSet) -> None:
    source = 'import torch.distributed as dist\nbackend_map = {"cuda": "nccl", "xpu": "xccl"}\n'
    [found] = _findings(source, ruleset)
    assert dict(found.handled) == {"xpu": BRANCH, "cpu": FALLBACK}
    alone = _findings('import torch.distributed as dist\nbackend_map = {"cuda": "nccl", "ok": "gloo"}\n', ruleset)
    assert alone and all(f.handled == () for f in alone)


def test_cuda_call_inside_a_rocm_only_test_is_handled_everywhere_else(ruleset: RuleSet) -> None:
    # xformers' setup.py: `elif torch.version.hip and (torch.cuda.is_available() or ...)`
    source = ("import os, torch\nif torch.version.cuda:\n    pass\n"
              "elif (torch.version.hip\n      and (torch.cuda.is_available() or os.getenv('A'))):\n    pass\n")
    found = _at(_findings(source, ruleset), 5)
    handled = dict(found.handled)
    assert "rocm" not in handled
    assert handled and all(note == BRANCH for note in handled.values()), handled
    assert "silently run on the CPU" not in found.message


@pytest.mark.parametrize("flag", ["self.build_for_cpu", "cpu_only", "args.use_cpu"])
def test_a_cpu_build_flag_handles_cpu_by_its_branch(flag: str, ruleset: RuleSet) -> None:
    # DeepSpeed's op_builder/dc.py: `if self.build_for_cpu: ... elif not is_rocm_pytorch(): CUDA_HOME`
    source = (f"from torch.utils.cpp_extension import CUDA_HOME\ndef f(self):\n    if {flag}:\n        x = []\n"
              "    else:\n        x = [CUDA_HOME]\n    return x\n")
    assert dict(_at(_findings(source, ruleset), 6).handled).get("cpu") == BRANCH


def test_a_cpu_feature_flag_is_no_cpu_build(ruleset: RuleSet) -> None:
    source = ("from torch.utils.cpp_extension import CUDA_HOME\ndef f(self):\n    if self.cpu_offload:\n"
              "        x = []\n    else:\n        x = [CUDA_HOME]\n    return x\n")
    assert "cpu" not in dict(_at(_findings(source, ruleset), 6).handled)


def _fixture_findings(ruleset: RuleSet) -> list[Finding]:
    path = Path(__file__).parents[1] / "fixtures" / "python" / "dispatch.py"
    return _findings(path.read_text(), ruleset, "fixtures/python/dispatch.py")


@pytest.mark.parametrize("function", ["def layer_norm(", "def fused_mlp("])
def test_a_tensor_test_with_generic_torch_on_its_other_side_is_handled(function: str, ruleset: RuleSet) -> None:
    # apex's fused_layer_norm.py / flash-attention's fused_dense.py
    lines = (Path(__file__).parents[1] / "fixtures" / "python" / "dispatch.py").read_text().splitlines()
    start = lines.index(next(line for line in lines if line.startswith(function))) + 1
    found = [f for f in _fixture_findings(ruleset) if f.rule_id == "LL121" and start < f.line < start + 6][0]
    handled = dict(found.handled)
    assert "rocm" not in handled
    assert handled.get("xpu", "").startswith("device-agnostic else") and handled["cpu"].startswith("device-agnostic")


def test_a_tensor_test_with_project_code_on_its_other_side_is_not_handled(ruleset: RuleSet) -> None:
    lines = (Path(__file__).parents[1] / "fixtures" / "python" / "dispatch.py").read_text().splitlines()
    start = lines.index("def fused_mlp_cpu(x, weight1):") + 1
    found = [f for f in _fixture_findings(ruleset) if f.rule_id == "LL121" and start < f.line < start + 4][0]
    assert "xpu" not in dict(found.handled)


_AND_CUDA = ("import torch\ndef f(args, device, images):\n    if {test}:\n        images = images.cuda(args.gpu)\n"
             "    else:\n        images = images.to(device)\n    return images\n")


def test_an_and_with_a_cuda_operand_has_a_device_agnostic_else(ruleset: RuleSet) -> None:
    # pytorch examples' imagenet/main.py: `if args.gpu is not None and device.type=='cuda':`
    source = _AND_CUDA.format(test="args.gpu is not None and device.type == 'cuda'")
    handled = dict(_at(_findings(source, ruleset), 4).handled)
    assert "rocm" not in handled
    assert handled.get("xpu", "").startswith("device-agnostic else") and handled["cpu"].startswith("device-agnostic")


@pytest.mark.parametrize("test", ["args.gpu is not None or device.type == 'cuda'",
                                  "device.type == 'cuda' and not torch.xpu.is_available()",
                                  "args.gpu is not None and device.type != 'cuda'"])
def test_an_or_or_another_platform_test_beside_the_cuda_operand_is_no_agnostic_else(
        test: str, ruleset: RuleSet) -> None:
    found = [f for f in _findings(_AND_CUDA.format(test=test), ruleset) if f.line == 4]
    assert found
    assert not any(note.startswith("device-agnostic") for f in found for note in dict(f.handled).values())
