"""A subclass that rebinds ``torch.cuda`` names to another backend's before its base class runs.

vLLM's ``v1/worker/xpu_model_runner.py`` builds the XPU runner from the CUDA one::

    class XPUModelRunner(GPUModelRunner):
        def __init__(self, vllm_config, device):
            with _torch_cuda_wrapper():
                super().__init__(vllm_config, device)

    @contextmanager
    def _torch_cuda_wrapper():
        try:
            torch.cuda.Stream = torch.xpu.Stream
            torch.cuda.stream = torch.xpu.stream
            torch.cuda.Event = torch.Event
            ...
            yield
        finally:
            pass

The names are never restored, so once an XPU runner exists, ``torch.cuda.stream`` is
``torch.xpu.stream`` for the whole process: the ``with torch.cuda.stream(...)`` in
``gpu_model_runner.py``'s ``AsyncGPUModelRunnerOutput.__init__`` already runs on XPU (judged
debatable, LL102, #11). This module reads the patching file; `project.cuda_rebinds` then handles
those names on that target in the base class's module, noted "rebound to torch.xpu.stream by
xpu_model_runner.py:55".

What counts, each doubt leaving the findings as they were:
- a module-level function whose own body (or the body of a ``try`` that is its own statement) assigns
  ``torch.cuda.<name> = torch.<backend>.<value>``;
- an assignment in the body of an ``if`` that is such a statement counts, as conditional, only when the
  ``if`` has no ``elif``/``else`` and its test is a capability probe of that backend: a call without
  arguments whose (last dotted) name, split at ``_``, starts with ``supports``, ``has`` or ``can``, has
  a word naming the same backend (``xpu``) and at least one more word, the capability (vLLM's XPU
  graph names, rebound only ``if supports_xpu_graph():``); under any other test (``if
  graphs_supported():``, ``if supports_npu_graph():``, ``if not ...``, ``if flag:``) it does not count;
- the backend is the one ``torch.<backend>`` names (``xpu``, ``npu``...); a device-generic value
  (``torch.Event``) counts for it when the function's other values name exactly one backend;
- a name the function assigns anything else as well (a restore in ``finally``, as vLLM's CPU runner
  does with its placeholders) is not rebound for good and does not count;
- the function is called in the ``__init__`` of a module-level class of the same file, and that class
  derives from a name the file imports ``from <module> import <Base>`` (as written; the pass finds
  the module and checks that it defines the class).
"""

from __future__ import annotations

import re

import tree_sitter as ts

from ..model import CudaRebind
from .backend_paths import BACKEND_TOKENS
from .matching import PYTHON_SCOPES, descendants, node_text

#: What the whole file must spell for a rebinding to be possible (most files: not even once).
_ASSIGNED = re.compile(rb"torch\.cuda\.\w+\s*=\s*torch\.")
_CUDA_NAME = re.compile(r"^torch\.cuda\.(\w+)$")
_PREFIX = b"torch.cuda."


def _assigns_cuda_name(source: bytes) -> bool:
    """``_ASSIGNED.search(source) is not None``: a match starts with the literal ``torch.cuda.``, so
    it is tried only where ``bytes.find`` finds that (the regex's own scan for its prefix was several
    times slower, on every parsed file)."""
    start = source.find(_PREFIX)
    while start >= 0:
        if _ASSIGNED.match(source, start) is not None:
            return True
        start = source.find(_PREFIX, start + 1)
    return False


def cuda_rebinds(source: bytes, root: ts.Node) -> tuple[CudaRebind, ...]:
    """The file's rebindings of ``torch.cuda`` names that a subclass's ``__init__`` runs."""
    if not _assigns_cuda_name(source):
        return ()
    functions = {node_text(s.child_by_field_name("name")): s for s in top_definitions(root, "function_definition")}
    rebinding = {name: read for name, function in functions.items() if (read := _rebound(function))}
    if not rebinding:
        return ()
    imported = _imported_names(root)
    found = []
    for cls in top_definitions(root, "class_definition"):
        init = _init(cls)
        called = _called(init, set(rebinding)) if init is not None else set()
        for base in _bases(cls):
            if base in imported:
                for name in sorted(called):
                    target, names, probes = rebinding[name]
                    found.append(CudaRebind(imported[base][0], imported[base][1], target, names, probes))
    return tuple(found)


def top_definitions(root: ts.Node, kind: str) -> list[ts.Node]:
    """The function or class definitions that are statements of ``root`` (a module or a class body),
    decorated ones too."""
    found = []
    for statement in root.named_children:
        node = statement.child_by_field_name("definition") if statement.type == "decorated_definition" else statement
        if node is not None and node.type == kind:
            found.append(node)
    return found


_Rebound = tuple[str, tuple[tuple[str, str, int], ...], tuple[tuple[str, str, int], ...]]


def _rebound(function: ts.Node) -> _Rebound | None:
    """The target, the (name, value, line) ``torch.cuda`` names ``function`` rebinds for good, and per
    name rebound only under a capability probe, (name, probe as written, the probe's line)."""
    body = function.child_by_field_name("body")
    if body is None:
        return None
    values: dict[str, set[str]] = {}  # every value each torch.cuda name gets anywhere in the function
    for node in descendants(body, PYTHON_SCOPES):
        sides = _cuda_assignment(node)
        if sides is not None:
            values.setdefault(sides[0], set()).add(sides[1])
    statements = list(body.named_children)
    for statement in body.named_children:
        if statement.type == "try_statement":
            block = statement.child_by_field_name("body")
            statements += block.named_children if block is not None else []
    guarded: dict[int, ts.Node] = {}  # a statement (its id) under an ``if`` -> that ``if``'s test
    for statement in list(statements):
        test = statement.child_by_field_name("condition") if statement.type == "if_statement" else None
        block = statement.child_by_field_name("consequence")
        if test is not None and block is not None and statement.child_by_field_name("alternative") is None:
            for inner in block.named_children:
                guarded[inner.id] = test
                statements.append(inner)
    kept: dict[str, tuple[str, int]] = {}
    tests: dict[str, ts.Node] = {}
    for statement in statements:
        sides = _cuda_assignment(statement.named_children[0]) \
            if statement.type == "expression_statement" and statement.named_child_count == 1 else None
        if sides is not None and values.get(sides[0]) == {sides[1]} and sides[0] not in kept:
            kept[sides[0]] = (sides[1], statement.start_point.row + 1)
            if statement.id in guarded:
                tests[sides[0]] = guarded[statement.id]
    backends = {_backend(value) for name, (value, _) in kept.items() if name not in tests}
    named = [backend for backend in backends if backend]
    if len(named) != 1 or "" in backends:  # no backend, two, or a value that is none (a placeholder)
        return None
    for name, test in list(tests.items()):  # under another test, or bound to another backend: dropped
        if not _probes(test, named[0]) or _backend(kept[name][0]) not in (named[0], None):
            del tests[name], kept[name]
    probes = tuple((name, node_text(test), test.start_point.row + 1) for name, test in sorted(tests.items()))
    return (named[0], tuple((name, value, line) for name, (value, line) in sorted(kept.items())), probes)


_CAPABILITY = ("supports", "has", "can")


def _probes(test: ts.Node, target: str) -> bool:
    """Is ``test`` a capability probe of ``target``: ``supports_xpu_graph()``, no arguments?"""
    callee = test.child_by_field_name("function") if test.type == "call" else None
    arguments = test.child_by_field_name("arguments") if test.type == "call" else None
    if callee is None or arguments is None or arguments.named_child_count:
        return False
    words = node_text(callee).rsplit(".", 1)[-1].split("_")
    platform = [word for word in words if BACKEND_TOKENS.get(word) == target]
    return words[0] in _CAPABILITY and len(platform) == 1 and len(words) >= 3


def _cuda_assignment(node: ts.Node) -> tuple[str, str] | None:
    """``(name, value)`` of ``torch.cuda.<name> = <value>`` (the value as written), else None."""
    if node.type != "assignment":
        return None
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    spelled = _CUDA_NAME.match(node_text(left)) if left is not None and left.type == "attribute" else None
    if spelled is None or right is None:
        return None
    return spelled.group(1), node_text(right)


def _backend(value: str) -> str | None:
    """The target ``torch.<backend>.<name>`` names; None for a device-generic ``torch.<Name>``; ""
    for anything else (a placeholder class, a backend lockin-lint does not judge)."""
    parts = value.split(".")
    if parts[0] != "torch" or len(parts) not in (2, 3) or not all(p.isidentifier() for p in parts):
        return ""
    if len(parts) == 2:
        return None
    return BACKEND_TOKENS.get(parts[1]) or ""


def _init(cls: ts.Node) -> ts.Node | None:
    body = cls.child_by_field_name("body")
    for method in top_definitions(body, "function_definition") if body is not None else []:
        if node_text(method.child_by_field_name("name")) == "__init__":
            return method
    return None


def _called(function: ts.Node, names: set[str]) -> set[str]:
    """Which of ``names`` (module-level functions) ``function`` calls."""
    body = function.child_by_field_name("body")
    called = set()
    for node in descendants(body, PYTHON_SCOPES) if body is not None else []:
        callee = node.child_by_field_name("function") if node.type == "call" else None
        if callee is not None and callee.type == "identifier" and node_text(callee) in names:
            called.add(node_text(callee))
    return called


def _bases(cls: ts.Node) -> list[str]:
    superclasses = cls.child_by_field_name("superclasses")
    return [node_text(n) for n in superclasses.named_children if n.type == "identifier"] \
        if superclasses is not None else []


def _imported_names(root: ts.Node) -> dict[str, tuple[str, str]]:
    """Local name -> (module as written, name there) of the module's ``from M import X [as Y]``."""
    found: dict[str, tuple[str, str]] = {}
    for statement in root.named_children:
        module = statement.child_by_field_name("module_name") if statement.type == "import_from_statement" else None
        if module is None:
            continue
        for item in statement.children_by_field_name("name"):
            original = item.child_by_field_name("name") if item.type == "aliased_import" else item
            local = item.child_by_field_name("alias") if item.type == "aliased_import" else item
            found[node_text(local)] = (node_text(module), node_text(original))
    return found
