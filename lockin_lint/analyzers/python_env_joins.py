"""One setting, one finding: the save and restore around an environment variable.

A function that changes a variable for a while saves it first and puts it back after::

    old = os.environ.get("CUDA_VISIBLE_DEVICES")      # save
    os.environ["CUDA_VISIBLE_DEVICES"] = ""            # the setting
    try: ...
    finally:
        if old is None: del os.environ["CUDA_VISIBLE_DEVICES"]   # restore
        else: os.environ["CUDA_VISIBLE_DEVICES"] = old           # restore

Each line names the variable, so each matched, and the one setting read as four findings (and four
times the effort). A port renames all of them with the setting, but none of the save and restore
lines selects or configures anything of its own. Here they join the setting's finding (the first
set in the function; the first save when the function only saves and restores, as DeepSpeed's
``jit_load`` does around a build that sets the variable elsewhere), in ``RawMatch.joined`` like any
other joined part (`python_joins`), and the finding's message names their lines.

Only plain statements count: a save is ``name = <read>`` (``os.environ.get(V)``, ``os.environ[V]``,
``os.getenv(V)``, ``V in os.environ``), a restore is a set whose value is a saved name, or a removal
(``del``, ``.pop``, ``os.unsetenv``) as a statement of its own. A save need not be put back: reading
the user's value into a name and then setting the variable (``current = os.getenv("NCCL_MAX_CTAS")``,
``if current: return``, ``os.environ["NCCL_MAX_CTAS"] = "8"``) is one setting to port too. Other reads (``if os.environ.get(V):``)
stay their own findings, and so does a second set (another branch's value is another setting).
A function that only reads, or only sets, has no construct to join.

A class can do the same across two methods, keeping the saved value on ``self`` (DeepSpeed's test
``EnableDeterminism``: ``__enter__`` saves ``self.saved_cuda_launch_blocking =
os.environ.get("CUDA_LAUNCH_BLOCKING", "")`` and sets the variable, ``__exit__`` sets it back to
``self.saved_cuda_launch_blocking``). When a method saves a variable on ``self``, the class's methods
are one scope for that variable; elsewhere the scope stays the function.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import tree_sitter as ts

from .matching import RawMatch
from .matching import node_text as _text

#: The calls that read a variable, and those that remove one.
_READS = frozenset({"get", "getenv"})
_REMOVALS = frozenset({"pop", "unsetenv"})
_SETS = frozenset({"setdefault", "putenv"})
#: How far a string climbs to the statement it is part of (string, its call or subscript, assignment).
_CLIMB = 4


@dataclass(frozen=True, slots=True)
class _Access:
    """What one match's statement does with the variable: ``save`` (of ``name``), ``set``, ``restore``."""

    role: str
    name: str = ""
    value: str = ""


def _function_of(node: ts.Node) -> ts.Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            return parent
        if parent.type in ("class_definition", "lambda"):
            return None
        parent = parent.parent
    return None


def _statement(node: ts.Node) -> tuple[ts.Node, ts.Node] | None:
    """The assignment, deletion or expression statement the string is part of, and the child of it
    the string climbed through (an assignment's ``left``/``right``)."""
    child, parent = node, node.parent
    for _ in range(_CLIMB):
        if parent is None:
            return None
        if parent.type in ("assignment", "delete_statement", "expression_statement"):
            return parent, child
        if parent.type in ("block", "module"):
            return None
        child, parent = parent, parent.parent
    return None


def _called(call: ts.Node) -> str:
    function = call.child_by_field_name("function")
    if function is None:
        return ""
    if function.type == "attribute":
        attribute = function.child_by_field_name("attribute")
        return _text(attribute) if attribute is not None else ""
    return _text(function)


def _access(node: ts.Node) -> _Access | None:
    """What the statement around the variable's name does, when it is a save, set or removal."""
    found = _statement(node)
    if found is None:
        return None
    statement, part = found
    holder = node.parent  # the subscript, comparison or argument list the name sits in
    if holder is None:
        return None
    call = holder.parent if holder.type == "argument_list" else None
    verb = _called(call) if call is not None else ""
    if statement.type == "delete_statement":
        return _Access("restore") if holder.type == "subscript" else None
    if statement.type == "expression_statement":
        if call is None or call.parent != statement:
            return None
        return _Access("restore") if verb in _REMOVALS else _Access("set") if verb in _SETS else None
    left, right = statement.child_by_field_name("left"), statement.child_by_field_name("right")
    if left is None or right is None:
        return None
    if part == left and holder == left and holder.type == "subscript":
        return _Access("set", value=_text(right) if right.type == "identifier" or _on_self(right) else "")
    if part == right and (left.type == "identifier" or _on_self(left)):
        read = right == holder and holder.type in ("subscript", "comparison_operator") or (
            call is not None and right == call and verb in _READS)
        return _Access("save", name=_text(left)) if read else None
    return None


def _on_self(node: ts.Node) -> bool:
    """``self.name``: where a method keeps a saved value for another method to put back."""
    value = node.child_by_field_name("object") if node.type == "attribute" else None
    return value is not None and value.type == "identifier" and _text(value) == "self"


def _class_of(function: ts.Node) -> ts.Node | None:
    """The class a function is a method of (directly, decorators allowed)."""
    parent = function.parent
    if parent is not None and parent.type == "decorated_definition":
        parent = parent.parent
    owner = parent.parent if parent is not None and parent.type == "block" else None
    return owner if owner is not None and owner.type == "class_definition" else None


def join_env_settings(raw: list[RawMatch]) -> list[RawMatch]:
    """``raw`` with each function's save and restore of a variable folded into its setting; a class
    that saves the variable on ``self`` (``__enter__`` saves and sets, ``__exit__`` restores) is one
    scope for that variable."""
    accesses: list[tuple[int, RawMatch, ts.Node, _Access]] = []
    for position, match in enumerate(raw):
        if match.rule.category != "env" or match.node.type != "string":
            continue
        function = _function_of(match.node)
        access = _access(match.node) if function is not None else None
        if function is not None and access is not None:
            accesses.append((position, match, function, access))
    keeping = {(owner.id, match.rule.id, match.symbol) for _, match, function, access in accesses
               if access.role == "save" and access.name.startswith("self.")
               and (owner := _class_of(function)) is not None}
    groups: dict[tuple[int, str, str], list[tuple[int, _Access]]] = {}
    for position, match, function, access in accesses:
        owner = _class_of(function)
        scope = owner if owner is not None and (owner.id, match.rule.id, match.symbol) in keeping else function
        groups.setdefault((scope.id, match.rule.id, match.symbol), []).append((position, access))
    hosts: dict[int, list[int]] = {}  # host position -> the positions joining it
    for members in groups.values():
        joined = _construct(members)
        if joined is not None:
            hosts[joined[0]] = joined[1]
    if not hosts:
        return raw
    gone = {position for parts in hosts.values() for position in parts}
    return [_host(match, [raw[p] for p in hosts[position]]) if position in hosts else match
            for position, match in enumerate(raw) if position not in gone]


def _construct(members: list[tuple[int, _Access]]) -> tuple[int, list[int]] | None:
    """The host and the joining positions of one function's accesses to one variable, if they form
    a save/set/restore; a set of a saved name is that name's restore."""
    saved = {access.name for _, access in members if access.role == "save"}
    roles = [(position, "restore" if access.role == "set" and access.value in saved else access.role)
             for position, access in members]
    sets = [position for position, role in roles if role == "set"]
    saves = [position for position, role in roles if role == "save"]
    restores = [position for position, role in roles if role == "restore"]
    if not (saves and (sets or restores)) and not (sets and restores):
        return None
    host = sets[0] if sets else saves[0]
    return host, [position for position in saves + restores if position != host]


def _host(match: RawMatch, parts: list[RawMatch]) -> RawMatch:
    lines = tuple(sorted({part.node.start_point.row + 1 for part in parts}))
    return replace(match, joined=match.joined + tuple((part.rule, part.symbol) for part in parts),
                   joined_lines=match.joined_lines + lines)
