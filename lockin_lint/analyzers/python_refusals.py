"""Guards that refuse to run without CUDA, read as refusals rather than as CPU fallbacks.

`python_dispatch` reads the path a CUDA test falls through to as the plain fallback, which handles
the CPU. Two shapes are no such path, and a finding that says "may silently run on the CPU" there is
wrong (judged false in the fourth session's at-draw sample, j7A):

- the later operands of ``if not (x.is_cuda and y.is_cuda): raise ValueError(...)`` (xformers'
  Triton index kernels): the first operand is read as part of the refusing test, so every operand of
  that negated ``and`` is read the same way, not as "``x.is_cuda`` was true, so this runs on CUDA with
  a fallback elsewhere";
- a script's entry function that stops without CUDA (vLLM's benchmarks: ``if not
  torch.cuda.is_available(): print("CUDA not available!"); return``): the same refusal as a
  ``raise``, written as a message and a bare ``return``. Only in a function named ``main`` or one the
  file's ``if __name__ == "__main__":`` block calls: there the bare return ends the program. A
  library function that returns nothing without CUDA lets its caller go on (a real fallback), and a
  ``return False`` probe reports the absence to its caller (a real fallback too);
- a lone ``if torch.cuda.is_available(): ... return num_sms`` followed at once by ``raise
  RuntimeError(...)`` (flash-attention's ``get_num_sms_for_selection``, j8A): what the test leaves
  out reaches the ``raise``, as an ``else: raise`` would. Only with no ``elif``/``else``, a body that
  ends in a ``return`` (or in such an ``if`` nested), and the very next statement a ``raise``;
- a platform the code turns away with a message (DeepSpeed's ``SparseAttnBuilder.is_compatible``:
  ``if self.is_rocm_pytorch(): self.warning("... not compatible with ROCM"); return False``, j8A):
  the branch does nothing for ROCm, so it handles ROCm no more than ``raise`` would. Only when the
  test is a positive test true on no CUDA build (it names the refused platform itself) and the body
  warns before a ``return``/``return False``/``return None``. A silent ``if is_rocm(): return
  False`` is a probe's answer its caller acts on (vLLM's ``use_*`` helpers) and keeps its reading,
  and so does ``if not torch.cuda.is_available(): return False`` (vLLM's ``_oink_ops.py``, f6probe):
  there the false answer is the caller's fallback for the platforms without CUDA;
- a refusal with an explicit ``else`` (DeepSpeed's ``inference/v2/modules/heuristics.py``: ``if not
  torch.cuda.is_available(): raise ValueError("... only supported on CUDA") else: ...
  torch.cuda.get_device_properties(0) ...``, h1, eighth session): the ``else`` is the CUDA side, and
  the CPU is refused as in the early-exit form (which `python_dispatch` already reads as no
  fallback), not a fallback the ``else`` leaves. Only when the ``if``'s own test leaves CUDA builds
  alone on its false side and its body is only messages then a ``raise`` (`refuses_in_if`): a CPU
  branch that does work and raises only in a sub-case (TGI's ``causal_lm.py``) keeps its reading.
"""

from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from .matching import node_text
from .python_mentions import only_diagnostic_statement, only_raises
from .python_platform_tests import CUDA_BUILDS, Test, when_false

_WRAPPERS = frozenset({"parenthesized_expression", "boolean_operator"})


def refused_operand(operator: ts.Node) -> bool:
    """Is ``operator`` (a boolean operator) an ``and`` inside ``not (...)`` that is the test of an
    ``if``/``elif`` whose body only raises, or the condition of an ``assert``? Its right operand then
    reads as its left one does: ``assert q.is_cuda and kv.is_cuda`` refuses a CPU ``kv`` as it
    refuses a CPU ``q``; an ``assert`` never falls back."""
    if node_text(operator.child_by_field_name("operator")) != "and":
        return False
    child, node = operator, operator.parent
    while node is not None and node.type in _WRAPPERS:
        if node.type == "boolean_operator" and node_text(node.child_by_field_name("operator")) != "and":
            return False
        child, node = node, node.parent
    if node is not None and node.type == "assert_statement":
        return bool(node.named_children) and node.named_children[0] == child  # the condition, not the message
    if node is None or node.type != "not_operator":
        return False
    clause = node.parent
    while clause is not None and clause.type == "parenthesized_expression":
        clause = clause.parent
    return (clause is not None and clause.type in ("if_statement", "elif_clause")
            and only_raises(clause.child_by_field_name("consequence")))


def falls_into_raise(stmt: ts.Node) -> bool:
    """Is the ``if`` statement ``stmt`` (no ``elif``/``else``, body ending in a return) followed at
    once by a ``raise``? Its false side then fails rather than falling back."""
    if stmt.children_by_field_name("alternative") or not _ends_in_return(stmt):
        return False
    following = stmt.next_named_sibling
    while following is not None and following.type == "comment":
        following = following.next_named_sibling
    return following is not None and following.type == "raise_statement"


def no_fallback(stmt: ts.Node, test_of: Callable[[ts.Node | None], Test]) -> bool:
    """Does the ``if`` statement ``stmt`` leave no fallback for what its tests leave out: it falls
    into a ``raise`` (`falls_into_raise`) or its ``if`` refuses every platform but CUDA's
    (`refuses_in_if`)? ``test_of`` reads a condition."""
    return falls_into_raise(stmt) or refuses_in_if(stmt, test_of)


def refuses_in_if(stmt: ts.Node, test_of: Callable[[ts.Node | None], Test]) -> bool:
    """Is ``stmt`` an ``if`` with an ``elif``/``else`` whose own test is false on CUDA builds only
    (``not torch.cuda.is_available()``) and whose body is only messages, then a ``raise``?"""
    if not stmt.children_by_field_name("alternative"):
        return False
    body = stmt.child_by_field_name("consequence")
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    if not statements or statements[-1].type != "raise_statement" \
            or not all(only_diagnostic_statement(s) for s in statements[:-1]):
        return False
    condition = stmt.child_by_field_name("condition")
    test = test_of(condition)
    return test.known and when_false(test, condition).may <= CUDA_BUILDS


def _ends_in_return(stmt: ts.Node) -> bool:
    body = stmt.child_by_field_name("consequence")
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    if not statements:
        return False
    last = statements[-1]
    if last.type == "return_statement":
        return True
    return last.type == "if_statement" and not last.children_by_field_name("alternative") and _ends_in_return(last)


def platform_refusal(stmt: ts.Node, may: frozenset[str], positive: bool) -> bool:
    """Is the lone ``if`` statement ``stmt``, whose test is true only on the platforms ``may``
    (``positive``: a plain positive test), a refusal of those platforms: a message, then a
    ``return`` of nothing, ``False`` or ``None``? Never for a test that may be true on CUDA."""
    if not positive or not may or "cuda" in may or stmt.children_by_field_name("alternative"):
        return False
    body = stmt.child_by_field_name("consequence")
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    if len(statements) < 2 or statements[-1].type != "return_statement":
        return False
    value = statements[-1].named_children
    if value and (len(value) > 1 or node_text(value[0]) not in ("False", "None")):
        return False
    return all(only_diagnostic_statement(s) for s in statements[:-1])


def script_refusal(stmt: ts.Node) -> bool:
    """Is the ``if`` statement ``stmt``'s body only messages and a bare ``return``, in a script's
    entry function (``main`` or one the ``__main__`` block calls)? The caller checks the test."""
    body = stmt.child_by_field_name("consequence")
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    if not statements or statements[-1].type != "return_statement" or statements[-1].named_child_count:
        return False
    if not all(only_diagnostic_statement(s) for s in statements[:-1]):
        return False
    function = stmt.parent
    while function is not None and function.type != "function_definition":
        function = function.parent
    if function is None:
        return False
    name = node_text(function.child_by_field_name("name"))
    return name == "main" or name in _entry_calls(function)


def _entry_calls(function: ts.Node) -> frozenset[str]:
    """The plain names called in the module's ``if __name__ == "__main__":`` blocks."""
    module = function
    while module.parent is not None:
        module = module.parent
    names: set[str] = set()
    for stmt in module.named_children:
        condition = stmt.child_by_field_name("condition") if stmt.type == "if_statement" else None
        if condition is None or "__name__" not in node_text(condition) or "__main__" not in node_text(condition):
            continue
        stack = [stmt.child_by_field_name("consequence")]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            if node.type == "call":
                function_name = node.child_by_field_name("function")
                if function_name is not None and function_name.type == "identifier":
                    names.add(node_text(function_name))
            stack.extend(node.named_children)
    return frozenset(names)
