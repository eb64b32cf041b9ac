"""CUDA names inside ``#define`` bodies, read as a token stream and reported at the definition.

The grammar keeps a macro body as one raw-text node, so ``cudaLaunchKernel`` in apex's
``group_norm/macros.h`` launch code was invisible, however many files expand the macro. A body is split
into names (``a::b::c`` included) and ``<<<``; each name is looked up like a name in code, with the
rules code has: a name pasted with ``##`` or stringised with ``#`` is not a name; a parameter of the
macro, or a name the file declares, is not an unknown API; device functions count in a CUDA source
or when spelled with a leading ``__``. Names in the parentheses of a matched call join that call's
finding, as in code (`joins`). String and character literals and comments are blanked first (`_blank`):
apex's ``"... (cudaFuncSetAttribute carveout)"`` error message and llm.c's
``#define CUBLAS_LOWP CUDA_R_16BF // CUDA_R_16F or ...`` name APIs nobody calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..kb.cuda_index import CudaIndex
from ..model import Rule

_NAME = re.compile(r"[:A-Za-z_]")
_TOKEN = re.compile(r"##|#|<<<|\(|\)|(?:::\s*)?[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)*")
#: What holds no code: a string or character literal, a ``/* */`` comment, or a ``//`` comment (which a
#: backslash-newline continues, as line splicing comes first).
_NOT_CODE = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//(?:\\\r?\n|[^\n])*', re.DOTALL)


def _blank(body: str) -> str:
    """``body`` with literals and comments turned to spaces, newlines kept: offsets stay those of ``body``."""
    return _NOT_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), body)


@dataclass(frozen=True, slots=True)
class BodyMatch:
    """A rule matched at ``start``..``end`` (offsets in the body text), with the matches joined to it."""

    rule: Rule
    symbol: str
    start: int
    end: int
    joined: tuple[tuple[Rule, str], ...] = ()


def _lookup(index: CudaIndex, name: str, cuda_source: bool,
            declared: Callable[[str], bool]) -> tuple[Rule, str] | None:
    if "::" in name:
        return index.lookup_scoped(name.lstrip(":").replace(" ", ""))
    found = index.lookup_identifier(name)
    if found is None:
        return None
    if found[0].category == "kernel" and not (cuda_source or name.startswith("__")):
        return None
    if found[0] is not index.identifiers.get(name) and declared(name):
        return None  # a pattern (LC9000) match the project declares itself
    return found


def body_matches(index: CudaIndex, body: str, parameters: frozenset[str], cuda_source: bool,
                 declared: Callable[[str], bool]) -> list[BodyMatch]:
    """The matches of one macro body; positions are character offsets into ``body``."""
    body = _blank(body)
    tokens = list(_TOKEN.finditer(body))
    found: list[BodyMatch] = []
    calls: list[int | None] = []  # per open parenthesis: the index in ``found`` of the call it belongs to
    for position, token in enumerate(tokens):
        text = token.group(0)
        if text == "(":
            before = tokens[position - 1] if position else None
            if before is None or not _NAME.match(before.group(0)):
                calls.append(calls[-1] if calls else None)  # grouping: inside whatever call holds it
            elif found and found[-1].start == before.start():
                calls.append(len(found) - 1)  # the parentheses of a matched call
            else:
                calls.append(None)  # an unmatched call: names in it are constructs of their own
            continue
        if text == ")":
            if calls:
                calls.pop()
            continue
        if text in ("#", "##"):
            continue
        pasted = (position > 0 and tokens[position - 1].group(0) in ("#", "##")) or \
            (position + 1 < len(tokens) and tokens[position + 1].group(0) == "##")
        if text == "<<<":
            first = position - 1
            while first >= 2 and tokens[first - 1].group(0) == "##":  # ``group_##PASS##_kernel<<<``
                first -= 2
            adjacent = first >= 0 and not body[tokens[position - 1].end():token.start()].strip()
            if adjacent and _NAME.match(tokens[first].group(0)):
                callee = body[tokens[first].start():tokens[position - 1].end()].replace(" ", "")
                for rule in index.constructs.get("kernel-launch", ()):
                    found.append(BodyMatch(rule, f"{callee}<<<...>>>", tokens[first].start(), token.end()))
            else:  # ``Kernel<T, 128><<<``: the name is behind a template argument list
                for rule in index.constructs.get("kernel-launch", ()):
                    found.append(BodyMatch(rule, "kernel<<<...>>>", token.start(), token.end()))
            continue
        if pasted or text in parameters:
            continue
        match = _lookup(index, text, cuda_source, declared)
        if match is None:
            continue
        is_call = position + 1 < len(tokens) and tokens[position + 1].group(0) == "("
        owner = calls[-1] if calls else None
        if owner is not None and not is_call:
            held = found[owner]
            found[owner] = BodyMatch(held.rule, held.symbol, held.start, held.end, held.joined + (match,))
            continue
        found.append(BodyMatch(match[0], match[1], token.start(), token.end()))
    return found
