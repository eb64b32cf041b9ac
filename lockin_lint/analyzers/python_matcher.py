"""Find CUDA-only uses in one parsed Python file.

Parsing is the dominant cost of a scan, and walking every node from Python would double it. So the
matcher is driven by the prefilter's trigger tokens: it finds each token's byte offsets, asks
tree-sitter for the node at each offset, and judges only those few nodes in their syntactic context. Import statements are found the same way (every ``import`` keyword; a tree query costs more
than the whole match), first, both to resolve aliases and because aliases of CUDA modules
(``from torch import cuda as gpu``) become extra tokens for that file. Strings are judged by where
they sit (`python_strings`).
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from ..kb.python_index import GENERIC_COMPONENTS, PythonIndex
from .matching import RawMatch, SpanMatcher, node_text as _text
from ..model import Rule
from ..kb.prefilter import occurrences, word_spans
from .python_joins import import_of
from .python_receivers import enclosing
from .python_stores import is_saved_for_restore, is_stored
from .python_tensors import LIBRARY_METHODS, TENSOR, UNKNOWN, defined_methods, receiver_kind
from .python_strings import StringContexts, chain, string_value

_BARE_NAME_PARENTS = frozenset({"parameters", "lambda_parameters", "typed_parameter"})
_NAMED_PARENTS = frozenset(
    {"function_definition", "class_definition", "default_parameter", "typed_default_parameter",
     "keyword_argument"}
)
_STRING_PARTS = frozenset({"string_content", "string_start", "string_end", "escape_sequence"})


class FileMatcher(StringContexts, SpanMatcher):
    """Matches one file; short-lived, so per-file state (aliases) needs no resetting."""

    def __init__(self, index: PythonIndex, source: bytes, root: ts.Node) -> None:
        super().__init__(source, root)
        self.index = index
        self.aliases: dict[str, list[str]] = {}
        self._methods: dict[str, bool] = {}  # operator method name -> a class of the file defines it

    def run(self, tokens: list[bytes]) -> list[RawMatch]:
        """Judge the node at every occurrence of ``tokens`` (the triggers present in this file)."""
        extra_tokens = self._collect_imports()
        spans = [(start, start + len(token)) for token in tokens for start in occurrences(self.source, token)]
        for alias in extra_tokens:
            word_spans(self.source, alias.encode(), spans)
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
            if not self.index.spells_trigger(local) and any(self.index.has_trigger(p) for p in paths):
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
        return import_of(node) is not None

    def _identifier(self, node: ts.Node) -> None:
        parent = node.parent
        if parent is None or self._in_import(node):
            return
        if parent.type in _BARE_NAME_PARENTS or (
            parent.type in _NAMED_PARENTS and parent.child_by_field_name("name") == node
        ):
            return  # a definition or keyword name, not a use
        if parent.type == "assignment" and parent.child_by_field_name("left") == node:
            return  # `flash_attn_func = None` in an except branch rebinds the name, it does not use it
        top = node
        while top.parent is not None and top.parent.type == "attribute":
            top = top.parent
        root = _chain_root(top)
        if root is not None and root in self.aliases:
            self._qualified(root, chain(top)[1])
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
        last = max(0, min(depth, len(parts) - 1))
        node = parts[last][1]
        if symbol.startswith("torch.cuda.") and (is_stored(node) or is_saved_for_restore(node)):
            return  # `torch.cuda.X = patched`, and the save a restore stores back: no use (`python_stores`)
        if rule.match.when is None or self._call_meets(node, rule):
            self._add(rule, symbol, node, _offending_span(base, parts[: last + 1]))

    def _member(self, name_node: ts.Node, attribute: ts.Node, root: str | None) -> None:
        name = _text(name_node)
        call = attribute.parent
        is_call = call is not None and call.type == "call" and call.child_by_field_name("function") == attribute
        if is_call:
            rules = self.index.methods.get(name, ())
            if rules and root == "self" and self._own_method(attribute, name):
                return
            unproven = False
            if any(rule.category == "operator" for rule in rules):
                receiver = attribute.child_by_field_name("object")
                kind = receiver_kind(receiver, self.aliases) if receiver is not None else UNKNOWN
                unproven = kind == UNKNOWN
                if kind != TENSOR and (not unproven or name in LIBRARY_METHODS or self.defines(name)):
                    rules = [rule for rule in rules if rule.category != "operator"]
        else:
            rules = self.index.attributes.get(name, ())
        for rule in rules:  # at the name: the `.cuda` of a chain split over lines is on its own line
            self._add(rule, f".{name}", name_node)
            key = (rule.id, name_node.start_byte, name_node.end_byte)
            if is_call and unproven and rule.category == "operator" and key in self.matches:
                self.matches[key] = replace(self.matches[key], unproven=True)

    def defines(self, name: str) -> bool:
        """Does a class of this file define the method ``name``?"""
        known = self._methods.get(name)
        if known is None:
            known = self._methods[name] = bool(defined_methods(self.source, self.root, frozenset({name})))
        return known

    def _own_method(self, node: ts.Node, name: str) -> bool:
        """True when ``self.NAME()`` calls a method the enclosing class defines itself."""
        scope = enclosing(node, "class_definition")
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
        if when.value_used:
            return not _only_tested(node)
        if when.calls and not (when.keywords or when.true_keywords or when.any_string):
            return _called(node)
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
                    if pattern.search(string_value(item)):
                        return True
                else:
                    stack.extend(item.named_children)
        return False


def _chain_root(top: ts.Node) -> str | None:
    """The root name `python_strings.chain` gives ``top``, without reading the chain's other names:
    most hits are on a receiver no import bound, whose parts are never asked for."""
    node: ts.Node | None = top
    while node is not None and node.type == "attribute":
        node = node.child_by_field_name("object")
    return _text(node) if node is not None and node.type == "identifier" else None


def _offending_span(base: str, parts: list[tuple[str, ts.Node]]) -> tuple[int, int] | None:
    """Where a qualified name split over lines starts being CUDA: ``torch`` on one line and
    ``.cuda`` on the next is reported from ``cuda``, so an editor underlines the offending lines, not
    an opening ``(torch``. A chain on one line keeps its whole span (None: the node's own)."""
    node = parts[-1][1]
    if node.start_point.row == node.end_point.row:
        return None
    if any(part not in GENERIC_COMPONENTS for part in base.split(".")):
        return None  # the root is already an alias of the CUDA module (``from torch import cuda``)
    for name, part in parts[1:]:
        attr = part.child_by_field_name("attribute")
        if name not in GENERIC_COMPONENTS and attr is not None:
            return (attr.start_byte, node.end_byte) if attr.start_byte != node.start_byte else None
    return None


def _only_tested(node: ts.Node) -> bool:
    """Is ``node`` only tested (``if torch.version.cuda:``, ``x is not None and ...``) or printed
    (``f"CUDA {torch.version.cuda}"`` shows None elsewhere, harmlessly), never used?"""
    child, parent = node, node.parent
    while parent is not None:
        kind = parent.type
        if kind == "interpolation":
            return True
        if kind in ("not_operator", "boolean_operator", "parenthesized_expression"):
            child, parent = parent, parent.parent
            continue
        if kind == "comparison_operator":
            operators = {c.type for c in parent.children if not c.is_named}
            others = [c for c in parent.named_children if c != child]
            return operators <= {"is", "is not"} and all(o.type == "none" for o in others)
        return (kind in ("if_statement", "elif_clause", "while_statement", "assert_statement")
                and parent.child_by_field_name("condition") == child) or (
                kind == "conditional_expression" and parent.named_child_count == 3
                and parent.named_children[1] == child)
    return False


def _called(node: ts.Node) -> bool:
    """Is ``node`` (``cp.linalg``) the start of a chain that is called (``cp.linalg.norm(x)``)?"""
    top = node
    while top.parent is not None and top.parent.type == "attribute" and top.parent.child_by_field_name("object") == top:
        top = top.parent
    call = top.parent
    return call is not None and call.type == "call" and call.child_by_field_name("function") == top
