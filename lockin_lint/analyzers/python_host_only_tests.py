"""Operator-coverage findings in a test file that never places a tensor on an accelerator: set apart.

apex's ``apex/contrib/sparsity/test/test_permutation_application.py`` builds models with
``torch.nn.LazyBatchNorm2d`` (LL903: no MPS kernel for some of its ops) and runs every one on ``x =
torch.rand(model.input_shape)``, a host tensor, never moving the model anywhere: the op runs on the
CPU, whatever accelerator the machine has. Judged debatable in most rounds of the seventh session
(docs/validation.md, Decisions item 2). The lead's standard (eighth session): an LL9xx finding
(category ``operator``: coverage per target) in a test file with no device placement anywhere stays,
set apart as `python_skipped_tests` sets an always-skipped test's (`model.reported_apart`:
``info``, every open target handled), noted ``the test places no tensor on an accelerator: the op
runs on the CPU``.

"No device placement" is read on the whole file and errs towards placement, so a near miss keeps its
finding: any device-API, device-string or distributed finding in the file (LL1xx-LL3xx); any call
of ``.cuda(``/``.to(`` (or another accelerator's method: ``.xpu(``, ``.npu(``, ...); a ``device=``
keyword whose value is not read off an existing tensor (``device=x.device`` is the tensor's own
place); a call of ``torch.device``, ``set_default_device`` or ``set_default_tensor_type``; a string
naming an accelerator (``"cuda"``, ``"xpu:0"``, ``f"cuda:{rank}"``); an accelerator module named at all
(``torch.cuda``, ``torch.xpu``, ``torch.accelerator``, ..., so a run that selects LL9xx alone reads
the file as a full run does); and an import of the project's device helpers (a module or name
mentioning a device, an accelerator, a platform or a GPU, as DeepSpeed's ``get_accelerator`` or
vLLM's ``current_platform``). Not in a non-test module (vLLM's ``entrypoints/pooling/score/utils.py``
computes on tensors its callers place).
"""

from __future__ import annotations

import re

import tree_sitter as ts

from ..model import Finding, reported_apart
from .matching import descendants, node_text
from .python_scoped_exits import is_test_file
from .python_strings import string_value

_NOTE = "the test places no tensor on an accelerator: the op runs on the CPU"
#: Categories whose findings are themselves device placement or an accelerator's API.
_PLACING_CATEGORIES = frozenset({"device-api", "device-string", "distributed"})
_ACCELERATORS = frozenset({"cuda", "xpu", "mps", "npu", "hpu", "mlu", "musa", "gpu", "hip", "rocm", "xla",
                           "tpu", "ipu", "privateuseone", "accelerator"})
#: Methods that move a tensor or module somewhere (``.to`` wherever it goes).
_MOVES = _ACCELERATORS | {"to", "to_empty"}
_PLACING_CALLS = frozenset({"device", "set_default_device", "set_default_tensor_type"})
_DEVICE_STRING = re.compile(r"^\s*(?:" + "|".join(sorted(_ACCELERATORS)) + r")\b", re.IGNORECASE)
_HELPER_IMPORT = re.compile(r"device|accelerator|platform|gpu|cuda", re.IGNORECASE)


def mark_host_only_tests(findings: tuple[Finding, ...], root: ts.Node, path: str) -> tuple[Finding, ...]:
    """``findings`` with the operator-coverage ones set apart when ``path`` is a test file that places
    nothing on an accelerator (module docstring)."""
    if not any(f.category == "operator" for f in findings) or not is_test_file(path) \
            or any(f.category in _PLACING_CATEGORIES for f in findings) or _places(root):
        return findings
    return tuple(reported_apart(f, _NOTE) if f.category == "operator" else f for f in findings)


def _places(root: ts.Node) -> bool:
    """Does anything in the module put, or say where to put, a tensor (module docstring)?"""
    return any(_placing(node) for node in descendants(root))


def _placing(node: ts.Node) -> bool:
    kind = node.type
    if kind == "call":
        function = node.child_by_field_name("function")
        name = node_text(function.child_by_field_name("attribute") if function is not None
                         and function.type == "attribute" else function)
        return name in _PLACING_CALLS or (function is not None and function.type == "attribute" and name in _MOVES)
    if kind == "keyword_argument":
        value = node.child_by_field_name("value")
        return node_text(node.child_by_field_name("name")) == "device" and not (
            value is not None and value.type == "attribute"
            and node_text(value.child_by_field_name("attribute")) == "device")
    if kind == "string":
        return bool(_DEVICE_STRING.match(string_value(node)))
    if kind == "attribute":
        return node_text(node.child_by_field_name("attribute")) in _ACCELERATORS
    if kind in ("import_statement", "import_from_statement"):
        return bool(_HELPER_IMPORT.search(node_text(node)))
    return False
