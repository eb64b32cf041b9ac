"""A negated CUDA test whose branch is the code's own CPU path, read as handling the CPU.

`python_dispatch` reads a CUDA test that is itself the finding (``torch.cuda.is_available()`` in an
``if``) as running where the test is true; for ``not torch.cuda.is_available()`` that says nothing
about the CPU. When the branch that the negation opens does the work (accelerate's
``notebook_launcher``: ``elif in_colab and (not torch.cuda.is_available() or get_gpu_info()[1] <
2): ... print("Launching training on one CPU."); function(*args)``, j8A), the project has a path
for the machine without CUDA: cpu is handled, noted as the fallback path, and the other targets
keep the rule's status (the branch names none of them).

Kept narrow, because the same test is just as often a refusal or a probe's answer (bitsandbytes'
``if not torch.cuda.is_available(): return None``, judged true with cpu ``rename``):

- the negation is the whole test or an operand of ``and``/``or`` operators (parentheses read
  through) whose other operands are no platform test and do not spell ``cuda``/``nccl``: ``not
  torch.cuda.is_available() or torch.cuda.get_device_properties(0).major < 10`` (vLLM's
  ``test_mla_backends.py``, dropping SM100 backends from a test list) gates a CUDA feature, and its
  branch is the path without the feature, not the CPU's;
- the branch body has a statement that does something (not a message, ``pass`` or an exit), no
  ``raise``/``return``/``continue``/``break`` of its own at its top level, and does not spell
  ``cuda`` or ``nccl`` outside a nested ``if`` on a CUDA test (where the body asks again, as
  accelerate does to pick its message).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import tree_sitter as ts

from .matching import node_text
from .python_mentions import only_diagnostic_statement

_CUDA_WORDS = re.compile(r"cuda|nccl", re.IGNORECASE)
_EXITS = frozenset({"raise_statement", "return_statement", "continue_statement", "break_statement"})
_INERT = frozenset({"pass_statement", "comment"})


def cpu_branch_line(node: ts.Node, cuda_test: Callable[[ts.Node | None], bool],
                    platforms_of: Callable[[ts.Node | None], frozenset[str] | None]) -> int:
    """The line (1-based) of the branch ``node`` opens when it is the CUDA test under a ``not``
    of the shape above, else 0. ``cuda_test`` says whether an expression is a positive CUDA test,
    ``platforms_of`` where an expression is true when it reads as a platform test (else None)."""
    test = node
    while test.parent is not None and test.parent.type in ("attribute", "call") and not cuda_test(test):
        test = test.parent
    if not cuda_test(test) or test.parent is None or test.parent.type != "not_operator":
        return 0
    condition = test.parent
    while condition.parent is not None and condition.parent.type in ("parenthesized_expression", "boolean_operator"):
        outer = condition.parent
        if outer.type == "boolean_operator" and any(
                platforms_of(side) is not None or _CUDA_WORDS.search(node_text(side))
                for side in (outer.child_by_field_name("left"), outer.child_by_field_name("right"))
                if side is not None and side != condition):
            return 0
        condition = outer
    clause = condition.parent
    if clause is None or clause.type not in ("if_statement", "elif_clause") \
            or clause.child_by_field_name("condition") != condition:
        return 0
    body = clause.child_by_field_name("consequence")
    return body.start_point[0] + 1 if body is not None and _does_work(body, cuda_test) else 0


def _does_work(body: ts.Node, cuda_test: Callable[[ts.Node | None], bool]) -> bool:
    working = False
    for stmt in body.named_children:
        if stmt.type in _INERT:
            continue
        if stmt.type in _EXITS:
            return False
        if stmt.type == "if_statement" and cuda_test(stmt.child_by_field_name("condition")):
            continue  # the body asks again (to pick a message): not code run without CUDA
        if _CUDA_WORDS.search(node_text(stmt)):
            return False
        working = working or not only_diagnostic_statement(stmt)
    return working
