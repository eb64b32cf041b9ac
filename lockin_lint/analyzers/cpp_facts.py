"""Facts about home-made CUDA extensions on the C/C++ side: the functions a file defines, which are
``__global__`` kernels, what each calls and launches, and the ops its registrations bind.

Read from the tree the file's own check parsed, for the files the cross-file pass reads first (``.cu``/
``.cuh`` files and files that register ops, `cuda.CudaAnalyzer`), and by the pass itself for the others
it needs; the Python side (builds, ``setup.py``) is `extensions`, and `project.linker` joins the two.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import tree_sitter as ts
import tree_sitter_cuda

from ..kb.torch_cpp import LIBRARY_IMPL_MACROS, LIBRARY_MACROS
from .matching import node_text as _text

#: Registration macros and the method that binds an op in each (``m.def``, ``m.impl``).
_PYBIND = "PYBIND11_MODULE"
_BINDING_METHODS = frozenset({"def", "impl"})


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
    #: Declared ``__device__`` without ``__host__``: GPU code, never the "CUDA host code" of an op.
    device: bool = False
    #: The class or struct whose body defines it ("" for a free function or an out-of-line
    #: ``X::name`` definition, where ``X`` may as well be a namespace).
    owner: str = ""
    #: The names of `calls`/`references` it writes qualified, as ``(scope, name)`` (``Vec::to`` as
    #: ``("Vec", "to")``, the innermost scope), and those it also writes bare: what may reach a member
    #: of some class (`may_reach`).
    qualified: frozenset[tuple[str, str]] = frozenset()
    bare: frozenset[str] = frozenset()
    #: A dispatch registry entry read as a function (`_registration`): another file's call of its name
    #: reaches it by design, whatever that file's own translation unit defines.
    registered: bool = False


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


def may_reach(caller: Function, name: str, target: Function) -> bool:
    """Can ``caller``'s use of ``name`` mean ``target``? A member of a class (defined in its body) is
    reached only from a member (an unqualified call: its own class or a base) or by a call qualified
    with its class (``Vec::to``); a free function's ``to<Tensor>(x)`` or ``torch::stable::zero_(t)``
    is not ``struct Vec``'s ``to``/``zero_`` in another extension. Member calls (``t.zero_()``) are
    never in ``calls``."""
    if not target.owner or "::" in target.name:  # ``Op::apply`` is matched by its qualified name
        return True
    return bool(caller.owner) and name in caller.bare or (target.owner, name) in caller.qualified


@dataclass
class _Names:
    """The names a piece of C++ uses, sorted by how: called (or launched), address taken, passed bare."""

    calls: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    arguments: set[str] = field(default_factory=set)
    #: Calls and addresses written ``X::name`` (as ``(X, name)``), and those written bare.
    qualified: set[tuple[str, str]] = field(default_factory=set)
    bare: set[str] = field(default_factory=set)

    def note(self, node: ts.Node, name: str) -> None:
        """Record how ``node`` (a call's function or an address's operand) spells ``name``."""
        if not name:
            return
        scope = ""
        while node.type == "qualified_identifier":  # ``a::Vec::to``: right-nested, the innermost scope
            written = node.child_by_field_name("scope")
            if written is not None and written.type == "template_type":  # ``Vec<T>::to``
                written = written.child_by_field_name("name")
            scope = _text(written) if written is not None else ""
            inner = node.child_by_field_name("name")
            if inner is None:
                break
            node = inner
        if scope:
            self.qualified.add((scope, name))
        else:
            self.bare.add(name)

    def references(self) -> set[str]:
        """Everything a binding may name its code by (``m.def("op", &fn)``, ``TORCH_FN(fn)``, ``fn``)."""
        return self.calls | self.addresses | self.arguments


#: What `_used_names` looks for, matched by tree-sitter in C: the walk in Python it replaces cost as
#: much as parsing the file again (vLLM csrc: 1,500 function bodies).
_USES = """
(call_expression function: (_) @call)
(pointer_expression) @pointer
(argument_list) @arguments
"""


@functools.lru_cache(maxsize=1)
def _uses_query() -> tuple[ts.Query, ts.QueryCursor]:
    query = ts.Query(ts.Language(tree_sitter_cuda.language()), _USES)
    return query, ts.QueryCursor(query)


def _used_names(node: ts.Node) -> _Names:
    """The functions called or kernels launched below ``node`` (``AT_DISPATCH_...(..., [&] {
    k<<<...>>>(...); })`` included), the names whose address is taken, and bare-name arguments.

    In a binding all three name its code; inside function bodies the last two are mostly variables
    (``cudaMalloc(&ptr)``), so callers decide which to follow. One query serves both.
    """
    found = _Names()
    captures = _uses_query()[1].captures(node)
    for function in captures.get("call", ()):
        name = _last_name(function)
        found.calls.add(name)
        found.note(function, name)
        if name == "apply" and function.type == "qualified_identifier":
            found.calls.add(f"{_text(function.child_by_field_name('scope'))}::apply")  # Op::apply(...)
    for pointer in captures.get("pointer", ()):
        if pointer.child_count == 2 and pointer.children[0].type == "&":
            found.addresses.add(_last_name(pointer.children[1]))
            found.note(pointer.children[1], _last_name(pointer.children[1]))
    for arguments in captures.get("arguments", ()):
        found.arguments.update(_last_name(a) for a in arguments.named_children
                               if a.type in ("identifier", "qualified_identifier", "template_function"))
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
        device = not kernel and _device_only(node)
        point = node.start_point
        body = node.child_by_field_name("body")
        used = _used_names(body) if body is not None else _Names()
        calls, references = frozenset(used.calls), frozenset(used.addresses)
        launches = body is not None and b"<<<" in (body.text or b"")
        qualified, bare = frozenset(used.qualified), frozenset(used.bare)
        facts.functions.append(Function(name, path, point.row + 1, point.column + 1, kernel, calls, references,
                                        launches, device, owner, qualified, bare))
        if owner and name in _AUTOGRAD_METHODS:  # ``Op::apply(...)`` runs forward and backward
            facts.functions.append(Function(f"{owner}::apply", path, point.row + 1, point.column + 1, False, calls,
                                            references, launches, device, owner, qualified, bare))
    facts.includes = quoted_includes(root)
    return facts


def _device_only(definition: ts.Node) -> bool:
    """Declared ``__device__`` and not ``__host__`` (a macro spelling either is not seen: kept)."""
    kinds = {c.type for c in definition.children}
    return "__device__" in kinds and "__host__" not in kinds


def quoted_includes(root: ts.Node) -> list[str]:
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
    if not targets:
        return None
    return Function(names[0], path, point.row + 1, point.column + 1, False, targets, registered=True)


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
