"""Tensors provably on the CPU, read from how the function builds them.

The operator rules (LL9xx) report a torch operator where a source says a configured accelerator
lacks it. On a tensor that never leaves the CPU (TGI's ``torch.bucketize`` on ``torch.arange(...)``
made without a device, vLLM's ``.to_dense()`` on a tensor loaded with ``map_location="cpu"``, a
features matrix built from numpy and sparsified before it is moved, a parameter the function asserts
is on the CPU, `python_host_asserts`, a dict slot only ever filled on the CPU,
`python_host_slots`) the CPU kernel runs and which
accelerators implement the operator does not matter; independent judges called those findings
debatable (docs/validation.md, #11). This module proves "on the CPU" for the few shapes that
certainly are, by the assignments in the same function; anything else (a parameter, an attribute, a
function result, a name also moved with ``.to``/``.cuda``) is unknown and keeps its finding.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from .matching import RawMatch, node_text
from .python_built_inputs import built_on_cpu
from .python_host_asserts import asserted_on_host
from .python_host_slots import slot_on_host
from .python_receivers import enclosing, statements

#: torch factories that make a tensor on the default device (the CPU unless the file changes it).
_FACTORIES = frozenset({"arange", "zeros", "ones", "full", "empty", "eye", "linspace", "logspace", "rand",
                        "randn", "randint", "randperm", "range", "tril_indices", "triu_indices"})
#: Factories that copy data: on the CPU unless the data is a tensor elsewhere.
_FROM_DATA = frozenset({"tensor", "as_tensor", "asarray"})
#: The legacy CPU tensor types (``torch.FloatTensor(array)``); ``torch.cuda.FloatTensor`` is not one.
_LEGACY = re.compile(r"^torch\.(Float|Double|Half|BFloat16|Long|Int|Short|Char|Byte|Bool)?Tensor$")
#: Methods that may return a tensor on another device (or whose device the call decides).
_MOVES = frozenset({"to", "cuda", "type", "xpu", "npu", "mlu", "musa", "hpu", "mps", "ipu", "xla", "to_device",
                    "copy_", "set_"})
#: Methods that return plain Python or numpy values, or a CPU tensor whatever the receiver.
_TO_HOST = frozenset({"cpu", "numpy", "tolist", "item"})
#: Calls whose result is a Python number or a numpy value, never a device tensor.
_HOST_CALLS = frozenset({"len", "int", "float", "bool", "range"})
_NUMPY = re.compile(r"^(np|numpy)\.")
_TORCH_MODULE = re.compile(r"^torch(\.\w+)*$")
_TORCH_CONSTANT = re.compile(r"^torch\.(u?int\d*|float\d*\w*|bfloat16|half|double|long|short|bool|complex\d*|"
                             r"c?float|q?u?int\d+x?\d*|strided|sparse_\w+|channels_last\w*|contiguous_format|"
                             r"preserve_format|inf|nan|pi|e)$")
_DEFAULT_DEVICE = re.compile(rb"set_default_device|set_default_tensor_type|with\s+[\w.]*device\b")
_LITERALS = frozenset({"integer", "float", "string", "concatenated_string", "true", "false", "none"})

_UNKNOWN, _HOST, _CPU = 0, 1, 2  # _HOST: a number, list or numpy value; _CPU: a torch tensor on the CPU
_DEPTH = 12


class CpuTensors:
    """Per file: which operator inputs are provably on the CPU."""

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._off: bool | None = None  # read on the first proof only: most files need none
        self._names: dict[tuple[int, str], int] = {}

    def operator_input_on_cpu(self, node: ts.Node) -> bool:
        """For an operator match at ``node`` (``x.to_dense`` of ``x.to_dense()``, or ``torch.bucketize``
        of a call): is the tensor it works on (the receiver, or the first argument) on the CPU?"""
        parent = node.parent
        if parent is not None and parent.type == "attribute" and parent.child_by_field_name("attribute") == node:
            receiver = parent.child_by_field_name("object")
            if receiver is None:
                return False
            if not _TORCH_MODULE.match(node_text(receiver)):  # a method: its receiver is the input
                return (self._kind(receiver, 0, set()) != _UNKNOWN and not self._default_device_set()) \
                    or asserted_on_host(receiver, self._source) or slot_on_host(receiver, self._proven_cpu) \
                    or (built_on_cpu(node, self._source) and not self._default_device_set())  # ``F.op(...)``
            node = parent  # torch.op(x, ...): its first argument is
        call = node.parent
        if call is None or call.type != "call" or call.child_by_field_name("function") != node:
            return False
        args = call.child_by_field_name("arguments")
        first = next((a for a in args.named_children if a.type not in ("comment", "keyword_argument")),
                     None) if args is not None else None
        if first is not None and self._kind(first, 0, set()) == _CPU and not self._default_device_set():
            return True
        return built_on_cpu(node, self._source) and not self._default_device_set()  # `python_built_inputs`

    def _proven_cpu(self, value: ts.Node) -> bool:
        """For `python_host_slots`: is ``value`` a torch tensor this module proves on the CPU?"""
        return self._kind(value, 0, set()) == _CPU and not self._default_device_set()

    def _default_device_set(self) -> bool:
        """Does the file set torch's default device (or make tensors inside ``with torch.device(...)``)?
        Then its factories prove nothing."""
        if self._off is None:
            self._off = _DEFAULT_DEVICE.search(self._source) is not None
        return self._off

    def _kind(self, node: ts.Node, depth: int, visiting: set[tuple[int, str]]) -> int:
        if depth > _DEPTH:
            return _UNKNOWN
        kind = node.type
        if kind in _LITERALS:
            return _HOST
        if kind in ("parenthesized_expression", "unary_operator", "not_operator"):
            return self._all(node.named_children, depth, visiting)
        if kind in ("binary_operator", "comparison_operator", "boolean_operator", "list", "tuple"):
            return self._all(node.named_children, depth, visiting)
        if kind == "subscript":
            value = node.child_by_field_name("value")
            return self._kind(value, depth + 1, visiting) if value is not None else _UNKNOWN
        if kind == "attribute":
            text = node_text(node)
            root = text.split(".", 1)[0]
            if root in ("np", "numpy") or _TORCH_CONSTANT.match(text):
                return _HOST  # dtypes, layouts and constants (torch.int64, torch.sparse_csr, np.inf)
            if root == "torch":
                return _UNKNOWN  # a module (torch._C._nn) or a global
            obj = node.child_by_field_name("object")
            return self._kind(obj, depth + 1, visiting) if obj is not None and root != "self" else _UNKNOWN
        if kind == "identifier":
            return self._name(node, depth, visiting)
        if kind == "call":
            return self._call(node, depth, visiting)
        return _UNKNOWN

    def _all(self, nodes: list[ts.Node], depth: int, visiting: set[tuple[int, str]]) -> int:
        found = _HOST
        for item in nodes:
            if item.type == "comment":
                continue
            kind = self._kind(item, depth + 1, visiting)
            if kind == _UNKNOWN:
                return _UNKNOWN
            found = max(found, kind)
        return found

    def _call(self, call: ts.Node, depth: int, visiting: set[tuple[int, str]]) -> int:
        function, args = call.child_by_field_name("function"), call.child_by_field_name("arguments")
        if function is None or args is None or args.type != "argument_list":
            return _UNKNOWN
        name = node_text(function).replace(" ", "")
        keywords = {node_text(a.child_by_field_name("name")): a.child_by_field_name("value")
                    for a in args.named_children if a.type == "keyword_argument"}
        positional = [a for a in args.named_children if a.type not in ("comment", "keyword_argument")]
        device = keywords.get("device")
        if device is not None and not re.fullmatch(r"""["']cpu["']|torch\.device\(["']cpu["']\)""",
                                                   node_text(device)):
            return _UNKNOWN
        if name in ("zip", "enumerate"):  # its items are made of the iterables' items (and indices)
            return self._all(positional, depth, visiting) if not keywords or list(keywords) == ["start"] \
                else _UNKNOWN
        if name in _HOST_CALLS or _NUMPY.match(name):
            return _HOST
        if name == "torch.from_numpy":
            return _CPU
        if _LEGACY.match(name):  # torch.FloatTensor(array): on the CPU unless given a tensor
            return _CPU if self._all(positional, depth, visiting) == _HOST else _UNKNOWN
        if name == "torch.load":
            where = keywords.get("map_location")
            return _CPU if where is not None and re.fullmatch(
                r"""["']cpu["']|torch\.device\(["']cpu["']\)""", node_text(where)) else _UNKNOWN
        if name.startswith("torch.") and name.count(".") == 1:
            op = name[6:]
            if op in _FACTORIES:
                return _CPU
            if op in _FROM_DATA:
                return _CPU if positional and self._all(positional[:1], depth, visiting) != _UNKNOWN else _UNKNOWN
            values = positional + [v for k, v in keywords.items() if v is not None and k != "out"]
            return _CPU if self._all(values, depth, visiting) == _CPU else _UNKNOWN
        if function.type == "attribute":
            method = node_text(function.child_by_field_name("attribute"))
            receiver = function.child_by_field_name("object")
            if method in _TO_HOST:
                return _CPU if method == "cpu" else _HOST
            if method in _MOVES or receiver is None or _TORCH_MODULE.match(node_text(receiver)):
                return _UNKNOWN  # a move, or a function of a torch module this module does not know
            base = self._kind(receiver, depth + 1, visiting)
            if base != _CPU:
                return base  # a method of a number, list or numpy array (``a.astype(np.int32)``) is one too
            rest = self._all(positional + [v for v in keywords.values() if v is not None], depth, visiting)
            return _CPU if rest != _UNKNOWN else _UNKNOWN
        return _UNKNOWN

    def _name(self, name: ts.Node, depth: int, visiting: set[tuple[int, str]]) -> int:
        """A name all of whose assignments in its function build CPU tensors (or host values); not a
        parameter, not bound any other way. A name being read is assumed CPU while its own
        assignments are checked (``x = x[mask]``): every assignment then keeps it on the CPU."""
        scope = enclosing(name, "function_definition")
        if scope is None:
            return _UNKNOWN
        word = node_text(name)
        key = (scope.id, word)
        if key in visiting:
            return _CPU
        known = self._names.get(key)
        if known is not None:
            return known
        visiting.add(key)
        values = _assigned(scope, word)
        result = _UNKNOWN
        if values is None:
            pass  # bound another way: unknown
        elif not _parameter(scope, word):
            result = self._all(values, depth, visiting) if values else _UNKNOWN
        elif _host_parameter(scope, word):  # numbers by annotation, and what it is reassigned
            result = self._all(values, depth, visiting) if values else _HOST
        visiting.discard(key)
        if not visiting:
            self._names[key] = result
        return result


def _parameter(function: ts.Node, word: str) -> bool:
    params = function.child_by_field_name("parameters")
    return params is not None and word in re.findall(r"\w+", node_text(params))


#: Annotations of Python numbers and of containers of them (vLLM's ``embeddings: list[float]``); any
#: other (``Tensor``, ``Any``, a union, a class) may hold a device tensor.
_HOST_SCALAR = re.compile(r"\b(?:int|float|bool|complex)\b")
_HOST_CONTAINER = re.compile(r"(?:typing\.)?(?:list|List|Sequence|tuple|Tuple)\[(?:_H)(?:,_H)*(?:,\.\.\.)?\]")


def annotation_of(function: ts.Node, word: str) -> str | None:
    """The annotation of ``function``'s parameter ``word``, without whitespace; None if it has none.
    Both the host-parameter and the tensor-parameter readings ask this."""
    params = function.child_by_field_name("parameters")
    for param in params.named_children if params is not None else ():
        if param.type in ("typed_parameter", "typed_default_parameter"):
            name, annotation = param.named_children[0], param.child_by_field_name("type")
            if name.type == "identifier" and node_text(name) == word and annotation is not None:
                return re.sub(r"\s+", "", node_text(annotation))
    return None


def _host_parameter(function: ts.Node, word: str) -> bool:
    """``word`` is a parameter of ``function`` annotated as a number or a (nested) list, tuple or
    sequence of numbers: ``torch.tensor(word)`` builds it on the CPU. The annotation is trusted."""
    annotation = annotation_of(function, word)
    if annotation is None:
        return False
    text = _HOST_SCALAR.sub("_H", annotation)
    while True:
        shorter = _HOST_CONTAINER.sub("_H", text)
        if shorter == text:
            return text == "_H"
        text = shorter


#: Statements that bind names other than by ``name = value``: a name they spell may be bound there.
_OTHER_BINDINGS = frozenset({"for_statement", "with_statement", "try_statement", "global_statement",
                             "nonlocal_statement", "delete_statement", "import_statement",
                             "import_from_statement", "function_definition", "class_definition",
                             "decorated_definition"})


def _assigned(scope: ts.Node, word: str) -> list[ts.Node] | None:
    """The values assigned to the name ``word`` in ``scope`` (not in nested scopes); None when it is
    also bound another way (a ``for``, ``with ... as``, ``except ... as``, unpacking, ``+=``, ``:=``,
    ``global``, an import or a definition), or may be: then what it holds is unknown."""
    values: list[ts.Node] = []
    spelled = re.compile(rf"\b{re.escape(word)}\b")
    source = scope.text or b""
    if b":=" in source and re.search(rb"\b" + re.escape(word.encode()) + rb"\s*:=", source):
        return None  # bound by ``:=`` somewhere, even inside an expression
    for stmt in statements(scope):
        kind = stmt.type
        if kind == "expression_statement":
            for expression in stmt.named_children:
                if expression.type == "assignment":
                    left, right = expression.child_by_field_name("left"), expression.child_by_field_name("right")
                    if left is not None and left.type == "identifier" and node_text(left) == word:
                        if right is None or right.type in ("assignment", "yield", "await"):
                            return None
                        values.append(right)
                    elif left is not None and left.type != "identifier" and left.type not in ("subscript", "attribute") \
                            and spelled.search(node_text(left)):
                        return None  # unpacking: ``word, other = ...``
                elif expression.type == "augmented_assignment":
                    if node_text(expression.child_by_field_name("left")) == word:
                        return None
        elif kind in _OTHER_BINDINGS:
            head = stmt.child_by_field_name("left") if kind == "for_statement" else None
            if kind == "try_statement":
                clauses = [c for c in stmt.named_children if c.type in ("except_clause", "except_group_clause")]
                text = " ".join(node_text(part) for c in clauses for part in c.named_children if part.type != "block")
            elif kind == "with_statement":
                text = " ".join(node_text(c) for c in stmt.named_children if c.type == "with_clause")
            elif kind in ("function_definition", "class_definition"):
                text = node_text(stmt.child_by_field_name("name"))
            elif kind == "decorated_definition":
                text = ""
            else:
                text = node_text(head if head is not None else stmt)
            iterable = stmt.child_by_field_name("right") if kind == "for_statement" else None
            if spelled.search(text) and iterable is not None and head is not None and _names_only(head):
                values.append(iterable)  # an element of it: on the CPU (or a number) if all of it is
            elif spelled.search(text):
                return None
    return values


def _names_only(target: ts.Node) -> bool:
    """A ``for`` target that binds plain names (``x``, ``i, (a, b)``), no attribute, item or star."""
    if target.type == "identifier":
        return True
    return target.type in _NAME_PATTERNS and all(_names_only(node) for node in target.named_children)


_NAME_PATTERNS = frozenset({"tuple_pattern", "pattern_list", "parenthesized_expression", "tuple", "list_pattern"})


def drop_cpu_operators(raw: list[RawMatch], source: bytes) -> list[RawMatch]:
    """``raw`` without the operator matches whose input tensor is provably on the CPU."""
    if not any(m.rule.category == "operator" for m in raw):
        return raw
    tensors = CpuTensors(source)
    return [m for m in raw if m.rule.category != "operator" or not tensors.operator_input_on_cpu(m.node)]
