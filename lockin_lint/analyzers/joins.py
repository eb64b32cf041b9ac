"""One construct, one finding: join the matches that belong to another match's construct.

``cudaMemcpy(d, s, n, cudaMemcpyHostToDevice)`` is one call to port, not two; nor is
``cg::thread_block b = cg::this_thread_block();`` or a kernel with ``__launch_bounds__``. A match
joins the construct it sits in when that construct is itself matched:

- a name or constant in the arguments of a matched call (the nearest call around it), unless it is
  a call of its own (``cudaCheck(cudaFree(p))`` stays two calls);
- the type of a declaration whose only initializer is a matched call (also when tree-sitter misreads
  ``T<32> x = f<32>(...)`` as a comparison);
- anything in the head (not the body) of a matched kernel definition;
- every match of one ``#if``/``#elif`` condition, in its first;
- a second rule on exactly the same node.

The joined names are listed on the finding (``extra_symbols``) and its per-target statuses are the
worst of the joined ones, so nothing they said is lost while the effort counts the construct once.
"""

from __future__ import annotations

import bisect

import tree_sitter as ts

from .matching import RawMatch

#: Parents a name climbs through to reach the call, declaration or definition it belongs to.
_STOP = frozenset({"compound_statement", "translation_unit", "field_declaration_list", "declaration_list",
                   "lambda_expression", "preproc_ifdef", "preproc_else"})
_MAX_CLIMB = 16
#: Directives whose condition is one construct: ``#if defined(CUBLAS_VERSION) && CUBLAS_VERSION >= 11000``.
_CONDITIONAL = frozenset({"preproc_if", "preproc_elif"})


def _span(node: ts.Node) -> tuple[int, int]:
    return node.start_byte, node.end_byte


def _owner_span(node: ts.Node, calls: list[tuple[int, int]], kernels: set[tuple[int, int]]) -> tuple[int, int] | None:
    """The span of the matched construct ``node`` belongs to, if any."""
    child, current = node, node.parent
    for _ in range(_MAX_CLIMB):
        if current is None or current.type in _STOP:
            return None
        if current.type == "call_expression":
            function = current.child_by_field_name("function")
            if function is not None and function.start_byte <= child.start_byte < function.end_byte:
                return None  # ``node`` names the called function: a construct of its own
            owner = _matched_function(function, calls)
            if owner is not None:
                return owner
            return None  # the nearest call is unmatched: ``node`` is its own construct
        if current.type == "declaration" and current.child_by_field_name("type") == child:
            declarators = current.children_by_field_name("declarator")
            if len(declarators) == 1 and declarators[0].type == "init_declarator":
                value = declarators[0].child_by_field_name("value")
                if value is not None and value.type == "call_expression":
                    return _matched_function(value.child_by_field_name("function"), calls)
            return None
        if current.type == "binary_expression" and _misread_declaration(current, child):
            assignment = current.child_by_field_name("right")
            value = assignment.child_by_field_name("right") if assignment is not None else None
            return _matched_function(value.child_by_field_name("function") if value is not None else None, calls)
        if current.type in _CONDITIONAL and current.child_by_field_name("condition") == child:
            return _first_inside(child, calls)
        if current.type == "function_definition":
            body = current.child_by_field_name("body")
            if _span(current) in kernels and child != body:
                return _span(current)
            return None
        child, current = current, current.parent
    return None


def _misread_declaration(expression: ts.Node, child: ts.Node) -> bool:
    """``cg::thread_block_tile<32> w = cg::tiled_partition<32>(b);`` as tree-sitter reads it without
    knowing the template: ``(cg::thread_block_tile < 32) > (w = <call>)``, ``child`` being the type part."""
    left, right = expression.child_by_field_name("left"), expression.child_by_field_name("right")
    operator = expression.child_by_field_name("operator")
    if left != child or left.type != "binary_expression" or operator is None or operator.type != ">" \
            or right is None or right.type != "assignment_expression":
        return False
    inner = left.child_by_field_name("operator")
    value = right.child_by_field_name("right")
    return inner is not None and inner.type == "<" and value is not None and value.type == "call_expression"


def _first_inside(node: ts.Node, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The first match inside ``node``; ``spans`` sorted."""
    index = bisect.bisect_left(spans, (node.start_byte, -1))
    if index < len(spans) and spans[index][1] <= node.end_byte:
        return spans[index]
    return None


def _matched_function(function: ts.Node | None, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The span of a match naming ``function`` (the callee node or a name inside it); ``spans`` sorted."""
    if function is None:
        return None
    index = bisect.bisect_left(spans, (function.start_byte, -1))
    while index < len(spans) and spans[index][0] < function.end_byte:
        if spans[index][1] <= function.end_byte:
            return spans[index]
        index += 1
    return None


def join_constructs(matches: list[RawMatch]) -> list[RawMatch]:
    """``matches`` with those that belong to another match's construct folded into it."""
    if len(matches) < 2:
        return matches
    by_span: dict[tuple[int, int], RawMatch] = {}
    for match in sorted(matches, key=lambda m: (*m.bounds, m.rule.id)):
        span = match.bounds
        if span in by_span:  # a second rule on the same node
            by_span[span] = _fold(by_span[span], match)
        else:
            by_span[span] = match
    kernels = {span for span, m in by_span.items() if m.node.type == "function_definition"}
    owners: dict[tuple[int, int], tuple[int, int]] = {}
    spans = sorted(by_span)
    for span, match in by_span.items():
        if match.span is not None:
            continue  # inside a ``#define`` body: joined there, by `macro_bodies`
        owner = _owner_span(match.node, spans, kernels)
        if owner is not None and owner != span:
            owners[span] = owner
    for span in sorted(owners, key=lambda s: (s[0] - s[1], s)):  # inner spans first
        root = owners[span]
        hops = 0
        while root in owners and hops < len(owners):
            root, hops = owners[root], hops + 1
        if root in by_span and span in by_span and root != span:
            by_span[root] = _fold(by_span[root], by_span.pop(span))
    return list(by_span.values())


def _fold(owner: RawMatch, joined: RawMatch) -> RawMatch:
    extra = ((joined.rule, joined.symbol), *joined.joined)
    return RawMatch(owner.rule, owner.symbol, owner.node, owner.depends_on, owner.joined + extra, owner.handled,
                    owner.span)
