"""Platform paths beside a CUDA value that the walk up from it (`python_dispatch`) does not see.

Judged false in the fourth session's at-draw sample (j7A), two shapes where the project has a path
for a target, written where no test *around* the match is:

- a CUDA default replaced at once by a platform ``if`` (vLLM's ``tests/lora/conftest.py``: ``backend
  = "nccl"`` then ``if current_platform.is_cpu() or current_platform.is_tpu(): backend = "gloo"``):
  the targets that test is true on are handled by that branch. Only the very next statement, only
  when its body assigns the same name again, and only for a test that reads as a platform test true
  off CUDA: a later or unrelated ``if`` says nothing about the default;
- vLLM's out-of-tree platform branch (``parallel_state.py``: ``if current_platform.is_cuda_alike():
  ... elif current_platform.is_xpu(): ... elif current_platform.is_out_of_tree():
  torch.device(f"{current_platform.device_name}:...")``): vLLM's platform plugins (vllm-ascend and
  the like) take that branch with their own device name, so Ascend, MLU and MUSA are handled there;
  MPS has no such plugin and keeps its reading. Only ``is_out_of_tree()`` on the same object whose
  ``device_name`` the branch uses;
- a detection cascade of separate ``if NAME is None:`` blocks (DeepSpeed's ``real_accelerator.py``:
  xpu, then ``import torch_npu`` -> ``"npu"``, mps, mlu, ... then ``"cuda"``): one chain written
  without ``elif``, whose earlier blocks handle the platforms they assign to NAME. Only when the
  match's own block is such an ``if NAME is None:`` that assigns NAME too, and only for the platform
  strings assigned to NAME by the statements before it in the same block (those ``if NAME is None:``
  blocks and ``try`` statements).
"""

from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from ..model import TARGETS
from .findings import CPU_FALLBACK, PLATFORM_BRANCH
from .matching import node_text
from .python_empty_loops import empty_loop_notes
from .python_or_operands import or_operand_notes
from .python_platform_tests import string_platforms
from .python_prior_branches import prior_branch_notes
from .python_requirement_gates import requirement_gate_notes
from .python_sibling_backends import sibling_backend_notes

Platforms = frozenset[str]
#: How `Finding.handled` names a target handled by vLLM's out-of-tree platform branch, then where.
OUT_OF_TREE = "out-of-tree platform branch"
_PLUGIN_TARGETS = ("ascend", "mlu", "musa")
_CUDA_BUILDS = frozenset({"cuda", "rocm"})
_CLAUSES = frozenset({"if_statement", "elif_clause"})
_SCOPES = frozenset({"function_definition", "class_definition", "module"})


def later_branch_notes(node: ts.Node, notes: dict[str, str], path: str,
                       platforms_of: Callable[[ts.Node | None], Platforms | None]) -> dict[str, str]:
    """``notes`` with the targets the shapes above (and those of `python_sibling_backends`,
    `python_empty_loops`, `python_or_operands`, `python_prior_branches` and `python_requirement_gates`) handle (a branch naming
    a target keeps its own note; a plain CPU fallback note gives way)."""
    added = _overridden(node, platforms_of) | _out_of_tree(node, path, platforms_of) | _cascade(node) \
        | sibling_backend_notes(node, path, platforms_of) | empty_loop_notes(node, path, platforms_of) \
        | or_operand_notes(node, platforms_of) | prior_branch_notes(node, path, platforms_of) \
        | requirement_gate_notes(node, path, platforms_of)
    return notes | {t: how for t, how in added.items() if notes.get(t, CPU_FALLBACK) == CPU_FALLBACK}


def _overridden(node: ts.Node, platforms_of: Callable[[ts.Node | None], Platforms | None]) -> dict[str, str]:
    """``NAME = "nccl"`` whose next statement is ``if <platform test>: NAME = ...``."""
    value = node if node.type == "string" else node.parent
    assignment = value.parent if value is not None else None
    if value is None or value.type != "string" or assignment is None or assignment.type != "assignment" \
            or assignment.child_by_field_name("right") != value:
        return {}
    statement = assignment.parent
    following = statement.next_named_sibling if statement is not None and statement.type == "expression_statement" else None
    while following is not None and following.type == "comment":
        following = following.next_named_sibling
    if following is None or following.type != "if_statement":
        return {}
    name = node_text(assignment.child_by_field_name("left"))
    body = following.child_by_field_name("consequence")
    if body is None or not any(_assigns(s, name) for s in body.named_children):
        return {}
    may = platforms_of(following.child_by_field_name("condition"))
    if may is None or may & _CUDA_BUILDS:
        return {}
    return {t: PLATFORM_BRANCH for t in TARGETS if t in may}


def _assigns(statement: ts.Node, name: str) -> bool:
    assignment = statement.named_children[0] if statement.type == "expression_statement" and statement.named_children else None
    return assignment is not None and assignment.type == "assignment" and node_text(assignment.child_by_field_name("left")) == name


def _out_of_tree(node: ts.Node, path: str,
                 platforms_of: Callable[[ts.Node | None], Platforms | None]) -> dict[str, str]:
    """A match in the CUDA clause of a chain one of whose ``elif`` clauses is ``R.is_out_of_tree()``
    using ``R.device_name``."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in _SCOPES:
        if parent.type in _CLAUSES and child == parent.child_by_field_name("consequence"):
            break
        child, parent = parent, parent.parent
    if parent is None or parent.type not in _CLAUSES:
        return {}
    may = platforms_of(parent.child_by_field_name("condition"))
    if may is None or "cuda" not in may or not may <= _CUDA_BUILDS:
        return {}
    chain = parent if parent.type == "if_statement" else parent.parent
    if chain is None or chain.type != "if_statement":
        return {}
    for clause in chain.children_by_field_name("alternative"):
        receiver = _out_of_tree_receiver(clause.child_by_field_name("condition")) if clause.type == "elif_clause" else None
        if receiver is not None and f"{receiver}.device_name" in node_text(clause.child_by_field_name("consequence")):
            line = clause.start_point[0] + 1
            return dict.fromkeys(_PLUGIN_TARGETS, f"{OUT_OF_TREE} ({path}:{line})")
    return {}


def _out_of_tree_receiver(condition: ts.Node | None) -> str | None:
    """``current_platform`` for ``current_platform.is_out_of_tree()``, else None."""
    if condition is None or condition.type != "call":
        return None
    function, arguments = condition.child_by_field_name("function"), condition.child_by_field_name("arguments")
    if function is None or function.type != "attribute" or arguments is None or arguments.named_child_count:
        return None
    if node_text(function.child_by_field_name("attribute")) != "is_out_of_tree":
        return None
    return node_text(function.child_by_field_name("object"))


def _cascade(node: ts.Node) -> dict[str, str]:
    """A match in an ``if NAME is None:`` detection block after blocks that assign NAME a platform."""
    statement: ts.Node | None = node
    while statement is not None and statement.type not in _SCOPES and _unset_name(statement) is None:
        statement = statement.parent
    name = _unset_name(statement) if statement is not None else None
    if statement is None or name is None or not _assigned(statement, name):
        return {}
    earlier: set[str] = set()
    sibling = statement.prev_named_sibling
    while sibling is not None:
        if _unset_name(sibling) == name or sibling.type == "try_statement":
            earlier |= _assigned(sibling, name)
        sibling = sibling.prev_named_sibling
    return {t: PLATFORM_BRANCH for t in TARGETS if t in earlier and t not in _CUDA_BUILDS}


def _unset_name(statement: ts.Node) -> str | None:
    """``NAME`` for an ``if NAME is None:`` statement without ``else``/``elif``, else None."""
    if statement.type != "if_statement" or statement.children_by_field_name("alternative"):
        return None
    condition = statement.child_by_field_name("condition")
    text = node_text(condition) if condition is not None and condition.type == "comparison_operator" else ""
    name, _, rest = text.partition(" is ")
    return name if rest == "None" and name.isidentifier() else None


def _assigned(statement: ts.Node, name: str) -> frozenset[str]:
    """The platforms of the string literals ``statement`` assigns to ``name`` (nested scopes apart)."""
    found: set[str] = set()
    stack = [statement]
    while stack:
        current = stack.pop()
        if current.type == "assignment" and node_text(current.child_by_field_name("left")) == name:
            right = current.child_by_field_name("right")
            platforms = string_platforms(right) if right is not None and right.type == "string" else None
            found |= platforms or frozenset()
        elif current.type not in ("function_definition", "class_definition", "lambda"):
            stack.extend(current.named_children)
    return frozenset(found)
