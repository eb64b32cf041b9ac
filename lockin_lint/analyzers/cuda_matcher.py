"""Find CUDA lock-in in one parsed C, C++ or CUDA file (tree-sitter-cuda parses all three).

Like the Python matcher, it is driven by the prefilter's hits: each hit offset is mapped to its node,
so names inside comments and string literals never match (they are other node types), and only the
few nodes near hits are ever looked at. Identifiers are judged by name (C has no imports to resolve);
C++ scoped names follow ``using namespace`` and namespace aliases; structural constructs (kernels,
launches, inline PTX, warp-size assumptions) are recognised from their syntax nodes.
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from ..kb.cuda_index import CONSTRUCT_LITERALS, CudaIndex
from ..kb.torch_cpp import CUDA_DISPATCH_KEYS, LIBRARY_IMPL_MACROS, LIBRARY_MACROS
from ..kb.prefilter import occurrences, word_spans
from .cpp_gate import file_words, relevant_words
from .declarations import declares
from .joins import join_constructs
from .lane_masks import mask_argument
from .macro_bodies import body_matches
from .matching import RawMatch, SpanMatcher, node_text as _text
from .warp_widths import warp_literals

_NAME_NODES = frozenset({"identifier", "type_identifier", "namespace_identifier", "field_identifier"})
_FULL_MASKS = re.compile(r"^0[xX][fF]{8}[uUlL]*$")
_SYNC_INTRINSIC = re.compile(r"^__\w+_sync$")
_REGISTRATION_MACROS = LIBRARY_MACROS | {"PYBIND11_MODULE"}
_DEVICE_QUALIFIERS = frozenset({"__global__", "__device__"})
#: AMD GCN/CDNA assembly: vector/scalar/LDS/buffer mnemonics and DPP modifiers; no PTX opcode is spelled so.
_AMD_ASM = re.compile(r"(?:^|[\"\s;])(?:v|s|ds|buffer|global|flat|scratch)_[a-z][a-z0-9_]*\b|\b(?:quad_perm|row_shr|row_shl|"
                      r"row_ror|row_bcast|row_mask|bank_mask|bound_ctrl|wave_shr|wave_ror)\b")


def _scoped_parts(node: ts.Node) -> list[str] | None:
    """``a::b<T>::c`` as ``[a, b, c]``; None when a part is not a plain name."""
    parts: list[str] = []
    while node.type == "qualified_identifier":
        scope = node.child_by_field_name("scope")
        if scope is None:
            parts.append("")  # a leading ``::``
        elif scope.type == "template_type":
            parts.append(_text(scope.child_by_field_name("name")))
        else:
            parts.append(_text(scope))
        name = node.child_by_field_name("name")
        if name is None:
            return None
        node = name
    if node.type in ("template_type", "template_function"):
        node = node.child_by_field_name("name") or node
    parts.append(_text(node))
    rooted = bool(parts) and parts[0] == ""  # ``::name`` names the global namespace
    named = [p for p in parts if p]
    return (["", *named] if rooted else named) or None


def _ancestor(node: ts.Node, kinds: frozenset[str], depth: int = 64) -> ts.Node | None:
    current = node.parent
    while current is not None and depth > 0:
        if current.type in kinds:
            return current
        current = current.parent
        depth -= 1
    return None


#: Statements `_name` leaves to `_collect_namespaces`, and the other kinds `_ancestor` is asked for.
_DIRECTIVES = frozenset({"using_declaration", "namespace_alias_definition"})
_CALLS = frozenset({"call_expression"})
#: What a name is a part of when it is a part of a longer name (``a::b``, ``f<T>``).
_NAME_PARTS = frozenset({"qualified_identifier", "template_type", "template_function"})
_FUNCTIONS = frozenset({"function_definition"})
_ASM_EXPRESSIONS = frozenset({"gnu_asm_expression"})
_HOLDERS = frozenset({"init_declarator", "assignment_expression"})

_reached: tuple[CudaIndex, dict[str, frozenset[str]]] | None = None


def _reached_by(index: CudaIndex, namespace: str) -> frozenset[str]:
    """The last components of the scoped names under ``namespace`` (what ``using namespace`` makes
    reachable unqualified). A project spells the same few directives in hundreds of files, and each
    answer walks every scoped name of the index: kept per namespace for the run's index."""
    global _reached
    if _reached is None or _reached[0] is not index:
        _reached = (index, {})
    known = _reached[1]
    found = known.get(namespace)
    if found is None:
        prefix = namespace + "::"
        found = known[namespace] = frozenset(last for last, fulls in index.scoped_by_last.items()
                                             if any(full.startswith(prefix) for full in fulls))
    return found


class CudaFileMatcher(SpanMatcher):
    """Matches one file; per-file state (namespaces in use) lives and dies with it."""

    def __init__(self, index: CudaIndex, source: bytes, root: ts.Node, cuda_source: bool,
                 relevant: set[bytes] | None = None) -> None:
        """``relevant``: `cpp_gate.relevant_words` of the file before the pre-pass, when the caller
        has them; a superset of the pre-passed text's, with occurrences in the same places."""
        super().__init__(source, root)
        self.index = index
        self.cuda_source = cuda_source
        self.relevant = relevant
        self.usings: list[str] = []
        self.aliases: dict[str, str] = {}
        self._defined: dict[str, bool] = {}
        #: Where a name may sit in a ``using namespace`` directive or a namespace alias, which `_name`
        #: leaves to `_collect_namespaces`: in the spans of those it found, or anywhere when the parse
        #: has errors (a MISSING keyword spells no bytes for it to find). Elsewhere `_name` need not
        #: walk up to look.
        self._directives: list[tuple[int, int]] = []
        self._unsure = root.has_error
        self._masks: dict[str, bool] = {}

    def run(self) -> list[RawMatch]:
        extra = {word.encode() for word in self._collect_namespaces()}
        spans: list[tuple[int, int]] = []
        relevant = self.relevant if self.relevant is not None else relevant_words(self.index, file_words(self.source))
        for word in sorted(relevant | extra):
            word_spans(self.source, word, spans)
        for literal in CONSTRUCT_LITERALS:
            spans += [(s, s + len(literal)) for s in occurrences(self.source, literal)]
        return join_constructs(self._visit(spans))

    # -- namespaces ----------------------------------------------------------------------------
    def _collect_namespaces(self) -> set[str]:
        """Record ``using namespace`` and namespace aliases; report CUDA namespaces brought in.

        Returns the extra words to look for: aliases of CUDA namespaces and the last components of
        scoped names a ``using namespace`` makes reachable unqualified.
        """
        extra: set[str] = set()
        for start in occurrences(self.source, b"namespace"):
            keyword = self.root.descendant_for_byte_range(start, start + 9)
            stmt = keyword.parent if keyword is not None and keyword.type == "namespace" else None
            if stmt is None:
                continue
            if stmt.type in _DIRECTIVES:
                self._directives.append((stmt.start_byte, stmt.end_byte))
            if stmt.type == "using_declaration":
                target = next((c for c in stmt.named_children if c.type in ("identifier", "qualified_identifier",
                                                                               "namespace_identifier")), None)
                if target is None:
                    continue
                name = self._resolve_alias("::".join(_scoped_parts(target) or [_text(target)]))
                self.usings.append(name)
                self._report_namespace(name, stmt)
                extra.update(_reached_by(self.index, name))
            elif stmt.type == "namespace_alias_definition":
                names = [c for c in stmt.named_children if c.type in ("namespace_identifier", "nested_namespace_specifier",
                                                                        "qualified_identifier", "identifier")]
                if len(names) >= 2:
                    aliased = self._resolve_alias("::".join(_text(n) for n in names[1:]).replace(" ", ""))
                    self.aliases[_text(names[0])] = aliased
                    self._report_namespace(aliased, stmt)
                    if aliased in self.index.namespaces:
                        extra.add(_text(names[0]))  # ``ac::getCurrentCUDAStream`` spells no token
        return extra

    def _in_directive(self, node: ts.Node) -> bool:
        """Could ``node`` sit in a namespace directive or alias (see ``_directives``)?"""
        if self._unsure:
            return True
        start, end = node.start_byte, node.end_byte
        return any(first <= start and end <= last for first, last in self._directives)

    def _resolve_alias(self, name: str) -> str:
        head, sep, rest = name.partition("::")
        target = self.aliases.get(head)
        return f"{target}{sep}{rest}" if target else name

    def _report_namespace(self, name: str, node: ts.Node) -> bool:
        found = self.index.lookup_scoped(name + "::_")  # any member: is the namespace a CUDA one?
        if found is None:
            return False
        self._add(found[0], name, node)
        return True

    # -- hits ----------------------------------------------------------------------------------
    def _judge(self, node: ts.Node) -> None:
        kind = node.type
        if kind == "comment":
            return
        if kind in _NAME_NODES:
            self._name(node)
        elif kind == "#include" and node.parent is not None and node.parent.type == "preproc_include":
            self._include(node.parent)
        elif kind == "__global__":
            definition = node.parent
            if definition is not None and definition.type == "function_definition":
                self._construct("kernel-definition", definition, f"__global__ {self._function_name(definition)}")
        elif kind == "<<<":
            call = _ancestor(node, _CALLS, 2)
            if call is not None:
                self._launch(call)
        elif kind == "launch_bounds" or kind == "__launch_bounds__":
            bounds = node if kind == "launch_bounds" else node.parent
            if bounds is not None:
                self._construct("launch-bounds", bounds, "__launch_bounds__")
        elif kind == "number_literal":
            self._number(node)
        elif kind == "preproc_arg":
            self._macro_value(node)
        elif kind in ("asm", "__asm__", "__asm", "gnu_asm_qualifier", "volatile"):
            asm = _ancestor(node, _ASM_EXPRESSIONS, 2)
            if asm is not None:
                self._asm(asm)

    def _name(self, node: ts.Node) -> None:
        parent = node.parent
        name = _text(node)
        if node.type == "field_identifier":
            call = parent.parent if parent is not None and parent.type == "field_expression" else None
            if parent is not None and call is not None and call.type == "call_expression" \
                    and call.child_by_field_name("function") == parent:
                for rule in self.index.methods.get(name, ()):
                    self._add(rule, f".{name}()", parent)
            return
        directive = _ancestor(node, _DIRECTIVES, 4) if self._in_directive(node) else None
        if directive is not None and (directive.type == "namespace_alias_definition"
                                      or any(c.type == "namespace" for c in directive.children)):
            return  # `_collect_namespaces` reports these statements once, as a whole
        self._warp_literals(node, name)
        if name in _REGISTRATION_MACROS or name in LIBRARY_IMPL_MACROS:
            self._registration(node, name)
        top, above = node, parent
        while above is not None and above.type in _NAME_PARTS:
            top, above = above, above.parent
        if top is not node and top.type == "qualified_identifier":
            parts = _scoped_parts(top)
            if parts is not None and self._scoped(parts, top):
                return
        if node.type == "namespace_identifier":
            return
        found = self.index.lookup_identifier(name)
        if found is not None:
            exact = found[0] is self.index.identifiers.get(name)
            if found[0].category == "kernel" and not self._in_device_code(node):
                return  # device functions (rsqrt, erfinv, __ldg) are only CUDA's inside device code
            if exact or not self._declared(name):
                self._add(found[0], found[1], node)
                self._spelled_mask(node, name)
            return
        for using in self.usings:  # exact names only: under ``using`` a bare name may come from anywhere
            full = f"{using}::{name}"
            scoped_rule = self.index.scoped.get(full)
            if scoped_rule is not None:
                self._add(scoped_rule, full, node)
                return

    def _scoped(self, parts: list[str], node: ts.Node) -> bool:
        if parts[0] == "":  # ``::at::cuda::x`` or ``::min``: no using-directive or alias applies
            name = "::".join(parts[1:])
            usings: list[str] = []
        else:
            name = self._resolve_alias("::".join(parts))
            usings = self.usings
        found = self.index.lookup_scoped(name)
        if found is not None:
            self._add(found[0], found[1], node)
            return True
        for using in usings:
            full = f"{using}::{name}"
            found = self.index.lookup_scoped(full)
            if found is None:
                continue
            # ``wmma::fragment`` under ``using namespace nvcuda`` reaches nvcuda::wmma, but ``std::min``
            # under ``using namespace at::cuda`` is std's: a namespace match must use a written part.
            rule = self.index.scoped.get(full)
            if rule is not None or self._prefix_length(full) > using.count("::") + 1:
                self._add(found[0], found[1], node)
                return True
        return False

    def _prefix_length(self, name: str) -> int:
        """Components of the longest CUDA namespace prefix of ``name`` (0 if none)."""
        parts = name.split("::")
        for size in range(len(parts) - 1, 0, -1):
            if "::".join(parts[:size]) in self.index.scoped_prefixes:
                return size
        return 0

    def _declared(self, name: str) -> bool:
        """The file declares ``name`` itself (a variable, parameter, macro, function, type...): the
        project's own name, not an API (see `declarations`)."""
        declared = self._defined.get(name)
        if declared is None:
            declared = self._defined[name] = declares(self.root, self.source, name)
        return declared

    def _include(self, include: ts.Node) -> None:
        path_node = include.child_by_field_name("path")
        if path_node is None:
            return
        path = _text(path_node).strip('<>"')
        found = self.index.lookup_include(path)
        if found is not None:
            self._add(found[0], path, path_node)

    # -- constructs ----------------------------------------------------------------------------
    def _construct(self, construct: str, node: ts.Node, symbol: str) -> None:
        for rule in self.index.constructs.get(construct, ()):
            self._add(rule, symbol, node)

    def _function_name(self, definition: ts.Node) -> str:
        declarator = definition.child_by_field_name("declarator")
        while declarator is not None and declarator.type not in ("function_declarator",):
            declarator = declarator.child_by_field_name("declarator")
        inner = declarator.child_by_field_name("declarator") if declarator is not None else None
        return _text(inner) or "kernel"

    def _launch(self, call: ts.Node) -> None:
        function = call.child_by_field_name("function")
        symbol = f"{_text(function)}<<<...>>>"
        enclosing = _ancestor(call, _FUNCTIONS)
        in_device_code = enclosing is not None and any(c.type in _DEVICE_QUALIFIERS for c in enclosing.children)
        if in_device_code and self.index.constructs.get("dynamic-parallelism"):
            self._construct("dynamic-parallelism", call, symbol)
        else:
            self._construct("kernel-launch", call, symbol)

    def _in_device_code(self, node: ts.Node) -> bool:
        """Inside a ``__device__``/``__global__`` function, or anywhere in a ``.cu``/``.cuh`` file.

        Inline assembly and all-ones masks are everyday CPU code too (x86/NEON/VSX helpers); only in
        device code do they mean PTX and warp lanes.
        """
        if self.cuda_source:
            return True
        enclosing = _ancestor(node, _FUNCTIONS)
        return enclosing is not None and any(c.type in _DEVICE_QUALIFIERS for c in enclosing.children)

    def _asm(self, asm: ts.Node) -> None:
        if not self._in_device_code(asm):
            return
        template = "".join(_text(c) for c in asm.named_children if c.type in ("string_literal", "concatenated_string"))
        if _AMD_ASM.search(template):
            return  # AMD GCN/CDNA assembly (a ROCm path the project already has), not PTX
        rules = self.index.constructs.get("inline-asm", ())
        specific = [r for r in rules if r.id in self.index.asm_patterns
                    and self.index.asm_patterns[r.id].search(template)]
        chosen = specific[:1] or [r for r in rules if r.id not in self.index.asm_patterns][:1]
        for rule in chosen:
            self._add(rule, "asm", asm)

    def _number(self, node: ts.Node) -> None:
        value = _text(node)
        if not _FULL_MASKS.match(value) or "full-lane-mask" not in self.index.constructs:
            return
        parent = node.parent
        call = parent.parent if parent is not None and parent.type == "argument_list" else None
        if call is not None and call.type == "call_expression":
            if _SYNC_INTRINSIC.match(_text(call.child_by_field_name("function"))):
                self._construct("full-lane-mask", node, value)
            return
        holder = _ancestor(node, _HOLDERS, 3)
        if holder is not None and self._in_device_code(node):
            target = holder.child_by_field_name("declarator") or holder.child_by_field_name("left")
            if "mask" in _text(target).lower():
                self._construct("full-lane-mask", node, value)

    def _spelled_mask(self, name_node: ts.Node, name: str) -> None:
        """``__shfl_xor_sync(uint32_t(-1), ...)``, ``__shfl_xor_sync(FINAL_MASK, ...)``: `lane_masks`."""
        call = name_node.parent
        if _SYNC_INTRINSIC.match(name) and call is not None and call.type == "call_expression" \
                and call.child_by_field_name("function") == name_node and "full-lane-mask" in self.index.constructs:
            mask = mask_argument(call, self.root, self.source, self._masks)
            if mask is not None:
                self._construct("full-lane-mask", mask, _text(mask))

    def _macro_value(self, value: ts.Node) -> None:
        """A ``#define`` body: raw text to the grammar, so its names are read as tokens (`macro_bodies`),
        and ``#define FULL_MASK 0xffffffff`` is judged by name and value."""
        definition = value.parent
        if definition is None or definition.type not in ("preproc_def", "preproc_function_def"):
            return
        self._macro_body(value, definition)
        if definition.type != "preproc_def":
            return
        name = _text(definition.child_by_field_name("name")).lower()
        body = _text(value).strip()
        if "mask" in name and _FULL_MASKS.match(body) and "full-lane-mask" in self.index.constructs \
                and self.cuda_source:
            self._construct("full-lane-mask", value, body)

    def _macro_body(self, value: ts.Node, definition: ts.Node) -> None:
        params = definition.child_by_field_name("parameters")
        names = frozenset(_text(p) for p in params.named_children) if params is not None else frozenset()
        body = self.source[value.start_byte:value.end_byte].decode("utf-8", "replace")
        for match in body_matches(self.index, body, names, self.cuda_source, self._declared):
            start = value.start_byte + len(body[:match.start].encode())
            end = value.start_byte + len(body[:match.end].encode())
            self._add(match.rule, match.symbol, value, (start, end))
            if match.joined:
                key = (match.rule.id, start, end)
                self.matches[key] = replace(self.matches[key], joined=self.matches[key].joined + match.joined)

    def _warp_literals(self, node: ts.Node, name: str) -> None:
        """Literal 32/31 next to lane arithmetic, or a warp-size constant defined as 32 (`warp_widths`)."""
        if "warp-size-literal" in self.index.constructs:
            for literal, symbol in warp_literals(node, name):
                self._construct("warp-size-literal", literal, symbol)

    def _registration(self, node: ts.Node, macro: str) -> None:
        if "torch-cuda-registration" not in self.index.constructs:
            return
        declarator = node.parent
        if declarator is None or declarator.type not in ("function_declarator", "call_expression"):
            return
        if macro in LIBRARY_IMPL_MACROS:
            args = declarator.child_by_field_name("parameters") or declarator.child_by_field_name("arguments")
            params = [_text(p).strip() for p in args.named_children] if args is not None else []
            if len(params) >= 2 and params[1] in CUDA_DISPATCH_KEYS:
                self._construct("torch-cuda-registration", declarator, f"{macro}({params[1]})")
        elif self.cuda_source:
            self._construct("torch-cuda-registration", declarator, macro)
