"""Environment variables that a test sets and then reads back: test data, not lock-in.

DeepSpeed's ``tests/unit/ops/test_op_builder.py`` (j8B, third round, judged false for LL804) runs
``with patch.dict(os.environ, {"TORCH_CUDA_ARCH_LIST": "8.0;7.5"}): ...`` and then asserts
``os.environ["TORCH_CUDA_ARCH_LIST"] == "7.0;7.5;8.0"``: the read checks what the code under test
wrote into a variable the test itself put there; it configures no build. `python_strings` asks this
module before it reports such a read. Narrow on purpose: a read (``os.environ["X"]`` not assigned,
``os.environ.get("X")``, ``os.getenv("X")``) in a function named ``test...`` that sets the same
name literal with ``patch.dict(os.environ, {"X": ...})`` (``mock.patch.dict`` too, as a call or a
decorator) or ``monkeypatch.setenv("X", ...)``. A write, or a read in a helper or another
function, keeps firing.
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import node_text

_GETTERS = ("os.getenv", "os.environ.get", "environ.get", "getenv")


def set_by_its_test(string: ts.Node, value: str) -> bool:
    """Is ``string`` (whose value is ``value``) a read of an environment variable that its enclosing
    test function sets with ``patch.dict`` or ``monkeypatch.setenv``?"""
    if not _env_read(string):
        return False
    function = string.parent
    while function is not None and function.type != "function_definition":
        function = function.parent
    if function is None or not node_text(function.child_by_field_name("name")).startswith("test"):
        return False
    scope = function.parent if function.parent is not None and function.parent.type == "decorated_definition" \
        else function
    stack = [scope]
    while stack:
        node = stack.pop()
        if node.type == "call" and _sets(node, value):
            return True
        stack.extend(node.named_children)
    return False


def _env_read(string: ts.Node) -> bool:
    parent = string.parent
    if parent is None:
        return False
    if parent.type == "subscript" and parent.child_by_field_name("subscript") == string:
        container = parent.child_by_field_name("value")
        above = parent.parent
        written = above is not None and above.type in ("assignment", "augmented_assignment") \
            and above.child_by_field_name("left") == parent
        return container is not None and node_text(container).endswith("environ") and not written
    call = parent.parent if parent.type == "argument_list" else None
    function = call.child_by_field_name("function") if call is not None and call.type == "call" else None
    return function is not None and node_text(function) in _GETTERS and parent.named_children[0] == string


def _sets(call: ts.Node, value: str) -> bool:
    function = node_text(call.child_by_field_name("function"))
    arguments = call.child_by_field_name("arguments")
    given = [a for a in arguments.named_children if a.type != "comment"] if arguments is not None else []
    if function.endswith("patch.dict") and len(given) >= 2 and node_text(given[0]).endswith("environ"):
        return given[1].type == "dictionary" and any(
            pair.type == "pair" and _literal(pair.child_by_field_name("key")) == value
            for pair in given[1].named_children)
    if function.endswith(".setenv") and given:
        return _literal(given[0]) == value
    return False


def _literal(node: ts.Node | None) -> str | None:
    """The value of a plain one-piece string literal, else None."""
    if node is None or node.type != "string":
        return None
    parts = [c for c in node.named_children if c.type == "string_content"]
    if len(parts) != 1 or any(c.type == "interpolation" for c in node.named_children):
        return None
    return node_text(parts[0])
