"""The libcst codemod: one pass over a file's concrete syntax tree that rewrites the nodes findings point
at, then LibCST's own import machinery adds what the new code needs and drops what it left unused.

Findings are located by their span (the tree-sitter analyzer already resolved names through imports,
so ``GradScaler`` from ``from torch.cuda.amp import GradScaler`` arrives as ``torch.cuda.amp.GradScaler``);
only nodes whose span a planned fix names are touched, so comments, strings and every other line keep
their bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from .names import Names, imports_binding, mentions, used_names
from .table import ACCELERATOR_GUARD, DEVICE_DEFINITION, Entry

#: A finding's span: (line, 0-based column, end line, 0-based end column), libcst's way of counting.
Span = tuple[int, int, int, int]
#: Names tried, in order, for the device variable a fix introduces; the first one the file never uses wins.
DEVICE_NAMES = ("DEVICE", "ACCELERATOR_DEVICE", "LOCKIN_DEVICE")
#: Where an expression needs no parentheses of its own.
_BARE_PARENTS = (cst.If, cst.While, cst.Assert, cst.Assign, cst.Return, cst.Arg, cst.AnnAssign, cst.IfExp)


@dataclass
class Planned:
    """Fixes for one file: span -> (entry, finding key) and the plugin import a vendor target needs."""

    fixes: dict[Span, Entry]
    plugin: str | None = None
    applied: set[Span] = field(default_factory=set)
    #: Notebooks: what earlier cells bound (cells share one namespace), names to avoid, and after
    #: fixing, the torch alias and device variable this cell leaves for the next ones.
    torch: str | None = None
    device: str | None = None
    taken: frozenset[str] = frozenset()


class FixError(Exception):
    """The file could not be fixed (it does not parse for libcst, or the result would not parse)."""


def span_of(code_range: CodeRange) -> Span:
    return (code_range.start.line, code_range.start.column, code_range.end.line, code_range.end.column)


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, plan: Planned, torch: str, device: str, context: CodemodContext,
                 modules: Mapping[str, str]) -> None:
        super().__init__()
        self.plan = plan
        self.torch = torch
        # Longest first, so torch.distributed.c10d would win over torch.distributed.
        self.modules = sorted(modules.items(), key=lambda item: -len(item[0]))
        self.device = device
        self.context = context
        self.used_device = False
        self.in_import = 0
        self.guarded_lines: set[int] = set()  # id() of statement lines whose only call needs an `if`
        self.replaced_roots: set[str] = set()

    # -- helpers -----------------------------------------------------------------------------------
    def _entry(self, node: cst.CSTNode, kinds: Sequence[str]) -> tuple[Span, Entry] | None:
        span = span_of(self.get_metadata(PositionProvider, node))
        entry = self.plan.fixes.get(span)
        return (span, entry) if entry is not None and entry.kind in kinds else None

    def _entry_at(self, node: cst.CSTNode, kinds: Sequence[str]) -> tuple[Span, Entry] | None:
        """`_entry` for the node, or for its attribute's name: a method or attribute finding is placed
        at the name (`.cuda` of a chain split over lines is reported at `cuda`)."""
        found = self._entry(node, kinds)
        if found is None and isinstance(node, cst.Attribute):
            found = self._entry(node.attr, kinds)
        if found is None and isinstance(node, cst.Attribute):
            # A qualified name split over lines is reported from its first CUDA component
            # (``torch`` / ``.cuda`` / ``.synchronize()`` from ``cuda``): its span ends where the node does.
            end = self.get_metadata(PositionProvider, node).end
            inner: cst.BaseExpression = node.value
            while found is None and isinstance(inner, cst.Attribute):
                start = self.get_metadata(PositionProvider, inner.attr).start
                entry = self.plan.fixes.get((start.line, start.column, end.line, end.column))
                if entry is not None and entry.kind in kinds:
                    found = ((start.line, start.column, end.line, end.column), entry)
                inner = inner.value
        return found

    def _expr(self, template: str, **extra: str) -> cst.BaseExpression:
        """The template as an expression; a submodule the file imports under a name is spelled with
        it (``dist.is_backend_available``), which also keeps that import in use."""
        if "{device}" in template:
            self.used_device = True
        text = template.format(torch="torch", device=self.device, **extra)
        for module, name in self.modules:
            text = re.sub(rf"\b{re.escape(module)}\.", name + ".", text)
        return cst.parse_expression(re.sub(r"\btorch\.", self.torch + ".", text) if self.torch != "torch" else text)

    def _note_root(self, node: cst.BaseExpression) -> None:
        while isinstance(node, (cst.Attribute, cst.Call)):
            node = node.value if isinstance(node, cst.Attribute) else node.func
        if isinstance(node, cst.Name) and node.value != self.torch:
            self.replaced_roots.add(node.value)

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        try:
            return self.get_metadata(ParentNodeProvider, node)
        except KeyError:
            return None

    def _wrap(self, original: cst.CSTNode, expr: cst.BaseExpression) -> cst.BaseExpression:
        """Parentheses around a new compound expression unless its place makes them needless."""
        if isinstance(self._parent(original), _BARE_PARENTS):
            return expr
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    def _arg(self, text: str) -> cst.Arg:
        name, sep, value = text.partition("=")
        if sep and name.isidentifier():
            return cst.Arg(self._expr(value), keyword=cst.Name(name),
                           equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
        return cst.Arg(self._expr(text))

    def _args(self, entry: Entry, args: Sequence[cst.Arg]) -> list[cst.Arg] | None:
        """The call's arguments under the entry's policy, or None when it cannot keep their meaning."""
        if entry.args == "none" and args:
            return None
        if entry.args == "positional" and any(a.keyword is not None for a in args):
            return None
        if any(a.star for a in args):
            return None
        kept: list[cst.Arg] = []
        for position, arg in enumerate(args):
            if arg.keyword is None and entry.positional_as:
                if position >= len(entry.positional_as):
                    return None
                arg = arg.with_changes(keyword=cst.Name(entry.positional_as[position]),
                                       equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
            if entry.keywords is not None and (arg.keyword is None or arg.keyword.value not in entry.keywords):
                return None
            kept.append(arg)
        inserted = [self._arg(text) for text in entry.insert]
        if inserted and kept:
            inserted[-1] = inserted[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return inserted + kept

    # -- imports are left alone (their names go with their last use) ---------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        self.in_import += 1

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        self.in_import -= 1
        return updated_node

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.in_import += 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        self.in_import -= 1
        return updated_node

    # -- calls: new callee and arguments, guards ---------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        found = self._entry_at(original_node.func, ("call", "method", "rename-method"))
        if found is None:
            return updated_node
        span, entry = found
        if entry.kind == "rename-method":
            if not isinstance(updated_node.func, cst.Attribute):
                return updated_node
            self.plan.applied.add(span)
            return updated_node.with_changes(func=updated_node.func.with_changes(attr=cst.Name(entry.template)))
        args = self._args(entry, updated_node.args)
        if args is None:
            return updated_node
        if entry.kind == "method":
            if not isinstance(updated_node.func, cst.Attribute):
                return updated_node
            func: cst.BaseExpression = updated_node.func.with_changes(attr=cst.Name("to"))
            args = [self._arg(entry.template)] + list(args)
            if len(args) > 1:
                args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        else:
            self._note_root(original_node.func)
            func = self._expr(entry.template)
        self.plan.applied.add(span)
        call = updated_node.with_changes(func=func, args=args)
        if entry.guard is None:
            return call
        guard = self._expr(ACCELERATOR_GUARD)
        line = self._statement_of(original_node) if entry.guard == "statement" else None
        if line is not None:
            self.guarded_lines.add(id(line))
            return call
        default = cst.parse_expression(entry.guard if entry.guard != "statement" else "None")
        return self._wrap(original_node, cst.IfExp(test=guard, body=call, orelse=default))

    def _statement_of(self, node: cst.Call) -> cst.SimpleStatementLine | None:
        """The statement line a call is alone on (``torch.cuda.synchronize()``), if it is."""
        expr = self._parent(node)
        line = self._parent(expr) if expr is not None else None
        if isinstance(expr, cst.Expr) and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            return line
        return None

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                  updated_node: cst.SimpleStatementLine) -> cst.BaseStatement:
        if id(original_node) not in self.guarded_lines:
            return updated_node
        body = updated_node.with_changes(leading_lines=())
        return cst.If(test=self._expr(ACCELERATOR_GUARD), body=cst.IndentedBlock([body]),
                      leading_lines=updated_node.leading_lines)

    # -- references and attributes -----------------------------------------------------------------
    def _reference(self, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        if self.in_import:
            return updated
        found = self._entry_at(original, ("reference", "attribute", "rename-attribute"))
        if found is None:
            return updated
        span, entry = found
        if entry.kind in ("rename-attribute", "attribute") and (
                not isinstance(updated, cst.Attribute) or self._is_target(original)):
            return updated
        self.plan.applied.add(span)
        if entry.kind == "rename-attribute":
            assert isinstance(updated, cst.Attribute)
            return updated.with_changes(attr=cst.Name(entry.template))
        if entry.kind == "attribute":
            assert isinstance(updated, cst.Attribute)
            receiver = cst.Module([]).code_for_node(updated.value)
            return self._wrap(original, self._expr(entry.template, recv=receiver))
        self._note_root(original)
        return self._expr(entry.template)

    def _is_target(self, node: cst.CSTNode) -> bool:
        """``self.is_cuda = ...`` names the program's own attribute: it is assigned, not read."""
        parent = self._parent(node)
        if isinstance(parent, (cst.AssignTarget, cst.Del)):
            return True
        return isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._reference(original_node, updated_node)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._reference(original_node, updated_node)

    # -- strings --------------------------------------------------------------------------------------
    def leave_SimpleString(self, original_node: cst.SimpleString,
                           updated_node: cst.SimpleString) -> cst.BaseExpression:
        found = self._entry(original_node, ("string", "rename-string"))
        if found is None or original_node.evaluated_value not in found[1].values:
            return updated_node
        span, entry = found
        self.plan.applied.add(span)
        if entry.kind == "rename-string":
            quote = original_node.quote
            return updated_node.with_changes(value=f"{original_node.prefix}{quote}{entry.template}{quote}")
        return self._expr(entry.template)


    def leave_FormattedString(self, original_node: cst.FormattedString,
                              updated_node: cst.FormattedString) -> cst.BaseExpression:
        found = self._entry(original_node, ("fstring", "rename-fstring"))
        parts = updated_node.parts
        if found is None or not parts or not isinstance(parts[0], cst.FormattedStringText):
            return updated_node
        span, entry = found
        prefix = next((v for v in entry.values if parts[0].value.startswith(v)), None)
        if prefix is None:
            return updated_node
        self.plan.applied.add(span)
        rest = parts[0].value[len(prefix) - 1:]  # keeps the ":"
        if entry.kind == "rename-fstring":
            return updated_node.with_changes(parts=[cst.FormattedStringText(entry.template + rest), *parts[1:]])
        device_type = cst.FormattedStringExpression(self._expr(entry.template))
        return updated_node.with_changes(parts=[device_type, cst.FormattedStringText(rest), *parts[1:]])


def fix_module(source: str, plan: Planned) -> str:
    """The fixed text of one Python module (``plan.applied`` says which spans were rewritten)."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise FixError(f"line {exc.raw_line}:{exc.raw_column + 1}: cannot parse for fixing ({exc.message})") from None
    names = Names()
    module.visit(names)
    context = CodemodContext()
    had_torch = names.torch or plan.torch
    torch = had_torch or "torch"
    taken = names.names | plan.taken
    device = plan.device or next((n for n in DEVICE_NAMES if n not in taken), f"DEVICE_{len(taken)}")
    rewriter = _Rewriter(plan, torch, device, context, names.modules)
    fixed = MetadataWrapper(module).visit(rewriter)
    plan.torch = torch if had_torch or plan.applied else None
    if not plan.applied:
        return source
    needed = sorted(name for name in {plan.plugin, *_roots(plan)} if name and name != "torch") + (
        ["torch"] if had_torch is None and mentions(fixed, "torch") else [])
    for name in needed:
        AddImportsVisitor.add_needed_import(context, str(name))
    # Each visitor costs a pass with scope analysis (the dearest part of fixing a big file): only
    # when there is an import to add or one that may have become unused.
    unused = imports_binding(module, rewriter.replaced_roots - used_names(fixed))
    if needed:
        fixed = AddImportsVisitor(context).transform_module(fixed)
    if unused:
        fixed = RemoveImportsVisitor(context, unused).transform_module(fixed)
    if rewriter.used_device and plan.device is None:
        fixed = _define_device(fixed, device, torch)
        plan.device = device
    return fixed.code


def _roots(plan: Planned) -> set[str]:
    """Modules a vendor rename's replacement is rooted at (``torch_npu.npu.synchronize``)."""
    return {entry.template.split(".")[0] for span, entry in plan.fixes.items()
            if span in plan.applied and entry.kind == "reference" and not entry.template.startswith("{")}


def _define_device(module: cst.Module, device: str, torch: str) -> cst.Module:
    """``DEVICE = ...`` once, after the docstring, ``__future__`` and the leading imports."""
    definition = cst.parse_statement(f"{device} = " + DEVICE_DEFINITION.format(torch=torch) + "\n")
    body = list(module.body)
    position = 0
    for index, statement in enumerate(body):
        if isinstance(statement, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) or (index == 0 and isinstance(s, cst.Expr)
                                                                 and isinstance(s.value, cst.SimpleString))
                for s in statement.body):
            position = index + 1
            continue
        break
    body.insert(position, definition.with_changes(leading_lines=[cst.EmptyLine()] if position else []))
    return module.with_changes(body=body)


def plan_for(fixes: Mapping[Span, Entry], plugin: str | None) -> Planned:
    return Planned(dict(fixes), plugin)
