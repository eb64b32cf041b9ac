"""What a method call's receiver was built as, read from the assignments around it.

The operator rules (LL904) match tensor methods by name alone (``x.dequantize()``), since a static
reader cannot know a value's type in general. A project's own classes reuse those names
(DeepSpeed's ``fpq = FP_Quantize(...)`` then ``fpq.dequantize(...)``), and then the operator
statuses, which are torch's, say nothing about the call. This module recognises that one shape
cheaply: a receiver whose every assignment in its scope constructs an instance of a class that is
not torch's, directly or through a factory function of the same file whose every return does
(xformers' tests: ``mask = _create_tensor(...)``, which returns ``BlockSparseTensor(...)``, whose
``to_dense`` is its own). A loaded extension module is no tensor either: DeepSpeed's
``quantizer_module = QuantizerBuilder().load()`` then ``quantizer_module.dequantize(...)`` calls the
project's own kernel, as does a module built by ``torch.utils.cpp_extension.load(...)`` /
``load_inline(...)``. An attribute of one of the file's classes read through the class
(``Init.quantizer_module``, set as ``self.quantizer_module = CUDAQuantizer()``) is read the same way
from every assignment of it in the file. Anything else (parameters, results of other functions,
torch classes) stays a possible tensor.
"""

from __future__ import annotations

import functools

from collections.abc import Iterator

import tree_sitter as ts

from .matching import PYTHON_SCOPES
from .matching import node_text as _text



#: How many ``torch.<fn>(x)`` results of a non-torch instance are followed (``y = torch.softmax(x)``,
#: ``z = torch.relu(y)``); also what stops ``x = torch.softmax(x)`` from looping.
_HOPS = 2


def foreign_instance(receiver: ts.Node, aliases: dict[str, list[str]], hops: int = _HOPS) -> bool:
    """True when ``receiver`` (``name``, ``self.name`` or ``Cls.name``) is only ever assigned a
    non-torch instance, or is the ``.grad`` of one (xformers' ``a_sparse.grad.to_dense()``: the gradient of a
    ``BlockSparseTensor`` is one too, made by its ``__torch_function__``), or a torch function's result
    on one (``torch.softmax(a_sparse, dim=-1)``: the same ``__torch_function__`` returns the subclass)."""
    if receiver.type == "attribute" and _text(receiver.child_by_field_name("attribute")) == "grad":
        owner = receiver.child_by_field_name("object")
        return owner is not None and _text(owner) != "self" and foreign_instance(owner, aliases, hops)
    if receiver.type == "identifier":
        scope = enclosing(receiver, "function_definition")
        values = _assigned(scope if scope is not None else _module(receiver), _text(receiver), nested=False)
    elif receiver.type == "attribute":
        obj = receiver.child_by_field_name("object")
        if obj is None or obj.type != "identifier":
            return False
        scope = enclosing(receiver, "class_definition")
        if _text(obj) != "self":  # ``Cls.attr``
            values = _class_attribute(receiver, _text(obj), _text(receiver.child_by_field_name("attribute")))
        elif scope is None:
            return False
        else:
            values = _assigned(scope, _text(receiver), nested=True)
    else:
        return False
    return bool(values) and all(_constructs_foreign(value, aliases) or _loads_extension(value, aliases)
                                or _torch_of_foreign(value, aliases, hops) for value in values)


def _torch_of_foreign(value: ts.Node, aliases: dict[str, list[str]], hops: int) -> bool:
    """``torch.fn(x, ...)`` (``fn`` lowercase, however ``torch`` is imported) whose first argument is a
    known non-torch instance: a tensor subclass's ``__torch_function__`` makes the result."""
    if hops <= 0 or value.type != "call":
        return False
    function, args = value.child_by_field_name("function"), value.child_by_field_name("arguments")
    if function is None or args is None or function.type != "attribute":
        return False
    paths = resolved(function, aliases)
    if not paths or not all(path.startswith("torch.") and path.rpartition(".")[2][:1].islower() for path in paths):
        return False
    first = next((a for a in args.named_children if a.type not in ("comment", "keyword_argument")), None)
    return first is not None and first.type in ("identifier", "attribute") and foreign_instance(first, aliases,
                                                                                                  hops - 1)


def _class_attribute(node: ts.Node, cls: str, attr: str) -> list[ts.Node]:
    """What ``cls.attr`` holds when ``cls`` is a module-level class of ``node``'s file (DeepSpeed's
    ``Init.quantizer_module``, set by ``self.quantizer_module = CUDAQuantizer()`` in ``Init``): the
    values of ``cls.attr = ...`` anywhere in the file and of ``self.attr = ...`` in the class's
    methods. None (unknown) when no such class exists, when the class body binds ``attr`` itself (a
    class-level default), when either is bound another way (``+=``, unpacking), or when any other
    ``something.attr`` is assigned in the file, since that something may be an instance of the class."""
    module = _module(node)
    classes = [statement.child_by_field_name("definition") if statement.type == "decorated_definition"
               else statement for statement in module.named_children]
    named = [c for c in classes if c is not None and c.type == "class_definition"
             and _text(c.child_by_field_name("name")) == cls]
    if len(named) != 1:
        return []
    owner = named[0]
    values: list[ts.Node] = []
    stack = list(module.named_children)
    while stack:
        current = stack.pop()
        stack.extend(current.named_children)
        if current.type == "assignment":
            bound, value = current.child_by_field_name("left"), current.child_by_field_name("right")
        elif current.type in _OTHER_BINDINGS:
            bound, value = current.child_by_field_name(_OTHER_BINDINGS[current.type]), None
        else:
            continue
        for target in _targets(bound, attr):
            if target.type == "identifier":  # ``attr = ...``: unknown only in the class body itself
                if _scope(target) == owner:
                    return []
                continue
            mine = _text(target) == f"{cls}.{attr}" or (_text(target) == f"self.{attr}"
                                                       and enclosing(target, "class_definition") == owner)
            if value is None or target != bound or not mine:  # unpacked, ``+=``, or maybe another object's
                return []
            values.append(value)
    return values


def _targets(pattern: ts.Node | None, attr: str) -> Iterator[ts.Node]:
    """The ``attr`` names and ``something.attr`` attributes that a binding target ``pattern`` binds."""
    stack = [pattern] if pattern is not None else []
    while stack:
        current = stack.pop()
        if current.type == "identifier" and _text(current) == attr:
            yield current
        elif current.type == "attribute":
            if _text(current.child_by_field_name("attribute")) == attr:
                yield current
        else:
            stack.extend(current.named_children)


def _scope(node: ts.Node) -> ts.Node | None:
    """The nearest enclosing function, class or lambda of ``node``."""
    scope = node.parent
    while scope is not None and scope.type not in PYTHON_SCOPES:
        scope = scope.parent
    return scope


#: torch's JIT extension loaders: they return a Python module of the compiled extension's functions.
_EXTENSION_LOADERS = frozenset({"torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline"})


def _loads_extension(value: ts.Node, aliases: dict[str, list[str]]) -> bool:
    """``SomethingBuilder(...).load(...)`` (an op builder's compiled extension, DeepSpeed's shape) or
    ``torch.utils.cpp_extension.load(...)`` / ``load_inline(...)`` however imported."""
    if value.type != "call":
        return False
    function = value.child_by_field_name("function")
    if function is None:
        return False
    if function.type == "attribute" and _text(function.child_by_field_name("attribute")) == "load":
        builder = function.child_by_field_name("object")
        made = builder.child_by_field_name("function") if builder is not None and builder.type == "call" else None
        if made is not None and made.type in ("identifier", "attribute") and _text(made).endswith("Builder"):
            return True
    paths = resolved(function, aliases)
    return bool(paths) and all(path in _EXTENSION_LOADERS for path in paths)


def resolved(function: ts.Node, aliases: dict[str, list[str]]) -> list[str]:
    """Every path a callee (``F.softmax``, ``load``) names through the file's imports; none when its
    first name is not imported."""
    if function.type not in ("identifier", "attribute"):
        return []
    root, _, rest = _text(function).replace(" ", "").partition(".")
    return [".".join(filter(None, (path, rest))) for path in aliases.get(root, [])]


def enclosing(node: ts.Node, kind: str) -> ts.Node | None:
    """The nearest ancestor of ``node`` of type ``kind`` (``function_definition``, ``class_definition``)."""
    scope = node.parent
    while scope is not None and scope.type != kind:
        scope = scope.parent
    return scope


#: Nodes whose children can be statements: the rest (expressions) hold none, so a walk of a scope's
#: statements skips them, which is most of a function's nodes.
_HOLDS_STATEMENTS = frozenset({"block", "module", "if_statement", "elif_clause", "else_clause", "for_statement",
                               "while_statement", "try_statement", "except_clause", "except_group_clause",
                               "finally_clause", "with_statement", "match_statement", "case_clause",
                               "decorated_definition"})


def statements(scope: ts.Node) -> Iterator[ts.Node]:
    """Every statement in ``scope`` (a function, class or module), in nested blocks too but not in
    nested functions or classes (those are yielded, not entered)."""
    body = scope.child_by_field_name("body") if scope.type != "module" else scope
    stack = list(body.named_children) if body is not None else []
    while stack:
        node = stack.pop()
        yield node
        if node.type in _HOLDS_STATEMENTS:
            stack.extend(node.named_children)


def _module(node: ts.Node) -> ts.Node:
    while node.parent is not None:
        node = node.parent
    return node


#: Statements that bind a name other than by ``name = value``, and the field holding what they bind.
_OTHER_BINDINGS = {"augmented_assignment": "left", "for_statement": "left", "for_in_clause": "left",
                   "named_expression": "name", "as_pattern": "alias"}


def _assigned(scope: ts.Node, target: str, nested: bool) -> list[ts.Node]:
    """`assigned`, with no values when what ``target`` holds is unknown."""
    return assigned(scope, target, nested) or []


def assigned(scope: ts.Node, target: str, nested: bool) -> list[ts.Node] | None:
    """Right-hand sides assigned to ``target`` in ``scope`` (into nested scopes only if ``nested``);
    None when ``target`` is also bound another way (unpacking, ``for``, ``with ... as``, ``:=``, ``+=``),
    since then what it holds is unknown."""
    values, unknown = _bindings(scope, nested)
    return None if target in unknown else list(values.get(target, ()))


@functools.lru_cache(maxsize=16)
def _bindings(scope: ts.Node, nested: bool) -> tuple[dict[str, list[ts.Node]], frozenset[str]]:
    """Every name's assigned values in ``scope``, and the names also bound another way, read in one
    walk: the receiver readings ask about many names of one scope, and walking the scope once per
    name cost 1.3 s of CPU on the torch package. The cache key holds the scope's node, which keeps
    its tree alive, so a node id cannot be reused by another file's tree while it is cached."""
    values: dict[str, list[ts.Node]] = {}
    unknown: set[str] = set()
    stack = list(scope.named_children)
    while stack:
        node = stack.pop()
        if node.type == "assignment":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None:
                whole = _text(left)
                if right is not None:  # an annotation alone (``x: T``) binds nothing
                    values.setdefault(whole, []).append(right)
                unknown.update(name for name in _bound_names(left) if name != whole)
        elif node.type in _OTHER_BINDINGS:
            bound = node.child_by_field_name(_OTHER_BINDINGS[node.type])
            if bound is not None:
                unknown.update(_bound_names(bound))
        if node.type in PYTHON_SCOPES and not nested:
            continue
        stack.extend(node.named_children)
    return values, frozenset(unknown)


def _bound_names(pattern: ts.Node) -> set[str]:
    """The names and attributes a binding target (a name, a tuple of them, ...) spells."""
    names: set[str] = set()
    stack = [pattern]
    while stack:
        node = stack.pop()
        if node.type in ("identifier", "attribute"):
            names.add(_text(node))
        stack.extend(node.named_children)
    return names


#: How many same-file factories deep a construction is followed (``_create_tensor`` calling
#: ``_create_blocksparse_tensor``, which builds the instance).
_FACTORY_DEPTH = 2


def _constructs_foreign(value: ts.Node, aliases: dict[str, list[str]], depth: int = _FACTORY_DEPTH) -> bool:
    """``Name(...)`` or ``mod.Name(...)`` where Name is a class (CamelCase) that torch does not define,
    or ``factory(...)`` of a same-file function that only returns such instances."""
    if value.type != "call":
        return False
    function = value.child_by_field_name("function")
    if function is None:
        return False
    if function.type == "identifier" and _text(function) not in aliases and depth > 0:
        factory = _module_function(value, _text(function))
        if factory is not None:
            return _returns_foreign(factory, aliases, depth - 1)
    callee = function
    while callee.type == "attribute":
        obj = callee.child_by_field_name("object")
        if obj is None:
            return False
        callee = obj
    if callee.type != "identifier":
        return False
    name = _text(function).rsplit(".", 1)[-1]
    if not (name[:1].isupper() and any(c.islower() for c in name)):
        return False
    bound = aliases.get(_text(callee), [])
    return not any(path == "torch" or path.startswith("torch.") for path in bound)


def _module_function(node: ts.Node, name: str) -> ts.Node | None:
    """The module-level ``def name`` of ``node``'s file, if there is one."""
    for statement in _module(node).named_children:
        if statement.type == "decorated_definition":
            statement = statement.child_by_field_name("definition") or statement
        found = statement.child_by_field_name("name") if statement.type == "function_definition" else None
        if found is not None and _text(found) == name:
            return statement
    return None


def _returns_foreign(factory: ts.Node, aliases: dict[str, list[str]], depth: int) -> bool:
    """Every value ``factory`` returns (it returns one at least) constructs a non-torch instance."""
    body = factory.child_by_field_name("body")
    values: list[ts.Node] = []
    stack = list(body.named_children) if body is not None else []
    while stack:
        node = stack.pop()
        if node.type == "yield":
            return False  # a generator: its calls return no instance
        if node.type == "return_statement":
            values.extend(node.named_children[:1])
        elif node.type not in PYTHON_SCOPES:
            stack.extend(node.named_children)
    return bool(values) and all(_constructs_foreign(value, aliases, depth) for value in values)
