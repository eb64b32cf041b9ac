"""Find CUDA-only uses in one parsed Python file.

Parsing is the dominant cost of a scan, and walking every node from Python would double it. So the
matcher is driven by the prefilter's trigger tokens: it finds each token's byte offsets, asks
tree-sitter for the node at each offset, and judges only those few nodes in their syntactic context. Import statements are found the same way (every ``import`` keyword; a tree query costs more
than the whole match), first, both to resolve aliases and because aliases of CUDA modules
(``from torch import cuda as gpu``) become extra tokens for that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter as ts

from ..kb.python_index import PythonIndex
from .matching import RawMatch, SpanMatcher, node_text as _text
from ..model import Rule, StringContext
from ..kb.prefilter import occurrences, word_occurrences

_IMPORT_TYPES = frozenset({"import_statement", "import_from_statement", "future_import_statement"})
_BARE_NAME_PARENTS = frozenset({"parameters", "lambda_parameters", "typed_parameter"})
_NAMED_PARENTS = frozenset(
    {"function_definition", "class_definition", "default_parameter", "typed_default_parameter",
     "keyword_argument"}
)
#: What an option or key looks like (``--device``, ``device``, ``train.device``), unlike a log message.
_OPTION_NAME = re.compile(r"^-{0,2}[A-Za-z_][\w.-]*$")
#: Calls whose first argument names an option or key and whose other arguments or ``default=`` are
#: its value (argparse, optparse, click, dict/config/env getters); ``print("device", "cuda")`` is not one.
_OPTION_CALLS = frozenset({"add_argument", "add_option", "option", "get", "getattr", "getenv", "setdefault",
                           "pop", "get_option", "set_option"})
_STRING_PARTS = frozenset({"string_content", "string_start", "string_end", "escape_sequence"})


def _chain(top: ts.Node) -> tuple[str | None, list[tuple[str, ts.Node]]]:
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


class FileMatcher(SpanMatcher):
    """Matches one file; short-lived, so per-file state (aliases) needs no resetting."""

    def __init__(self, index: PythonIndex, source: bytes, root: ts.Node) -> None:
        super().__init__(source, root)
        self.index = index
        self.aliases: dict[str, list[str]] = {}

    def run(self, tokens: list[bytes]) -> list[RawMatch]:
        """Judge the node at every occurrence of ``tokens`` (the triggers present in this file)."""
        extra_tokens = self._collect_imports()
        spans = [(start, start + len(token)) for token in tokens for start in occurrences(self.source, token)]
        for alias in extra_tokens:
            word = alias.encode()
            spans += [(start, start + len(word)) for start in word_occurrences(self.source, word)]
        return self._visit(spans)

    # -- imports -------------------------------------------------------------------------------
    def _bind(self, local: str, path: str) -> None:
        paths = self.aliases.setdefault(local, [])
        if path not in paths:
            paths.append(path)

    def _collect_imports(self) -> set[str]:
        """Bind aliases, report CUDA-only imports, and return this file's extra alias tokens."""
        for start in occurrences(self.source, b"import"):
            keyword = self.root.descendant_for_byte_range(start, start + 6)
            stmt = keyword.parent if keyword is not None and keyword.type == "import" else None
            if stmt is None:
                continue  # the word in a string, comment or longer name
            if stmt.type == "import_statement":
                self._import_statement(stmt)
            elif stmt.type == "import_from_statement":
                self._import_from(stmt)
        extra: set[str] = set()
        for local, paths in self.aliases.items():
            spelled = local in self.index.word_text or any(token in local for token in self.index.trigger_text)
            if not spelled and any(self.index.has_trigger(p) for p in paths):
                extra.add(local)
        return extra

    def _check_module(self, module: str, node: ts.Node) -> None:
        found = self.index.lookup_import(module)
        if found is not None:
            self._add(found[0], found[1], node)
        named = self.index.qualified.get(module)
        if named is not None:
            self._add(named, module, node)

    def _import_statement(self, stmt: ts.Node) -> None:
        for item in stmt.children_by_field_name("name"):
            if item.type == "aliased_import":
                name_node, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                if name_node is None or alias is None:
                    continue
                module = _text(name_node)
                self._bind(_text(alias), module)
            else:
                name_node, module = item, _text(item)
                self._bind(module.split(".")[0], module.split(".")[0])
            self._check_module(module, name_node)

    def _import_from(self, stmt: ts.Node) -> None:
        module_node = stmt.child_by_field_name("module_name")
        if module_node is None or module_node.type != "dotted_name":
            return  # relative imports name the user's own code
        module = _text(module_node)
        found = self.index.lookup_import(module)
        module_rule = found[0] if found else None
        if found is not None:
            self._add(found[0], found[1], module_node)
        if any(child.type == "wildcard_import" for child in stmt.children):
            for member in self.index.members_by_module.get(module, ()):
                self._bind(member, f"{module}.{member}")
            return
        for item in stmt.children_by_field_name("name"):
            if item.type == "aliased_import":
                name_node, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                local = _text(alias) if alias is not None else None
            else:
                name_node, local = item, None
            if name_node is None:
                continue
            name = _text(name_node)
            full = f"{module}.{name}"
            self._bind(local or name, full)
            named = self.index.lookup_qualified(full)
            if named is not None and named[0].match.when is None:  # conditions are about calls
                self._add(named[0], named[1], name_node)
            sub = self.index.lookup_import(full)
            if sub is not None and sub[0] is not module_rule:
                self._add(sub[0], sub[1], name_node)

    # -- hits ----------------------------------------------------------------------------------
    def _judge(self, node: ts.Node) -> None:
        kind = node.type
        if kind == "identifier":
            self._identifier(node)
        elif kind in _STRING_PARTS or kind == "string":
            string = node if kind == "string" else node.parent
            while string is not None and string.type != "string":
                string = string.parent
            if string is not None:
                self._string(string)

    def _in_import(self, node: ts.Node) -> bool:
        parent = node.parent
        for _ in range(3):
            if parent is None:
                return False
            if parent.type in _IMPORT_TYPES:
                return True
            parent = parent.parent
        return False

    def _identifier(self, node: ts.Node) -> None:
        parent = node.parent
        if parent is None or self._in_import(node):
            return
        if parent.type in _BARE_NAME_PARENTS or (
            parent.type in _NAMED_PARENTS and parent.child_by_field_name("name") == node
        ):
            return  # a definition or keyword name, not a use
        top = node
        while top.parent is not None and top.parent.type == "attribute":
            top = top.parent
        root, parts = _chain(top)
        if root is not None and root in self.aliases:
            self._qualified(root, parts)
            return  # an imported module is not "any receiver"
        if parent.type == "attribute" and parent.child_by_field_name("attribute") == node:
            self._member(node, parent, root)

    def _qualified(self, root: str, parts: list[tuple[str, ts.Node]]) -> None:
        """Report the chain's qualified name, resolved through the import that bound ``root``.

        A name bound by several imports is the try/except-ImportError fallback idiom
        (``from apex.normalization import FusedLayerNorm as LayerNorm`` / ``from torch.nn import
        LayerNorm``): its uses are ambiguous, so only when *every* binding is CUDA-only is a use
        reported; the CUDA-only import line itself is always reported.
        """
        names = [name for name, _ in parts[1:]]
        resolved = [self.index.lookup_qualified(".".join([base, *names])) for base in self.aliases[root]]
        if not resolved or any(found is None for found in resolved):
            return
        base = self.aliases[root][0]
        rule, symbol = resolved[0]  # type: ignore[misc]
        depth = symbol.count(".") - base.count(".")
        node = parts[max(0, min(depth, len(parts) - 1))][1]
        if rule.match.when is None or self._call_meets(node, rule):
            self._add(rule, symbol, node)

    def _member(self, name_node: ts.Node, attribute: ts.Node, root: str | None) -> None:
        name = _text(name_node)
        call = attribute.parent
        is_call = call is not None and call.type == "call" and call.child_by_field_name("function") == attribute
        if is_call:
            rules = self.index.methods.get(name, ())
            if rules and root == "self" and self._own_method(attribute, name):
                return
        else:
            rules = self.index.attributes.get(name, ())
        for rule in rules:
            self._add(rule, f".{name}", attribute)

    def _own_method(self, node: ts.Node, name: str) -> bool:
        """True when ``self.NAME()`` calls a method the enclosing class defines itself."""
        scope = node.parent
        while scope is not None and scope.type != "class_definition":
            scope = scope.parent
        body = scope.child_by_field_name("body") if scope is not None else None
        if body is None:
            return False
        for stmt in body.named_children:
            func = stmt.child_by_field_name("definition") if stmt.type == "decorated_definition" else stmt
            if func is not None and func.type == "function_definition":
                fname = func.child_by_field_name("name")
                if fname is not None and _text(fname) == name:
                    return True
        return False

    def _call_meets(self, node: ts.Node, rule: Rule) -> bool:
        when = rule.match.when
        call = node.parent
        if when is None:
            return True
        if call is None or call.type != "call" or call.child_by_field_name("function") != node:
            return False
        if not (when.keywords or when.true_keywords or when.any_string):
            return True  # `call: true` alone: being called is the condition
        args = call.child_by_field_name("arguments")
        if args is None:
            return False
        for arg in args.named_children:
            if arg.type == "keyword_argument":
                key = arg.child_by_field_name("name")
                value = arg.child_by_field_name("value")
                key_text = _text(key) if key is not None else ""
                if key_text in when.keywords:
                    return True
                if key_text in when.true_keywords and value is not None and value.type == "true":
                    return True
        if when.any_string:
            pattern = re.compile(when.any_string)
            stack = list(args.named_children)
            while stack:
                item = stack.pop()
                if item.type == "string":
                    if pattern.search(_string_value(item)):
                        return True
                else:
                    stack.extend(item.named_children)
        return False

    # -- strings -------------------------------------------------------------------------------
    def _string(self, string: ts.Node) -> None:
        if not self.index.strings:
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
        if not places:
            return
        value = _string_value(string)
        for srule in self.index.strings:
            if srule.pattern.search(value) and any(_context_matches(ctx, places) for ctx in srule.contexts):
                self._add(srule.rule, _string_value(string, as_written=True), string)

    def _resolve(self, node: ts.Node | None) -> list[str]:
        """Qualified names an expression may stand for (empty for non-module expressions)."""
        if node is None:
            return []
        root, parts = _chain(node) if node.type == "attribute" else (
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
            return places + _option_place(arguments) if _text(key) == "default" and arguments is not None else places
        if ptype == "subscript" and parent.child_by_field_name("subscript") == value:
            return [_Place(subscript=q) for q in self._resolve(parent.child_by_field_name("value"))]
        if ptype == "comparison_operator":
            operands = parent.named_children
            operators = {child.type for child in parent.children if not child.is_named}
            if len(operands) != 2:
                return []
            other = operands[1] if operands[0] == value else operands[0]
            places = [_Place(named=_text(other))] if operators & {"==", "!=", "in", "not in"} else []
            if operands[0] == value and operators & {"in", "not in"}:
                places += [_Place(contains=q) for q in self._resolve(operands[1])]
            return places
        if ptype == "assignment" and parent.child_by_field_name("right") == value:
            target = parent.child_by_field_name("left")
            return [_Place(named=_text(target))] if target is not None and target.type in ("identifier", "attribute") else []
        if ptype in ("default_parameter", "typed_default_parameter") and parent.child_by_field_name("value") == value:
            name = parent.child_by_field_name("name")
            return [_Place(named=_text(name))] if name is not None else []
        if ptype == "pair" and parent.child_by_field_name("value") == value:
            key = parent.child_by_field_name("key")
            return [_Place(named=_string_value(key))] if key is not None and key.type == "string" else []
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


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a string literal sits: the call/method/subscript around it and its argument slot."""

    call: str | None = None
    method: str | None = None
    position: int | None = None
    keyword: str | None = None
    subscript: str | None = None
    contains: str | None = None
    named: str | None = None


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
    name = _string_value(first)
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


def _string_value(string: ts.Node, as_written: bool = False) -> str:
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
