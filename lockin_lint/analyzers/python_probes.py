"""An import inside an availability probe is the probe, not a use.

accelerate's ``is_bitsandbytes_multi_backend_available()`` returns False unless bitsandbytes is
installed, then imports it to read ``bnb.features``; xFormers' ``_is_triton_available()`` tries
``import triton`` and returns False on ImportError. Such an import runs only to answer "is this
package usable here?", and where the package is missing (every target it does not support) the
answer is False, not a failure: the probe works on every target. The lock-in is where the package
is used once the probe says yes, which the rules report there. So the import is still reported (a
reader sees the package named) but every target is handled, noted as a probe, and it costs no effort.

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

_PROBE = re.compile(r"^_?(?:is|has)_\w*available\w*$")
_GUARDS = frozenset({"try_statement", "if_statement"})


def _probe_of(statement: ts.Node) -> tuple[str, ts.Node] | None:
    """The probe function an import sits in, and whether something before it may answer first."""
    parent = statement.parent
    guarded = False
    while parent is not None and parent.type not in ("class_definition", "module"):
        if parent.type in _GUARDS:
            guarded = True
        if parent.type == "function_definition":
            name = parent.child_by_field_name("name")
            if name is None or not _PROBE.match(_text(name)):
                return None
            return (_text(name), parent) if guarded or _returns_before(parent, statement) else None
        parent = parent.parent
    return None


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


def apply_probes(raw: list[RawMatch]) -> list[RawMatch]:
    """``raw`` with the imports inside availability probes handled on every target."""
    kept = []
    for match in raw:
        statement = import_of(match.node) if match.rule.match.imports else None
        probe = _probe_of(statement) if statement is not None else None
        if probe is not None:
            note = f"availability probe {probe[0]}(): False where the package is missing"
            noted = {target for target, _ in match.handled}  # a dispatch's notes stay
            match = replace(match, handled=match.handled + tuple((t, note) for t in TARGETS if t not in noted))
        kept.append(match)
    return kept
