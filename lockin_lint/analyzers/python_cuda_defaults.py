"""The default device of a tensor-like class's own ``cuda()`` method: no device string finding.

bitsandbytes' ``Params4bit.cuda(self, device=None, ...)`` returns
``self.to(device="cuda" if device is None else device)``, the same shape as ``torch.Tensor.cuda``:
the ``"cuda"`` only runs when a caller calls ``.cuda()``, and that call is reported where it is
written (LL100/LL201 on the caller's line). Reporting the method's default as well counts the
caller's lock-in a second time, in a library that merely supports ``.cuda()`` (j12A).

The reading is narrow: the string must be the value a conditional expression gives when the
``device`` parameter is None (``"cuda" if device is None else device`` or
``device if device is not None else "cuda"``), inside a method named ``cuda`` (a function defined
directly in a class body) that has a ``device`` parameter. A function of another name, a
module-level ``def cuda``, or a ``"cuda"`` chosen by any other condition keeps its finding.
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import node_text

_PARAMETER = "device"


def is_cuda_method_default(string: ts.Node) -> bool:
    """Is ``string`` the ``device is None`` value of a conditional inside a class's ``cuda`` method?"""
    node = string
    while node.parent is not None and node.parent.type == "parenthesized_expression":
        node = node.parent
    cond = node.parent
    if cond is None or cond.type != "conditional_expression" or len(cond.named_children) != 3:
        return False
    first, test, other = cond.named_children
    words = node_text(test).split()
    if words == [_PARAMETER, "is", "None"]:
        chosen = first
    elif words == [_PARAMETER, "is", "not", "None"]:
        chosen = other
    else:
        return False
    return chosen == node and _in_cuda_method(cond)


def _in_cuda_method(node: ts.Node) -> bool:
    function = node.parent
    while function is not None and function.type not in ("function_definition", "lambda", "class_definition"):
        function = function.parent
    if function is None or function.type != "function_definition":
        return False
    name = function.child_by_field_name("name")
    if name is None or node_text(name) != "cuda" or not _has_device_parameter(function):
        return False
    holder = function.parent if function.parent is not None and function.parent.type == "decorated_definition" \
        else function
    body = holder.parent if holder is not None else None
    return body is not None and body.type == "block" and body.parent is not None \
        and body.parent.type == "class_definition"


def _has_device_parameter(function: ts.Node) -> bool:
    params = function.child_by_field_name("parameters")
    for param in params.named_children if params is not None else ():
        name = param if param.type == "identifier" else param.child_by_field_name("name")
        if name is None and param.named_children:
            name = param.named_children[0]
        if name is not None and node_text(name) == _PARAMETER:
            return True
    return False
