"""The prefilter's line scanner (`prefilter._Line`) against a byte-by-byte reading of the same rules.

Why: the scanner jumps between quotes, ``#`` and backslashes with a regex instead of stepping over
every byte in Python (the step loop was the prefilter's largest cost on vLLM); these cases and a
random sample hold that it finds the same string spans and comment start.
"""

from __future__ import annotations

import random

import pytest

from lockin_lint.kb.prefilter import _Line


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
