"""A call in the ``else`` part of ``X if <ROCm check> else f()`` never runs on ROCm.

DeepSpeed's ``env_report.py`` reads ``CUDA_HOME`` in ``nvcc_version()``, whose only call is::

    hip_version = getattr(torch.version, "hip", None)
    report.extend([..., ("nvcc version", (None if hip_version else nvcc_version())), ...])

On ROCm ``hip_version`` is the HIP version string, so the expression never calls the function. The
dispatch (`python_dispatch.Dispatch`) reads the conditional expression but not the local, so the
caller reading (`python_callers`) left ROCm a gap there (an independent judge's false finding,
docs/validation.md, #11, seventh session, third round). Here such a call is kept off ROCm.

Narrow on purpose: the test is ``torch.version.hip`` or ``getattr(torch.version, "hip", ...)``
(the shapes `python_hip_beside` knows), alone or ``... is not None``, or a local bound ONCE in its
function by a plain ``x = <that>`` and never rebound (`python_version_locals` reads bindings the
same way). A call in the ``if`` part runs on ROCm only; a negated or other test says nothing here.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from .matching import PYTHON_SCOPES, node_text
from .python_version_locals import _binds, _occurrences

#: The whole test: ``torch.version.hip`` or ``getattr(torch.version, "hip"[, None])`` (`python_hip_beside`'s
#: shapes, read whole here).
_HIP = re.compile(r"""torch\.version\.hip|getattr\(\s*torch\.version\s*,\s*["']hip["']\s*(,\s*None\s*)?\)""")

#: Where walking up from the call stops: a statement holds no conditional expression of its own.
_STATEMENTS = frozenset({"expression_statement", "return_statement", "assignment", "block", "module"})


def off_rocm_ternary(call: ts.Node) -> bool:
    """Does ``call`` sit in the ``else`` part of a conditional expression whose test holds on ROCm?"""
    child, parent = call, call.parent
    while parent is not None and parent.type not in PYTHON_SCOPES and parent.type not in _STATEMENTS:
        if parent.type == "conditional_expression" and parent.named_child_count == 3:
            _, condition, other = parent.named_children
            if child == other and _rocm_check(condition):
                return True
        child, parent = parent, parent.parent
    return False


def _rocm_check(test: ts.Node) -> bool:
    """Is ``test`` true on ROCm builds only: a HIP version read, directly or through a local?"""
    while test.type == "parenthesized_expression" and test.named_child_count == 1:
        test = test.named_children[0]
    text = " ".join(node_text(test).split())
    if text.endswith(" is not None"):
        text = text[: -len(" is not None")]
    if _is_hip(text):
        return True
    if test.type == "comparison_operator":
        test = test.named_children[0]
    return test.type == "identifier" and node_text(test) == text and _bound_to_hip(test)


def _is_hip(text: str) -> bool:
    return _HIP.fullmatch(text) is not None


def _bound_to_hip(name: ts.Node) -> bool:
    """Is the local ``name`` bound once in its function, by ``name = <HIP version read>``?"""
    scope = name.parent
    while scope is not None and scope.type not in PYTHON_SCOPES:
        scope = scope.parent
    if scope is None or scope.type != "function_definition":
        return False
    bindings = [o for o in _occurrences(scope, node_text(name)) if _binds(o)]
    if len(bindings) != 1:
        return False
    statement = bindings[0].parent
    right = statement.child_by_field_name("right") if statement is not None and statement.type == "assignment" else None
    return right is not None and statement is not None and statement.parent is not None \
        and statement.parent.type == "expression_statement" and _is_hip(" ".join(node_text(right).split()))

