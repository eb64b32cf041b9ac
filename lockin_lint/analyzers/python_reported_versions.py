"""A ``torch.version.cuda`` an environment reporter only shows: kept, but reported apart.

vLLM's ``collect_env.get_env_info`` binds ``cuda_version_str = torch.version.cuda`` (``"N/A"`` on
HIP) and only passes it on as ``cuda_compiled_version=`` of the ``SystemEnv`` it returns, which is
then formatted into the report; DeepSpeed's ``env_report.debug_report`` puts ``("torch cuda version",
torch.version.cuda)`` into the ``report`` list it prints. ``None`` on a build without CUDA is shown
as such and nothing depends on it (v1's class V1-b; DeepSpeed's row judged false before). The
finding (LL122) stays, set apart as `python_skipped_tests` sets an always-skipped test's
(`model.reported_apart`: ``info``, every open target handled), noted ``only shown in an environment
report``. `python_mentions` already drops a read printed, logged or formatted into a raised message
when the rule is reported elsewhere in the file; this is the report-building flow it does not follow.

The criterion is local and strict. The read must be in a function whose name has a word ``env``,
``environment``, ``report`` or ``info`` (``get_env_info``, ``debug_report``), and reach, through
nothing else, one of: that function's ``return``; a print/log call; an ``append``/``extend`` of a
list named like a message (``report``, ``msg``, ...). On the way it may only be an element of a
tuple, list or dict literal (a dict's value), the value of a keyword argument of a call that itself
flows so (``return SystemEnv(cuda_compiled_version=...)``), an argument of ``str()``, interpolated
in an f-string that flows so, or bound to a local name (``x = torch.version.cuda``) whose every read
in the function flows so. Any other use keeps the finding: a comparison, ``parse()``/``Version()``,
``.split()``, a path built from it (bitsandbytes' ``diagnostics/cuda.py``, which looks for runtime
files), a conditional expression, an attribute store.
"""

from __future__ import annotations

import tree_sitter as ts

from ..model import Finding, reported_apart
from .matching import descendants, node_text
from .python_mentions import _MESSAGE_NAME, _REPORTING

_NOTE = "only shown in an environment report"
_SYMBOL = "torch.version.cuda"
_REPORTER_WORDS = frozenset({"env", "environment", "report", "info"})
_CONTAINERS = frozenset({"tuple", "list", "dictionary", "parenthesized_expression", "expression_list"})
#: How many local names a value may pass through (``a = torch.version.cuda; b = a``).
_MAX_BINDINGS = 2


def mark_reported_versions(findings: tuple[Finding, ...], root: ts.Node) -> tuple[Finding, ...]:
    """``findings`` with the LL122 ones an environment reporter only shows set apart (module docstring)."""
    lines = {f.line for f in findings if f.rule_id == "LL122"}
    if not lines:
        return findings
    reads: dict[int, list[bool]] = {}
    for node in _symbol_reads(root):
        if node.start_point[0] + 1 in lines:
            function = _function(node)
            reads.setdefault(node.start_point[0] + 1, []).append(
                function is not None and _reporter(function) and _shown(node, function, 0))
    return tuple(reported_apart(f, _NOTE) if f.rule_id == "LL122" and reads.get(f.line) and all(reads[f.line])
                 else f for f in findings)


def _symbol_reads(root: ts.Node) -> list[ts.Node]:
    """The ``torch.version.cuda`` attribute nodes of the file, found by a search of its bytes and a
    lookup of each hit, not a walk of the whole tree (which was most of this reading's cost)."""
    source, key, found = root.text or b"", _SYMBOL.encode(), []
    start = source.find(key)
    while start >= 0:
        node = root.descendant_for_byte_range(start, start + len(key))
        while node is not None and node.type != "attribute" and node.end_byte - node.start_byte < len(key):
            node = node.parent
        if node is not None and node.type == "attribute" and node.start_byte == start \
                and node.end_byte == start + len(key):
            found.append(node)
        start = source.find(key, start + len(key))
    return found


def _function(node: ts.Node) -> ts.Node | None:
    parent = node.parent
    while parent is not None and parent.type not in ("function_definition", "class_definition"):
        parent = parent.parent
    return parent if parent is not None and parent.type == "function_definition" else None


def _reporter(function: ts.Node) -> bool:
    name = node_text(function.child_by_field_name("name")).lower()
    return bool(_REPORTER_WORDS & set(name.split("_")))


def _shown(node: ts.Node, function: ts.Node, depth: int) -> bool:
    """Does the value of ``node`` only flow into what ``function`` reports (module docstring)?"""
    parent = node.parent
    if parent is None:
        return False
    kind = parent.type
    if kind in _CONTAINERS:
        return _shown(parent, function, depth)
    if kind == "pair" and parent.child_by_field_name("value") == node:
        return parent.parent is not None and _shown(parent.parent, function, depth)
    if kind == "interpolation":
        string = parent.parent
        return string is not None and string.type == "string" and _shown(string, function, depth)
    if kind == "keyword_argument" and parent.child_by_field_name("value") == node:
        call = parent.parent.parent if parent.parent is not None else None
        return call is not None and call.type == "call" and _shown(call, function, depth)
    if kind == "argument_list" and parent.parent is not None and parent.parent.type == "call":
        return _call_shows(parent.parent, function, depth)
    if kind == "return_statement":
        return _function(parent) == function
    if kind == "assignment" and parent.child_by_field_name("right") == node:
        return _bound_and_shown(parent.child_by_field_name("left"), function, depth)
    return False


def _call_shows(call: ts.Node, function: ts.Node, depth: int) -> bool:
    """An argument of ``call`` is shown: ``print``/a logger, a message list's ``append``/``extend``,
    or ``str(...)`` whose result is itself shown."""
    callee = call.child_by_field_name("function")
    name = node_text(callee).rsplit(".", 1)[-1]
    if name in _REPORTING:
        return True
    if name == "str" and callee is not None and callee.type == "identifier":
        return _shown(call, function, depth)
    receiver = callee.child_by_field_name("object") if callee is not None and callee.type == "attribute" else None
    return name in ("append", "extend") and receiver is not None and receiver.type == "identifier" \
        and bool(_MESSAGE_NAME.search(node_text(receiver)))


def _bound_and_shown(target: ts.Node | None, function: ts.Node, depth: int) -> bool:
    """``target`` is a plain local name whose every read in ``function`` is shown."""
    if target is None or target.type != "identifier" or depth >= _MAX_BINDINGS:
        return False
    name = node_text(target)
    reads = [n for n in descendants(function) if n.type == "identifier" and node_text(n) == name and _read(n)]
    return bool(reads) and all(_shown(n, function, depth + 1) for n in reads)


def _read(node: ts.Node) -> bool:
    """Is the identifier ``node`` a read of a local (not a store, an attribute name or a keyword)?"""
    parent = node.parent
    if parent is None:
        return True
    if parent.type == "assignment" and parent.child_by_field_name("left") == node:
        return False
    if parent.type == "attribute" and parent.child_by_field_name("attribute") == node:
        return False
    if parent.type == "keyword_argument" and parent.child_by_field_name("name") == node:
        return False
    return parent.type not in ("parameters", "default_parameter", "typed_parameter", "function_definition")
