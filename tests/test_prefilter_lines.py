"""The prefilter's line scanner (`prefilter._Line`) against a byte-by-byte reading of the same rules.

Why: the scanner jumps between quotes, ``#`` and backslashes with a regex instead of stepping over
every byte in Python (the step loop was the prefilter's largest cost on vLLM); these cases and a
random sample hold that it finds the same string spans and comment start. `_relevant` skips the
line reading for a hit with no quote or ``#`` before it on its line: its verdict must stay the one
the whole line's reading (`_line_relevant`) gives, for every hit.
"""

from __future__ import annotations

import random

import pytest

from lockin_lint.api import engine_for
from lockin_lint.kb.prefilter import _Line, _line_relevant, _Lines, _relevant, occurrences
from lockin_lint.kb.ruleset import RuleSet


def reference(text: bytes) -> tuple[list[tuple[int, int]], int]:
    """String-literal contents and comment start of one line, one byte at a time."""
    spans: list[tuple[int, int]] = []
    comment, quote, opened, position = len(text), 0, 0, 0
    while position < len(text):
        char = text[position]
        if quote:
            if char == 0x5C:
                position += 1
            elif char == quote:
                spans.append((opened, position))
                quote = 0
        elif char in (0x22, 0x27):
            quote, opened = char, position + 1
        elif char == 0x23:
            comment = position
            break
        position += 1
    if quote:
        spans.append((opened, len(text)))
    return spans, comment


@pytest.mark.parametrize("text", [
    b"", b"x = torch.cuda.is_available()", b'x = "cuda"  # a comment with "quotes"', b"s = 'it\\'s # not a comment'",
    b'path = "C:\\\\"  # after an escaped backslash', b"open = 'unclosed", b"trailing = '\\", b"# only a comment",
    b'f"{x!r}" + \'#\' # real', b"\\ outside a string # then a comment",
])
def test_cases(text: bytes) -> None:
    line = _Line(0, text)
    assert (line.spans, line.comment) == reference(text)


def test_random_lines() -> None:
    alphabet = b"ab #'\"\\\\x"
    rng = random.Random(17)
    for _ in range(3000):
        text = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 24)))
        line = _Line(0, text)
        assert (line.spans, line.comment) == reference(text), text


#: Pieces of lines around trigger hits: code, strings (formatted too), comments, escapes, identifiers
#: that hold a token (``output_size``) and names that are a matched part (``cuda``), non-ASCII bytes.
_PIECES = [b"x.cuda()", b"output_size", b"torch.cuda", b"is_cuda", b" ", b"'", b'"', b"#", b"\\", b"f'{",
           b"}", b'"""', b"'cuda'", b"\xc3\xa9cuda", b"cuda_x", b"=", b"\n", b"NCCL", b"rf\"", b"solve("]


def test_relevant_without_the_line_reading_keeps_its_verdict(ruleset: RuleSet) -> None:
    """Every hit of every trigger in random lines: the shortcut and the whole line's reading agree."""
    index = engine_for(ruleset).python
    rng = random.Random(29)
    compared = shortcut = 0
    for _ in range(1500):
        data = b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(1, 12)))
        fast, full = _Lines(data), _Lines(data)
        for token in index.triggers:
            for start in occurrences(data, token):
                before = data[data.rfind(b"\n", 0, start) + 1 : start + 1]
                shortcut += not any(char in before for char in b"'\"#")
                assert _relevant(index, token, start, fast) == _line_relevant(index, token, start, full), (data, start)
                compared += 1
    assert compared > 2000 and shortcut > 500  # both the shortcut and the line reading were exercised
