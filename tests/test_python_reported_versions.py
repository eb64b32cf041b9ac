"""A ``torch.version.cuda`` an environment reporter only shows (analyzers/python_reported_versions.py):
LL122 kept at ``info``, every target handled with the note; any use that decides something, and any
function not named for a report, keep the finding as it is."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

from .conftest import set_apart

_NOTE = "only shown in an environment report"
#: vLLM's collect_env.get_env_info, rewritten: a local overwritten on HIP, passed on to the returned record.
_VLLM = ("import torch\n"
         "def get_env_info():\n"
         "    version = torch.version.cuda\n"  # 3
         "    if torch.version.hip is not None:\n"
         "        version = 'N/A'\n"
         "    label = str(version)\n"
         "    return Env(cuda_compiled={version!r}, shown=f'CUDA {label}')\n")
#: DeepSpeed's env_report.debug_report, rewritten: a (name, value) row of a printed report list.
_DEEPSPEED = ("import torch\n"
              "def debug_report():\n"
              "    report = []\n"
              "    report.extend([('torch cuda version', torch.version.cuda), ('x', 1)])\n"  # 4
              "    for name, value in report:\n"
              "        print(name, value)\n")


def _ll122(source: str, ruleset: RuleSet) -> list[Finding]:
    result = check_bytes("pkg/collect_env.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule_id == "LL122"]


@pytest.mark.parametrize("source, line", [
    (_VLLM.replace("{version!r}", "version"), 3),
    (_VLLM.replace("{version!r}", "(version, 'compiled')"), 3),
    (_VLLM.replace("{version!r}", "{'cuda': version}"), 3),
    (_DEEPSPEED, 4),
    ("import torch\ndef print_env():\n    print('CUDA', str(torch.version.cuda))\n", 3),
    ("import torch\ndef env_info():\n    v = torch.version.cuda\n    msg = []\n    msg.append(f'cuda {v}')\n", 3),
])
def test_a_version_an_env_report_only_shows_is_reported_apart(ruleset: RuleSet, source: str, line: int) -> None:
    found = _ll122(source, ruleset)
    assert [f.line for f in found] == [line]
    assert set_apart(found[0])
    assert set(dict(found[0].handled).values()) == {_NOTE}


@pytest.mark.parametrize("source", [
    _VLLM.replace("get_env_info", "get_build_flags").replace("{version!r}", "version"),  # not a report
    _VLLM.replace("{version!r}", "version.split('.')"),
    _VLLM.replace("{version!r}", "version >= '12'"),
    _VLLM.replace("{version!r}", "parse(version)"),
    _VLLM.replace("{version!r}", "version").replace("    label = str(version)\n",
                                                    "    if version is None:\n        raise SystemExit\n"
                                                    "    label = 'x'\n"),
    # bitsandbytes' diagnostics/cuda.py: the version builds the paths searched for runtime files
    ("import torch, os\ndef report_runtime():\n    v = torch.version.cuda\n"
     "    path = os.path.join('/usr/local', f'cuda-{v}')\n    print(path)\n    return os.listdir(path)\n"),
    ("import torch\ndef env_info(hip):\n    v = torch.version.hip if hip else torch.version.cuda\n    print(v)\n"),
    ("import torch\nclass Usage:\n    def report(self):\n        self.cuda = torch.version.cuda\n"),
    ("import torch\ndef env_info():\n    return torch.version.cuda.split('.')\n"),
    ("import torch\nreport = []\nreport.append(torch.version.cuda)\n"),  # module level: no reporter
])
def test_uses_that_decide_keep_the_finding(ruleset: RuleSet, source: str) -> None:
    found = _ll122(source, ruleset)
    assert found and not any(set_apart(f) for f in found)
