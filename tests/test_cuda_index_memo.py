"""`CudaIndex.lookup_identifier` remembers its answers (a large header spells the same names thousands
of times); the answers must be those of the tables and patterns, and the memory bounded."""

from __future__ import annotations

import pytest

from lockin_lint.api import engine_for
from lockin_lint.kb import cuda_index
from lockin_lint.kb.ruleset import RuleSet


def test_remembered_answers_are_the_computed_ones(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    index = engine_for(ruleset).run.cuda
    monkeypatch.setattr(cuda_index, "_MEMO_SIZE", 3)
    # The index is shared by the session's engine: earlier tests leave answers in it.
    monkeypatch.setattr(index, "_identifier_memo", {})
    names = ["cudaMalloc", "cudaSomethingUnknown", "plain_name", "cuMemAlloc", "ncclAllReduce", "x"] * 2
    for name in names:
        first = index.lookup_identifier(name)
        assert first == index._lookup_identifier(name)
        assert index.lookup_identifier(name) is first
        assert len(index._identifier_memo) <= 3
    assert index.lookup_identifier("cudaMalloc") is not None and index.lookup_identifier("plain_name") is None
