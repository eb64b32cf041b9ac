"""Find Python uses of a home-made CUDA extension's ops, given what the run's extensions export.

The table comes from the cross-file pass (`linker`); this matcher runs only on the few Python files
that spell one of its names, and reads only their imports, assignments and the identifiers that
spell a name those bind. It resolves the import forms a package uses for its own extension
(``import pkg._C``, ``from pkg import _C``, ``from . import _C``, ``from pkg._C import op``), a
module bound by ``ext = load(...)`` in the same file (or imported from the file that binds it), and
``torch.ops.<namespace>.<op>``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Mapping

import tree_sitter as ts
import tree_sitter_python

from ..kb.prefilter import WORD_BYTES, occurrences

from .matching import RawMatch, SpanMatcher, node_text as _text
from ..model import Location, Rule

#: The statements `OpCallMatcher` reads first: imports (what names lead to an extension) and
#: assignments (new names for them), matched by tree-sitter in C.
_STATEMENTS = "[(import_statement) (import_from_statement)] @import (assignment) @assignment"
#: ``torch.library.Library("ns", "DEF")`` (or ``"FRAGMENT"``): the file defines ops of namespace ``ns``.
_LIBRARY = re.compile(rb"""Library\(\s*["'](\w+)["']\s*,\s*["'](?:DEF|FRAGMENT)["']""")
#: A schema string naming an op of a namespace the file opens (``"release_param(Tensor a) -> Tensor"``).
_SCHEMA = re.compile(rb"""["'](\w+)\s*\(""")
#: An op defined with its namespace (``torch.library.define("ns::op(...)")``, ``custom_op("ns::op")``);
#: not a schema string merely compared with (FA3's ``parse_schema("flash_attn_3::fwd_combine(...")``).
_QUALIFIED = re.compile(rb"""(?:define|custom_op)\(\s*["'](\w+)::(\w+)""")
_DEFINITION_PARENTS = frozenset({"function_definition", "class_definition", "keyword_argument", "parameters",
                                 "default_parameter", "typed_parameter", "typed_default_parameter"})


@dataclass(frozen=True)
class ExtensionLink:
    """An extension module and, per op it exports, what that op needs ported."""

    name: str
    ops: Mapping[str, tuple[Location, ...]]
    #: For an op the bindings do not name (or that were not scanned): the extension's kernels, or
    #: where it is built.
    fallback: tuple[Location, ...]

    def needs(self, op: str) -> tuple[Location, ...]:
        """Empty for an op whose binding reaches no CUDA code: calling it needs nothing ported."""
        return self.ops[op] if op in self.ops else self.fallback


@dataclass(frozen=True)
class LinkTable:
    """What the run's extensions export to Python, keyed the ways Python code reaches them."""

    #: Dotted module name (``pkg._C``) to extension.
    modules: Mapping[str, ExtensionLink] = field(default_factory=dict)
    #: (build file's display path, variable) for ``ext = load(...)``.
    variables: Mapping[tuple[str, str], ExtensionLink] = field(default_factory=dict)
    #: (build file's module name, variable): the same variable imported from that module.
    exported: Mapping[tuple[str, str], ExtensionLink] = field(default_factory=dict)
    #: ``torch.ops`` namespace to op to what it needs (ops with CUDA code only).
    namespaces: Mapping[str, Mapping[str, tuple[Location, ...]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.modules or self.variables or self.namespaces)

    def may_reach(self, path: str, data: bytes) -> bool:
        """Could this Python file use one of these ops? (What it must spell; decides the re-check.)

        A module is reached through its last component plus its package's name or a relative import,
        a loaded module through its variable (in its own file, or with the module that binds it),
        and ``torch.ops`` namespaces as ``ops.<namespace>``.
        """
        for name in self.modules:
            head, _, tail = name.rpartition(".")
            if tail.encode() in data and (not head or head.split(".")[0].encode() in data or b"from ." in data):
                return True
        if any(bound == path for bound, _ in self.variables):
            return True
        if any(variable.encode() in data and module.encode() in data for module, variable in self.exported):
            return True
        return b"ops." in data and any(needle in data for needle in self._namespace_needles)

    @functools.cached_property
    def _namespace_needles(self) -> tuple[bytes, ...]:
        """How a file spells each ``torch.ops`` namespace (encoded once, not once per file)."""
        return tuple(b"ops." + namespace.encode() for namespace in self.namespaces)

    def may_lead_here(self, base: str, relative: bool) -> bool:
        """Could a name bound to module path ``base`` (``relative`` for ``from . import``) lead to one
        of these extensions, or to a ``torch.ops`` namespace? Only a path that agrees, component by
        component, with an extension's dotted name or with ``torch.ops`` can; `OpCallMatcher` does
        not look at the uses of any other imported name (most of them: ``from pkg.utils import f``)."""
        if not base:
            return True
        parts = base.split(".")
        if relative:
            return bool(self.modules)
        if self.namespaces and _agree(parts, ["torch", "ops"]):
            return True
        return any(_agree(parts, name.split(".")) for name in self.modules)

    def spells_an_op(self, source: bytes) -> bool:
        """Could `OpCallMatcher` find a call in ``source``? False only when it provably cannot: the
        table reaches Python through ``torch.ops`` namespaces alone (a module or loaded variable
        reaches any attribute, through its fallback), and no namespace is spelled beside the name
        of one of its ops as a whole identifier; a match needs both in the source's own text. This
        spares the parse of most files `may_reach` lets through (vLLM: 48 of 54, which spell
        ``ops._C`` but none of its 4 ops with CUDA code)."""
        if self.modules or self.variables or self.exported:
            return True
        words: set[bytes] | None = None
        for namespace, ops in self.namespaces.items():
            if ops and namespace.encode() in source:
                words = words if words is not None else set(source.translate(WORD_BYTES).split())
                if any(op.encode() in words for op in ops):
                    return True
        return False

    def module(self, dotted: str, relative: bool) -> ExtensionLink | None:
        """The extension named ``dotted``. A relative import is given as its directory path
        (``fixtures.repo.fused_ops._C`` for ``from . import _C`` in ``fixtures/repo/fused_ops/``):
        it names the extension whose dotted name ends it, the longest one if several do."""
        if not relative:
            return self.modules.get(dotted)
        parts = dotted.split(".")
        best: tuple[int, ExtensionLink] | None = None
        for name, ext in self.modules.items():
            size = name.count(".") + 1
            if parts[-size:] == name.split(".") and (best is None or size > best[0]):
                best = (size, ext)
        return best[1] if best is not None else None


def own_ops(source: bytes) -> frozenset[tuple[str, str]]:
    """The ``(namespace, op)`` pairs a file defines itself: a namespace it opens with
    ``torch.library.Library(ns, "DEF"/"FRAGMENT")`` and an op whose schema string it spells
    (``lib.define("op(Tensor a) -> Tensor")``), or an op defined as ``"ns::op"``
    (``torch.library.define``, ``custom_op``). A probe of such an op (`_probe`) only asks whether
    the extension registered it before the file defines it itself (DeepSpeed's scheduler tests:
    ``try: torch.ops.dc.release_param.default ... except AttributeError: pass``, then
    ``Library("dc", "DEF")``): the tests run on any machine. Other uses of the op stay reported
    (judges found them true: an FX graph built with the extension's op)."""
    if b"::" not in source and b"Library" not in source:
        return frozenset()
    opened = {m.group(1).decode() for m in _LIBRARY.finditer(source)}
    found = {(m.group(1).decode(), m.group(2).decode()) for m in _QUALIFIED.finditer(source)}
    found.update((namespace, m.group(1).decode()) for m in _SCHEMA.finditer(source) for namespace in opened)
    return frozenset(found)


def _probe(node: ts.Node) -> bool:
    """Is ``node`` (``torch.ops.ns.op``) read as a statement of its own (``torch.ops.ns.op.default``)
    in the body of a ``try``: a probe for whether the op is registered, not a use of it?"""
    top = node
    while top.parent is not None and top.parent.type == "attribute":
        top = top.parent
    block = top.parent.parent if top.parent is not None and top.parent.type == "expression_statement" else None
    return block is not None and block.type == "block" and block.parent is not None \
        and block.parent.type == "try_statement"


def _agree(parts: list[str], other: list[str]) -> bool:
    """Is one of the two dotted paths a prefix of the other (or are they equal)?"""
    size = min(len(parts), len(other))
    return parts[:size] == other[:size]


@functools.lru_cache(maxsize=1)
def _statements() -> ts.QueryCursor:
    return ts.QueryCursor(ts.Query(ts.Language(tree_sitter_python.language()), _STATEMENTS))


class OpCallMatcher(SpanMatcher):
    """One file's uses of extension ops, reported with the rule for custom-op calls."""

    def __init__(self, table: LinkTable, rule: Rule, path: str, source: bytes, root: ts.Node) -> None:
        super().__init__(source, root)
        self.table = table
        self.rule = rule
        self.path = path
        #: local name -> extension module it is bound to
        self.direct: dict[str, ExtensionLink] = {}
        #: local name -> (extension, op) for ``from pkg._C import op``
        self.ops: dict[str, tuple[ExtensionLink, str]] = {}
        #: local name -> (dotted module path, relative?) for module imports that may lead to one
        self.paths: dict[str, tuple[str, bool]] = {}

    def run(self) -> list[RawMatch]:
        for (path, variable), ext in self.table.variables.items():
            if path == self.path:
                self.direct[variable] = ext
        captures = _statements().captures(self.root)
        for node in captures.get("import", ()):  # in source order, both kinds of import interleaved
            if node.type == "import_statement":
                self._import(node)
            else:
                self._import_from(node)
        for node in captures.get("assignment", ()):
            self._alias(node)
        leading = {name for name, (base, relative) in self.paths.items() if self.table.may_lead_here(base, relative)}
        for node in self._identifiers({*self.direct, *self.ops, *leading}):
            self._use(node)
        return list(self.matches.values())

    @functools.cached_property
    def _own(self) -> frozenset[tuple[str, str]]:
        return own_ops(self.source)

    def _identifiers(self, names: set[str]) -> list[ts.Node]:
        """The identifiers spelling one of ``names``, in source order: found from the names'
        occurrences in the bytes (a few) rather than by walking every node of the tree (thousands,
        each a Python object; the walk cost more than the parse)."""
        found = []
        for name in names:
            spelled = name.encode()
            for start in occurrences(self.source, spelled):
                node = self.root.descendant_for_byte_range(start, start + len(spelled))
                if node is not None and node.type == "identifier" and node.start_byte == start \
                        and node.end_byte == start + len(spelled):
                    found.append(node)
        return sorted(found, key=lambda node: node.start_byte)

    def _alias(self, assignment: ts.Node) -> None:
        """``ops = _C``, ``lib = torch.ops.mylib``, ``add = _C.fused_add``: a new name for a module,
        a namespace or an op, followed like the original (no other data flow is)."""
        left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
        if left is None or right is None or left.type != "identifier" or right.type not in ("identifier", "attribute"):
            return
        parts = _text(right).split(".")
        root, names, local = parts[0], parts[1:], _text(left)
        if root in self.direct:
            if not names:
                self.direct[local] = self.direct[root]
            elif len(names) == 1:
                self.ops[local] = (self.direct[root], names[0])
        elif root in self.paths and root != local:
            base, relative = self.paths[root]
            self.paths[local] = (".".join([base, *names]) if base else ".".join(names), relative)

    def _add_link(self, node: ts.Node, symbol: str, needs: tuple[Location, ...]) -> None:
        """Report a use of the op; assigning to it (``torch.ops.ns.op = fallback``, done when the
        library failed to load) is not a use."""
        top = node
        while top.parent is not None and top.parent.type == "attribute" and top.parent.child_by_field_name("object") == top:
            top = top.parent
        holder = top.parent
        if holder is not None and holder.type == "assignment" and holder.child_by_field_name("left") == top:
            return
        key = (self.rule.id, node.start_byte, node.end_byte)
        if needs and key not in self.matches:
            self.matches[key] = RawMatch(self.rule, symbol, node, needs)

    # -- imports -------------------------------------------------------------------------------
    def _import(self, stmt: ts.Node) -> None:
        for item in stmt.children_by_field_name("name"):
            if item.type == "aliased_import":
                module, local = _text(item.child_by_field_name("name")), _text(item.child_by_field_name("alias"))
                ext = self.table.module(module, False)
                if ext is not None:
                    self.direct[local] = ext
                else:
                    self.paths[local] = (module, False)
            else:
                root = _text(item).split(".", 1)[0]
                self.paths[root] = (root, False)

    def _import_from(self, stmt: ts.Node) -> None:
        module_node = stmt.child_by_field_name("module_name")
        if module_node is None:
            return
        relative = module_node.type == "relative_import"
        module = _text(module_node).lstrip(".")
        if relative:  # resolved against the file's directory: ``from .. import _C`` goes up one
            level = len(_text(module_node)) - len(_text(module_node).lstrip("."))
            package = self.path.split("/")[:-1]
            package = package[: len(package) - (level - 1)] if level > 1 else package
            module = ".".join([*package, *([module] if module else [])])
        for item in stmt.children_by_field_name("name"):
            if item.type == "aliased_import":
                name, local = _text(item.child_by_field_name("name")), _text(item.child_by_field_name("alias"))
            else:
                name = local = _text(item)
            full = f"{module}.{name}" if module else name
            ext = self.table.module(full, relative)
            parent = self.table.module(module, relative) if module else None
            exported = self.table.exported.get((module.rsplit(".", 1)[-1], name)) if module else None
            if ext is not None:
                self.direct[local] = ext
            elif parent is not None:
                self.ops[local] = (parent, name)
            elif exported is not None:
                self.direct[local] = exported
            else:
                self.paths[local] = (full, relative)

    # -- uses ----------------------------------------------------------------------------------
    def _use(self, node: ts.Node) -> None:
        name = _text(node)
        if name not in self.direct and name not in self.ops and name not in self.paths:
            return
        parent = node.parent
        if parent is None or parent.type in ("dotted_name", "aliased_import") or (
                parent.type in _DEFINITION_PARENTS and parent.child_by_field_name("name") == node):
            return
        if parent.type == "attribute" and parent.child_by_field_name("object") != node:
            return  # ``x._C``: an attribute that happens to share the name
        chain = [node]
        while chain[-1].parent is not None and chain[-1].parent.type == "attribute" \
                and chain[-1].parent.child_by_field_name("object") == chain[-1]:
            chain.append(chain[-1].parent)
        names = [_text(n.child_by_field_name("attribute")) for n in chain[1:]]
        if name in self.ops:
            ext, op = self.ops[name]
            self._add_link(node, f"{ext.name}.{op}", ext.needs(op))
        elif name in self.direct:
            if names:
                ext = self.direct[name]
                self._add_link(chain[1], f"{ext.name}.{names[0]}", ext.needs(names[0]))
        else:
            self._path_use(name, chain, names)

    def _path_use(self, root: str, chain: list[ts.Node], names: list[str]) -> None:
        base, relative = self.paths[root]
        parts = [*base.split("."), *names] if base else names
        if parts[:2] == ["torch", "ops"] and len(parts) >= 4 and not relative:
            ops = self.table.namespaces.get(parts[2], {})
            depth = 3 - (len(base.split(".")) - 1)
            if parts[3] in ops and not ((parts[2], parts[3]) in self._own and _probe(chain[depth])):
                self._add_link(chain[depth], "torch.ops." + ".".join(parts[2:4]), ops[parts[3]])
            return
        for size in range(len(parts) - 1, 0, -1):
            ext = self.table.module(".".join(parts[:size]), relative)
            if ext is not None:
                depth = size - (len(base.split(".")) - 1)
                if 0 < depth < len(chain):
                    self._add_link(chain[depth], f"{ext.name}.{parts[size]}", ext.needs(parts[size]))
                return
