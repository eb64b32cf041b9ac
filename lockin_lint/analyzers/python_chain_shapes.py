"""Four shapes around a CUDA test whose meaning the branch reading (`python_dispatch`) gets wrong.

Independent judges of the fourth round (docs/validation.md, #11) found these left in the dispatch
notes; each is read here, narrowly, and a shape not recognised changes nothing:

- a CUDA availability value that *is* the CPU handling: DeepSpeed's ``self.build_for_cpu = not
  torch.cuda.is_available()`` sets the flag its CPU build branches on, so cpu is handled by the very
  line (`cpu_flag_set`);
- a generic ``torch.accelerator`` branch earlier in the function (bitsandbytes'
  ``_current_accelerator_type``: ``if hasattr(torch, "accelerator") and
  torch.accelerator.is_available(): return str(torch.accelerator.current_accelerator())`` before the
  ``xpu`` and ``cuda`` tests): every accelerator is answered there, and the CUDA code after it is
  reached only without one (`accelerator_before`);
- a chain with no ``else`` whose fall-through crashes (accelerate's ``TorchTracemalloc``: ``self.begin``
  is set in the ``cuda`` / ``xpu`` / ``npu`` branches only, and read in ``__exit__``): no CPU fallback
  (`crashes_without`);
- a CUDA test guarding only a skip or a failure (bitsandbytes' ``if device == "cuda" and ...:
  pytest.xfail("regression ... CUDA")``, accelerate's RTX 4000 P2P/IB check): every other target
  rightly passes it and there is nothing to port, so each is handled, with a note saying so rather
  than silence (`cuda_only_skip`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import tree_sitter as ts

from ..model import TARGETS
from .findings import CPU_FALLBACK
from .matching import descendants, node_text
from .python_cuda_branches import (CUDA_ONLY_KEYWORD, CUDA_ONLY_OPTION, INSIDE_CUDA_BRANCH, cuda_branch_around,
                                   cuda_only_keyword, cuda_only_option, if_of_test, operands)
from .python_mentions import branch_bodies, only_diagnostic_statement
from .python_other_paths import device_agnostic, note_line
from .python_platform_tests import CUDA_BUILDS
from .python_receivers import enclosing, statements
from .python_scoped_exits import cuda_exit_then_arch_check, nvidia_build_branch

#: The platforms a condition is true on when it reads as a platform test, else None.
PlatformsOf = Callable[[ts.Node | None], frozenset[str] | None]
_EXPRESSIONS = frozenset({"call", "attribute", "not_operator", "parenthesized_expression", "argument_list",
                          "boolean_operator", "comparison_operator", "subscript"})
#: How `Finding.handled` names the paths read here, each followed by where (``(builder.py:578)``).
CPU_FLAG = "CPU-build flag set here"
ACCELERATOR = "torch.accelerator branch before it"
CUDA_ONLY_SKIP = "CUDA-only skip or check"
_ACCELERATOR_PARTS = (re.compile(r"^torch\.accelerator\.is_available\(\)$"),
                      re.compile(r"""^hasattr\(torch,(["'])accelerator\1\)$"""))
_SKIPS = frozenset({"skip", "xfail", "skipTest"})


def chain_notes(node: ts.Node, notes: dict[str, str], path: str, platforms_of: PlatformsOf,
                cuda_test: Callable[[ts.Node | None], bool]) -> dict[str, str]:
    """``notes`` (target -> how the dispatch handles it) with what the shapes above add for the match
    at ``node``; a target a branch names keeps its note."""
    added: dict[str, str] = {}
    flag = cpu_flag_set(node, platforms_of)
    if flag is not None:
        added["cpu"] = f"{CPU_FLAG} ({path}:{note_line(flag)})"
    skip = cuda_only_skip(node, cuda_test)
    outer = cuda_branch_around(node, cuda_test)
    outer_test = outer.child_by_field_name("condition") if outer is not None and outer.type == "if_statement" else None
    if skip is None and outer_test is not None:
        # DeepSpeed's `skip_on_arch`: the CUDA capability test inside the skipping branch is part of it.
        skip = cuda_only_skip(outer_test, cuda_test)
    if skip is None:
        # A test file's `if not <CUDA>: return` then an arch check that only leaves (`python_scoped_exits`).
        skip = cuda_exit_then_arch_check(node, path)
    if skip is not None:
        added |= dict.fromkeys((t for t in TARGETS if t != "rocm"), f"{CUDA_ONLY_SKIP} ({path}:{note_line(skip)})")
    option = cuda_only_option(node, cuda_test) if skip is None else None
    if option is not None:
        added |= dict.fromkeys((t for t in TARGETS if t != "rocm"), f"{CUDA_ONLY_OPTION} ({path}:{note_line(option)})")
    keyword = cuda_only_keyword(node, cuda_test) if skip is None and option is None else None
    if keyword is not None:
        added |= dict.fromkeys((t for t in TARGETS if t != "rocm"),
                               f"{CUDA_ONLY_KEYWORD} ({path}:{note_line(keyword)})")
    branch = accelerator_before(node)
    if branch is not None:
        for target in TARGETS:
            if target not in ("cpu", "rocm"):
                added.setdefault(target, f"{ACCELERATOR} ({path}:{note_line(branch)})")
    ternary = accelerator_ternary(node)
    if ternary is not None:
        only_hasattr = all(_ACCELERATOR_PARTS[1].match(node_text(part).replace(" ", ""))
                           for part in _conjuncts(ternary.named_children[1]))
        for target in TARGETS:
            if target != "rocm" and (target != "cpu" or only_hasattr):
                added.setdefault(target, f"{ACCELERATOR} ({path}:{note_line(ternary)})")
    if outer is not None and nvidia_build_branch(outer, path, platforms_of):
        # A build script's `if _is_cuda():` no other target's build enters (`python_scoped_exits`).
        for target in TARGETS:
            added.setdefault(target, f"{INSIDE_CUDA_BRANCH} ({path}:{note_line(outer)})")
    elif outer is not None and notes.get("cpu") == CPU_FALLBACK:
        added.setdefault("cpu", f"{INSIDE_CUDA_BRANCH} ({path}:{note_line(outer)})")
    return notes | {t: how for t, how in added.items() if notes.get(t, CPU_FALLBACK) == CPU_FALLBACK}


def _expression_top(node: ts.Node) -> tuple[ts.Node, ts.Node | None]:
    """The outermost expression around ``node`` and the node above it."""
    child, parent = node, node.parent
    while parent is not None and parent.type in _EXPRESSIONS:
        child, parent = parent, parent.parent
    return child, parent


def cpu_flag_set(node: ts.Node, platforms_of: PlatformsOf) -> ts.Node | None:
    """The assignment ``<CPU flag> = not <CUDA test>`` whose value ``node`` is part of (DeepSpeed's
    ``self.build_for_cpu = not torch.cuda.is_available()``; ``use_cpu``, ``cpu_only`` alike): the
    test decides the CPU build, so it handles cpu. Not a flag that names no platform (``no_gpu``) or
    another one (``cpu_offload`` is none), nor a value that is not the negated CUDA test."""
    value, stmt = _expression_top(node)
    if stmt is None or stmt.type != "assignment" or stmt.child_by_field_name("right") != value:
        return None
    if value.type != "not_operator":
        return None
    tested = platforms_of(value.child_by_field_name("argument"))
    if tested is None or not tested <= CUDA_BUILDS:
        return None
    return stmt if platforms_of(stmt.child_by_field_name("left")) == frozenset({"cpu"}) else None


def _conjuncts(node: ts.Node | None) -> list[ts.Node]:
    return operands(node, "and")


def _accelerator_test(condition: ts.Node | None) -> bool:
    """``torch.accelerator.is_available()`` or ``hasattr(torch, "accelerator")``, alone or and-ed."""
    return condition is not None and bool(_conjuncts(condition)) and all(
        any(p.match(node_text(part).replace(" ", "")) for p in _ACCELERATOR_PARTS) for part in _conjuncts(condition))


def accelerator_before(node: ts.Node) -> ts.Node | None:
    """An earlier branch of ``node``'s function for whatever accelerator torch reports, when ``node``
    runs only past it: a lone ``if`` on `_accelerator_test` whose device-agnostic body ends in a
    return, before ``node``'s statement in a block around it, or an earlier clause of the
    if/elif chain ``node`` is in a later clause of. Not such a branch after ``node``, nor one whose
    body spells CUDA or does not return."""
    function = enclosing(node, "function_definition")
    child, parent = node, node.parent
    while parent is not None and parent != function:
        if parent.type == "block":
            for stmt in parent.named_children:
                if stmt.start_byte >= child.start_byte:
                    break
                if stmt.type == "if_statement" and not stmt.children_by_field_name("alternative") \
                        and _accelerator_test(stmt.child_by_field_name("condition")) and _returns_agnostic(stmt):
                    return stmt
        if parent.type in ("elif_clause", "else_clause") and parent.parent is not None:
            chain = parent.parent
            if _accelerator_test(chain.child_by_field_name("condition")) \
                    and device_agnostic(_body_statements(chain.child_by_field_name("consequence"))):
                return chain
        child, parent = parent, parent.parent
    return None


def accelerator_ternary(node: ts.Node) -> ts.Node | None:
    """The conditional expression ``X if <accelerator test> else <node>`` ``node`` is the whole
    ``else`` value of, with ``X`` device-agnostic (bitsandbytes' ``device_type =
    torch.accelerator.current_accelerator().type if hasattr(torch, "accelerator") else "cuda"``): the
    expression form of `accelerator_before`'s chain, ``node`` reached only on a torch without
    ``torch.accelerator``. Not another test, nor an ``X`` that spells CUDA, nor ``node`` in ``X``."""
    parent = node.parent
    if parent is None or parent.type != "conditional_expression" or parent.named_child_count != 3:
        return None
    value, test, other = parent.named_children
    if other != node or not _accelerator_test(test) or not device_agnostic([value]):
        return None
    return parent


def _body_statements(body: ts.Node | None) -> list[ts.Node]:
    return [s for s in body.named_children if s.type != "comment"] if body is not None else []


def _returns_agnostic(stmt: ts.Node) -> bool:
    body = _body_statements(stmt.child_by_field_name("consequence"))
    return bool(body) and body[-1].type == "return_statement" and device_agnostic(body)


def cuda_only_skip(node: ts.Node, cuda_test: Callable[[ts.Node | None], bool]) -> ts.Node | None:
    """The ``if`` (no ``elif``; an ``else`` only if it only asserts, `_only_checks`) whose test
    ``node`` is part of, when that test is a positive CUDA test (``cuda_test``: ``device == "cuda"``,
    alone or and-ed with conditions naming no platform) and its body only skips or fails
    (`_skips_or_fails`). Not a negated test (``if not torch.cuda.is_available(): pytest.skip(...)``
    is a test that needs CUDA), nor a body that does anything else."""
    found = if_of_test(node)
    if found is None:
        return None
    parent, child = found
    alternatives = parent.children_by_field_name("alternative")
    if len(alternatives) > 1 or (alternatives and not _only_checks(alternatives[0])) or not cuda_test(child):
        return None
    return parent if _skips_or_fails(parent.child_by_field_name("consequence"), parent) else None


def _only_checks(alternative: ts.Node) -> bool:
    """An ``else`` that only asserts and returns nothing (DeepSpeed's ``skip_on_cuda``: ``else: assert
    is_current_accelerator_supported(); return``): every other target passes the check as it would
    pass no ``else`` at all; not an ``elif``, nor an ``else`` that does anything else."""
    body = _body_statements(alternative.child_by_field_name("body")) if alternative.type == "else_clause" else []
    return bool(body) and any(s.type == "assert_statement" for s in body) and all(
        s.type in ("assert_statement", "pass_statement") or (s.type == "return_statement" and not s.named_children)
        or only_diagnostic_statement(s) for s in body)


def _skips_or_fails(body: ts.Node | None, stmt: ts.Node | None = None) -> bool:
    """Does ``body`` only raise, skip or xfail a test (``pytest.skip``, ``self.skipTest``), perhaps
    under further tests or beside a message, and at least once? In the body of the if statement
    ``stmt``, locals bound for those tests (``CUDA_VERSION = ...``, read nowhere after ``stmt``) too."""
    found = False
    for one in _body_statements(body):
        if one.type == "raise_statement" or _skip_call(one):
            found = True
        elif one.type == "if_statement":
            bodies = branch_bodies(one)
            if not all(_skips_or_fails(b) for b in bodies):
                return False
            found = True
        elif stmt is not None and _local_for_the_test(one, stmt):
            continue
        elif one.type == "pass_statement" or not only_diagnostic_statement(one):
            return False
    return found


def _local_for_the_test(one: ts.Node, stmt: ts.Node) -> bool:
    """Is ``one`` an assignment to plain local names (``CUDA_MAJOR, CUDA_MINOR = ...``) of a function
    that reads none of them after ``stmt`` and declares none ``global``?"""
    assignment = one.named_children[0] if one.type == "expression_statement" and one.named_child_count == 1 else None
    left = assignment.child_by_field_name("left") if assignment is not None and assignment.type == "assignment" else None
    function = enclosing(stmt, "function_definition")
    if left is None or function is None or left.type not in ("identifier", "pattern_list", "tuple_pattern") \
            or any(n.type not in ("identifier", "pattern_list", "tuple_pattern") for n in descendants(left)):
        return False
    names = {node_text(n) for n in descendants(left) if n.type == "identifier"}
    after = node_text(function)[stmt.end_byte - function.start_byte:]
    return not any(re.search(rf"\b{re.escape(name)}\b", after) for name in names) and not re.search(
        r"\b(global|nonlocal)\b", node_text(function))


def _skip_call(stmt: ts.Node) -> bool:
    if stmt.type != "expression_statement" or stmt.named_child_count != 1 or stmt.named_children[0].type != "call":
        return False
    function = stmt.named_children[0].child_by_field_name("function")
    return function is not None and node_text(function).rsplit(".", 1)[-1] in _SKIPS


def crashes_without(stmt: ts.Node, platform_test: Callable[[ts.Node], bool]) -> bool:
    """Does the if/elif chain ``stmt``, which has no ``else``, bind in every branch a name or
    ``self`` attribute that nothing else binds and that is read elsewhere (accelerate's
    ``TorchTracemalloc.__enter__`` sets ``self.begin`` for cuda / xpu / npu, ``__exit__`` subtracts
    it)? Then the path past the chain fails instead of running on the CPU: no fallback. A name bound
    before the chain, by the class body or another method, or touched by ``hasattr``/``getattr``,
    keeps the fallback; a binding in a branch of another platform chain with no ``else``
    (``__exit__``'s own ``elif is_mlu_available(): self.begin = ...``; ``platform_test`` says which
    tests are) is as partial as this one and does not."""
    if any(a.type == "else_clause" for a in stmt.children_by_field_name("alternative")):
        return False
    bound: set[str] | None = None
    for body in branch_bodies(stmt):
        names = {node_text(s.named_children[0].child_by_field_name("left"))
                 for s in _body_statements(body) if s.type == "expression_statement" and s.named_child_count == 1
                 and s.named_children[0].type == "assignment"}
        bound = names if bound is None else bound & names
    for name in bound or ():
        if re.fullmatch(r"self\.[A-Za-z_]\w*", name):
            if _unbound_attribute_read(stmt, name.split(".", 1)[1], platform_test):
                return True
        elif re.fullmatch(r"[A-Za-z_]\w*", name) and _unbound_local_read(stmt, name):
            return True
    return False


def _outside(node: ts.Node, stmt: ts.Node) -> bool:
    return node.end_byte <= stmt.start_byte or node.start_byte >= stmt.end_byte


def _unbound_attribute_read(stmt: ts.Node, attribute: str, platform_test: Callable[[ts.Node], bool]) -> bool:
    """``self.<attribute>`` is assigned nowhere in the class outside ``stmt``, not in the class body,
    not named in a string (``hasattr(self, "begin")``), and read somewhere outside ``stmt``."""
    klass = enclosing(stmt, "class_definition")
    if klass is None or re.search(rf"""["']{attribute}["']""", node_text(klass)):
        return False
    read = False
    for node in descendants(klass):
        if node.type == "assignment" and _outside(node, stmt) and not _in_partial_chain(node, platform_test):
            left = node.child_by_field_name("left")
            targets = re.findall(r"[\w.]+", node_text(left)) if left is not None else []
            if f"self.{attribute}" in targets or (attribute in targets and node.parent is not None
                                                  and enclosing(node, "function_definition") is None):
                return False
        if node.type == "augmented_assignment" and _outside(node, stmt) \
                and node_text(node.child_by_field_name("left")) == f"self.{attribute}":
            return False
        if node.type == "attribute" and node_text(node) == f"self.{attribute}" and _outside(node, stmt):
            read = read or not _assigned(node)
    return read


def _in_partial_chain(assignment: ts.Node, platform_test: Callable[[ts.Node], bool]) -> bool:
    """Is ``assignment`` a statement of a branch of an if/elif chain with no ``else`` on a platform?"""
    block = assignment.parent.parent if assignment.parent is not None else None
    clause = block.parent if block is not None and block.type == "block" else None
    chain = clause.parent if clause is not None and clause.type == "elif_clause" else clause
    if chain is None or chain.type != "if_statement" or clause is None \
            or clause.child_by_field_name("consequence") != block:
        return False
    return not any(a.type == "else_clause" for a in chain.children_by_field_name("alternative")) \
        and (condition := chain.child_by_field_name("condition")) is not None and platform_test(condition)


def _assigned(attribute: ts.Node) -> bool:
    parent = attribute.parent
    return parent is not None and parent.type in ("assignment", "augmented_assignment") \
        and parent.child_by_field_name("left") == attribute


def _unbound_local_read(stmt: ts.Node, name: str) -> bool:
    """The local ``name`` is no parameter, bound nowhere in the function outside ``stmt`` (nor
    declared ``global``/``nonlocal``), and read after ``stmt``."""
    function = enclosing(stmt, "function_definition")
    if function is None or re.search(rf"\b(global|nonlocal)\b[^\n]*\b{name}\b", node_text(function)):
        return False
    parameters = function.child_by_field_name("parameters")
    if parameters is not None and name in re.findall(r"\w+", node_text(parameters)):
        return False
    read = False
    for node in statements(function):
        if not _outside(node, stmt) or node.type in ("function_definition", "class_definition"):
            continue
        if node.type in ("for_statement", "with_statement", "try_statement", "import_statement",
                         "import_from_statement") and re.search(rf"\b{name}\b", node_text(node)):
            return False
        if node.type == "expression_statement" and node.named_child_count == 1 \
                and node.named_children[0].type in ("assignment", "augmented_assignment"):
            left = node.named_children[0].child_by_field_name("left")
            if left is not None and name in re.findall(r"\w+", node_text(left)):
                return False
        if node.start_byte >= stmt.end_byte and node.type not in ("if_statement", "for_statement", "while_statement",
                                                                  "with_statement", "try_statement", "block"):
            read = read or any(n.type == "identifier" and node_text(n) == name for n in descendants(node))
    return read


