"""A CUDA name that is only stored into, or only saved to be stored back, is no use of it.

vLLM patches ``torch.cuda`` itself: ``torch.cuda.set_stream = _patched_set_stream``
(``vllm/utils/torch_utils.py``) replaces the function with its own wrapper, and the CPU runner stubs
the stream class for a block and restores it (``vllm/v1/worker/cpu_model_runner.py``)::

    cuda_stream = torch.cuda.Stream
    try:
        torch.cuda.Stream = _StreamPlaceholder
        yield
    finally:
        torch.cuda.Stream = cuda_stream

A store calls nothing and runs on every torch build (the attribute exists there, CUDA or not); the
judges called the findings on those lines false (docs/validation.md, #11, seventh session). So the
matcher (`python_matcher`) reports no name of the ``torch.cuda`` module (its functions and classes)
that is the WHOLE left-hand side of a plain ``=`` (`is_stored`), and none that is the whole
right-hand side of ``LOCAL = torch.cuda.X`` when the same function (or module) also stores ``LOCAL``
back with ``torch.cuda.X = LOCAL`` (`is_saved_for_restore`): the save belongs to the patch.

Kept, on purpose: a store into a setting (``torch.backends.cudnn.benchmark = True`` configures CUDA:
the names outside ``torch.cuda`` are settings, not patches), ``torch.cuda.X.attr = v`` (a store into
an attribute of a CUDA object, which reads the object), ``torch.cuda.X += v`` (reads it first),
``x = torch.cuda.X()`` (a call), and a saved original that is called or never restored
(``prev = torch.cuda.set_stream`` then ``prev(stream)``: the wrapper runs the CUDA function).
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import descendants, node_text

#: Where the search for the restore stops: the save's own function (or the module).
_SCOPES = frozenset({"function_definition", "lambda", "module"})


def is_stored(node: ts.Node) -> bool:
    """Is ``node`` the whole left-hand side of a plain ``=`` (``torch.cuda.X = v``)?"""
    parent = node.parent
    return parent is not None and parent.type == "assignment" and parent.child_by_field_name("left") == node \
        and any(child.type == "=" for child in parent.children)


def is_saved_for_restore(node: ts.Node) -> bool:
    """Is ``node`` the whole right-hand side of ``LOCAL = node`` whose scope also has ``node = LOCAL``?"""
    parent = node.parent
    if parent is None or parent.type != "assignment" or parent.child_by_field_name("right") != node:
        return False
    local = parent.child_by_field_name("left")
    if local is None or local.type != "identifier":
        return False
    scope = parent.parent
    while scope is not None and scope.type not in _SCOPES:
        scope = scope.parent
    if scope is None:
        return False
    spelled, name = node_text(node), node_text(local)
    if (scope.text or b"").count(spelled.encode()) < 2:
        return False  # the restore spells the name again: most saves end here, unwalked
    nested = frozenset({"function_definition", "class_definition", "lambda"})
    for other in (found for child in scope.named_children for found in descendants(child, nested)):
        if other.type != "assignment" or other == parent:
            continue
        left, right = other.child_by_field_name("left"), other.child_by_field_name("right")
        if left is not None and right is not None and right.type == "identifier" and node_text(right) == name \
                and node_text(left) == spelled and is_stored(left):
            return True
    return False
