"""Findings in a pyre stub test file (analyzers/python_type_checker_inputs.py): kept at ``info``,
every target handled with the note; a ``stubs/`` module without the ``pyre_extensions`` import, and a
module importing it outside a ``stubs/`` folder, keep their findings as they are."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

from .conftest import set_apart

#: The shape of xformers' stubs/torch_stub_tests.py, rewritten: type-level tests pyre checks.
_BODY = ("from typing import TypeVar\n"
         "import torch\n"
         "from typing_extensions import Literal as L\n"
         "\n"
         "def test_ones_like() -> None:\n"
         "    a: torch.Tensor[torch.float32, L[4]]\n"
         "    b: torch.Tensor[torch.float32, L[4]] = a.new_zeros((4,), device=\"cuda\")\n"  # 7
         "    # pyre-fixme[9]: Expected error.\n"
         "    c: torch.Tensor[torch.float32, L[5]] = a.new_zeros((4,), device=\"cuda\")\n"  # 9
         "\n"
         "def test_memory() -> None:\n"
         "    torch.cuda.max_memory_allocated()\n")  # 12
_PYRE = "from pyre_extensions import TypeVarTuple, Unpack\n"
_NOTE = "type-checker input, never run"


def _findings(head: str, ruleset: RuleSet, path: str = "stubs/torch_type_tests.py") -> list[Finding]:
    result = check_bytes(path, (head + _BODY).encode(), ruleset)
    assert not result.errors, result.errors
    return list(result.findings)


@pytest.mark.parametrize("head", [_PYRE, "import pyre_extensions\n", "import pyre_extensions as pe\n"])
def test_every_finding_of_a_pyre_stub_test_file_is_reported_apart(ruleset: RuleSet, head: str) -> None:
    found = _findings(head, ruleset)
    assert sorted({f.line - head.count("\n") for f in found}) == [7, 9, 12]
    assert all(set_apart(f) for f in found)
    assert all(set(dict(f.handled).values()) == {_NOTE} for f in found)


@pytest.mark.parametrize("head, path", [
    ("", "stubs/torch_type_tests.py"),  # a stubs/ module pyre does not mark as its input
    ("from typing_extensions import TypeVarTuple\n", "stubs/torch_type_tests.py"),
    (_PYRE, "xformers/ops/shapes.py"),  # pyre's helpers used by a library module
    (_PYRE, "tests/stubs.py"),  # a file named stubs, not a folder
    ("def f():\n    from pyre_extensions import Unpack\n", "stubs/torch_type_tests.py"),  # not at module level
])
def test_near_misses_keep_their_findings(ruleset: RuleSet, head: str, path: str) -> None:
    found = _findings(head, ruleset, path)
    assert found and not any(set_apart(f) for f in found)
    assert not any(_NOTE in dict(f.handled).values() for f in found)
