"""Facts about home-made CUDA extensions: how Python builds them, and what their C++ binds and launches.

A Python call into an extension (``_C.fused_add(x)``, ``torch.ops.myops.fused_add(x)``) is lock-in
that no single file shows: the call site looks like plain Python, and the kernel it needs sits in a
``.cu`` file next to a ``setup.py``. These helpers extract the two halves; `linker` joins them.

Both halves are cheap by construction: builds come from matches the Python matcher already made
(``CUDAExtension``/``load`` calls), and the C/C++ walk runs only on the few files an extension names
or that register ops, in the cross-file pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter as ts

from .matching import RawMatch, node_text as _text
from .model import ExtensionBuild

#: Qualified names whose calls build an extension (the symbols LL600/LL601 report).
BUILDERS = frozenset({"torch.utils.cpp_extension.CUDAExtension", "torch.utils.cpp_extension.load",
                      "torch.utils.cpp_extension.load_inline"})
#: Strings in a build call that name source files.
SOURCE_SUFFIXES = (".cu", ".cuh", ".cpp", ".cc", ".cxx", ".c")
#: Registration macros and the method that binds an op in each (``m.def``, ``m.impl``).
_PYBIND = "PYBIND11_MODULE"
#: Op schema blocks and per-dispatch-key implementation blocks. libtorch's stable ABI spells them
#: ``STABLE_*`` (vLLM 0.33's bindings), and vLLM's ``registration.h`` wraps ``TORCH_LIBRARY`` as
#: ``TORCH_LIBRARY_EXPAND`` so that the name may be a macro.
LIBRARY_MACROS = frozenset({"TORCH_LIBRARY", "TORCH_LIBRARY_FRAGMENT", "STABLE_TORCH_LIBRARY",
                            "STABLE_TORCH_LIBRARY_FRAGMENT", "TORCH_LIBRARY_EXPAND"})
LIBRARY_IMPL_MACROS = frozenset({"TORCH_LIBRARY_IMPL", "STABLE_TORCH_LIBRARY_IMPL", "TORCH_LIBRARY_IMPL_EXPAND"})
#: Dispatch keys of CUDA implementations (LC5010 reports them; the linker treats such ops as CUDA-only).
CUDA_DISPATCH_KEYS = frozenset({"CUDA", "AutogradCUDA", "SparseCUDA", "QuantizedCUDA", "NestedTensorCUDA",
                                "SparseCsrCUDA"})
_BINDING_METHODS = frozenset({"def", "impl"})


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
        stack = list(args.named_children)
        followed: set[str] = set()
        while stack:
            item = stack.pop(0)
            value = _string_value(item)
            if value is not None and value.endswith(SOURCE_SUFFIXES):
                sources.append(value)
            elif item.type == "identifier":  # ``sources=SRCS`` with ``SRCS = [...]`` / ``glob(...)`` above
                if _text(item) not in followed:
                    followed.add(_text(item))
                    stack[:0] = _assigned_values(call, _text(item))
            elif item.type == "attribute":  # ``os.path.join``: a name, not a value to follow
                continue
            elif item.type == "keyword_argument":  # ``sources=[...]``: the value, not the keyword's name
                value_node = item.child_by_field_name("value")
                stack[:0] = [value_node] if value_node is not None else []
            elif item.type != "string":
                stack[:0] = item.named_children
        holder = call.parent
        variable = None
        if holder is not None and holder.type == "assignment" and holder.child_by_field_name("right") == call:
            left = holder.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                variable = _text(left)
        point = call.start_point
        builds.append(ExtensionBuild(name, tuple(sources), variable, point.row + 1, point.column + 1))
    return tuple(builds)


def _assigned_values(node: ts.Node, name: str) -> list[ts.Node]:
    """What ``name = ...`` / ``name += ...`` assigns in the functions around ``node`` and at module
    level (inside ``if``/``for``/``try`` blocks too, not in nested functions): a build script's
    ``sources = glob(...) + [...]`` in ``get_extensions()`` or at the top of ``setup.py``."""
    values: list[ts.Node] = []
    scope = node.parent
    while scope is not None:
        if scope.type in ("function_definition", "module"):
            body = scope.child_by_field_name("body") if scope.type == "function_definition" else scope
            stack = list(body.named_children) if body is not None else []
            while stack:
                item = stack.pop(0)
                if item.type in ("function_definition", "class_definition", "decorated_definition"):
                    continue
                if item.type in ("assignment", "augmented_assignment"):
                    left, right = item.child_by_field_name("left"), item.child_by_field_name("right")
                    if left is not None and left.type == "identifier" and _text(left) == name and right is not None:
                        values.append(right)
                    continue
                stack[:0] = item.named_children
        scope = scope.parent
    return values


# -- C/C++/CUDA: functions, launches, bindings ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class Function:
    """A function defined in C/C++/CUDA: where, whether it is a ``__global__`` kernel, what it calls."""

    name: str
    path: str
    line: int
    column: int
    kernel: bool
    #: Names of the functions it calls or launches (the last component of qualified names).
    calls: frozenset[str]
    #: Names it takes the address of (``auto kernel = &fwd_kernel<Traits>; kernel<<<...>>>``): followed
    #: only when they name a kernel, since in a body they are mostly variables.
    references: frozenset[str] = frozenset()
    #: Its body launches a kernel (``k<<<...>>>``): CUDA host code even when the kernel's own
    #: definition is out of sight (a macro, a header the run did not read).
    launches: bool = False


@dataclass(frozen=True, slots=True)
class Binding:
    """An op made callable from Python: ``m.def("op", &fn)`` / ``m.impl("op", fn)`` in a binding block.

    ``scope`` is the block's first macro argument: the module name of ``PYBIND11_MODULE`` (often
    ``TORCH_EXTENSION_NAME``) or the op namespace of ``TORCH_LIBRARY``; ``key`` is the dispatch key of
    a ``TORCH_LIBRARY_IMPL`` block.
    """

    kind: str  # "pybind" | "library" | "impl"
    scope: str
    op: str
    calls: frozenset[str]
    path: str
    line: int
    column: int
    key: str = ""


@dataclass
class CodeFacts:
    functions: list[Function] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    #: ``#include "x.h"`` paths as written (quoted includes only: the project's own headers).
    includes: list[str] = field(default_factory=list)


def _last_name(node: ts.Node | None) -> str:
    """``a::b::f`` / ``f<T>`` / ``f`` as ``f``; empty for anything that is not a plain name."""
    while node is not None and node.type in ("qualified_identifier", "template_function", "template_type"):
        node = node.child_by_field_name("name")
    return _text(node) if node is not None and node.type in ("identifier", "field_identifier") else ""


def _function_name(definition: ts.Node) -> str:
    declarator = definition.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    return _last_name(declarator.child_by_field_name("declarator")) if declarator is not None else ""


@dataclass
class _Names:
    """The names a piece of C++ uses, sorted by how: called (or launched), address taken, passed bare."""

    calls: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    arguments: set[str] = field(default_factory=set)

    def references(self) -> set[str]:
        """Everything a binding may name its code by (``m.def("op", &fn)``, ``TORCH_FN(fn)``, ``fn``)."""
        return self.calls | self.addresses | self.arguments


def _used_names(node: ts.Node) -> _Names:
    """The functions called or kernels launched below ``node`` (``AT_DISPATCH_...(..., [&] {
    k<<<...>>>(...); })`` included), the names whose address is taken, and bare-name arguments.

    In a binding all three name its code; inside function bodies the last two are mostly variables
    (``cudaMalloc(&ptr)``), so callers decide which to follow. One walk serves both.
    """
    found = _Names()
    cursor = node.walk()
    visited_children = False
    while True:
        if not visited_children:
            current = cursor.node
            if current is not None:
                if current.type == "call_expression":
                    function = current.child_by_field_name("function")
                    name = _last_name(function)
                    found.calls.add(name)
                    if name == "apply" and function is not None and function.type == "qualified_identifier":
                        found.calls.add(f"{_text(function.child_by_field_name('scope'))}::apply")  # Op::apply(...)
                elif current.type == "pointer_expression" and current.child_count == 2 \
                        and current.children[0].type == "&":
                    found.addresses.add(_last_name(current.children[1]))
                elif current.type == "argument_list":
                    found.arguments.update(_last_name(a) for a in current.named_children
                                           if a.type in ("identifier", "qualified_identifier", "template_function"))
            if cursor.goto_first_child():
                continue
            visited_children = True
        if cursor.goto_next_sibling():
            visited_children = False
        elif not cursor.goto_parent():
            break
    for names in (found.calls, found.addresses, found.arguments):
        names.discard("")
    return found


def _macro_arguments(declarator: ts.Node) -> list[str]:
    params = declarator.child_by_field_name("parameters") or declarator.child_by_field_name("arguments")
    return [_text(p).strip() for p in params.named_children] if params is not None else []


def _op_name(schema: str) -> str:
    """``"ns::op.overload(Tensor x) -> Tensor"`` names the op ``op``."""
    name = schema.split("(", 1)[0].strip()
    return name.rsplit("::", 1)[-1].split(".", 1)[0]


def _bindings(path: str, definition: ts.Node, macro: str, arguments: list[str]) -> list[Binding]:
    kind = "pybind" if macro == _PYBIND else "impl" if macro in LIBRARY_IMPL_MACROS else "library"
    scope = arguments[0] if arguments else ""
    key = arguments[1] if kind == "impl" and len(arguments) >= 2 else ""
    body = definition.child_by_field_name("body")
    found = []
    statements = list(body.named_children) if body is not None else []
    while statements:
        stmt = statements.pop(0)
        if stmt.type.startswith("preproc_"):  # ``#ifndef USE_ROCM`` around some bindings
            statements[:0] = stmt.named_children
            continue
        call = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_children else None
        if call is None or call.type != "call_expression":
            continue
        for method, values, link in _chain(call):  # m.def(...).def(...): a chain of bindings
            if method in _BINDING_METHODS and values and values[0].type == "string_literal":
                schema = "".join(_text(c) for c in values[0].named_children if c.type == "string_content")
                calls: set[str] = set()
                for value in values[1:]:
                    calls |= _used_names(value).references() | ({_last_name(value)} - {""})
                point = link.start_point
                found.append(Binding(kind, scope, _op_name(schema), frozenset(calls), path, point.row + 1,
                                     point.column + 1, key))
    return found


def scan_code(path: str, root: ts.Node) -> CodeFacts:
    """Functions (with kernels and calls) and op bindings of one parsed C/C++/CUDA file."""
    facts = CodeFacts()
    stack: list[tuple[ts.Node, str]] = [(root, "")]  # (node, name of the class it is in)
    while stack:
        node, owner = stack.pop()
        if node.type == "expression_statement":
            registration = _registration(path, node)
            if registration is not None:
                facts.functions.append(registration)
            continue
        if node.type == "declaration":
            facts.bindings += _operator_registrations(path, node)
            continue
        if node.type != "function_definition":
            if node.type in ("class_specifier", "struct_specifier"):
                owner = _text(node.child_by_field_name("name"))
            stack.extend((c, owner) for c in node.named_children if c.type in _CONTAINERS or c.type in _STATEMENTS)
            continue
        declarator = node.child_by_field_name("declarator")
        macro = _text(declarator.child_by_field_name("declarator")) if declarator is not None \
            and declarator.type == "function_declarator" else ""
        if declarator is not None and (macro == _PYBIND or macro in LIBRARY_MACROS or macro in LIBRARY_IMPL_MACROS):
            facts.bindings += _bindings(path, node, macro, _macro_arguments(declarator))
            continue
        name = _function_name(node)
        if not name:
            continue
        kernel = any(c.type == "__global__" for c in node.children)
        point = node.start_point
        body = node.child_by_field_name("body")
        used = _used_names(body) if body is not None else _Names()
        calls, references = frozenset(used.calls), frozenset(used.addresses)
        launches = body is not None and b"<<<" in (body.text or b"")
        facts.functions.append(Function(name, path, point.row + 1, point.column + 1, kernel, calls, references,
                                        launches))
        if owner and name in _AUTOGRAD_METHODS:  # ``Op::apply(...)`` runs forward and backward
            facts.functions.append(Function(f"{owner}::apply", path, point.row + 1, point.column + 1, False, calls,
                                            references, launches))
    facts.includes = _quoted_includes(root)
    return facts


def _quoted_includes(root: ts.Node) -> list[str]:
    """The ``#include "..."`` paths of a file (at any preprocessor nesting)."""
    found = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "preproc_include":
            target = node.child_by_field_name("path")
            if target is not None and target.type == "string_literal":
                found.append("".join(_text(c) for c in target.named_children if c.type == "string_content"))
            continue
        stack.extend(c for c in node.named_children if c.type in _CONTAINERS or c.type.startswith("preproc_"))
    return found


def _registration(path: str, statement: ts.Node) -> Function | None:
    """A file-scope ``REGISTER_DEVICE_IMPL(nms_impl, CUDA, nms_cuda);``: a dispatch registry entry
    (mmcv's idiom), read as ``nms_impl`` calling ``nms_cuda`` so that an op followed to ``nms_impl``
    reaches the CUDA launcher. Only an all-caps macro whose arguments are plain names counts."""
    call = statement.named_children[0] if statement.named_children else None
    if call is None or call.type != "call_expression":
        return None
    macro = _text(call.child_by_field_name("function"))
    args = call.child_by_field_name("arguments")
    names = [_last_name(a) for a in args.named_children] if args is not None else []
    if not _MACRO.match(macro) or len(names) < 2 or not all(names):
        return None
    point = statement.start_point
    targets = frozenset(n for n in names[1:] if not _MACRO.match(n))  # dispatch keys (CUDA) are no code
    return Function(names[0], path, point.row + 1, point.column + 1, False, targets) if targets else None


def _operator_registrations(path: str, declaration: ts.Node) -> list[Binding]:
    """``static auto registry = torch::RegisterOperators().op("ns::name", &fn).op(...);``: the
    registration API before ``TORCH_LIBRARY`` (the PyG extensions use it), read as ``library``
    bindings of namespace ``ns``."""
    if b"RegisterOperators" not in (declaration.text or b""):
        return []
    found = []
    for item in declaration.named_children:
        value = item.child_by_field_name("value") if item.type == "init_declarator" else None
        if value is None or value.type != "call_expression":
            continue
        for method, values, call in _chain(value):
            if method == "op" and values and values[0].type == "string_literal":
                schema = "".join(_text(c) for c in values[0].named_children if c.type == "string_content")
                if "::" not in schema:
                    continue
                calls: set[str] = set()
                for other in values[1:]:
                    calls |= _used_names(other).references() | ({_last_name(other)} - {""})
                point = call.start_point
                found.append(Binding("library", schema.split("::", 1)[0].strip(), _op_name(schema), frozenset(calls),
                                     path, point.row + 1, point.column + 1))
    return found


def _chain(call: ts.Node) -> list[tuple[str, list[ts.Node], ts.Node]]:
    """``a.f(x).g(y)`` as ``[("g", [y], call), ("f", [x], call)]``: each method call of a chain."""
    found = []
    while call.type == "call_expression":
        function = call.child_by_field_name("function")
        if function is None or function.type != "field_expression":
            break
        args = call.child_by_field_name("arguments")
        found.append((_text(function.child_by_field_name("field")), list(args.named_children) if args else [], call))
        receiver = function.child_by_field_name("argument")
        if receiver is None:
            break
        call = receiver
    return found


_MACRO = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Methods of a ``torch::autograd::Function`` subclass that its ``apply`` runs.
_AUTOGRAD_METHODS = frozenset({"forward", "backward"})
#: Statements at file or namespace scope that may register code (registry macros, RegisterOperators).
_STATEMENTS = frozenset({"expression_statement", "declaration"})
#: Nodes that hold function definitions: the file, namespaces, templates, ``extern "C"`` blocks,
#: preprocessor conditionals, classes.
_CONTAINERS = frozenset({"translation_unit", "namespace_definition", "declaration_list", "template_declaration",
                         "linkage_specification", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                         "function_definition", "class_specifier", "struct_specifier", "field_declaration_list"})


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


def _strings_below(node: ts.Node | None, followed: frozenset[str] = frozenset()) -> list[tuple[str, ts.Node]]:
    """String values in a list/tuple, or in a dict's values (``extras_require``), in source order;
    a name is followed to what it is assigned (once: ``reqs = reqs + [...]`` ends)."""
    if node is None:
        return []
    if node.type == "string":
        value = _string_value(node)
        return [(value, node)] if value is not None else []
    if node.type == "pair":
        return _strings_below(node.child_by_field_name("value"), followed)
    if node.type == "identifier" and _text(node) not in followed:
        name = _text(node)
        return [item for value in _assigned_values(node, name) for item in _strings_below(value, followed | {name})]
    if node.type in ("list", "tuple", "dictionary", "parenthesized_expression", "binary_operator"):
        return [item for child in node.named_children for item in _strings_below(child, followed)]
    return []
