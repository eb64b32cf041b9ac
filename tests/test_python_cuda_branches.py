"""The shapes of analyzers/python_cuda_branches.py and the skip-with-a-checking-else of
python_chain_shapes.py (docs/validation.md, #11, fourth session, f7disp): a chain nested in a
CUDA-only branch, a multi-device ``or`` test whose ``else`` runs the same model, a CUDA test that only
adds an option to the next call, and a CUDA-only skip whose ``else`` only asserts; each with the near
misses that keep their old reading."""

from __future__ import annotations

from lockin_lint.analyzers.python_chain_shapes import CUDA_ONLY_SKIP
from lockin_lint.analyzers.python_cuda_branches import CUDA_ONLY_OPTION, INSIDE_CUDA_BRANCH
from lockin_lint.analyzers.python_dispatch import AGNOSTIC, BRANCH, FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_CPU_SENTENCE = "silently run on the CPU"


def _at(source: str, ruleset: RuleSet, line: int, rule: str = "") -> Finding:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and rule in f.rule_id]
    return found


def _handled(source: str, ruleset: RuleSet, line: int, rule: str = "") -> dict[str, str]:
    return dict(_at(source, ruleset, line, rule).handled)


# -- a chain nested in a CUDA-only branch (vLLM setup.py:971/981) -----------------------------------
_NESTED = ("from torch.utils.cpp_extension import CUDA_HOME\nmods = []\nif _is_cuda():\n"
           '    mods.append("fa2")\n    if PRECOMPILED or (CUDA_HOME and nvcc_version() >= (12, 9)):\n'
           '        mods.append("flashmla")\n')


def test_a_chain_nested_in_a_cuda_branch_has_no_cpu_fallback(ruleset: RuleSet) -> None:
    found = _at(_NESTED, ruleset, 5, "LL602")
    assert dict(found.handled) == {"cpu": f"{INSIDE_CUDA_BRANCH} (m.py:3)"}
    assert _CPU_SENTENCE not in found.message


def test_the_cuda_branch_itself_and_its_direct_body_keep_the_fallback(ruleset: RuleSet) -> None:
    own_test = ("from torch.utils.cpp_extension import CUDA_HOME\nif _is_cuda() and CUDA_HOME is not None:\n"
                "    flags = 1\n")
    found = _at(own_test, ruleset, 2, "LL602")
    assert dict(found.handled)["cpu"] == FALLBACK and "a path no test names ascend" in found.message
    body = "import torch\nif _is_cuda():\n    torch.backends.cuda.matmul.allow_tf32 = True\n"
    assert _handled(body, ruleset, 3)["cpu"] == FALLBACK


def test_a_chain_in_an_else_or_an_unknown_branch_or_with_its_own_else_keeps_the_fallback(ruleset: RuleSet) -> None:
    in_else = _NESTED.replace('if _is_cuda():\n    mods.append("fa2")\n',
                              'if _is_cuda():\n    mods.append("fa2")\nelse:\n    mods.append("x")\n')
    assert _handled(in_else, ruleset, 7, "LL602").get("cpu") != f"{INSIDE_CUDA_BRANCH} (m.py:3)"
    unknown = _NESTED.replace("if _is_cuda():", "if fast:")
    assert f"{INSIDE_CUDA_BRANCH} (m.py:3)" not in _handled(unknown, ruleset, 5, "LL602").values()
    negated = _NESTED.replace("if _is_cuda():", "if not _is_cuda():")
    assert f"{INSIDE_CUDA_BRANCH} (m.py:3)" not in _handled(negated, ruleset, 5, "LL602").values()
    own_else = "import torch\nif _is_cuda():\n    if torch.cuda.is_available():\n        a = 1\n    else:\n        a = 2\n"
    assert _handled(own_else, ruleset, 3).get("cpu") != f"{INSIDE_CUDA_BRANCH} (m.py:2)"


# -- a multi-device test whose else runs the same model (pytorch/examples dcgan/main.py:155/195) -----
_DCGAN = ("import torch.nn as nn\nclass G(nn.Module):\n    def forward(self, input):\n"
          "        if (input.is_cuda or input.is_xpu) and self.ngpu > 1:\n"
          "            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))\n"
          "        else:\n            output = self.main(input)\n        return output\n")


def test_an_or_of_platform_tests_with_the_same_model_in_its_else_is_device_agnostic(ruleset: RuleSet) -> None:
    found = _at(_DCGAN, ruleset, 4, "LL121")
    handled = dict(found.handled)
    assert handled["xpu"] == BRANCH
    assert {t: handled[t] for t in ("ascend", "mlu", "musa", "mps", "cpu")} == dict.fromkeys(
        ("ascend", "mlu", "musa", "mps", "cpu"), f"{AGNOSTIC} (m.py:6)")
    assert _CPU_SENTENCE not in found.message
    bare = _DCGAN.replace("(input.is_cuda or input.is_xpu) and self.ngpu > 1", "input.is_cuda or input.is_xpu")
    assert _handled(bare, ruleset, 4, "LL121")["mps"] == f"{AGNOSTIC} (m.py:6)"


def test_another_call_a_cpu_move_or_an_or_with_no_platform_keeps_the_fallback(ruleset: RuleSet) -> None:
    for old, new in (("output = self.main(input)\n", "output = self.other(input)\n"),
                     ("output = self.main(input)\n", 'output = self.main(input.to("cpu"))\n'),
                     ("input.is_cuda or input.is_xpu", "input.is_cuda or fast"),
                     ("input.is_cuda or input.is_xpu", "input.is_cuda or not input.is_xpu")):
        handled = _handled(_DCGAN.replace(old, new), ruleset, 4, "LL121")
        assert "mps" not in handled and handled.get("cpu") in (FALLBACK, None), new


# -- a CUDA-only skip whose else only asserts (DeepSpeed tests/unit/util.py:19/20/29) ----------------
_SKIP_ON_CUDA = ("import pytest\ndef skip_on_cuda(valid):\n    if get_accelerator().device_name() == 'cuda':\n"
                 "        MAJOR, MINOR = split(torch_info['cuda_version'])\n        VERSION = MAJOR * 10 + MINOR\n"
                 "        if valid.count(VERSION) == 0:\n            pytest.skip('requires cuda versions')\n"
                 "    else:\n        assert is_current_accelerator_supported()\n        return\n")
_SKIP_ON_ARCH = ("import pytest, torch\ndef skip_on_arch(min_arch=7):\n    if get_accelerator().device_name() == 'cuda':\n"
                 "        if torch.cuda.get_device_capability()[0] < min_arch:\n            pytest.skip('needs more')\n"
                 "    else:\n        assert is_current_accelerator_supported()\n        return\n")


def test_a_cuda_skip_whose_else_only_asserts_handles_the_other_targets(ruleset: RuleSet) -> None:
    for source, line in ((_SKIP_ON_CUDA, 3), (_SKIP_ON_ARCH, 3), (_SKIP_ON_ARCH, 4)):
        found = _at(source, ruleset, line)
        handled = dict(found.handled)
        assert {t: handled.get(t) for t in ("xpu", "cpu", "mps")} == dict.fromkeys(
            ("xpu", "cpu", "mps"), f"{CUDA_ONLY_SKIP} (m.py:3)"), (line, handled)
        assert _CPU_SENTENCE not in found.message


def test_an_else_that_runs_code_or_a_local_read_later_or_an_attribute_set_is_no_skip(ruleset: RuleSet) -> None:
    runs = _SKIP_ON_CUDA.replace("        assert is_current_accelerator_supported()\n        return\n",
                                 "        torch.set_default_device('xpu')\n")
    used_after = _SKIP_ON_CUDA.replace("        return\n", "    return VERSION\n")
    sets = _SKIP_ON_CUDA.replace("        VERSION = MAJOR * 10 + MINOR\n",
                                 "        VERSION = MAJOR * 10 + MINOR\n        torch.backends.cudnn.benchmark = True\n")
    for source in (runs, used_after, sets):
        assert _handled(source, ruleset, 3).get("xpu") != f"{CUDA_ONLY_SKIP} (m.py:3)"


# -- a CUDA test that only adds an option to the next call (DeepSpeed deepspeed/comm/torch.py:174) ----
_OPTION = ("import os, torch\ndef init(backend, timeout):\n    kwargs = dict(timeout=timeout)\n"
           "    if 'device_id' in params and get_accelerator().device_name() == 'cuda':\n"
           "        local_rank = int(os.environ.get('LOCAL_RANK', 0))\n"
           "        kwargs.update(device_id=get_accelerator().device(local_rank))\n"
           "    torch.distributed.init_process_group(backend, **kwargs)\n")


def test_a_cuda_only_option_of_the_next_call_handles_the_other_targets(ruleset: RuleSet) -> None:
    found = _at(_OPTION, ruleset, 4)
    handled = dict(found.handled)
    assert {t: handled.get(t) for t in ("xpu", "ascend", "cpu")} == dict.fromkeys(
        ("xpu", "ascend", "cpu"), f"{CUDA_ONLY_OPTION} (m.py:4)")
    assert _CPU_SENTENCE not in found.message
    subscript = _OPTION.replace("kwargs.update(device_id=get_accelerator().device(local_rank))",
                                "kwargs['device_id'] = local_rank")
    assert _handled(subscript, ruleset, 4)["xpu"] == f"{CUDA_ONLY_OPTION} (m.py:4)"
    # DeepSpeed's own spelling: the whole test in parentheses, with a negated version check in it.
    wrapped = _OPTION.replace("'device_id' in params and get_accelerator().device_name() == 'cuda'",
                              "('device_id' in params and not (old < version < new)\n"
                              "            and get_accelerator().device_name() == 'cuda')")
    assert _handled(wrapped, ruleset, 5)["xpu"] == f"{CUDA_ONLY_OPTION} (m.py:4)"


def test_an_option_not_passed_on_or_a_body_doing_more_or_an_else_is_no_option(ruleset: RuleSet) -> None:
    not_passed = _OPTION.replace("(backend, **kwargs)", "(backend)")
    more = _OPTION.replace("        local_rank = ", "        torch.backends.cudnn.benchmark = True\n        local_rank = ")
    with_else = _OPTION.replace("    torch.distributed", "    else:\n        kwargs.update(x=1)\n    torch.distributed")
    negated = _OPTION.replace("device_name() == 'cuda'", "device_name() != 'cuda'")
    for source in (not_passed, more, with_else, negated):
        assert f"{CUDA_ONLY_OPTION} (m.py:4)" not in _handled(source, ruleset, 4).values()
