"""Whether a literal 32 (or 31) in C/C++/CUDA code is the warp width: LC7020's warp-size assumption.

Apart from `cuda_matcher` because it is one judgement with its own vocabulary (which operators and
neighbours make ``32`` the width of a warp rather than a tile, a stride or a lane count), and the
matcher only asks it, for names that spell a thread index, a lane or a warp.
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import node_text as _text

_WARP_OPERATORS = frozenset({"%", "&", "/", ">>", "<<", "*", "==", "<", ">=", "-", "+"})
#: The literals read as the warp width or its mask (`cpp_gate` looks for the same spellings).
_WARP_NUMBERS = frozenset({"32", "31", "0x1f", "0x1F", "0x20", "32u", "31u", "32U", "31U"})

#: Operators whose ``32`` means the warp width only next to a plain name or an expression of warps.
_SCALING_OPERATORS = frozenset({"*", "<<"})
_COMPARISONS = frozenset({"==", "<", ">="})
#: Operators whose ``32`` divides its left operand into 32-wide chunks (``x / 32``, ``x % 32``).
_DIVISIONS = frozenset({"/", "%"})
#: Words that make a warp-named value a width (``WARP_SIZE``, ``kWarpThreads``), not a tile or count.
_WIDTH_WORDS = ("size", "lane", "thread", "width")


def _as_warp_width(operator: str, other: ts.Node | None, other_left: bool = True) -> bool:
    """Whether ``<other> <operator> 32`` (``32 <operator> <other>`` unless ``other_left``) uses 32
    as the warp width.

    ``warp_id * 32``, ``lane * 32`` (apex names its warp index so) and ``(blockid % warps_per_block) *
    32`` are; ``(lane_id % 16) * 32`` and ``(threadIdx.x / 4) * 32`` are strides of the data a lane
    handles (vLLM's AllSpark ``ldmatrix`` addresses): a scaling operator next to an expression needs
    that expression to count warps, not lanes or threads. ``WARP_NTILE == 32`` compares the tile one
    warp computes, not the warp: a comparison with a warp-named value needs that value to be a width
    (``WARP_SIZE == 32``). So must a warp-named value divided by 32 or taken modulo 32:
    ``WARP_NTILE / 32`` and ``warp_row % 32`` cut the tile one warp computes into 32-wide chunks
    (vLLM AllSpark, xformers sparse24), while ``lane_id % 32`` and ``kWarpThreads / 32`` count lanes.
    In ``32 / warp_num_pow2`` 32 is the dividend, the lanes shared out among warps (apex group_norm_v2,
    AllSpark's ``lane_id / (32 / WARP_NITER)``): still the width.
    """
    if other is None:
        return True
    text = _text(other).lower()
    if operator in _SCALING_OPERATORS and other.type not in ("identifier", "field_expression", "qualified_identifier"):
        return "warp" in text and "lane" not in text and "threadidx" not in text
    measured = operator in _COMPARISONS or (operator in _DIVISIONS and other_left)
    if measured and "warp" in text and "threadidx" not in text:
        return any(word in text for word in _WIDTH_WORDS)
    return True


def warp_literals(node: ts.Node, name: str) -> list[tuple[ts.Node, str]]:
    """The literals near ``node`` (whose text is ``name``) that assume the warp width, each with the
    symbol to report: 32/31 beside lane arithmetic (up to four levels up), or the value of a
    warp-size constant defined as 32."""
    lowered = name.lower()
    if not ("threadidx" in lowered or "lane" in lowered or "warp" in lowered):
        return []
    found: list[tuple[ts.Node, str]] = []
    current: ts.Node | None = node
    for _ in range(4):
        current = current.parent if current is not None else None
        if current is None:
            break
        if current.type == "binary_expression":
            operator = current.child_by_field_name("operator")
            if _text(operator) in _WARP_OPERATORS:
                left, right = current.child_by_field_name("left"), current.child_by_field_name("right")
                for side, other in ((left, right), (right, left)):
                    if side is not None and side.type == "number_literal" and _text(side) in _WARP_NUMBERS \
                            and _as_warp_width(_text(operator), other, other is left):
                        found.append((side, _text(side)))
        elif current.type in ("init_declarator", "preproc_def") and "warp" in lowered and "size" in lowered:
            value = current.child_by_field_name("value")
            if value is not None and _text(value).strip() in _WARP_NUMBERS:
                found.append((value, _text(value).strip()))
            break
    return found
