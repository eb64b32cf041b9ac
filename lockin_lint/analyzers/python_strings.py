"""Where a string literal sits, for the rules that look inside strings (device, backend, env names).

A ``"cuda"`` is lock-in only where a device is expected: a call's device argument, a device-named
setting, option or comparison, a container of such values (``choices=["cuda", "cpu"]``), or what a
device-named function returns. The file matcher hands every string node at a trigger to this mixin,
which names the places the literal sits in and checks them against each string rule's contexts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import tree_sitter as ts

from ..kb.python_index import PythonIndex
from ..model import Rule, StringContext
from .matching import node_text as _text
from .python_cuda_defaults import is_cuda_method_default
from .python_dropped_defaults import is_dropped_default
from .python_number_picks import picks_a_number
from .python_uncalled_methods import uncalled_accessor

#: What an option or key looks like (``--device``, ``device``, ``train.device``), unlike a log message.
_OPTION_NAME = re.compile(r"^-{0,2}[A-Za-z_][\w.-]*$")
#: Calls whose first argument names an option or key and whose other arguments or ``default=`` are
#: its value (argparse, optparse, click, dict/config/env getters); ``print("device", "cuda")`` is not one.
_OPTION_CALLS = frozenset({"add_argument", "add_option", "option", "get", "getattr", "getenv", "setdefault",
                           "pop", "get_option", "set_option", "parametrize"})
#: A string in one of these is judged by where the container sits (``choices=["cuda", "cpu"]``).
_CONTAINERS = frozenset({"list", "tuple", "set", "pair", "expression_list"})
_CONTAINER_DEPTH = 3
#: Longer lists than this are tables or `__all__`, not a device setting or its choices.
_DEVICE_LIST_SIZE = 16
#: How many statements either side a table of backend names (`_names_itself`) is looked for in.
_TABLE_REACH = 8
#: Device types of other accelerators: a list that names one next to "cuda" is a list of all devices.
_OTHER_ACCELERATOR = re.compile(r"^(rocm|hip|xpu|npu|mlu|musa|mps|hpu|xla|tpu|meta|privateuseone|neuron|ipu)(:\d+)?$")
#: The keywords of an option call whose value is the option's value: its default and its choices.
_OPTION_VALUES = frozenset({"default", "choices"})


def chain(top: ts.Node) -> tuple[str | None, list[tuple[str, ts.Node]]]:
    """Split ``a.b.c`` into its root name and ``[(b, node a.b), (c, node a.b.c)]``.

    The root is None when the chain starts from an expression (``f().cuda``), which is how method
    rules tell "any receiver" apart from a module path.
    """
    parts: list[tuple[str, ts.Node]] = []
    node = top
    while node.type == "attribute":
        attr = node.child_by_field_name("attribute")
        parts.append((_text(attr) if attr is not None else "", node))
        obj = node.child_by_field_name("object")
        if obj is None:
            return None, []
        node = obj
    parts.reverse()
    root = _text(node) if node.type == "identifier" else None
    return root, [(root or "", node)] + parts if root else parts


class StringContexts:
    """The string half of `python_matcher.FileMatcher` (which provides ``index``, ``aliases``, ``_add``)."""

    index: PythonIndex
    aliases: dict[str, list[str]]
    if TYPE_CHECKING:  # SpanMatcher's, through FileMatcher (defined here, it would shadow that one)
        def _add(self, rule: Rule, symbol: str, node: ts.Node, span: tuple[int, int] | None = None) -> None: ...

    def _string(self, string: ts.Node) -> None:
        if not self.index.strings or is_cuda_method_default(string) or is_dropped_default(string):
            return
        value_node = string
        parent = string.parent
        while parent is not None and parent.type in ("parenthesized_expression", "conditional_expression"):
            if parent.type == "conditional_expression":
                branches = parent.named_children
                if len(branches) == 3 and branches[1] == value_node:
                    return  # the condition, not a value
            value_node, parent = parent, parent.parent
        if parent is None:
            return
        places = self._contexts_of(value_node, parent)
        for _ in range(_CONTAINER_DEPTH):  # ["cuda", "cpu"] as choices=, a device list, a dict value
            if parent is None or parent.type not in _CONTAINERS or (places and parent.type != "pair"):
                break  # a dict value is also judged by the dict's name: DEVICE_MAP = {"nvidia": "cuda"}
            if parent.type == "pair":
                if parent.child_by_field_name("value") != value_node:
                    return  # a dict key is no value
                parent = parent.parent
                if parent is None:
                    return
            elif parent.named_child_count > _DEVICE_LIST_SIZE or _lists_other_accelerators(parent):
                return  # an `__all__`-like list, or device.type in ["cuda", "xpu", "npu"]: all accepted
            value_node, parent = parent, parent.parent
            if parent is not None:
                places = places + self._contexts_of(value_node, parent)
        if not places:
            return
        value = string_value(string)
        for srule in self.index.strings:
            if srule.pattern.search(value) and any(_context_matches(ctx, places) for ctx in srule.contexts):
                self._add(srule.rule, string_value(string, as_written=True), string)

    def _resolve(self, node: ts.Node | None) -> list[str]:
        """Qualified names an expression may stand for (empty for non-module expressions)."""
        if node is None:
            return []
        root, parts = chain(node) if node.type == "attribute" else (
            (_text(node), [(_text(node), node)]) if node.type == "identifier" else (None, [])
        )
        if root is None or root not in self.aliases:
            return []
        names = [name for name, _ in parts[1:]]
        return [".".join([base, *names]) for base in self.aliases[root]]

    def _contexts_of(self, value: ts.Node, parent: ts.Node) -> list[_Place]:
        ptype = parent.type
        if ptype == "argument_list":
            call = parent.parent
            if call is None or call.type != "call":
                return []
            position = 0
            for arg in parent.named_children:
                if arg == value:
                    break
                if arg.type not in ("keyword_argument", "dictionary_splat", "comment"):
                    position += 1
            places = self._call_places(call, position=position, keyword=None)
            return places + _option_place(parent, value) if position > 0 else places
        if ptype == "keyword_argument" and parent.child_by_field_name("value") == value:
            key = parent.child_by_field_name("name")
            call = parent.parent.parent if parent.parent is not None else None
            if key is None or call is None or call.type != "call":
                return []
            places = self._call_places(call, position=None, keyword=_text(key))
            arguments = parent.parent
            return places + _option_place(arguments) if _text(key) in _OPTION_VALUES and arguments is not None else places
        if ptype == "subscript" and parent.child_by_field_name("subscript") == value:
            return [_Place(subscript=q) for q in self._resolve(parent.child_by_field_name("value"))]
        if ptype == "comparison_operator":
            operands = parent.named_children
            operators = {child.type for child in parent.children if not child.is_named}
            if len(operands) != 2 or picks_a_number(parent):  # 1800 if backend != "nccl" else 600
                return []
            other = operands[1] if operands[0] == value else operands[0]
            if uncalled_accessor(other):  # `get_accelerator().device_name == "cuda"`: never true
                return []
            places = [_Place(named=_text(other))] if operators & {"==", "!=", "in", "not in"} else []
            if operands[0] == value and operators & {"in", "not in"}:
                places += [_Place(contains=q) for q in self._resolve(operands[1])]
            return places
        if ptype == "assignment" and parent.child_by_field_name("right") == value:
            target = parent.child_by_field_name("left")
            if target is None or target.type not in ("identifier", "attribute") or _names_itself(parent):
                return []
            return [_Place(named=_text(target))]
        if ptype in ("default_parameter", "typed_default_parameter") and parent.child_by_field_name("value") == value:
            name = parent.child_by_field_name("name")
            return [_Place(named=_text(name))] if name is not None else []
        if ptype == "return_statement":  # def default_device(): return "cuda"
            function = parent.parent
            while function is not None and function.type not in ("function_definition", "lambda"):
                function = function.parent
            name = function.child_by_field_name("name") if function is not None else None
            return [_Place(named=_text(name))] if name is not None else []
        if ptype == "for_statement" and parent.child_by_field_name("right") == value:
            target = parent.child_by_field_name("left")  # for device in ["cuda", "cpu"]
            return [_Place(named=_text(target))] if target is not None and target.type == "identifier" else []
        if ptype == "pair" and parent.child_by_field_name("value") == value:
            key = parent.child_by_field_name("key")
            return [_Place(named=string_value(key))] if key is not None and key.type == "string" else []
        return []

    def _call_places(self, call: ts.Node, position: int | None, keyword: str | None) -> list[_Place]:
        function = call.child_by_field_name("function")
        places = [_Place(position=position, keyword=keyword)]
        for qualified in self._resolve(function):
            places.append(_Place(call=qualified, position=position, keyword=keyword))
        if function is not None and function.type == "attribute" and not self._resolve(function):
            attr = function.child_by_field_name("attribute")
            if attr is not None:
                places.append(_Place(method=_text(attr), position=position, keyword=keyword))
        return places


#: Where a string literal sits (the call/method/subscript around it, its argument slot, the name it is
#: given) is told in the terms a rule's contexts use, so that the two compare field by field.
_Place = StringContext


def _spells_its_value(assignment: ts.Node) -> tuple[str, str] | None:
    """``NCCL_BACKEND = "nccl"``: a constant whose name spells its value; (name shape, value)."""
    target, value = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
    if target is None or value is None or target.type != "identifier" or value.type != "string":
        return None
    name, word = _text(target), string_value(value).lower()
    parts = name.lower().split("_")
    if not name.isupper() or word not in parts:
        return None
    return "_".join("*" if part == word else part for part in parts), word


def _names_itself(assignment: ts.Node) -> bool:
    """DeepSpeed's ``NCCL_BACKEND = 'nccl'`` beside ``CCL_BACKEND = 'ccl'`` and ``HCCL_BACKEND = 'hccl'``
    is a table of backend names, not a choice of one: a constant spelled after its value, next to one
    of the same shape naming another accelerator or backend."""
    own = _spells_its_value(assignment)
    if own is None or assignment.parent is None:
        return False
    statement = assignment.parent
    for step in ("prev_named_sibling", "next_named_sibling"):
        sibling = getattr(statement, step)
        for _ in range(_TABLE_REACH):
            if sibling is None:
                break
            other = _spells_its_value(sibling.named_children[0]) if sibling.named_children else None
            if other is not None and other[0] == own[0] and other[1] != own[1]:
                return True
            sibling = getattr(sibling, step)
    return False


def _lists_other_accelerators(container: ts.Node) -> bool:
    return any(item.type == "string" and _OTHER_ACCELERATOR.match(string_value(item))
               for item in container.named_children)


def _option_place(arguments: ts.Node, value: ts.Node | None = None) -> list[_Place]:
    """A call whose first argument is a string names the option its other arguments and its
    ``default=`` are values of (``add_argument("--device", default=...)``, ``cfg.get("device", ...)``)."""
    call = arguments.parent
    function = call.child_by_field_name("function") if call is not None else None
    if function is None or _text(function).rsplit(".", 1)[-1] not in _OPTION_CALLS:
        return []
    first = None
    for arg in arguments.named_children:
        if arg == value or arg.type == "keyword_argument":
            break
        if arg.type == "string":  # getattr(args, "device", ...): the first string before the value
            first = arg
            break
    if first is None:
        return []
    name = string_value(first)
    return [_Place(named=name)] if _OPTION_NAME.match(name) else []  # a key, not a message


def _context_matches(ctx: StringContext, places: list[_Place]) -> bool:
    for place in places:
        if ctx.named is not None or place.named is not None:
            if ctx.named is not None and place.named is not None and re.search(ctx.named, place.named):
                return True
            continue
        if ctx.subscript is not None or ctx.contains is not None:
            if ctx.subscript is not None and ctx.subscript == place.subscript:
                return True
            if ctx.contains is not None and ctx.contains == place.contains:
                return True
            continue
        if place.subscript is not None or place.contains is not None:
            continue
        if ctx.call != place.call or ctx.method != place.method:
            continue
        if ctx.keyword is not None:
            if ctx.keyword == place.keyword:
                return True
        elif ctx.position is not None and ctx.position == place.position and place.keyword is None:
            return True
    return False


def string_value(string: ts.Node, as_written: bool = False) -> str:
    """The literal's value as far as it is static.

    For matching, each ``{...}`` of an f-string reads as ``0`` (so ``f"cuda:{rank}"`` is a device
    string); ``as_written`` keeps the interpolation text, which is what a user should see as the symbol.
    """
    pieces: list[str] = []
    for child in string.children:
        if child.type == "string_content":
            pieces.append(_text(child))
        elif child.type == "interpolation":
            pieces.append(_text(child) if as_written else "0")
    return "".join(pieces)
