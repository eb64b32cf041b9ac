"""A module flag the ROCm build sets True: ``if not FLAG:`` is a path ROCm never takes.

flash-attention's ``hopper/setup.py`` says::

    SKIP_CUDA_BUILD = os.getenv("FLASH_ATTENTION_SKIP_CUDA_BUILD", "FALSE") == "TRUE"
    USE_TRITON_ROCM = os.getenv("FLASH_ATTENTION_TRITON_AMD_ENABLE", "FALSE") == "TRUE"
    if USE_TRITON_ROCM:
        SKIP_CUDA_BUILD = True
    ...
    if not SKIP_CUDA_BUILD:
        check_if_cuda_home_none(PACKAGE_NAME)

The flag's name says nothing of the platform, but the file's ROCm build always sets it True, so the
body of ``if not SKIP_CUDA_BUILD:`` is never run there: a helper called only from such bodies is kept
off ROCm, one call up (`python_callers`, the lead's standard for #11: only the caller reading, and
only ROCm; the flag may be True elsewhere too, so no other target is credited, and code written
directly in the body keeps its findings as they are).

Narrow on purpose: every binding of ``FLAG`` in the file is a plain module-level assignment (no
function sets it, no augmented assignment, loop or import binds it); the last one, in file order, is
``FLAG = True`` directly in the body of a module-level ``if`` whose test is a ROCm test, or
``FLAG = <ROCm test>`` / ``FLAG = <...> or <ROCm test>``; every earlier one assigns a value (it is
overridden). A ROCm test is one `classify` reads as true only on ROCm (``torch.version.hip``,
``IS_ROCM``, ``is_hip()``), or a module-level name spelling ROCm, HIP or AMD as a word that the file
binds from an environment variable (``USE_TRITON_ROCM = os.getenv("..._AMD_ENABLE", ...) == "TRUE"``,
an env flag the file itself names as its AMD build).
"""

from __future__ import annotations

import re

import tree_sitter as ts

from .matching import PYTHON_SCOPES, node_text
from .python_cuda_flags import _OTHER_BINDINGS as OTHER_BINDINGS, identifiers
from .python_platform_tests import classify

#: Words of a name that say it is the ROCm (AMD) build.
_ROCM_WORDS = frozenset({"rocm", "hip", "amd"})
_ENV_READ = re.compile(r"\bos\.(?:getenv|environ)\b")
#: Parents that make an identifier a binding other than a plain assignment (a ``global`` too: a
#: function may set the flag).
BINDINGS = OTHER_BINDINGS | {"global_statement", "nonlocal_statement"}


class RocmSkipFlags:
    """The flags of one module that its ROCm build sets True, read on first use: name -> the line
    where ROCm sets it (None when the name is no such flag)."""

    def __init__(self) -> None:
        self._root: ts.Node | None = None
        self._flags: dict[str, int | None] = {}

    def line(self, node: ts.Node, name: str) -> int | None:
        if self._root is None:
            root = node
            while root.parent is not None:
                root = root.parent
            self._root = root
        if name not in self._flags:
            self._flags[name] = rocm_set_line(self._root, name)
        return self._flags[name]


def rocm_skip_flag(call: ts.Node, flags: RocmSkipFlags) -> tuple[str, int] | None:
    """(the flag, the line where ROCm sets it) when ``call`` sits in the body of ``if not FLAG:``
    (through ``if``s and ``else``s whose tests say nothing of the platform), FLAG being a flag the
    module's ROCm build sets True; None otherwise."""
    child, parent = call, call.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type in ("if_statement", "elif_clause"):
            condition = parent.child_by_field_name("condition")
            inside = child == parent.child_by_field_name("consequence")
            name = _negated_name(condition)
            if inside and name is not None:
                line = flags.line(call, name)
                if line is not None:
                    return name, line
            if classify(condition).known:
                return None
        child, parent = parent, parent.parent
    return None


def _negated_name(condition: ts.Node | None) -> str | None:
    """``FLAG`` of a condition that is ``not FLAG``."""
    if condition is None or condition.type != "not_operator":
        return None
    argument = condition.child_by_field_name("argument")
    return node_text(argument) if argument is not None and argument.type == "identifier" else None


def _bindings(root: ts.Node, name: str) -> list[ts.Node] | None:
    """The plain module-level assignments of ``name`` in file order; None when anything else binds it
    (found by a literal search of the source, as `python_cuda_flags` does: no walk of the tree)."""
    found: list[ts.Node] = []
    for node in identifiers(root.text or b"", root, name):
        parent = node.parent
        if parent is None or parent.type in BINDINGS:
            return None
        if parent.type == "assignment" and parent.child_by_field_name("left") == node:
            if _in_scope(parent):
                return None  # a function sets it: not the module's build choice
            found.append(parent)
    return found


def _in_scope(node: ts.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in PYTHON_SCOPES:
            return True
        parent = parent.parent
    return False


def rocm_set_line(root: ts.Node, name: str) -> int | None:
    """The line where the module's ROCm build sets ``name`` True for good, when it is such a flag."""
    bindings = _bindings(root, name)
    if not bindings:
        return None
    last = bindings[-1]
    value = last.child_by_field_name("right")
    if value is None:
        return None
    if value.type == "true":
        guard = _module_if(last)
        test = guard.child_by_field_name("condition") if guard is not None else None
        return last.start_point.row + 1 if test is not None and is_rocm_test(root, test) else None
    operands = or_operands(value)
    return last.start_point.row + 1 if any(is_rocm_test(root, o) for o in operands) else None


def _module_if(assignment: ts.Node) -> ts.Node | None:
    """The module-level ``if`` whose body holds ``assignment`` directly (its statement is in the
    body's block), else None."""
    statement = assignment.parent
    block = statement.parent if statement is not None and statement.type == "expression_statement" else None
    stmt = block.parent if block is not None and block.type == "block" else None
    if stmt is None or stmt.type != "if_statement" or stmt.child_by_field_name("consequence") != block:
        return None
    return stmt if stmt.parent is not None and stmt.parent.type == "module" else None


def or_operands(value: ts.Node) -> list[ts.Node]:
    if value.type == "parenthesized_expression" and value.named_child_count == 1:
        return or_operands(value.named_children[0])
    if value.type == "boolean_operator" and node_text(value.child_by_field_name("operator")) == "or":
        left, right = value.child_by_field_name("left"), value.child_by_field_name("right")
        return (or_operands(left) if left is not None else []) + (or_operands(right) if right is not None else [])
    return [value]


def is_rocm_test(root: ts.Node, test: ts.Node | None) -> bool:
    """Is ``test`` true on the ROCm build and nowhere else (as far as the file says)?"""
    if test is None:
        return False
    function, arguments = test.child_by_field_name("function"), test.child_by_field_name("arguments")
    if test.type == "call" and function is not None and node_text(function) == "bool" \
            and arguments is not None and arguments.named_child_count == 1:
        return is_rocm_test(root, arguments.named_children[0])  # bool(torch.version.hip)
    read = classify(test)
    if read.known and read.may <= {"rocm"} and "rocm" in read.must:
        return True
    if test.type != "identifier":
        return False
    name = node_text(test)
    if not _ROCM_WORDS & set(name.lower().split("_")):
        return False
    bindings = _bindings(root, name)
    if not bindings or len(bindings) != 1:
        return False
    value = bindings[0].child_by_field_name("right")
    return value is not None and _ENV_READ.search(node_text(value)) is not None
