"""Tensors a function asserts are on the host: an operator on them runs torch's CPU kernel.

DeepSpeed's ``DeepSpeedCPUAdagrad.step`` checks every parameter with ``assert p.device == device``
(``device = torch.device('cpu')``) before ``p.sparse_mask(p.grad)``: whatever accelerator the machine
has, that operator runs on host tensors, so which accelerators implement it does not matter. An
independent judge called the LL904 finding false at two seeds (docs/validation.md, #11). This module
reads such an assertion for `python_cpu_tensors`: an ``assert`` on the very receiver name, in the same
function, in a block that encloses the use and before it, with no statement between that may bind
the name again. The forms read: ``x.device == torch.device('cpu')`` (or ``'cpu'``, or a name every
assignment of the function binds to ``torch.device('cpu')``), ``x.device.type == 'cpu'``,
``x.is_cpu`` and ``not x.is_cuda``, alone or as one operand of an ``and``. Nothing else (an ``if``,
a device that is a parameter, an attribute receiver) proves anything.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from .matching import PYTHON_SCOPES, conjuncts, node_text
from .python_receivers import statements

_CPU = r"""(?:torch\.device\((?:type=)?["']cpu["']\)|["']cpu["'])"""


def asserted_on_host(receiver: ts.Node, source: bytes) -> bool:
    """Is ``receiver`` (a name) asserted to be on the CPU earlier in its function, and not rebound since?"""
    if receiver.type != "identifier":
        return False
    word = node_text(receiver)
    child, block = receiver, receiver.parent
    while block is not None and block.type not in PYTHON_SCOPES:
        if block.type == "block":
            for statement in block.named_children:
                if statement.start_byte >= child.start_byte:
                    break
                if statement.type == "assert_statement" and _asserts_host(statement, word) \
                        and not _rebinds(source[statement.end_byte:receiver.start_byte], word) \
                        and not _rebound_by_a_loop(receiver, block, word):
                    return True
        child, block = block, block.parent
    return False


def _rebound_by_a_loop(receiver: ts.Node, block: ts.Node, word: str) -> bool:
    """Does a loop between the assertion's block and the use bind ``word`` after the use, so that the
    next pass reaches the use with another value?"""
    node = receiver.parent
    while node is not None and node != block:
        if node.type in ("for_statement", "while_statement") and _rebinds(node_text(node), word):
            return True
        node = node.parent
    return False


def _asserts_host(statement: ts.Node, word: str) -> bool:
    condition = statement.named_children[0] if statement.named_children else None
    if condition is None:
        return False
    for part in conjuncts(condition):
        device = _host_device(part, word)
        if device is not None and (not device or _bound_to_cpu(statement, device)):
            return True
    return False


def _host_device(node: ts.Node, word: str) -> str | None:
    """For a test that ``word`` is on the CPU: "" when it says so by itself (``p.is_cpu``,
    ``p.device == torch.device('cpu')``), the name it compares the device with (``p.device ==
    device``, still to be checked), or None when it is no such test."""
    text = re.sub(r"\s+", "", node_text(node))
    if text in (f"{word}.is_cpu", f"not{word}.is_cuda"):
        return ""
    if node.type != "comparison_operator" or text.count("==") != 1:
        return None
    left, right = text.split("==")
    if right in (f"{word}.device", f"{word}.device.type"):
        left, right = right, left
    if left == f"{word}.device.type":
        return "" if re.fullmatch(r"""["']cpu["']""", right) else None
    if left != f"{word}.device":
        return None
    if re.fullmatch(_CPU, right):
        return ""
    return right if re.fullmatch(r"[A-Za-z_]\w*", right) and right != word else None


def _bound_to_cpu(node: ts.Node, name: str) -> bool:
    """Is ``name`` no parameter of the function holding ``node``, and every binding of it there a
    plain ``name = torch.device('cpu')``?"""
    scope = node.parent
    while scope is not None and scope.type not in PYTHON_SCOPES:
        scope = scope.parent
    if scope is None or scope.type != "function_definition":
        return False
    params = scope.child_by_field_name("parameters")
    if params is not None and name in re.findall(r"\w+", node_text(params)):
        return False
    values = []
    for statement in statements(scope):
        for expression in statement.named_children if statement.type == "expression_statement" else ():
            left = expression.child_by_field_name("left")
            if expression.type in ("assignment", "augmented_assignment") and left is not None \
                    and re.search(rf"(?<![\w.]){re.escape(name)}\b", node_text(left)):
                if expression.type != "assignment" or node_text(left) != name:
                    return False  # ``device += ...``, ``device, other = ...``
                values.append(re.sub(r"\s+", "", node_text(expression.child_by_field_name("right"))))
    return bool(values) and all(re.fullmatch(_CPU, value) for value in values) \
        and not _rebinds(node_text(scope.child_by_field_name("body")), name, assignments=False)


def _rebinds(text: bytes | str, word: str, assignments: bool = True) -> bool:
    """Might ``text`` (the code between the assertion and the use) bind ``word`` again? Any line that
    spells it before an ``=`` (``p = ...``, ``p, q = ...``, ``p += ...``, even ``f(p=1)``), a ``for``,
    ``as``, ``:=``, ``del``, ``global``, ``import`` or ``def`` of it counts."""
    code = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    name = re.escape(word)
    other = (rf"\bfor\b[^\n]*(?<![\w.]){name}\b[^\n]*\bin\b|\bas\s+\(?{name}\b|(?<![\w.]){name}\s*:=|"
             rf"\b(?:del|global|nonlocal|import|def|class)\b[^\n]*(?<![\w.]){name}\b")
    if re.search(other, code):
        return True
    return assignments and any(re.match(rf"[^=#\n]*(?<![\w.]){name}\b[^=\n]*(?<![=!<>])=(?!=)", line)
                               for line in code.split("\n"))
