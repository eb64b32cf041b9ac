"""A ``torch.version.cuda`` value only shown beside ``torch.version.hip`` is ROCm handled.

DeepSpeed's ``env_report.py`` says::

    if get_accelerator().device_name() == 'cuda':
        hip_version = getattr(torch.version, "hip", None)
        report.extend([("torch cuda version", torch.version.cuda), ("torch hip version", hip_version), ...

The ROCm reading LL122 recommends (``torch.version.hip``) is read in the same branch and printed in
the same statement: on ROCm the report shows the HIP version and the CUDA one is a harmless None.
Yet rocm was ``equivalent`` with no note (an independent judge's false finding, docs/validation.md,
#11, sixth session, third round, class 2). Here such a value gets rocm ``ROCm value read beside it
(<path>:<line>)``.

Narrow on purpose: the CUDA value is only shown or stored in a container (a tuple, list, dict, an
f-string, the arguments of ``print``/``append``/``extend``/a logger call, up to its statement), never
parsed or compared (``.split``, ``int(...)``, ``==``, a subscript), since a parse crashes on the None
a ROCm build gives; and ``torch.version.hip`` (directly or through ``getattr(torch.version, "hip",
...)``) is read in the same statement or in the block of the ``if``/``elif``/``else`` clause that
holds it.
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from .matching import RawMatch, node_text
from .python_other_paths import note_line

_SYMBOL = "torch.version.cuda"
#: ``torch.version.hip``, or ``getattr(torch.version, "hip", ...)``.
_HIP = re.compile(r"""torch\.version\.hip\b|getattr\(\s*torch\.version\s*,\s*["']hip["']""")
#: Where the value is only held or shown, up to its statement.
_CONTAINERS = frozenset({"tuple", "list", "pair", "dictionary", "set", "interpolation", "string",
                         "keyword_argument", "parenthesized_expression", "expression_list"})
#: Calls that only show or store their arguments.
_SHOWS = frozenset({"print", "append", "extend", "insert", "add", "update", "info", "warning", "warn",
                    "debug", "error", "log", "write", "str", "repr"})
_CLAUSES = frozenset({"if_statement", "elif_clause", "else_clause"})
#: What a ROCm read beside the value adds to `Finding.handled`.
HIP_BESIDE = "ROCm value read beside it"


def apply_hip_beside(raw: list[RawMatch], path: str) -> list[RawMatch]:
    """``raw`` with rocm handled for each ``torch.version.cuda`` shown beside a ROCm read."""
    kept = []
    for match in raw:
        if match.symbol == _SYMBOL and "rocm" not in dict(match.handled):
            line = hip_read_beside(match.node)
            if line is not None:
                match = replace(match, handled=tuple(sorted(match.handled + (("rocm", f"{HIP_BESIDE} ({path}:{line})"),))))
        kept.append(match)
    return kept


def hip_read_beside(node: ts.Node) -> int | None:
    """The line of the ``torch.version.hip`` read beside the shown-only value ``node``, or None."""
    statement = _shown_in(node)
    if statement is None:
        return None
    block = statement.parent
    where = block if block is not None and block.type == "block" and block.parent is not None \
        and block.parent.type in _CLAUSES else statement
    text = node_text(where)
    found = _HIP.search(text)
    if found is None:
        return None
    return note_line(where) + text.count("\n", 0, found.start())


def _shown_in(node: ts.Node) -> ts.Node | None:
    """The statement ``node`` is only shown or stored in, or None if it is used otherwise."""
    child, parent = node, node.parent
    while parent is not None:
        kind = parent.type
        if kind == "expression_statement":
            return parent
        if kind == "argument_list":
            call = parent.parent
            function = call.child_by_field_name("function") if call is not None else None
            if call is None or function is None or node_text(function).rsplit(".", 1)[-1] not in _SHOWS:
                return None
            child, parent = call, call.parent
            continue
        if kind not in _CONTAINERS or (kind == "pair" and parent.child_by_field_name("value") != child):
            return None
        child, parent = parent, parent.parent
    return None
