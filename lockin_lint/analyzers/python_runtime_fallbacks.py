"""CUDA spellings only on a path the portable runtime makes unreachable or answers for itself.

Two shapes, each read narrowly (a shape not recognised changes nothing):

- a CUDA import only in the old-torch ``else`` of a probe for the portable API (flash-attention's
  ``flash_attn/utils/torch.py``: ``if hasattr(torch.amp, "custom_fwd"): from torch.amp import
  custom_fwd, custom_bwd else: from torch.cuda.amp import custom_fwd, custom_bwd``): on every torch
  that has ``torch.amp.custom_fwd`` the CUDA import never runs, as the ``else`` of
  ``hasattr(torch, "accelerator")`` (`python_chain_shapes`' `accelerator_ternary`). Every target but
  rocm (native anyway) is handled, noted ``old-torch fallback of `hasattr(torch.amp, "custom_fwd")`
  (path:line)`` (`old_torch_import`). Only a ``hasattr`` on ``torch`` or a ``torch.`` module that
  spells no CUDA, whose own body imports the probed name from that module and whose ``else`` imports
  the same name: an unconditional ``from torch.cuda.amp import custom_fwd`` (TGI's
  ``gptq/triton.py``) or the ``else`` of a ``hasattr`` on another object keeps its statuses;
- a conditional expression whose ``else`` asks the runtime for the device (vLLM's
  ``fla/ops/utils.py``: ``device = "cuda" if current_platform.is_cuda_alike() else
  get_available_device()``, where ``get_available_device()`` returns Triton's active backend name or
  ``"cpu"``): the ``"cuda"`` is taken only where the CUDA test holds, every other target gets the
  name its runtime reports, so each is handled, noted ``device the runtime reports (path:line)``
  (`runtime_device_else`). Only for an ``else`` that calls a function the file defines at module
  level, spelling no CUDA, with a ``return`` of a non-literal value that reads a ``backend``,
  ``device`` or ``accelerator``; a helper returning only literals is credited only with the platforms
  those name (``"cpu"``).
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .matching import PYTHON_SCOPES, RawMatch, descendants, node_text, unparenthesized
from .python_other_paths import note_line, spells_cuda
from .python_platform_tests import CUDA_BUILDS, classify, string_platforms

OLD_TORCH = "old-torch fallback of"
RUNTIME_DEVICE = "device the runtime reports"
_TORCH_MODULE = re.compile(r"^torch(\.\w+)*$")
_RUNTIME_WORDS = re.compile(r"backend|device|accelerator", re.IGNORECASE)


def apply_runtime_fallbacks(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with the targets the two shapes the module docstring says handle, besides the notes a
    match has (a target already handled keeps its note)."""
    kept = []
    for match in raw:
        added = old_torch_import(match.node, path) or runtime_device_else(match.node, path)
        notes = dict(match.handled)
        fresh = {t: how for t, how in added.items() if t not in notes}
        if fresh:
            match = replace(match, handled=match.handled + tuple(sorted(fresh.items())))
        kept.append(match)
    return kept


def old_torch_import(node: ts.Node, path: str) -> dict[str, str]:
    """Target -> note for a name ``node`` imports in the old-torch ``else`` of a ``hasattr`` probe."""
    statement = node
    while statement.parent is not None and statement.type != "import_from_statement":
        if statement.type in PYTHON_SCOPES or statement.type == "block":
            return {}
        statement = statement.parent
    block = statement.parent
    clause = block.parent if block is not None and block.type == "block" else None
    chain = clause.parent if clause is not None and clause.type == "else_clause" else None
    if chain is None or chain.type != "if_statement" or len(chain.children_by_field_name("alternative")) != 1:
        return {}
    probed = _probed(chain.child_by_field_name("condition"))
    if probed is None:
        return {}
    owner, name = probed
    if name not in _imported(statement) or not any(
            s.type == "import_from_statement" and _module(s) == owner and name in _imported(s)
            for s in _statements(chain.child_by_field_name("consequence"))):
        return {}
    condition = node_text(chain.child_by_field_name("condition"))
    return dict.fromkeys((t for t in TARGETS if t != "rocm"),
                         f"{OLD_TORCH} `{condition}` ({path}:{note_line(chain)})")


def _probed(condition: ts.Node | None) -> tuple[str, str] | None:
    """``(owner, name)`` of ``hasattr(<torch module spelling no CUDA>, "<name>")``."""
    condition = unparenthesized(condition)
    if condition is None or condition.type != "call" or node_text(condition.child_by_field_name("function")) != "hasattr":
        return None
    arguments = condition.child_by_field_name("arguments")
    parts = arguments.named_children if arguments is not None else []
    if len(parts) != 2 or parts[1].type != "string":
        return None
    owner = node_text(parts[0]).replace(" ", "")
    if not _TORCH_MODULE.match(owner) or "cuda" in owner:
        return None
    return owner, node_text(parts[1])[1:-1]


def _statements(block: ts.Node | None) -> list[ts.Node]:
    return [s for s in block.named_children if s.type != "comment"] if block is not None else []


def _module(statement: ts.Node) -> str:
    module = statement.child_by_field_name("module_name")
    return node_text(module).replace(" ", "") if module is not None else ""


def _imported(statement: ts.Node) -> set[str]:
    """The names ``from m import a, b as c`` binds from ``m`` (``a``, ``b``)."""
    found = set()
    for name in statement.children_by_field_name("name"):
        original = name.child_by_field_name("name") if name.type == "aliased_import" else name
        if original is not None:
            found.add(node_text(original))
    return found


def runtime_device_else(node: ts.Node, path: str) -> dict[str, str]:
    """Target -> note for a string ``node`` that is the value of ``X if <CUDA test> else f()``, with
    ``f`` a module function returning the device its runtime reports."""
    value = node.parent if node.parent is not None and node.parent.type == "string" else node
    ternary = value.parent
    if value.type != "string" or ternary is None or ternary.type != "conditional_expression" \
            or ternary.named_child_count != 3 or ternary.named_children[0] != value:
        return {}
    _, test, other = ternary.named_children
    found = classify(test)
    if not found.known or not found.may <= CUDA_BUILDS:
        return {}
    called = unparenthesized(other)
    function = called.child_by_field_name("function") if called is not None and called.type == "call" else None
    if function is None or function.type != "identifier":
        return {}
    defined = _module_function(ternary, node_text(function))
    if defined is None or spells_cuda(defined):
        return {}
    credited: set[str] = set()
    for returned in _returns(defined):
        platforms = string_platforms(returned) if returned.type == "string" else None
        if platforms is not None:
            credited |= platforms
        elif returned.type not in ("string", "none") and _RUNTIME_WORDS.search(node_text(returned)):
            credited |= set(TARGETS)
    note = f"{RUNTIME_DEVICE} ({path}:{note_line(ternary)})"
    return {t: note for t in TARGETS if t in credited and t not in found.may}


def _module_function(node: ts.Node, name: str) -> ts.Node | None:
    """The module-level ``def name`` (decorated or not) of ``node``'s file, when there is exactly one."""
    root = node
    while root.parent is not None:
        root = root.parent
    found = []
    for statement in root.named_children:
        definition = statement.child_by_field_name("definition") if statement.type == "decorated_definition" \
            else statement
        if definition is not None and definition.type == "function_definition" \
                and node_text(definition.child_by_field_name("name")) == name:
            found.append(definition)
    return found[0] if len(found) == 1 else None


def _returns(function: ts.Node) -> list[ts.Node]:
    """The values the function's own ``return`` statements give (not a nested function's)."""
    values = []
    for node in descendants(function):
        if node.type == "return_statement" and _owner(node) == function and node.named_children:
            values.append(unparenthesized(node.named_children[0]) or node.named_children[0])
    return values


def _owner(node: ts.Node) -> ts.Node | None:
    scope = node.parent
    while scope is not None and scope.type not in PYTHON_SCOPES:
        scope = scope.parent
    return scope
