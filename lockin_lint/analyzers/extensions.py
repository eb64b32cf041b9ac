"""Facts about home-made CUDA extensions on the Python side: how ``setup.py`` and ``load`` build them
(and what ``setup.py`` requires); `cpp_facts` reads what their C++ binds and launches.

A Python call into an extension (``_C.fused_add(x)``, ``torch.ops.myops.fused_add(x)``) is lock-in
that no single file shows: the call site looks like plain Python, and the kernel it needs sits in a
``.cu`` file next to a ``setup.py``. These helpers and `cpp_facts` extract the two halves; `project.linker` joins them.

Both halves are cheap by construction: builds come from matches the Python matcher already made
(``CUDAExtension``/``load`` calls), and the C/C++ walk runs only on the few files an extension names
or that register ops, in the cross-file pass.
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import RawMatch, node_text as _text
from ..model import ExtensionBuild

#: Qualified names whose calls build an extension (the symbols LL600/LL601 report).
BUILDERS = frozenset({"torch.utils.cpp_extension.CUDAExtension", "torch.utils.cpp_extension.load",
                      "torch.utils.cpp_extension.load_inline"})
#: Strings in a build call that name source files.
SOURCE_SUFFIXES = (".cu", ".cuh", ".cpp", ".cc", ".cxx", ".c")


# -- Python: builds ------------------------------------------------------------------------------
def _string_value(node: ts.Node) -> str | None:
    """A plain string literal's value; None for f-strings and concatenations."""
    if node.type != "string" or any(c.type == "interpolation" for c in node.children):
        return None
    return "".join(_text(c) for c in node.children if c.type in ("string_content", "escape_sequence"))


def _build_calls(matches: list[RawMatch]) -> list[ts.Node]:
    """Calls of the matched builders, directly or through a name they are assigned to
    (``extension = CUDAExtension`` ... ``extension("pkg._C", sources)``, detectron2's idiom)."""
    calls: dict[int, ts.Node] = {}
    for match in matches:
        if match.symbol not in BUILDERS:
            continue
        parent = match.node.parent
        if parent is not None and parent.type == "call" and parent.child_by_field_name("function") == match.node:
            calls[parent.start_byte] = parent
        elif parent is not None and parent.type == "assignment" and parent.child_by_field_name("right") == match.node:
            alias = parent.child_by_field_name("left")
            if alias is not None and alias.type == "identifier":
                for call in _calls_of(parent, _text(alias)):
                    calls[call.start_byte] = call
    return [calls[start] for start in sorted(calls)]


def _calls_of(node: ts.Node, name: str) -> list[ts.Node]:
    """Calls of ``name(...)`` in the function (or module) around ``node``."""
    scope = node.parent
    while scope is not None and scope.type not in ("function_definition", "module"):
        scope = scope.parent
    found = []
    stack = [scope] if scope is not None else []
    while stack:
        item = stack.pop()
        function = item.child_by_field_name("function") if item.type == "call" else None
        if function is not None and function.type == "identifier" and _text(function) == name:
            found.append(item)
        stack.extend(item.named_children)
    return found


def extension_builds(matches: list[RawMatch]) -> tuple[ExtensionBuild, ...]:
    """The extensions a Python file builds, from its matched ``CUDAExtension``/``load`` calls."""
    builds = []
    index: Assignments = {}
    for call in _build_calls(matches):
        args = call.child_by_field_name("arguments")
        if args is None:
            continue
        name = ""
        positional = [a for a in args.named_children if a.type not in ("keyword_argument", "comment")]
        for arg in args.named_children:
            if arg.type == "keyword_argument" and _text(arg.child_by_field_name("name")) == "name":
                name = _string_value(arg.child_by_field_name("value") or arg) or ""
        if not name and positional:
            name = _string_value(positional[0]) or ""
        sources = []
        stack = list(reversed(args.named_children))  # next item last: pop() is O(1), pop(0) was O(n)
        followed: set[str] = set()
        while stack:
            item = stack.pop()
            value = _string_value(item)
            if value is not None and value.endswith(SOURCE_SUFFIXES):
                sources.append(value)
            elif item.type == "identifier":  # ``sources=SRCS`` with ``SRCS = [...]`` / ``glob(...)`` above
                if _text(item) not in followed:
                    followed.add(_text(item))
                    stack.extend(reversed(_assigned_values(call, _text(item), index)))
            elif item.type == "attribute":  # ``os.path.join``: a name, not a value to follow
                continue
            elif item.type == "keyword_argument":  # ``sources=[...]``: the value, not the keyword's name
                value_node = item.child_by_field_name("value")
                stack.extend([value_node] if value_node is not None else [])
            elif item.type != "string":
                stack.extend(reversed(item.named_children))
        holder = call.parent
        variable = None
        if holder is not None and holder.type == "assignment" and holder.child_by_field_name("right") == call:
            left = holder.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                variable = _text(left)
        point = call.start_point
        builds.append(ExtensionBuild(name, tuple(sources), variable, point.row + 1, point.column + 1))
    return tuple(builds)


#: Per scope (by tree-sitter node id), each name's assigned values in source order: built once per
#: scope, so following N names costs one walk of the module, not N.
Assignments = dict[int, dict[str, list[ts.Node]]]


def _assigned_values(node: ts.Node, name: str, index: Assignments | None = None) -> list[ts.Node]:
    """What ``name = ...`` / ``name += ...`` assigns in the functions around ``node`` and at module
    level (inside ``if``/``for``/``try`` blocks too, not in nested functions): a build script's
    ``sources = glob(...) + [...]`` in ``get_extensions()`` or at the top of ``setup.py``."""
    index = {} if index is None else index
    values: list[ts.Node] = []
    scope = node.parent
    while scope is not None:
        if scope.type in ("function_definition", "module"):
            if scope.id not in index:
                index[scope.id] = _scope_assignments(scope)
            values += index[scope.id].get(name, [])
        scope = scope.parent
    return values


def _scope_assignments(scope: ts.Node) -> dict[str, list[ts.Node]]:
    body = scope.child_by_field_name("body") if scope.type == "function_definition" else scope
    found: dict[str, list[ts.Node]] = {}
    stack = list(reversed(body.named_children)) if body is not None else []  # pop() from the end: O(1)
    while stack:
        item = stack.pop()
        if item.type in ("function_definition", "class_definition", "decorated_definition"):
            continue
        if item.type in ("assignment", "augmented_assignment"):
            left, right = item.child_by_field_name("left"), item.child_by_field_name("right")
            if left is not None and left.type == "identifier" and right is not None:
                found.setdefault(_text(left), []).append(right)
            continue
        stack.extend(reversed(item.named_children))
    return found


# -- Python: setup.py requirements ----------------------------------------------------------------
#: ``setup()`` keywords whose strings are requirements (a list, or a dict of lists for extras).
REQUIREMENT_KEYWORDS = frozenset({"install_requires", "extras_require", "setup_requires", "tests_require"})


def setup_requirements(root: ts.Node) -> list[tuple[str, ts.Node]]:
    """The requirement strings of a ``setup.py``'s ``setup(...)`` call, each with its string node.

    Literals in the call are read, and a name's literal assignments (``install_requires=REQUIRES``
    with ``REQUIRES = [...]``, also ``+=`` and ``a + b``); a list computed at run time (read from a
    file, say) is not: that needs the file to run, and the tool never runs scanned code.
    """
    found: list[tuple[str, ts.Node]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "call":
            function = node.child_by_field_name("function")
            name = _text(function).rsplit(".", 1)[-1]
            args = node.child_by_field_name("arguments")
            if name == "setup" and args is not None:
                for arg in args.named_children:
                    if arg.type == "keyword_argument" and _text(arg.child_by_field_name("name")) in REQUIREMENT_KEYWORDS:
                        found += _strings_below(arg.child_by_field_name("value"))
                continue
        stack.extend(reversed(node.named_children))
    return found


#: How deep `_strings_below` looks into nested literals (real ``setup.py`` lists nest 2 or 3 deep;
#: the bound keeps a hostile one from exhausting the stack).
_MAX_LITERAL_DEPTH = 50


def _strings_below(node: ts.Node | None, followed: frozenset[str] = frozenset(),
                   depth: int = 0) -> list[tuple[str, ts.Node]]:
    """String values in a list/tuple, or in a dict's values (``extras_require``), in source order;
    a name is followed to what it is assigned (once: ``reqs = reqs + [...]`` ends)."""
    if node is None or depth > _MAX_LITERAL_DEPTH:
        return []
    depth += 1
    if node.type == "string":
        value = _string_value(node)
        return [(value, node)] if value is not None else []
    if node.type == "pair":
        return _strings_below(node.child_by_field_name("value"), followed, depth)
    if node.type == "identifier" and _text(node) not in followed:
        name = _text(node)
        return [item for value in _assigned_values(node, name) for item in _strings_below(value, followed | {name}, depth)]
    if node.type in ("list", "tuple", "dictionary", "parenthesized_expression", "binary_operator"):
        return [item for child in node.named_children for item in _strings_below(child, followed, depth)]
    return []
