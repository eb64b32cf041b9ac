"""A ``device="cuda"`` parameter default that every call in the project overrides: info, not warning.

vLLM's ``LoRAModel.from_lora_tensors(..., device: str = "cuda")`` is called in two places, and both
pass ``device=`` (``lora_model.py:234``, ``tests/lora/test_lora_manager.py:55``): the default never
runs in the project. Reporting it at warning says "this code picks CUDA" where no code path does
(t23B, debatable). Only an out-of-tree caller could get the CUDA default, which is the lock-in a
public library default carries (bitsandbytes' exported API was judged true for it), so the finding
stays, statuses unchanged, at ``info``, its message naming the calls.

A constructor's default (``def __init__(self, ..., device="cuda")``) is read the same way with the
class's name for the function's: every spelling a ``Class(...)`` call that passes it (a subclass, an
annotation, an ``isinstance`` keep the warning), and the class undecorated.

The reading is deliberately narrow, because a wrong "every call passes it" hides real lock-in.
Spelling is the test, as in `rocm_callers`: every whole-word spelling of the function's name in the
run's Python files must be the definition itself, a plain ``from X import name`` (no ``as``), a
comment or docstring, or a call by that name (``f(...)``, ``x.f(...)`` for a method) that passes the
parameter, by keyword or positionally at its index, with no ``*args``/``**kwargs``. Anything else keeps the
warning: a second definition of the name (another class's method of the same name is ambiguous), a
use as a value (stored, passed, patched, ``getattr``'s string), a call that omits the parameter, a
name spelled in a package ``__init__.py`` or the file's ``__all__`` (exported: its users are out of
tree), a method of a class spelled in an ``__init__.py``, a decorator other than ``staticmethod`` /
``classmethod`` (a fixture or a registry calls it without the argument), and a function with no call
at all (a test pytest calls, an entry point).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

import tree_sitter as ts

from ..model import FileResult, Finding, Reader
from .rocm_callers import ChunkMap, spelling_files

#: The device-string rules whose literal may be a parameter's default.
RULES = frozenset({"LL200", "LL201"})
#: Decorators that leave a method's calls what they look like.
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})
#: Calls shown in the note.
_SHOWN = 3
_ALL = re.compile(rb"^__all__\b[^=\n]*=", re.MULTILINE)


def wanted(results: list[FileResult]) -> bool:
    """Only a run with an open LL200/LL201 finding in a Python file can have such a default."""
    return any(_open(f) for r in results if r.path.endswith(".py") for f in r.findings)


def _open(finding: Finding) -> bool:
    return finding.rule_id in RULES and finding.severity != "info" and finding.suppression is None


class _Default:
    """One candidate: the function whose parameter default holds findings, and how calls pass it."""

    def __init__(self, path: str, name: str, parameter: str, index: int | None, method: bool,
                 klass: str, definition: ts.Node) -> None:
        self.path, self.name, self.parameter, self.index = path, name, parameter, index
        self.method, self.klass, self.definition = method, klass, definition
        self.places: set[tuple[str, int, int]] = set()


def mark_overridden_defaults(results: list[FileResult], files: dict[str, str], read: Reader,
                             parser: Callable[[], ts.Parser], map_chunks: ChunkMap | None = None) -> list[FileResult]:
    """``results`` with each open LL200/LL201 finding on a default that every call overrides at info
    (``map_chunks``: the run's pool, for the search of every Python file, as in `rocm_callers`)."""
    candidates: dict[tuple[str, str], _Default] = {}
    trees: dict[str, tuple[bytes, ts.Node] | None] = {}
    for result in results:
        places = [f for f in result.findings if _open(f)] if result.path.endswith(".py") else []
        if not places or result.path.rsplit("/", 1)[-1] == "__init__.py" or result.path not in files:
            continue
        data = read(files[result.path])
        lines = data.split(b"\n") if data is not None and b"def " in data else []
        places = [f for f in places if _in_signature(lines, f)]
        if data is None or not places:
            continue
        root = parser().parse(data).root_node
        trees[result.path] = (data, root)
        for finding in places:
            found = _candidate(result.path, root, finding)
            if found is not None and not _exported(data, found.name):
                key = (result.path, f"{found.definition.start_point.row}:{found.parameter}")
                candidates.setdefault(key, found).places.add((finding.rule_id, finding.line, finding.column))
    # the defining file first: most candidates have a call there that omits the parameter, and the
    # search of every Python file of the run below costs per name
    kept = [c for c in candidates.values() if _calls_in(c, c.path, trees[c.path]) is not None]
    if not kept:
        return results
    names = sorted({c.name.encode() for c in kept} | {c.klass.encode() for c in kept if c.klass})
    spelled = {name: sorted(where) for name, where in spelling_files(tuple(names), files, read, map_chunks).items()}
    notes: dict[str, dict[tuple[str, int, int], str]] = {}
    for candidate in kept:
        note = _every_call_passes(candidate, spelled, files, read, parser, trees)
        if note is not None:
            for place in candidate.places:
                notes.setdefault(candidate.path, {})[place] = note
    return [replace(r, findings=tuple(_lowered(f, notes[r.path]) for f in r.findings)) if r.path in notes else r
            for r in results]


def _lowered(finding: Finding, notes: dict[tuple[str, int, int], str]) -> Finding:
    note = notes.get((finding.rule_id, finding.line, finding.column)) if _open(finding) else None
    return replace(finding, severity="info", message=f"{finding.message}; {note}") if note else finding


def _exported(data: bytes, name: str) -> bool:
    """Is ``name`` in the file's ``__all__`` (any string spelling it, when the file has one)?"""
    return _ALL.search(data) is not None and (f'"{name}"'.encode() in data or f"'{name}'".encode() in data)


def _candidate(path: str, root: ts.Node, finding: Finding) -> _Default | None:
    """The function and parameter whose default is the string ``finding`` sits on, when it is a
    module-level function or a method of a module-level class with no decorator that hands it out."""
    point = (finding.line - 1, max(finding.column - 1, 0))
    node: ts.Node | None = root.descendant_for_point_range(point, point)
    while node is not None and node.type != "string":
        node = node.parent
    if node is not None and node.parent is not None and node.parent.type in ("list", "tuple"):
        node = node.parent  # ``devices=["cuda"]``
    parameter = node.parent if node is not None else None
    if parameter is None or parameter.type not in ("default_parameter", "typed_default_parameter") \
            or parameter.child_by_field_name("value") != node:
        return None
    params, function = parameter.parent, parameter.parent.parent if parameter.parent is not None else None
    if params is None or function is None or function.type != "function_definition":
        return None
    holder = function.parent if function.parent is not None and function.parent.type == "decorated_definition" \
        else function
    decorators = [_text(d).lstrip("@").strip() for d in holder.children if d.type == "decorator"] \
        if holder is not function else []
    if any(d not in _PLAIN_DECORATORS for d in decorators):
        return None
    name_node, pname = function.child_by_field_name("name"), parameter.child_by_field_name("name")
    if name_node is None or pname is None:
        return None
    name = _text(name_node)
    scope = holder.parent
    klass = ""
    if scope is not None and scope.type == "block" and scope.parent is not None \
            and scope.parent.type == "class_definition":
        top = scope.parent.parent
        top = top.parent if top is not None and top.type == "decorated_definition" else top
        class_name = scope.parent.child_by_field_name("name")
        if top is None or top.type != "module" or class_name is None:
            return None
        klass = _text(class_name)
        if name == "__init__" and scope.parent.parent is not None and scope.parent.parent.type == "module":
            # ``Class(...)`` calls it (an undecorated class): the class's name is the function's
            return _Default(path, klass, _text(pname), _index(params, parameter, True), False, "", class_name)
    elif scope is None or scope.type != "module":
        return None
    if name.startswith("__") or name.startswith("test"):
        return None
    method = bool(klass) and "staticmethod" not in decorators
    return _Default(path, name, _text(pname), _index(params, parameter, method), bool(klass), klass, name_node)


def _index(params: ts.Node, parameter: ts.Node, method: bool) -> int | None:
    """The positional index a call passes ``parameter`` at (``self``/``cls`` not counted), None when it
    is keyword-only (after ``*`` or ``*args``)."""
    index = -1 if method else 0
    for param in params.named_children:
        if param.type in ("list_splat_pattern", "keyword_separator", "dictionary_splat_pattern"):
            return None
        if param == parameter:
            return index if index >= 0 else None
        if param.type != "positional_separator":
            index += 1
    return None


def _every_call_passes(candidate: _Default, spelled: dict[str, list[str]], files: dict[str, str], read: Reader,
                       parser: Callable[[], ts.Parser], trees: dict[str, tuple[bytes, ts.Node] | None]) -> str | None:
    """The note when every spelling of the name is a call that passes the parameter (or the definition,
    a plain import, a comment), with at least one call; None otherwise."""
    where = spelled.get(candidate.name, [])
    if any(p.rsplit("/", 1)[-1] == "__init__.py"
           for p in where + (spelled.get(candidate.klass, []) if candidate.klass else [])):
        return None
    calls: list[str] = []
    for shown in sorted(where):
        if shown not in trees:
            data = read(files[shown])
            trees[shown] = (data, parser().parse(data).root_node) if data is not None else None
        found = _calls_in(candidate, shown, trees[shown])
        if found is None:
            return None
        calls.extend(found)
    if not calls:
        return None
    more = ", ..." if len(calls) > _SHOWN else ""
    return f"every call in the project passes `{candidate.parameter}` ({', '.join(calls[:_SHOWN])}{more})"


def _calls_in(candidate: _Default, shown: str, tree: tuple[bytes, ts.Node] | None) -> list[str] | None:
    """The calls of the candidate in one file (``shown``: its name in the report), all passing the
    parameter; None when some spelling of the name there is anything but a call that passes it, the
    definition, a plain import, a comment or a docstring."""
    if tree is None:
        return None
    source, root = tree
    calls: list[str] = []
    for hit in re.finditer(rb"\b" + re.escape(candidate.name.encode()) + rb"\b", source):
        node = root.descendant_for_byte_range(hit.start(), hit.end())
        if node is None:
            return None
        if node.type == "comment" or _in_docstring(node):
            continue
        if node.type != "identifier" or (node.start_byte, node.end_byte) != hit.span():
            return None
        if (shown == candidate.path and node.start_byte == candidate.definition.start_byte) or _plain_import(node):
            continue
        call = _call_of(node, candidate.method)
        if call is None or not _passes(call, candidate):
            return None
        calls.append(f"{shown}:{call.start_point.row + 1}")
    return calls


#: A line that opens a function's signature.
_DEF = re.compile(rb"^[ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*\(", re.MULTILINE)
_BRACKETS = re.compile(rb"[()\[\]]")
#: How many lines above a finding its ``def`` may be.
_SIGNATURE_LINES = 60


def _in_signature(lines: list[bytes], finding: Finding) -> bool:
    """A quick test before the parse: is the finding inside the parentheses of a ``def`` above it
    (brackets counted, strings not read: a default holding an unbalanced ``)`` only keeps its warning)?"""
    if not 0 < finding.line <= len(lines):
        return False
    before = lines[max(0, finding.line - _SIGNATURE_LINES):finding.line - 1]
    text = b"\n".join([*before, lines[finding.line - 1][:max(finding.column - 1, 0)]])
    opened = None
    for opened in _DEF.finditer(text):
        pass
    if opened is None:
        return False
    depth = 1
    for bracket in _BRACKETS.findall(text, opened.end()):
        depth += 1 if bracket in b"([" else -1
        if depth == 0:
            return False  # the signature closed before the finding
    return True


def _in_docstring(node: ts.Node) -> bool:
    """Is ``node`` text of a string that is a statement by itself (a docstring, a bare string)? A string
    anywhere else (``getattr(m, "name")``, ``patch.object(C, "name")``) may be a use."""
    string = node.parent if node.type == "string_content" else None
    statement = string.parent if string is not None and string.type == "string" else None
    return statement is not None and statement.type == "expression_statement" and statement.named_child_count == 1


def _plain_import(node: ts.Node) -> bool:
    """``name`` imported by ``from X import name`` (not under another name, not the module part)."""
    dotted = node.parent
    statement = dotted.parent if dotted is not None else None
    return dotted is not None and dotted.type == "dotted_name" and statement is not None \
        and statement.type == "import_from_statement" and dotted in statement.children_by_field_name("name")


def _call_of(node: ts.Node, method: bool) -> ts.Node | None:
    """The call ``node`` is the callee of: ``x.f(...)`` for a method, ``f(...)`` or ``m.f(...)`` otherwise."""
    parent, callee = node.parent, node
    if parent is not None and parent.type == "attribute" and parent.child_by_field_name("attribute") == node:
        callee, parent = parent, parent.parent
    elif method:
        return None  # a bare name is not this method
    if parent is not None and parent.type == "call" and parent.child_by_field_name("function") == callee:
        return parent
    return None


def _passes(call: ts.Node, candidate: _Default) -> bool:
    """Does ``call`` pass the parameter, by keyword or at its index? Positions count only when the
    callee is not ``Class.method`` for a method: ``Class.f(obj, x)`` passes ``self`` in the list."""
    arguments = call.child_by_field_name("arguments")
    if arguments is None or arguments.type != "argument_list":
        return False
    positional = 0
    keyword = False
    for argument in arguments.named_children:
        if argument.type in ("list_splat", "dictionary_splat"):
            return False
        if argument.type == "keyword_argument":
            name = argument.child_by_field_name("name")
            keyword = keyword or (name is not None and _text(name) == candidate.parameter)
        elif argument.type != "comment":
            positional += 1
    function = call.child_by_field_name("function")
    receiver = function.child_by_field_name("object") if function is not None and function.type == "attribute" \
        else None
    by_class = candidate.klass != "" and receiver is not None and _text(receiver) == candidate.klass
    return keyword or (candidate.index is not None and positional > candidate.index and not by_class)


def _text(node: ts.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")
