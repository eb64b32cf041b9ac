"""An import inside an availability probe is the probe, not a use.

accelerate's ``is_bitsandbytes_multi_backend_available()`` returns False unless bitsandbytes is
installed, then imports it to read ``bnb.features``; xFormers' ``_is_triton_available()`` tries
``import triton`` and returns False on ImportError. Such an import runs only to answer "is this
package usable here?", and where the package is missing (every target it does not support) the
answer is False, not a failure: the probe works on every target. The lock-in is where the package
is used once the probe says yes, which the rules report there. So the import is still reported (a
reader sees the package named) but every target is handled, noted as a probe, and it costs no effort.

The same holds at module level (bitsandbytes' ``backends/utils.py``): a ``try:`` whose body only
imports and sets a flag True, and whose ``except ImportError`` (or ``ModuleNotFoundError``) sets
that flag False, is a probe named by its flag. So is one whose handler only logs, when the flag was
preset False (or None) before the ``try`` and is read after it (DeepSpeed's ``moe/ep_kernels.py``). A
handler that re-raises, or one that catches ``Exception`` (which hides a broken install as well as a
missing one), is no probe. Except for one shape (DeepSpeed's ``ops/triton_ops/_triton.py``): a body
that imports, calls into what it imported (``triton.runtime.driver.active.get_current_target()``,
which fails on a host without a GPU driver) and sets the flag True, under an ``except Exception`` that
only sets the flag False and the imported names to ``None``: the broad catch is there for the call,
and a broken install reads as "absent", the answer the flag then gives at run time.

Three more shapes answer False the same way (eighth session, fH): a probe ``try`` that is all a
module-level ``if`` holds, when the flag is bound on every path (`branch_probe`: DeepSpeed's
``__init__.py`` sets ``HAS_TRITON = False`` in the ``else``; xFormers' ``benchmarks/utils.py`` presets
``_triton_is_available`` before the ``if`` and reads it after); and an op builder's
``is_compatible()`` whose ``try: import triton`` handler only logs and returns False or None
(`returning_try`). A handler returning a fallback object, or a test ``print`` with no flag
(DeepSpeed's ``test_layer_norm.py``), is no probe.

Narrow on purpose: the function's name must say it is a probe (``is_x_available``,
``_is_x_available``, ``has_x_available``), and the import must sit behind something that can answer
False first: inside a ``try`` or an ``if`` of the function, or after an ``if ...: return``. An
unconditional ``import x`` at the top of a probe fails where ``x`` is missing and stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .matching import RawMatch
from .matching import node_text as _text
from .python_joins import import_of
from .python_mentions import only_diagnostic_statement

_FIND_SPEC = re.compile(r"""(?:(?:importlib\.)?util\.)?find_spec\(\s*["']([\w.-]+)["']\s*\)\s+is\s+not\s+None""")
_PROBE = re.compile(r"^_?(?:is|has)_\w*available\w*$")
_GUARDS = frozenset({"try_statement", "if_statement"})


def _probe_of(statement: ts.Node) -> tuple[str, ts.Node] | None:
    """The probe an import sits in (``is_x_available()``, or a module-level flag) and its node."""
    parent = statement.parent
    if parent is not None and parent.type == "block" and parent.parent is not None \
            and parent.parent.type == "try_statement" and parent.parent.parent is not None \
            and parent.parent.parent.type == "module":
        flag = _flag_probe(parent.parent)
        return (flag, parent.parent) if flag is not None else None
    if parent is not None and parent.type == "block" and parent.parent is not None \
            and parent.parent.type == "try_statement":
        flag = _spec_probe(parent.parent, statement) or branch_probe(parent.parent)
        if flag is not None:
            return flag, parent.parent
    guarded = False
    while parent is not None and parent.type not in ("class_definition", "module"):
        if parent.type in _GUARDS:
            guarded = True
        if parent.type == "function_definition":
            name = parent.child_by_field_name("name")
            if name is not None and _text(name) == "is_compatible" and returning_try(statement):
                return f"{_text(name)}()", parent
            if name is None or not _PROBE.match(_text(name)):
                return None
            return (f"{_text(name)}()", parent) if guarded or _returns_before(parent, statement) else None
        parent = parent.parent
    return None


IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _flag_probe(try_statement: ts.Node) -> str | None:
    """The flag a module-level ``try: import x; flag = True / except ImportError: flag = False``
    sets, or None when the ``try`` does anything else. The handler may also log; and it may only
    log (or ``pass``) when the flag was preset off before the ``try`` (DeepSpeed's ``moe/ep_kernels.py``:
    ``_TRITON_AVAILABLE = False``, then ``except ImportError: logger.info(...)``) and is read after it,
    so that it chooses something."""
    body = try_statement.child_by_field_name("body")
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    set_true = {name for name in (_flag_set(s, "True") for s in statements) if name is not None}
    imported = imported_roots(statements)
    calls = [s for s in statements if calls_into(s, imported)]
    if len(set_true) != 1 or any(s.type not in ("import_statement", "import_from_statement")
                                 and _flag_set(s, "True") is None and s not in calls for s in statements):
        return None
    flag = set_true.pop()
    if calls:  # only a broad catch that just turns the flag off answers for a failing call
        clauses = except_clauses(try_statement)
        return flag if clauses and all(names == {"Exception"} and only_resets(inner, flag, imported)
                                       for names, inner in clauses) else None
    for names, inner in except_clauses(try_statement):
        offs = [s for s in inner if _flag_set(s, "False") == flag]
        quiet = all(s in offs or s.type == "pass_statement" or only_diagnostic_statement(s) for s in inner)
        if names and names <= IMPORT_ERRORS and inner and quiet and (offs or _preset_off(try_statement, flag)):
            return flag
    return None


def except_clauses(try_statement: ts.Node) -> list[tuple[frozenset[str], list[ts.Node]]]:
    """Each ``except`` of a ``try``: the exception names it catches (empty for a bare ``except:``;
    ``as e`` left out) and its handler's statements, comments left out."""
    clauses = []
    for clause in try_statement.named_children:
        if clause.type != "except_clause":
            continue
        caught = {_text(n) for n in clause.named_children if n.type in ("identifier", "tuple")} | {
            _text(n.named_children[0]) for n in clause.named_children  # ``except ImportError as e``
            if n.type == "as_pattern" and n.named_children and n.named_children[0].type in ("identifier", "tuple")}
        names = frozenset(part.strip("() ") for text in caught for part in text.split(","))
        handler = [s for s in clause.named_children if s.type == "block"]
        clauses.append((names, [s for s in handler[0].named_children if s.type != "comment"] if handler else []))
    return clauses


def _preset_off(try_statement: ts.Node, flag: str) -> bool:
    """Whether the module binds ``flag`` once before the ``try``, to False or None, and reads it after."""
    module = try_statement.parent
    earlier = [s for s in module.named_children if s.end_byte <= try_statement.start_byte] \
        if module is not None else []
    values = [value for value in (_flag_value(s, flag) for s in earlier) if value is not None]
    if len(values) != 1 or _text(values[0]) not in ("False", "None"):
        return False
    later = [s for s in module.named_children if s.start_byte >= try_statement.end_byte] if module is not None else []
    return any(reads_name(s, flag) for s in later)


def reads_name(node: ts.Node, flag: str) -> bool:
    """Whether ``node`` reads the name ``flag`` anywhere (a binding of it, or ``global`` of it, is no read)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if item.type == "identifier" and _text(item) == flag:
            parent = item.parent
            bound = parent is not None and (parent.type == "global_statement" or (
                parent.type == "assignment" and parent.child_by_field_name("left") == item))
            if not bound:
                return True
        stack.extend(item.named_children)
    return False


def _spec_probe(try_statement: ts.Node, statement: ts.Node) -> str | None:
    """The flag of vLLM's ``triton_utils/importing.py``: ``FLAG = find_spec("x") is not None`` at
    module level, then ``if FLAG: try: import x ... except ImportError: FLAG = False``. The import
    runs only where ``find_spec`` found the package, and its failure turns the flag off: a probe.
    None unless the ``try`` is all an ``if FLAG:`` at module level holds, the flag's last setting
    before it is such a ``find_spec`` test naming the imported package, and an ``except`` of import
    errors sets the flag False (besides logging)."""
    block = try_statement.parent
    branch = block.parent if block is not None else None
    if block is None or branch is None or branch.type != "if_statement" or branch.parent is None \
            or branch.parent.type != "module" or branch.children_by_field_name("alternative") \
            or [s for s in block.named_children if s.type != "comment"] != [try_statement]:
        return None
    condition = branch.child_by_field_name("condition")
    flag = _text(condition) if condition is not None and condition.type == "identifier" else None
    earlier = [s for s in branch.parent.named_children if s.end_byte <= branch.start_byte]
    settings = [s for s in earlier if _flag_value(s, flag) is not None]
    if flag is None or not settings or _top_package(statement) not in _specs(_flag_value(settings[-1], flag)):
        return None
    for names, inner in except_clauses(try_statement):
        offs = [s for s in inner if _flag_set(s, "False") == flag]
        if names and names <= IMPORT_ERRORS and offs and all(
                s in offs or only_diagnostic_statement(s) for s in inner):
            return flag
    return None


def _flag_value(statement: ts.Node, flag: str | None) -> ts.Node | None:
    """The value ``statement`` sets ``flag`` to, if it is a plain assignment of it."""
    assignment = statement.named_children[0] if statement.type == "expression_statement" \
        and statement.named_child_count == 1 else None
    if flag is None or assignment is None or assignment.type != "assignment":
        return None
    left = assignment.child_by_field_name("left")
    return assignment.child_by_field_name("right") if left is not None and _text(left) == flag else None


def _specs(value: ts.Node | None) -> set[str]:
    """The packages ``value`` tests with ``find_spec("x") is not None`` (alone, parenthesized or in
    an ``or``); empty when it is anything else."""
    if value is None:
        return set()
    inner = [c for c in value.named_children if c.type != "comment"]  # vLLM's "# Not compatible"
    if value.type == "parenthesized_expression" and len(inner) == 1:
        return _specs(inner[0])
    if value.type == "boolean_operator" and _text(value.child_by_field_name("operator")) == "or":
        left, right = _specs(value.child_by_field_name("left")), _specs(value.child_by_field_name("right"))
        return left | right if left and right else set()
    match = _FIND_SPEC.fullmatch(_text(value))
    return {match.group(1)} if value.type == "comparison_operator" and match else set()


def _top_package(statement: ts.Node) -> str:
    """The top-level package an import statement imports from (``triton`` for ``from triton.x import y``)."""
    name = statement.child_by_field_name("module_name") if statement.type == "import_from_statement" \
        else statement.child_by_field_name("name")
    return _text(name).split(" as ")[0].split(".")[0].strip()


def _flag_set(statement: ts.Node, value: str) -> str | None:
    """The name ``statement`` sets to ``value`` (``triton_available = True``), if that is all it does."""
    assignment = statement.named_children[0] if statement.type == "expression_statement" \
        and statement.named_child_count == 1 else None
    if assignment is None or assignment.type != "assignment":
        return None
    left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
    if left is None or right is None or left.type != "identifier" or _text(right) != value:
        return None
    return _text(left)


def _returns_before(function: ts.Node, statement: ts.Node) -> bool:
    """Whether the function's body has an ``if ...: return ...`` before ``statement``."""
    body = function.child_by_field_name("body")
    for item in body.named_children if body is not None else []:
        if item.end_byte > statement.start_byte:
            return False
        consequence = item.child_by_field_name("consequence") if item.type == "if_statement" else None
        if consequence is not None and any(s.type == "return_statement" for s in consequence.named_children):
            return True
    return False


def branch_probe(try_statement: ts.Node) -> str | None:
    """The flag of a probe ``try`` that is all a module-level ``if`` holds (DeepSpeed's ``__init__.py``:
    ``if not torch.version.hip: try: import triton; HAS_TRITON = True / except ImportError: HAS_TRITON =
    False / else: HAS_TRITON = False``; xFormers' ``benchmarks/utils.py``: ``_triton_is_available =
    torch.cuda.is_available()`` before ``if _triton_is_available: try: import triton / except
    ImportError: warn; _triton_is_available = False``). The import runs only where the test passes and
    its failure turns the flag off, so the flag answers on every path: a probe. None unless the ``try``
    (no ``else``/``finally``) only imports (and sets the flag True), a quiet import-error handler sets
    it False, and either the body sets it True and a lone ``else`` sets it False, or the module binds it
    before the ``if`` (no ``elif``/``else``) and reads it after."""
    block = try_statement.parent
    branch = block.parent if block is not None else None
    if block is None or branch is None or branch.type != "if_statement" or branch.parent is None \
            or branch.parent.type != "module" or branch.child_by_field_name("consequence") != block \
            or [s for s in block.named_children if s.type != "comment"] != [try_statement] \
            or any(c.type in ("else_clause", "finally_clause") for c in try_statement.named_children):
        return None
    body = try_statement.child_by_field_name("body")
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    set_true = {name for name in (_flag_set(s, "True") for s in statements) if name is not None}
    if len(set_true) > 1 or any(s.type not in ("import_statement", "import_from_statement")
                                and _flag_set(s, "True") is None for s in statements):
        return None
    offs = {_flag_set(s, "False") for names, inner in except_clauses(try_statement)
            if names and names <= IMPORT_ERRORS for s in inner} - {None}
    flag = offs.pop() if len(offs) == 1 else None
    if flag is None or (set_true and set_true != {flag}) or not all(
            all(_flag_set(s, "False") == flag or only_diagnostic_statement(s) for s in inner)
            for _, inner in except_clauses(try_statement)):
        return None
    alternatives = branch.children_by_field_name("alternative")
    if alternatives:
        otherwise = alternatives[0].child_by_field_name("body") if alternatives[0].type == "else_clause" else None
        rest = [s for s in otherwise.named_children if s.type != "comment"] if otherwise is not None else []
        return flag if set_true and len(alternatives) == 1 and len(rest) == 1 \
            and _flag_set(rest[0], "False") == flag else None
    module = branch.parent
    preset = any(_flag_value(s, flag) is not None for s in module.named_children if s.end_byte <= branch.start_byte)
    later = [s for s in module.named_children if s.start_byte >= branch.end_byte]
    return flag if preset and any(reads_name(s, flag) for s in later) else None


def imported_roots(statements: list[ts.Node]) -> set[str]:
    """The names the import statements among ``statements`` bind (``tl`` of ``import triton.language
    as tl``, ``triton`` of ``import triton.language``)."""
    names = set()
    for statement in statements:
        if statement.type not in ("import_statement", "import_from_statement"):
            continue
        for item in statement.children_by_field_name("name"):
            alias = item.child_by_field_name("alias") if item.type == "aliased_import" else None
            full = _text(alias) if alias is not None else _text(item)
            names.add(full.split(".")[0] if statement.type == "import_statement" or alias is not None
                      else full.split(".")[-1])
    return names


def calls_into(statement: ts.Node, imported: set[str]) -> bool:
    """Whether ``statement`` is only a call of something a name of ``imported`` reaches
    (``triton.runtime.driver.active.get_current_target()``)."""
    call = statement.named_children[0] if statement.type == "expression_statement" \
        and statement.named_child_count == 1 else None
    function = call.child_by_field_name("function") if call is not None and call.type == "call" else None
    root = function
    while root is not None and root.type == "attribute":
        root = root.child_by_field_name("object")
    return root is not None and root.type == "identifier" and _text(root) in imported


def only_resets(inner: list[ts.Node], flag: str, imported: set[str]) -> bool:
    """Whether a handler only turns ``flag`` off and sets imported names to ``None`` placeholders
    (DeepSpeed's ``triton_ops/_triton.py``: ``triton = None; tl = None; _TRITON_AVAILABLE = False``)."""
    offs = [s for s in inner if _flag_set(s, "False") == flag]
    return bool(offs) and all(s in offs or _flag_set(s, "None") in imported for s in inner)


def returning_try(statement: ts.Node) -> bool:
    """Whether ``statement`` sits in a ``try`` that only imports and whose every handler catches import
    errors, only logs and then returns False or None (DeepSpeed's ``op_builder/fp_quantizer.py``:
    ``is_compatible`` answers False where triton is missing)."""
    block = statement.parent
    try_statement = block.parent if block is not None else None
    if block is None or try_statement is None or try_statement.type != "try_statement" \
            or try_statement.child_by_field_name("body") != block \
            or any(s.type not in ("import_statement", "import_from_statement", "comment") for s in block.named_children):
        return False
    clauses = except_clauses(try_statement)
    return bool(clauses) and all(
        names and names <= IMPORT_ERRORS and inner and _text(inner[-1]) in ("return False", "return None", "return")
        and all(only_diagnostic_statement(s) for s in inner[:-1]) for names, inner in clauses)


def apply_probes(raw: list[RawMatch]) -> list[RawMatch]:
    """``raw`` with the imports inside availability probes handled on every target."""
    kept = []
    for match in raw:
        statement = import_of(match.node) if match.rule.match.imports else None
        probe = _probe_of(statement) if statement is not None else None
        if probe is not None:
            note = f"availability probe {probe[0]}: False where the package is missing"
            noted = {target for target, _ in match.handled}  # a dispatch's notes stay
            match = replace(match, handled=match.handled + tuple((t, note) for t in TARGETS if t not in noted))
        kept.append(match)
    return kept
