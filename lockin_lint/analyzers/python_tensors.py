"""Which tensor-method calls the operator rule (LL904) may report: only those whose receiver can be a
plain torch tensor running torch's own operator.

A method is matched by name (``x.dequantize()``), and the statuses are torch's. Independent judges
found most false LL904 findings on receivers that were no torch tensor: a library's tensor subclass
(mslk's ``ScaledTensor.dequantize``, xformers' ``BlockSparseTensor`` through ``torch.softmax``), an
object wrapping the project's own extension (DeepSpeed's quantizers), a project class defining the
same name (DeepSpeed's ``SparseTensor.to_dense``). So a receiver is read three ways
(`receiver_kind`): *foreign* (`python_receivers.foreign_instance`: never reported), *tensor* (proven
here: a torch function's or factory's result, a ``torch.Tensor``-annotated parameter, a ``.grad``, a
tensor method's result, an item or arithmetic of a tensor: always reported) or *unknown*. An unknown
receiver is reported only when the method's name is distinctive: not a method name of the usual
non-torch array and quantization libraries (`LIBRARY_METHODS`) and not defined by a class of the
scanned project. This module checks the file's own classes (`defined_methods`); the whole-project
pass `project.tensor_methods` checks the other files'.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from ..kb.python_index import PythonIndex
from .matching import RawMatch, node_text as _text
from .python_cpu_tensors import _parameter, annotation_of
from .python_receivers import assigned, enclosing, foreign_instance, resolved

#: Method names of LL904 that classes of the usual non-torch array and quantization libraries define;
#: on a receiver of unknown type they say nothing about torch. Measured, with the classes, in
#: ``scripts/data/operators/curated_operators.yaml`` (``library_methods``); a test holds the two equal.
LIBRARY_METHODS = frozenset({"cholesky", "dequantize", "istft", "lu_solve", "to_dense", "to_sparse"})

FOREIGN, TENSOR, UNKNOWN = "foreign", "tensor", "unknown"

#: torch functions (``torch.X``, ``torch.nn.functional.X``, ...) that return no tensor.
_NOT_TENSORS = frozenset({"load", "save", "device", "compile", "no_grad", "enable_grad", "inference_mode",
                          "autocast", "finfo", "iinfo", "typename", "broadcast_shapes", "vmap", "cond",
                          "split", "chunk", "unbind", "tensor_split", "hsplit", "vsplit", "dsplit", "meshgrid",
                          "sort", "topk", "kthvalue", "unique", "svd", "qr", "eig", "eigh", "slogdet", "lu",
                          "frexp", "aminmax", "max", "min", "median", "mode", "std_mean", "var_mean", "where",
                          "nonzero", "numel", "stream", "stack_trace"})
_NOT_TENSOR_PREFIXES = ("is_", "get_", "set_", "use_", "manual_", "_")
#: Namespaces whose lowercase functions return tensors.
_TENSOR_NAMESPACES = frozenset({"torch", "torch.nn.functional", "torch.linalg", "torch.fft", "torch.special",
                                "torch.sparse"})
#: Classes that build a tensor.
_TENSOR_CLASSES = re.compile(r"^torch\.(?:(?:Float|Double|Half|BFloat16|Long|Int|Short|Char|Byte|Bool)?Tensor|"
                             r"nn\.(?:parameter\.)?Parameter)$")
#: Tensor methods that return a tensor (in-place ones, ending ``_``, return their receiver).
_TENSOR_METHODS = frozenset({"to", "cuda", "cpu", "float", "half", "bfloat16", "double", "long", "int", "bool",
                             "byte", "contiguous", "view", "view_as", "reshape", "reshape_as", "clone", "detach",
                             "t", "transpose", "permute", "flatten", "squeeze", "unsqueeze", "expand", "expand_as",
                             "narrow", "add", "sub", "mul", "div", "sum", "mean", "abs", "pin_memory",
                             "coalesce", "type_as", "masked_fill", "index_select", "gather", "repeat", "flip",
                             "mm", "matmul", "bmm", "pow", "sqrt", "exp", "log", "neg", "clamp", "softmax",
                             "to_dense", "to_sparse", "remainder", "fmod", "cumsum", "new_zeros",
                             "new_ones", "new_empty", "new_full", "new_tensor"})
_ARITHMETIC = frozenset({"+", "-", "*", "/", "//", "%", "@", "**"})
_DEPTH = 6


def receiver_kind(receiver: ts.Node, aliases: dict[str, list[str]]) -> str:
    """FOREIGN, TENSOR or UNKNOWN for the receiver of a tensor-method call."""
    if foreign_instance(receiver, aliases):
        return FOREIGN
    return TENSOR if torch_tensor(receiver, aliases) else UNKNOWN


def torch_tensor(node: ts.Node, aliases: dict[str, list[str]], depth: int = 0,
                 visiting: frozenset[tuple[int, str]] = frozenset()) -> bool:
    """Is ``node`` provably a plain torch tensor (not a known non-torch instance)?"""
    if depth > _DEPTH:
        return False
    kind = node.type
    if kind == "parenthesized_expression":
        inner = [child for child in node.named_children if child.type != "comment"]
        return len(inner) == 1 and torch_tensor(inner[0], aliases, depth + 1, visiting)
    if kind == "subscript":
        value = node.child_by_field_name("value")
        return value is not None and torch_tensor(value, aliases, depth + 1, visiting)
    if kind == "binary_operator":
        operator = node.child_by_field_name("operator")
        sides = [node.child_by_field_name("left"), node.child_by_field_name("right")]
        return (operator is not None and _text(operator) in _ARITHMETIC
                and not any(side is not None and foreign_instance(side, aliases) for side in sides)
                and any(side is not None and torch_tensor(side, aliases, depth + 1, visiting) for side in sides))
    if kind == "call":
        return _tensor_call(node, aliases, depth, visiting)
    if kind == "identifier":
        return _tensor_name(node, aliases, depth, visiting)
    if kind == "attribute":
        return _tensor_attribute(node, aliases, depth, visiting)
    return False


def _tensor_call(call: ts.Node, aliases: dict[str, list[str]], depth: int,
                 visiting: frozenset[tuple[int, str]]) -> bool:
    function = call.child_by_field_name("function")
    if function is None:
        return False
    paths = resolved(function, aliases)
    if paths:
        if not all(_TENSOR_CLASSES.match(path) or _torch_function(path) for path in paths):
            return False
        args = call.child_by_field_name("arguments")
        positional = [a for a in args.named_children if a.type not in ("comment", "keyword_argument")] \
            if args is not None else []
        return not any(foreign_instance(a, aliases) for a in positional)  # a subclass's __torch_function__
    if function.type != "attribute":
        return False
    method = _text(function.child_by_field_name("attribute"))
    receiver = function.child_by_field_name("object")
    return ((method in _TENSOR_METHODS or method.endswith("_") and not method.startswith("_"))
            and receiver is not None and torch_tensor(receiver, aliases, depth + 1, visiting))


def _torch_function(path: str) -> bool:
    """``torch.zeros``, ``torch.nn.functional.softmax``: a lowercase function of a tensor namespace."""
    namespace, _, leaf = path.rpartition(".")
    return (namespace in _TENSOR_NAMESPACES and leaf[:1].islower() and leaf not in _NOT_TENSORS
            and not leaf.startswith(_NOT_TENSOR_PREFIXES))


def _tensor_name(name: ts.Node, aliases: dict[str, list[str]], depth: int,
                 visiting: frozenset[tuple[int, str]]) -> bool:
    """A parameter annotated as a tensor, or a name whose every assignment in its function (or module)
    is a tensor (``None`` aside: it has no methods)."""
    word = _text(name)
    if word in aliases:
        return False
    function = enclosing(name, "function_definition")
    scope = function if function is not None else _root(name)
    key = (scope.id, word)
    annotated = function is not None and _tensor_parameter(function, word, aliases)
    if key in visiting:  # ``x = x.to(device)``: a tensor if it was one (its other values decide)
        return annotated or function is None or not _parameter(function, word)
    bound = assigned(scope, word, nested=False)
    if bound is None:
        return False  # also bound by a ``for``, an unpacking, ``+=``: unknown
    values = [v for v in bound if v.type != "none"]
    if not values:
        return annotated
    inner = visiting | {key}
    return all(torch_tensor(value, aliases, depth + 1, inner) for value in values)


def _tensor_parameter(function: ts.Node, word: str, aliases: dict[str, list[str]]) -> bool:
    """``word: torch.Tensor`` (or ``Tensor``, ``Optional[Tensor]``, ``Tensor | None``, ``nn.Parameter``)."""
    annotation = annotation_of(function, word)
    if annotation is None:
        return False
    text = re.sub(r"^(?:typing\.)?Optional\[(.*)\]$", r"\1", annotation.strip("\"'"))
    text = re.sub(r"^(.*)\|None$|^None\|(.*)$", lambda m: m.group(1) or m.group(2), text)
    root, _, rest = text.partition(".")
    paths = [".".join(filter(None, (path, rest))) for path in aliases.get(root, [])]  # a text, not a node
    return bool(paths) and all(path in ("torch.Tensor", "torch.nn.Parameter", "torch.nn.parameter.Parameter")
                               for path in paths)


def _tensor_attribute(node: ts.Node, aliases: dict[str, list[str]], depth: int,
                      visiting: frozenset[tuple[int, str]]) -> bool:
    """``x.grad`` (autograd's gradient, unless ``x`` is a known non-torch instance or ``self``),
    ``t.data`` of a tensor, ``self.attr`` whose every assignment in its class is a tensor."""
    owner = node.child_by_field_name("object")
    attribute = _text(node.child_by_field_name("attribute"))
    if owner is None:
        return False
    if attribute == "grad":
        return _text(owner) != "self" and not foreign_instance(owner, aliases)
    if attribute == "data":
        return torch_tensor(owner, aliases, depth + 1, visiting)
    if owner.type != "identifier" or _text(owner) != "self":
        return False
    cls = enclosing(node, "class_definition")
    if cls is None:
        return False
    key = (cls.id, _text(node))
    if key in visiting:
        return False
    values = [v for v in assigned(cls, _text(node), nested=True) or [] if v.type != "none"]
    return bool(values) and all(torch_tensor(v, aliases, depth + 1, visiting | {key}) for v in values)


def _root(node: ts.Node) -> ts.Node:
    while node.parent is not None:
        node = node.parent
    return node


#: A method or function definition's name, for every set of names (filtered after the match). It
#: starts with a literal, so `re` looks for ``def`` at C speed; a leading ``\b`` (checked by hand
#: instead) made it try the pattern at every byte, most of the cost on the torch package.
_DEFINITION = re.compile(rb"def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_WORD_BYTE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def defined_methods(source: bytes, root: ts.Node, names: frozenset[str]) -> frozenset[str]:
    """Those of ``names`` that a class of the file defines as a method (``def to_dense(self): ...``)."""
    if not names or b"def" not in source:
        return frozenset()
    found = set()
    for hit in _DEFINITION.finditer(source):
        if hit.group(1).decode() not in names or (hit.start() and source[hit.start() - 1] in _WORD_BYTE):
            continue
        node = root.descendant_for_byte_range(hit.start(1), hit.end(1))
        definition = node.parent if node is not None else None
        if definition is None or definition.type != "function_definition":
            continue
        holder = definition.parent
        if holder is not None and holder.type == "decorated_definition":
            holder = holder.parent
        holder = holder.parent if holder is not None and holder.type == "block" else None
        if holder is not None and holder.type == "class_definition":
            found.add(hit.group(1).decode())
    return frozenset(found)


def operator_methods(index: PythonIndex) -> frozenset[str]:
    """The method names the operator rules match (LL904's); the run's index's, computed once (every
    parsed file asks: 40,000 rule tests per run on the torch package)."""
    global _operator_methods
    if _operator_methods is None or _operator_methods[0] is not index:
        _operator_methods = (index, frozenset(name for name, rules in index.methods.items()
                                              if any(r.category == "operator" for r in rules)))
    return _operator_methods[1]


_operator_methods: tuple[PythonIndex, frozenset[str]] | None = None


def unproven_methods(kept: list[RawMatch], source: bytes) -> tuple[tuple[str, int, int], ...]:
    """(rule, line, column) of the reported tensor-method matches on receivers of unknown type, placed
    as their findings are (`findings.node_findings`: a 1-based line and character column)."""
    places = []
    for match in kept:
        if match.unproven:
            start = match.node.start_byte
            line_start = start - match.node.start_point.column
            column = len(source[line_start:start].decode("utf-8", "replace")) + 1
            places.append((match.rule.id, match.node.start_point.row + 1, column))
    return tuple(sorted(places))
