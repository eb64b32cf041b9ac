"""Code after a guard that sends every device but CUDA out of the function, to generic torch code
or a plain "no" (``return``, ``return None``, ``return False``).

apex's ``FusedLayerNorm.forward`` starts ``if ... or not input.is_cuda: return F.layer_norm(...)``;
bitsandbytes' ``get_cuda_specs()`` starts ``if not torch.cuda.is_available(): return None``; vLLM's
``should_use_atomic_add_reduce`` starts ``if ... or device.type != "cuda": return False``. The code
after such a guard runs on CUDA builds only, and every other device has already left through a path
that spells nothing of CUDA. The guard line itself already read as the device-agnostic side for every
target (`python_other_paths.agnostic_side_around`), but the code after it was credited to the CPU
alone (the plain fallback), so Ascend, MLU, MUSA, XPU and MPS stayed "to rename" though their tensors
take the same exit (debatable in the eighth session's tail sample t23B, docs/validation.md, #11).
Here that exit is found, so the dispatch gives the code after it the same "device-agnostic else"
note on every target but ROCm (``torch.cuda.is_available()`` is True there: ROCm runs the CUDA code).

Only a plain exit counts: a body that raises refuses the other devices (a gap a port must fill); a
body that does anything else first (a warning that the feature "is not available", a flag set to say
it failed to build, a ``yield`` of a context manager) drops a feature on them silently, which may
be a gap too, so it keeps today's reading. So does a bare ``return``, and a ``return None`` or
``return False`` from a function that returns no value anywhere else: it only does things, and
skipping them off CUDA (``torch.cuda.synchronize()``) is a gap; a function that answers a question
(``get_cuda_specs()``, ``is_marlin_supported()``) says "no" and its callers take their own path.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import tree_sitter as ts

from .matching import PYTHON_SCOPES, descendants, node_text
from .python_other_paths import spells_cuda, torch_generic
from .python_platform_tests import CUDA_BUILDS, Test, when_false
from .python_receivers import enclosing

#: The test of a condition as the dispatch reads it (`python_dispatch.Dispatch._test`).
TestOf = Callable[[ts.Node | None], Test]
#: The values a plain "no" returns (not a bare ``return``: that reads as "stop doing things").
_PLAIN = frozenset({"None", "False"})


def cuda_exit_before(node: ts.Node, test_of: TestOf) -> ts.Node | None:
    """The body of the nearest lone ``if`` before ``node`` in its function (in ``node``'s block or a
    block around it) whose false side runs on CUDA builds only and whose body is a plain exit, or
    None."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type in ("block", "module"):
            for stmt in reversed([s for s in parent.named_children if s.end_byte <= child.start_byte]):
                body = _plain_exit(stmt, test_of)
                if body is not None:
                    return body
        child, parent = parent, parent.parent
    return None


def _plain_exit(stmt: ts.Node, test_of: TestOf) -> ts.Node | None:
    """The body of ``stmt`` when it is ``if <true off CUDA builds>: <plain exit>`` with no ``else``."""
    if stmt.type != "if_statement" or stmt.children_by_field_name("alternative"):
        return None
    condition, body = stmt.child_by_field_name("condition"), stmt.child_by_field_name("consequence")
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    if not statements or statements[-1].type != "return_statement":
        return None
    test = test_of(condition)
    if not test.known or not when_false(test, condition).may <= CUDA_BUILDS:
        return None
    value = node_text(statements[-1])[len("return"):].strip()
    plain = len(statements) == 1 and value in _PLAIN and _answers(stmt)
    return body if plain or torch_generic(statements) or _tensor_helper(statements) else None


def _answers(stmt: ts.Node) -> bool:
    """Does the function around ``stmt`` return a value elsewhere (a question, whose "no" sends the
    caller down its own path), rather than only do things (``if not torch.cuda.is_available():
    return`` then ``torch.cuda.synchronize()``: the sync is skipped, a gap on another device)?"""
    function = enclosing(stmt, "function_definition")
    body = function.child_by_field_name("body") if function is not None else None
    returns = [r for r in descendants(body, PYTHON_SCOPES) if r.type == "return_statement"] if body is not None else []
    return any(node_text(r)[len("return"):].strip() not in _PLAIN | {""} for r in returns)


#: Builtins tensor math calls (apex's ``manual_rms_norm``: ``tuple(i for i in range(...))``).
_BUILTINS = frozenset({"tuple", "list", "range", "len", "min", "max", "abs", "sum", "float", "int", "isinstance"})
_TORCH = re.compile(r"^(?:torch|F|nn|torch\.nn)\.[\w.]+$")
_CPU_LITERAL = re.compile(r"""(?i)["']cpu(:\d+)?["']""")


def _tensor_helper(statements: list[ts.Node]) -> bool:
    """``return manual_rms_norm(input, ...)`` (apex's RMS norm off CUDA): a call of a module-level
    function of the same file that is plain tensor math, `_tensor_math`."""
    value = statements[-1].named_children[0] if len(statements) == 1 and statements[-1].named_children else None
    callee = value.child_by_field_name("function") if value is not None and value.type == "call" else None
    if callee is None or callee.type != "identifier":
        return False
    root = statements[-1]
    while root.parent is not None:
        root = root.parent
    for top in root.named_children:
        function = top.child_by_field_name("definition") if top.type == "decorated_definition" else top
        if function is not None and function.type == "function_definition" \
                and node_text(function.child_by_field_name("name")) == node_text(callee):
            return _tensor_math(function)
    return False


def _tensor_math(function: ts.Node) -> bool:
    """Does ``function`` spell nothing of CUDA nor a literal ``"cpu"``, define and import nothing, and
    call only torch functions, a few builtins and methods of its own parameters and locals (``input.to(
    torch.float32).pow(2).mean(dims)``)? Such code runs on whatever device its tensors are on."""
    body = function.child_by_field_name("body")
    if body is None or spells_cuda(function) or _CPU_LITERAL.search(node_text(function)):
        return False
    nodes = list(descendants(body))
    if any(n.type in PYTHON_SCOPES or n.type.startswith("import") for n in nodes):
        return False
    own = {node_text(n) for n in descendants(function.child_by_field_name("parameters") or body)
           if n.type == "identifier"}
    own |= {node_text(n.child_by_field_name("left")) for n in nodes if n.type == "assignment"}
    calls = [n for n in nodes if n.type == "call"]
    return bool(calls) and all(_tensor_call(call, own - {"self", "cls"}) for call in calls)


def _tensor_call(call: ts.Node, own: set[str]) -> bool:
    function = call.child_by_field_name("function")
    text = node_text(function).replace(" ", "") if function is not None else ""
    if function is None or _TORCH.match(text) or text in _BUILTINS:
        return function is not None
    receiver = function.child_by_field_name("object") if function.type == "attribute" else None
    while receiver is not None and receiver.type in ("call", "attribute", "subscript", "parenthesized_expression"):
        receiver = receiver.child_by_field_name("function") if receiver.type == "call" else \
            receiver.child_by_field_name("object") if receiver.type == "attribute" else \
            receiver.child_by_field_name("value") if receiver.type == "subscript" else receiver.named_children[0]
    return receiver is not None and receiver.type == "identifier" and node_text(receiver) in own
