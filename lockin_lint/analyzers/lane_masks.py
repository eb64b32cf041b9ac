"""A 32-bit full-lane mask passed to a warp intrinsic, however it is spelled.

`cuda_matcher` reports the literal ``0xffffffff`` wherever it is a lane mask (LC7021). Projects spell
the same mask in other ways: ``__shfl_xor_sync(uint32_t(-1), x, i)`` (flash-attention, apex's
layer_norm, vLLM's mxfp8 MoE), ``unsigned(-1)``, ``(unsigned)-1``, ``~0u``; or through a name fixed
once in the file, ``constexpr unsigned FINAL_MASK = 0xffffffff;`` (apex group_norm_v2, vLLM's
grouped top-k). HIP's ``*_sync`` intrinsics static_assert a 64-bit mask, so none of them ports as is,
while the intrinsic alone reads as native on ROCm: unrecognised, the mask left that call saying it
needs no change.

Only a spelling whose type is 32 bits wide counts (``uint64_t(-1)``, ``~0ull`` are already 64-bit
masks), and a name counts only when the file declares it exactly once, ``#define``d or as a
``const``/``constexpr`` 32-bit unsigned variable, outside any ``#if`` (an include guard aside): a
per-platform definition (``#ifdef USE_ROCM`` / ``#define FINAL_MASK 0xffffffffffffffffULL`` /
``#else`` ...) is the ROCm port already done, and a parameter or a variable that may change is no
fixed mask.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from ..kb.prefilter import word_occurrences
from .declarations import is_declaration
from .matching import node_text

_U32 = r"(?:(?:std::)?uint32_t|unsigned(?:int)?)"
#: The spellings of a 32-bit all-ones value, whitespace removed. Bare ``0xffffffff`` literals are
#: `cuda_matcher`'s own (``_FULL_MASKS``); here they count only as a name's value.
_FULL_32 = re.compile(rf"\(?(?:{_U32}\(-1\)|\({_U32}\)\(?-1\)?|static_cast<{_U32}>\(-1\)|~\(?0[uU]\)?|-1[uU]"
                      rf"|0[xX][fF]{{8}}[uU]?)\)?")
_LITERAL = re.compile(r"^0[xX][fF]{8}[uUlL]*$")
_SPACE = re.compile(r"\s+")
_COMMENT = re.compile(r"//.*|/\*.*?\*/", re.DOTALL)
_CONDITIONAL = frozenset({"preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else", "preproc_elifdef"})
#: Declared types a fixed mask may have: 32-bit unsigned, or deduced from the value.
_TYPES = frozenset({"unsigned", "unsignedint", "uint32_t", "std::uint32_t", "auto"})
_CONSTANT = frozenset({"const", "constexpr"})


def _full_32(text: str) -> bool:
    return _FULL_32.fullmatch(_SPACE.sub("", _COMMENT.sub("", text))) is not None


def mask_argument(call: ts.Node, root: ts.Node, source: bytes, names: dict[str, bool]) -> ts.Node | None:
    """The first argument of ``call`` (a ``__*_sync`` call) when it is a 32-bit full mask not
    spelled as the literal ``0xffffffff``; ``names`` caches, per name, whether it is such a mask."""
    arguments = call.child_by_field_name("arguments")
    first = arguments.named_children[0] if arguments is not None and arguments.named_children else None
    if first is None:
        return None
    text = node_text(first)
    if first.type == "identifier":
        fixed = names.get(text)
        if fixed is None:
            fixed = names[text] = _fixed_mask(root, source, text)
        return first if fixed else None
    return first if not _LITERAL.match(text) and _full_32(text) else None


def _fixed_mask(root: ts.Node, source: bytes, name: str) -> bool:
    """``name`` is declared once in the file, unconditionally, as a constant 32-bit full mask."""
    word = name.encode()
    declared = []
    for start in word_occurrences(source, word):
        node = root.descendant_for_byte_range(start, start + len(word))
        if node is not None and node.type == "identifier" and is_declaration(node):
            declared.append(node)
    if len(declared) != 1 or _conditional(declared[0]):
        return False
    holder = declared[0].parent
    if holder is not None and holder.type == "preproc_def":
        value = holder.child_by_field_name("value")
        return value is not None and _full_32(node_text(value))
    declaration = holder.parent if holder is not None and holder.type == "init_declarator" else None
    if holder is None or declaration is None or declaration.type != "declaration":
        return False
    kind = declaration.child_by_field_name("type")
    qualifiers = {node_text(c) for c in declaration.children if c.type == "type_qualifier"}
    value = holder.child_by_field_name("value")
    return kind is not None and _SPACE.sub("", node_text(kind)) in _TYPES and bool(qualifiers & _CONSTANT) \
        and value is not None and _full_32(node_text(value))


def _conditional(node: ts.Node) -> bool:
    """``node`` sits in an ``#if``/``#ifdef`` group other than an include guard."""
    current = node.parent
    while current is not None:
        if current.type in _CONDITIONAL and not _include_guard(current):
            return True
        current = current.parent
    return False


def _include_guard(group: ts.Node) -> bool:
    """``#ifndef X_H`` whose first directive is ``#define X_H``."""
    name = group.child_by_field_name("name")
    body = [c for c in group.named_children if c != name]
    if group.type != "preproc_ifdef" or name is None or not body or body[0].type != "preproc_def" \
            or not node_text(group).startswith("#ifndef"):
        return False
    return node_text(body[0].child_by_field_name("name")) == node_text(name)
