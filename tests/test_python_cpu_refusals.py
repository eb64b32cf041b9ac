"""The CPU refusals and local ``torch.version.cuda`` bindings of #11, sixth session, f18a
(docs/validation.md): an ``else`` that asserts the CPU refuses every other device instead of
running it silently on the CPU; each with the near misses that keep their old reading."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_CPU_SENTENCE = "silently run on the CPU"

# -- an else that asserts the CPU (DeepSpeed tests/unit/common.py:88) --------------------------------
_VISIBLE = ("import torch\ndef count(acc):\n"
            "    if acc.device_name() == 'cuda':\n"
            "        n = torch.cuda.device_count()\n"
            "    elif acc.device_name() == 'xpu':\n"
            "        n = torch.xpu.device_count()\n"
            "    else:\n"
            "        assert acc.device_name() == 'cpu'\n"
            "        n = sockets()\n"
            "    return n\n")


def _at(source: str, ruleset: RuleSet, line: int, rule: str) -> Finding:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and rule in f.rule_id]
    return found


@pytest.mark.parametrize("refusal", [
    "        assert acc.device_name() == 'cpu'\n",
    "        if acc.device_name() != 'cpu':\n            raise RuntimeError('unsupported')\n",
])
def test_an_else_that_refuses_all_but_the_cpu_is_no_silent_cpu_run(ruleset: RuleSet, refusal: str) -> None:
    source = _VISIBLE.replace("        assert acc.device_name() == 'cpu'\n", refusal)
    found = _at(source, ruleset, 3, "LL201")
    assert _CPU_SENTENCE not in found.message
    assert "without CUDA" in found.message


@pytest.mark.parametrize("change", [
    ("assert acc.device_name() == 'cpu'", "n = torch.device('cpu')"),  # spells the CPU, refuses nothing
    ("        assert acc.device_name() == 'cpu'\n        n = sockets()\n",
     "        n = sockets()\n        assert acc.device_name() == 'cpu'\n"),  # runs before it refuses
    ("assert acc.device_name() == 'cpu'", "assert acc.device_name() != 'cuda' or cpu"),  # no CPU test
])
def test_an_else_that_runs_on_the_cpu_first_keeps_the_sentence(ruleset: RuleSet, change: tuple[str, str]) -> None:
    found = _at(_VISIBLE.replace(*change), ruleset, 3, "LL201")
    assert _CPU_SENTENCE in found.message


# -- a local bound to torch.version.cuda, used only behind a test of it (flash-attention cute/utils.py:77)
_LOCAL = ("import torch\ndef is_cuda_12():\n"
          "    cuda_version = torch.version.cuda\n"
          "    if cuda_version is not None:\n"
          "        major = cuda_version.split('.')[0]\n"
          "        return int(major) == 12\n"
          "    return False\n")
_INLINE = _LOCAL.replace("    cuda_version = torch.version.cuda\n", "").replace("cuda_version", "torch.version.cuda")


@pytest.mark.parametrize("test", ["cuda_version is not None", "cuda_version", "cuda_version and major_ok()"])
def test_a_local_version_tested_before_use_reads_like_the_inline_test(ruleset: RuleSet, test: str) -> None:
    local = _at(_LOCAL.replace("cuda_version is not None", test), ruleset, 3, "LL122")
    inline = _at(_INLINE, ruleset, 4, "LL122")
    assert dict(local.handled) == dict(inline.handled) == {"cpu": "fallback path (cpu)"}
    assert local.message == inline.message
    assert local.targets["cpu"].status == "native"


@pytest.mark.parametrize("change", [
    ("        return int(major) == 12\n", "        return int(major) == 12\n    cuda_version = '12.1'\n"),  # rebound
    ("    return False\n", "    return cuda_version.split('.')\n"),  # read without the test
    ("if cuda_version is not None:", "if cuda_version is None:"),  # the use is on the unset side
])
def test_a_local_version_used_otherwise_keeps_its_reading(ruleset: RuleSet, change: tuple[str, str]) -> None:
    found = _at(_LOCAL.replace(*change), ruleset, 3, "LL122")
    assert not found.handled
    assert found.targets["cpu"].status == "equivalent"


def test_a_module_level_version_keeps_its_reading(ruleset: RuleSet) -> None:
    source = "import torch\nv = torch.version.cuda\nif v is not None:\n    major = v.split('.')[0]\n"
    assert not _at(source, ruleset, 2, "LL122").handled


# -- torch.version.cuda shown beside torch.version.hip (DeepSpeed deepspeed/env_report.py:141) --------
_REPORT = ("import torch\ndef report(out, acc):\n"
           "    if acc.device_name() == 'cuda':\n"
           "        hip_version = getattr(torch.version, 'hip', None)\n"
           "        out.extend([('cuda', torch.version.cuda), ('hip', hip_version)])\n"
           "    return out\n")


@pytest.mark.parametrize("hip", ["getattr(torch.version, 'hip', None)", "torch.version.hip"])
def test_a_cuda_version_shown_beside_the_hip_one_handles_rocm(ruleset: RuleSet, hip: str) -> None:
    found = _at(_REPORT.replace("getattr(torch.version, 'hip', None)", hip), ruleset, 5, "LL122")
    assert dict(found.handled)["rocm"] == "ROCm value read beside it (m.py:4)"
    assert found.targets["rocm"].status == "native"


@pytest.mark.parametrize("change", [
    ("('cuda', torch.version.cuda)", "('cuda', int(torch.version.cuda.split('.')[0]))"),  # parsed
    ("('cuda', torch.version.cuda)", "('cuda', torch.version.cuda >= '12')"),  # compared
    ("out.extend([('cuda', torch.version.cuda), ('hip', hip_version)])",
     "v = torch.version.cuda"),  # stored in a name that may be parsed later
    ("        hip_version = getattr(torch.version, 'hip', None)\n", "        hip_version = None\n"),  # no ROCm read
])
def test_a_cuda_version_used_otherwise_keeps_rocm_equivalent(ruleset: RuleSet, change: tuple[str, str]) -> None:
    found = _at(_REPORT.replace(*change), ruleset, 5, "LL122")
    assert "rocm" not in dict(found.handled)
    assert found.targets["rocm"].status == "equivalent"


def test_a_hip_read_in_another_branch_is_not_beside_it(ruleset: RuleSet) -> None:
    source = _REPORT.replace("    return out\n", "    elif acc.device_name() == 'rocm':\n"
                             "        out.append(torch.version.hip)\n    return out\n").replace(
        "        hip_version = getattr(torch.version, 'hip', None)\n", "        hip_version = None\n")
    assert "rocm" not in dict(_at(source, ruleset, 5, "LL122").handled)
