"""A setup.py dependency line gated on a CUDA device test: every target the gate is false on is
handled, noted as a CUDA-only dependency (analyzers/python_requirement_gates.py; docs/validation.md,
#11, seventh session, f21b; DeepSpeed ``setup.py:99``/``:103``); the near misses keep their reading."""

from __future__ import annotations

from lockin_lint.analyzers.python_requirement_gates import CUDA_ONLY_DEPENDENCY
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_GATE = "if torch_available and get_accelerator().device_name() == 'cuda'{rocm}:\n"
_PICK = ("    cupy = None\n    if is_rocm_pytorch:\n        major, minor = rocm_version\n"
         "        cupy = f'cupy-rocm-{major}-{minor}'\n    else:\n"
         "        major, minor = installed_cuda_version()\n        cupy = f'cupy-cuda{major}x'\n"
         "    if cupy:\n        extras_require['1bit'].append(cupy)\n")


def _handled(ruleset: RuleSet, body: str, path: str = "setup.py", rocm: str = " and not is_rocm_pytorch",
             after: str = "") -> dict[str, str]:
    source = "install_requires = []\n" + _GATE.format(rocm=rocm) + body + after
    result = check_bytes(path, source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == 2 and f.rule_id == "LL201"]
    return dict(found.handled)


def test_a_gated_append_of_a_package_handles_every_target_the_gate_is_false_on(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, "    install_requires.append('nvidia-ml-py')\n")
    note = f"{CUDA_ONLY_DEPENDENCY} (setup.py:2)"
    assert all(handled[t] == note for t in ("ascend", "mlu", "musa", "xpu", "mps", "cpu")), handled
    assert handled["rocm"] != note  # the gate's own ROCm test already says so


def test_a_package_pick_through_locals_read_nowhere_after_is_a_dependency_line(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, _PICK, rocm="")
    assert handled["xpu"] == f"{CUDA_ONLY_DEPENDENCY} (setup.py:2)" and "rocm" not in handled


def test_only_in_setup_py(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, "    install_requires.append('nvidia-ml-py')\n", path="build.py")
    assert CUDA_ONLY_DEPENDENCY not in " ".join(handled.values())


def test_a_body_that_also_sets_build_flags_or_the_environment_keeps_its_reading(ruleset: RuleSet) -> None:
    for extra in ("    os.environ['TORCH_CUDA_ARCH_LIST'] = '8.0'\n", "    build_cuda_ext = True\n",
                  "    print('cuda')\n", "    torch.cuda.init()\n"):
        handled = _handled(ruleset, "    install_requires.append('nvidia-ml-py')\n" + extra)
        assert CUDA_ONLY_DEPENDENCY not in " ".join(handled.values()), extra


def test_a_local_read_after_the_gate_may_be_a_flag(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, _PICK, rocm="", after="print(cupy)\n")
    assert CUDA_ONLY_DEPENDENCY not in " ".join(handled.values())


def test_a_body_adding_no_requirement_is_no_dependency_line(ruleset: RuleSet) -> None:
    handled = _handled(ruleset, "    flavour = 'cuda'\n")
    assert CUDA_ONLY_DEPENDENCY not in " ".join(handled.values())
