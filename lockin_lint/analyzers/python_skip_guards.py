"""Tests that pytest runs only off CUDA (ROCm-only tests): their code is that platform's code.

vLLM guards its ROCm tests with a skip rather than a branch: ``@pytest.mark.skipif(not
current_platform.is_rocm(), reason="only test quick allreduce for rocm")`` on the test, whose body
and helpers then spell ``torch.device(f"cuda:{rank}")`` and ``backend="nccl"`` (RCCL on ROCm). In
an ``if current_platform.is_rocm():`` branch `python_dispatch` drops such matches: code only another
platform runs is not CUDA lock-in. An independent judge called the same code under a skip false
(docs/validation.md, seed 7171), so this pass reads the skips as that branch:

- ``@pytest.mark.skipif(COND, ...)`` / ``@unittest.skipIf(COND, ...)`` on a function or class (the
  test runs where COND is false), ``@unittest.skipUnless(COND, ...)`` (where it is true);
- ``pytestmark = pytest.mark.skipif(COND, ...)`` (or a list of marks) for the module's tests
  (``test*`` functions, ``Test*`` classes);
- ``if COND: pytest.skip(...)`` in a block (``allow_module_level=True`` at module level): the rest
  of the block runs where COND is false;
- a module-level function whose every use in the file (calls, ``target=f``, ``parametrize`` lists)
  is in such a test: a helper of those tests only.

Only a guard whose platforms leave CUDA out drops anything: a test skipped off CUDA (``skipif(not
torch.cuda.is_available())``) is CUDA lock-in and stays reported. A condition `python_dispatch`
cannot read guards nothing. What a file cannot see stays a limit: a helper another test module
imports and calls with no skip would lose its findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import tree_sitter as ts

from .matching import RawMatch, node_text
from .python_platform_tests import classify

Platforms = frozenset[str]
_SKIP_CALL = re.compile(r"^(?:pytest\.)?skip$")
_SKIP_IF = re.compile(r"^(?:(?:pytest\.)?mark\.skipif|(?:unittest\.)?skipIf)$")
_SKIP_UNLESS = re.compile(r"^(?:unittest\.)?skipUnless$")
_DEFINITIONS = frozenset({"function_definition", "class_definition"})


def _where(condition: ts.Node | None, true: bool) -> Platforms | None:
    """The platforms where ``condition`` is ``true`` (or false), when the dispatch reads it as a
    branch for the platforms it names (``not is_rocm()`` false: ROCm; not ``is_cuda()`` false, which
    is every platform but one)."""
    test = classify(condition)
    if not true:
        test = test.negated()
    return test.may if test.known and test.may <= test.named else None


def _argument(call: ts.Node, keyword: str) -> ts.Node | None:
    """A call's first positional argument, or its ``keyword=`` one."""
    args = call.child_by_field_name("arguments")
    for arg in args.named_children if args is not None else []:
        if arg.type == "keyword_argument":
            if node_text(arg.child_by_field_name("name")) == keyword:
                return arg.child_by_field_name("value")
        elif arg.type != "comment":
            return arg
    return None


def _mark_runs_on(mark: ts.Node) -> Platforms | None:
    """Where a skip mark (``pytest.mark.skipif(COND, ...)``, ``unittest.skipUnless(COND, ...)``) lets
    its test run, when it reads as a platform test."""
    if mark.type != "call":
        return None
    function = node_text(mark.child_by_field_name("function")).replace(" ", "")
    if _SKIP_IF.match(function):
        return _where(_argument(mark, "condition"), False)
    if _SKIP_UNLESS.match(function):
        return _where(_argument(mark, "condition"), True)
    return None


def _meet(found: Platforms | None, more: Platforms | None) -> Platforms | None:
    return more if found is None else found if more is None else found & more


def _decorated_runs_on(definition: ts.Node) -> Platforms | None:
    """Where the skip decorators of ``definition`` (every one of them applies) let it run."""
    holder = definition.parent
    found = None
    if holder is not None and holder.type == "decorated_definition":
        for decorator in holder.named_children:
            if decorator.type == "decorator" and decorator.named_children:
                found = _meet(found, _mark_runs_on(decorator.named_children[0]))
    return found


def _off_cuda(platforms: Platforms | None) -> bool:
    return platforms is not None and "cuda" not in platforms


def _skip_statement(stmt: ts.Node) -> Platforms | None:
    """``if COND: pytest.skip(...)`` with nothing else in its body and no ``else``: where the rest
    of the block runs."""
    if stmt.type != "if_statement" or stmt.children_by_field_name("alternative"):
        return None
    body = stmt.child_by_field_name("consequence")
    inside = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    if len(inside) != 1 or inside[0].type != "expression_statement" or not inside[0].named_children:
        return None
    call = inside[0].named_children[0]
    if call.type != "call" or not _SKIP_CALL.match(node_text(call.child_by_field_name("function")).replace(" ", "")):
        return None
    return _where(stmt.child_by_field_name("condition"), False)


def _definition(stmt: ts.Node) -> ts.Node | None:
    """The function or class a module-level statement defines (through its decorators)."""
    if stmt.type == "decorated_definition":
        stmt = stmt.child_by_field_name("definition") or stmt
    return stmt if stmt.type in _DEFINITIONS else None


def _identifiers(node: ts.Node) -> Iterator[ts.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            yield current
        elif current.type not in ("string", "comment"):
            stack.extend(current.named_children)


class _Module:
    """One file's skip guards: definitions and block positions that run off CUDA only."""

    def __init__(self, root: ts.Node) -> None:
        self._blocks: dict[int, list[int]] = {}  # block -> end bytes of its skips off CUDA
        self.guarded: dict[int, Platforms] = {}  # module-level definition -> where it runs
        statements = [s for s in root.named_children if s.type != "comment"]
        marked = None
        for stmt in statements:
            marked = _meet(marked, _pytestmark(stmt))
        tops = [d for d in (_definition(s) for s in statements) if d is not None]
        for definition in tops:
            platforms = _decorated_runs_on(definition)
            name = node_text(definition.child_by_field_name("name"))
            if name.startswith("test" if definition.type == "function_definition" else "Test"):
                platforms = _meet(platforms, marked)
            if platforms is not None and _off_cuda(platforms):
                self.guarded[definition.id] = platforms
        if self.guarded:
            self._helpers(root, [d for d in tops if d.type == "function_definition" and d.id not in self.guarded])

    def _helpers(self, root: ts.Node, candidates: list[ts.Node]) -> None:
        """Add the functions whose every use in the file is inside a guarded definition."""
        names = {node_text(d.child_by_field_name("name")): d for d in candidates}
        uses: dict[str, list[ts.Node]] = {}
        for identifier in _identifiers(root):
            name = node_text(identifier)
            if name in names and identifier != names[name].child_by_field_name("name"):
                uses.setdefault(name, []).append(identifier)
        changed = True
        while changed:
            changed = False
            for name, definition in names.items():
                if definition.id in self.guarded or not uses.get(name):
                    continue
                users = [self._user(identifier) for identifier in uses[name]]
                if all(user is not None and user.id in self.guarded for user in users):
                    self.guarded[definition.id] = frozenset().union(*(self.guarded[u.id] for u in users if u))
                    changed = True

    @staticmethod
    def _user(identifier: ts.Node) -> ts.Node | None:
        """The module-level definition a use sits in (its decorators included), if any."""
        node = identifier
        while node.parent is not None and node.parent.parent is not None:
            node = node.parent
        return _definition(node)

    def skipped_after(self, block: ts.Node, child: ts.Node) -> bool:
        """Is ``child`` (a statement of ``block``) after an ``if COND: pytest.skip(...)`` off CUDA?"""
        ends = self._blocks.get(block.id)
        if ends is None:
            ends = self._blocks[block.id] = [s.end_byte for s in block.named_children
                                             if s.type == "if_statement" and _off_cuda(_skip_statement(s))]
        return any(end <= child.start_byte for end in ends)

    def off_cuda(self, node: ts.Node) -> bool:
        """Does ``node`` run only in a test (or test helper) that pytest runs off CUDA?"""
        child, parent = node, node.parent
        while parent is not None:
            if parent.type in ("block", "module") and self.skipped_after(parent, child):
                return True
            if parent.type in _DEFINITIONS and child == parent.child_by_field_name("body"):
                if parent.id in self.guarded or _off_cuda(_decorated_runs_on(parent)):
                    return True
            child, parent = parent, parent.parent
        return False


def _pytestmark(stmt: ts.Node) -> Platforms | None:
    """``pytestmark = pytest.mark.skipif(...)`` (or a list of marks): where the module's tests run."""
    assignment = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_children else None
    if assignment is None or assignment.type != "assignment" or \
            node_text(assignment.child_by_field_name("left")) != "pytestmark":
        return None
    value = assignment.child_by_field_name("right")
    marks = value.named_children if value is not None and value.type in ("list", "tuple") else [value]
    found = None
    for mark in marks:
        if mark is not None:
            found = _meet(found, _mark_runs_on(mark))
    return found


def drop_skipped_off_cuda(raw: list[RawMatch], source: bytes) -> list[RawMatch]:
    """``raw`` without the matches in tests that pytest (or unittest) runs only off CUDA."""
    if not raw or b"skip" not in source:
        return raw
    root = raw[0].node
    while root.parent is not None:
        root = root.parent
    module = _Module(root)
    return [m for m in raw if not module.off_cuda(m.node)]
