"""A unit test of CUDA-only build code that fakes torch.cuda's probes: its build variables reported apart.

DeepSpeed's ``tests/unit/ops/test_op_builder.py`` loads ``op_builder/builder.py``, binds ``CUDA_API =
BUILDER_MODULE.torch.cuda`` and tests the CUDA builder's architecture-list logic on any host: inside
``patch.dict(os.environ, ...)`` it pops, sets and asserts ``TORCH_CUDA_ARCH_LIST`` while
``patch.object(CUDA_API, "device_count" / "get_device_capability" / "_is_in_bad_fork", ...)`` fakes
the probes. Those 13 LL804 findings were judged debatable round after round (docs/validation.md,
#11, seventh session, Decisions item 2): the variable is the CUDA builder's, yet the test runs on
every host and builds nothing. The lead's standard (eighth session): the finding stays, set apart as
`python_skipped_tests` sets an always-skipped test's (`model.reported_apart`: ``info``, every open
target handled), noted ``test of CUDA-only build code with torch.cuda's probes faked (patch at
test_op_builder.py:58)``.

Narrow on purpose: only the build-environment rules (LL802, the CUDA toolkit's path, and LL804, the
architecture list; a runtime variable such as ``CUDA_VISIBLE_DEVICES`` beside faked probes tests
device selection, not a build), only in a test file (`python_scoped_exits.is_test_file`), and only
when the module patches an attribute of ``torch.cuda`` itself: ``patch.object(<torch.cuda or a name
bound to ...torch.cuda>, ...)``, ``patch("torch.cuda.<x>")``, ``monkeypatch.setattr(torch.cuda, ...)``
or ``monkeypatch.setattr("torch.cuda.<x>", ...)`` (``mock.``/``mocker.`` spellings alike). A test
module that reads the variable without faking torch.cuda, or that patches anything else, and every
non-test module (DeepSpeed's own ``op_builder/builder.py``) keep their findings as they are. The note
names the first such patch in the finding's top-level definition, else the module's first.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from ..model import Finding, reported_apart
from .matching import descendants, node_text
from .python_scoped_exits import is_test_file
from .python_strings import string_value

#: The rules of build-environment variables (the CUDA toolkit's path, the architecture list).
_BUILD_RULES = frozenset({"LL802", "LL804"})
_NOTE = "test of CUDA-only build code with torch.cuda's probes faked"
#: A dotted path to an attribute of torch.cuda, as ``patch``/``monkeypatch.setattr`` take it.
_DOTTED = re.compile(r"(?:^|\.)torch\.cuda\.\w+")
_CUDA_MODULE = re.compile(r"(?:^|\.)torch\.cuda$")


def mark_faked_cuda_tests(findings: tuple[Finding, ...], source: bytes, root: ts.Node,
                          path: str) -> tuple[Finding, ...]:
    """``findings`` with the build-variable findings of a test module that fakes torch.cuda set
    apart (module docstring)."""
    if not any(f.rule_id in _BUILD_RULES for f in findings) or not is_test_file(path) \
            or (b"patch" not in source and b"setattr" not in source):
        return findings
    patches = _cuda_patches(root)
    if not patches:
        return findings
    name = path.rsplit("/", 1)[-1]
    return tuple(reported_apart(f, f"{_NOTE} (patch at {name}:{_shown_patch(f.line, patches, root)})")
                 if f.rule_id in _BUILD_RULES else f for f in findings)


def _shown_patch(line: int, patches: list[int], root: ts.Node) -> int:
    """The first patch line inside the top-level statement holding ``line``, else the module's first."""
    for statement in root.named_children:
        first, last = statement.start_point.row + 1, statement.end_point.row + 1
        if first <= line <= last:
            inside = [p for p in patches if first <= p <= last]
            return inside[0] if inside else patches[0]
    return patches[0]


def _cuda_patches(root: ts.Node) -> list[int]:
    """The lines (1-based, sorted) of the calls that patch an attribute of torch.cuda."""
    bound = _names_bound_to_torch_cuda(root)
    lines = set()
    for node in descendants(root):
        if node.type != "call":
            continue
        function = node_text(node.child_by_field_name("function")).replace(" ", "")
        arguments = node.child_by_field_name("arguments")
        first = arguments.named_children[0] if arguments is not None and arguments.named_children else None
        if first is None or first.type == "keyword_argument":
            continue
        last = function.rsplit(".", 1)[-1]
        setattr_ = last == "setattr" and "monkeypatch" in function
        if (function.endswith("patch.object") or setattr_) and _is_torch_cuda(first, bound):
            lines.add(node.start_point.row + 1)
        elif (last == "patch" or setattr_) and first.type == "string" and _DOTTED.search(string_value(first)):
            lines.add(node.start_point.row + 1)
    return sorted(lines)


def _is_torch_cuda(node: ts.Node, bound: frozenset[str]) -> bool:
    return (node.type == "identifier" and node_text(node) in bound) \
        or (node.type == "attribute" and bool(_CUDA_MODULE.search(node_text(node).replace(" ", ""))))


def _names_bound_to_torch_cuda(root: ts.Node) -> frozenset[str]:
    """Plain names the file assigns ``torch.cuda`` (or ``<module>.torch.cuda``) to."""
    names = set()
    for node in descendants(root):
        if node.type == "assignment":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and left.type == "identifier" and right is not None \
                    and right.type == "attribute" and _CUDA_MODULE.search(node_text(right).replace(" ", "")):
                names.add(node_text(left))
    return frozenset(names)


def fakes_torch_cuda(source: bytes, root: ts.Node, path: str) -> bool:
    """Whether ``path`` is a test module that patches an attribute of torch.cuda (the criterion of
    `mark_faked_cuda_tests`): its calls of CUDA-only build code run on no device, so
    `project.rocm_callers` does not count them as callers that may run on another target."""
    return is_test_file(path) and (b"patch" in source or b"setattr" in source) and bool(_cuda_patches(root))
