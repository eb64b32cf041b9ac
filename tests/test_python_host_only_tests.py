"""Operator-coverage findings in a test file that places nothing on an accelerator
(analyzers/python_host_only_tests.py): kept at ``info``, every target handled with the note; any sign
of placement in the file, and every non-test module, keep the findings as they are."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding, Settings

from .conftest import set_apart

_HEAD = "import torch\nfrom apex.contrib.sparsity.permutation_lib import Permutation\n"
#: The shape of apex's contrib/sparsity/test/test_permutation_application.py, rewritten: a model with
#: a LazyBatchNorm2d, run on a host tensor, one op placed like the tensor it reads.
_MODEL = ("class Net(torch.nn.Module):\n"
          "    def __init__(self):\n"
          "        super().__init__()\n"
          "        self.norm = torch.nn.LazyBatchNorm2d(track_running_stats=False)\n"  # 6
          "    def forward(self, x):\n"
          "        offset = torch.arange(4, dtype=torch.long, device=x.device)\n"
          "        return self.norm(x) + offset\n"
          "\n"
          "def test_model():\n"
          "    x = torch.rand(2, 4, 8, 8)\n"
          "    Net()(x)\n")
_NOTE = "the test places no tensor on an accelerator: the op runs on the CPU"


def _operator_findings(source: str, ruleset: RuleSet,
                       path: str = "apex/contrib/sparsity/test/test_permutation_application.py") -> list[Finding]:
    result = check_bytes(path, (_HEAD + source).encode(), ruleset)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.category == "operator"]


def test_an_operator_in_a_host_only_test_is_reported_apart(ruleset: RuleSet) -> None:
    found = _operator_findings(_MODEL, ruleset)
    assert [f.line for f in found] == [6]
    assert set_apart(found[0])
    assert found[0].handled and set(dict(found[0].handled).values()) == {_NOTE}


@pytest.mark.parametrize("placement", [
    "    Net().cuda()\n",
    "    Net().to(x.dtype)\n",  # any .to( counts
    "    y = torch.zeros(2, device=0)\n",
    "    y = torch.zeros(2, device=dev)\n",
    "    dev = torch.device('cpu')\n",
    "    torch.set_default_device(DEVICE)\n",
    "    torch.set_default_tensor_type(torch.FloatTensor)\n",
    "    name = 'cuda:0'\n",
    "    name = f'xpu:{rank}'\n",
    "    ok = torch.cuda.is_available()\n",
    "    from deepspeed.accelerator import get_accelerator\n",
    "    from vllm.platforms import current_platform\n",
])
def test_any_placement_in_the_file_keeps_the_finding(ruleset: RuleSet, placement: str) -> None:
    found = _operator_findings(_MODEL + placement, ruleset)
    assert [f.line for f in found] == [6]
    assert found[0].severity != "info" and not found[0].handled


def test_a_non_test_module_keeps_the_finding(ruleset: RuleSet) -> None:
    found = _operator_findings(_MODEL, ruleset, path="apex/contrib/sparsity/permutation_lib.py")
    assert [f.line for f in found] == [6] and found[0].severity != "info" and not found[0].handled


def test_the_same_file_selected_alone_reads_the_same(ruleset: RuleSet) -> None:
    """A CUDA call whose own rule is not selected still counts as placement (the words are read)."""
    source = (_HEAD + _MODEL + "    torch.cuda.synchronize()\n").encode()
    result = check_bytes("tests/test_m.py", source, ruleset, Settings(select=("LL9",)))
    assert [(f.line, f.severity, f.handled) for f in result.findings] == [(6, "warning", ())]
