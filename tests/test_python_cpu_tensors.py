"""Operators on tensors provably on the CPU are not reported (analyzers/python_cpu_tensors.py)."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

_HEAD = "import numpy as np\nimport torch\ndef f(p, device):\n"


def _operators(body: str, ruleset: RuleSet, head: str = _HEAD) -> list[str]:
    result = check_bytes("m.py", (head + body).encode(), ruleset)
    assert not result.errors, result.errors
    return [f.symbol for f in result.findings if f.category == "operator"]


@pytest.mark.parametrize("body", [
    "    b = torch.arange(0, 1, 0.1)\n    return torch.bucketize(torch.arange(0, 1, 0.05), b)\n",
    "    t = torch.load('f', map_location='cpu')\n    t = t.to_dense()\n    return t\n",
    "    t = torch.load('f', map_location=torch.device('cpu'))\n    return t.to_dense()\n",
    "    a = np.ones((3, 3))\n    x = torch.FloatTensor(a.astype(np.int32))\n    s = torch.diag(torch.sum(x, dim=1))\n"
    "    x = s.to_sparse() @ x\n    return x.to_sparse().to(device)\n",
    "    x = torch.from_numpy(np.zeros(3))\n    x[x == 0] = 1\n    return x.to_sparse()\n",
    "    return torch.tensor([1, 2]).to_sparse()\n",
    "    return p.cpu().to_sparse()\n",
])
def test_an_operator_on_a_cpu_tensor_is_not_reported(body: str, ruleset: RuleSet) -> None:
    assert _operators(body, ruleset) == []


# (distinctive method names: on a receiver of unknown type, names other libraries share are not reported)
@pytest.mark.parametrize("body", [
    "    return p.to_sparse_csr()\n",  # a parameter: any device
    "    x = torch.arange(3)\n    x = x.to(device)\n    return x.to_sparse_csr()\n",  # moved first
    "    x = torch.arange(3, device=device)\n    return x.to_sparse_csr()\n",
    "    x = torch.tensor(p)\n    return x.to_sparse_csr()\n",  # data that may be a device tensor
    "    x = torch.Tensor(p)\n    return x.to_sparse_csr()\n",
    "    x = torch.load('f')\n    return x.to_sparse_csr()\n",
    "    x = torch.arange(3)\n    for x in p:\n        pass\n    return x.to_sparse_csr()\n",  # bound another way
    "    return torch.bucketize(p, torch.arange(0, 1, 0.1))\n",  # the input is what counts
    "    x = torch.arange(3)\n    return self_x.to_sparse_csr()\n",
    "    x = torch.arange(3)\n    try:\n        pass\n    except ValueError as x:\n        pass\n    return x.to_sparse_csr()\n",
    "    x = torch.arange(3)\n    if (x := p):\n        pass\n    return x.to_sparse_csr()\n",
    "    x = torch.arange(3)\n    with p as x:\n        pass\n    return x.to_sparse_csr()\n",
])
def test_an_operator_on_a_tensor_of_unknown_device_stays(body: str, ruleset: RuleSet) -> None:
    assert _operators(body, ruleset)


def test_a_file_that_sets_the_default_device_proves_nothing(ruleset: RuleSet) -> None:
    body = "    torch.set_default_device('cuda')\n    return torch.arange(3).to_sparse_csr()\n"
    assert _operators(body, ruleset)


def test_a_torch_function_the_module_does_not_know_proves_nothing(ruleset: RuleSet) -> None:
    """torch/utils/mkldnn.py: ``y = torch._C._nn.mkldnn_linear(x, ...)`` is no number or array."""
    body = "    y = torch._C._nn.mkldnn_linear(p, device)\n    return y.to_sparse_csr()\n"
    assert _operators(body, ruleset)
    constant = "    return torch.zeros(3, dtype=torch.float).to_mkldnn()\n"
    assert _operators(constant, ruleset) == []


_ANNOTATED = "import torch\nfrom typing import Sequence\ndef f(p: {}, q):\n"


@pytest.mark.parametrize("annotation", ["float", "int", "list[float]", "List[int]", "Sequence[list[float]]",
                                        "tuple[int, ...]", "typing.Sequence[ bool ]"])
def test_a_tensor_from_a_parameter_annotated_as_numbers_is_on_the_cpu(annotation: str, ruleset: RuleSet) -> None:
    """vLLM's ``torch.tensor(embeddings)`` with ``embeddings: list[float]``: built on the CPU."""
    head = _ANNOTATED.format(annotation)
    assert _operators("    return torch.tensor(p).to_sparse()\n", ruleset, head) == []
    assert _operators("    x = torch.tensor(p)\n    return x.to_sparse()\n", ruleset, head) == []
    assert _operators("    for i, (a, b) in enumerate(zip(p, p)):\n        torch.tensor(a).to_sparse()\n",
                      ruleset, head) == []


@pytest.mark.parametrize("annotation", ["torch.Tensor", "Any", "list[torch.Tensor]", "float | torch.Tensor",
                                        "Optional[float]", "list[Point]", "Sequence"])
def test_other_annotations_prove_nothing(annotation: str, ruleset: RuleSet) -> None:
    assert _operators("    return torch.tensor(p).to_sparse()\n", ruleset, _ANNOTATED.format(annotation))


@pytest.mark.parametrize("body", [
    "    p = q\n    return torch.tensor(p).to_sparse()\n",  # rebound to an unknown value
    "    p, r = q\n    return torch.tensor(p).to_sparse()\n",
    "    for a in zip(p, q):\n        torch.tensor(a).to_sparse()\n",  # items of an unknown iterable
    "    for a.b in p:\n        torch.tensor(a.b).to_sparse()\n",
    "    for a in p:\n        a = q\n        torch.tensor(a).to_sparse()\n",
])
def test_an_annotated_parameter_rebound_or_mixed_proves_nothing(body: str, ruleset: RuleSet) -> None:
    assert _operators(body, ruleset, _ANNOTATED.format("list[float]"))


_F_HEAD = "import torch\nimport torch.nn.functional as F\ndef f(p, q, device):\n"


@pytest.mark.parametrize("body", [  # vLLM tests/utils.py and tests/entrypoints/pooling/scoring/util.py shapes
    "    return F.cosine_similarity(torch.tensor(p['e']), torch.tensor(q['e']), dim=0)\n",
    "    return [F.cosine_similarity(*map(torch.tensor, pair), dim=0) for pair in p]\n",
    "    return torch.nn.functional.cosine_similarity(torch.as_tensor(p), torch.from_numpy(q), dim=-1)\n",
])
def test_an_operator_on_tensors_built_in_the_call_without_a_device_is_not_reported(
        body: str, ruleset: RuleSet) -> None:
    """analyzers/python_built_inputs.py: each input is made on the CPU in the call itself."""
    assert _operators(body, ruleset, _F_HEAD) == []


@pytest.mark.parametrize("body", [
    "    return F.cosine_similarity(torch.tensor(p, device=device), torch.tensor(q), dim=0)\n",
    "    return F.cosine_similarity(p, torch.tensor(q), dim=0)\n",  # a name: any device
    "    return F.cosine_similarity(torch.tensor(p).to(device), torch.tensor(q), dim=0)\n",
    "    return F.cosine_similarity(torch.tensor(p).cuda(), torch.tensor(q), dim=0)\n",
    "    return F.cosine_similarity(torch.tensor(p.cuda()), torch.tensor(q), dim=0)\n",
    "    return [F.cosine_similarity(*map(torch.tensor, pair), dim=0, eps=q) for pair in p]\n",
    "    return [F.cosine_similarity(*map(lambda x: torch.tensor(x, device=device), pair)) for pair in p]\n",
    "    torch.set_default_device('cuda')\n"
    "    return F.cosine_similarity(torch.tensor(p), torch.tensor(q), dim=0)\n",
])
def test_an_operator_on_a_built_tensor_that_may_be_elsewhere_stays(body: str, ruleset: RuleSet) -> None:
    assert _operators(body, ruleset, _F_HEAD)
