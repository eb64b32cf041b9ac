"""The prefilter may only skip files that cannot match: checked on real fixtures and generated code."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockin_lint.api import engine_for
from lockin_lint.kb.prefilter import file_words, imported_roots, is_candidate, present_triggers
from lockin_lint.kb.ruleset import RuleSet

from .conftest import FIXTURES


@pytest.mark.parametrize(
    ("code", "skipped"),
    [
        ("import os\nprint(os.getcwd())\n", True),
        ("# torch.cuda.synchronize() is gone\nx = 1\n", True),
        ('"""Move to torch.cuda."""\nx = 1\n', True),
        ("is_cuda_graph_capturing_flag = False\n", True),
        ("msg = 'running on cuda devices'\n", True),
        ("import torch\ntorch.cuda.synchronize()\n", False),
        ("x = t.to('cuda:0')\n", False),
        ('x = t.to(f"cuda:{rank}")\n', False),
        ("import cupy as cp\n", False),
        ("from triton import jit\n", False),
        ("from vllm.triton_utils import tl, triton\ntriton.cdiv(1, 2)\n", True),  # names, not packages
        ("from . import triton\n", True),
        ("import os, triton\n", False),
        ("import triton\u00e9\n", False),  # read as `triton` by the import line's regex: a non-ASCII file is read
        ("y = model.cuda()\n", False),
        ("env = os.environ['NCCL_DEBUG']\n", False),
    ],
)
def test_prefilter_decisions(ruleset: RuleSet, code: str, skipped: bool) -> None:
    assert engine_for(ruleset).check("t.py", code.encode()).skipped is skipped


def test_imported_roots_reads_every_import_form() -> None:
    code = b"import a.b as c, d\nfrom e.f import (g,\n h)\nif x: import i\nfrom .l import m\n"
    assert imported_roots(code) >= {b"a", b"d", b"e", b"i"}  # a superset only costs a parse
    assert not imported_roots(code) & {b"b", b"c", b"f", b"g", b"h", b"l"}
    assert not imported_roots(b"from a import b, c as d\nfrom .e import f\n") & {b"b", b"c", b"d", b"e", b"f"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["cuda", "CUDA_", "is_cuda", "nccl", "linalg", "x", "_", "\u00e9", " ", ".", "\n",
                                 "'", "#", "solve", "svd", "cupy", "import ", "triton"]), max_size=12))
def test_triggers_found_in_words_are_those_in_the_bytes(ruleset: RuleSet, pieces: list[str]) -> None:
    """The substring triggers are looked for in the file's distinct words, not its bytes: the same ones
    must be found, in the same order (the matcher visits their hits in that order)."""
    index = engine_for(ruleset).python
    data = "".join(pieces).encode()
    assert index.triggers_are_words
    words = file_words(data)
    expected = [t for t in index.triggers if t in data] + sorted(index.word_triggers & words)
    assert present_triggers(index, data, words) == expected
    assert is_candidate(index, data, expected, words) == is_candidate(index, data, expected)


FIXTURE_LINES = sorted(
    {
        line
        for path in (FIXTURES / "python").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith((" ", "\t", "#", '"', "'")) and not line.rstrip().endswith(":")
    }
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FIXTURE_LINES), min_size=1, max_size=6))
def test_prefilter_never_hides_a_finding(ruleset: RuleSet, lines: list[str]) -> None:
    """Random programs built from real fixture lines: skipped must imply no findings at all."""
    engine = engine_for(ruleset)
    data = ("\n".join(lines) + "\n").encode()
    if engine.check("t.py", data).skipped:
        assert engine.check("t.py", data, prefilter=False).findings == ()


def test_prefilter_is_sound_on_every_fixture(ruleset: RuleSet) -> None:
    engine = engine_for(ruleset)
    for path in sorted((FIXTURES).rglob("*.py")):
        data = Path(path).read_bytes()
        filtered = engine.check("f.py", data)
        assert filtered.findings == engine.check("f.py", data, prefilter=False).findings, path
