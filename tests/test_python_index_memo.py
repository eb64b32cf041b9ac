"""`PythonIndex` remembers its lookups' answers (a project imports the same names in file after file);
the answers must be the ones the tables give, asked once per name, and the memory bounded."""

from __future__ import annotations

from typing import Callable

import pytest

from lockin_lint.engine import Engine
from lockin_lint.kb import python_index
from lockin_lint.kb.ruleset import RuleSet

NAMES = ["torch.cuda.synchronize", "torch.cuda", "cupy.asarray", "typing.Optional", "os.environ.get", "x",
         "torch.backends.cudnn.benchmark", "nvtx.range_push"]


def _uncached(index: python_index.PythonIndex) -> dict[str, Callable[[str], object]]:
    return {"lookup_qualified": index._lookup_qualified, "lookup_import": index._lookup_import,
            "has_trigger": lambda name: (name.split(".", 1)[0] in index.import_roots
                                         or any(t in name for t in index.trigger_text)
                                         or any(part in index.word_text for part in name.split("."))),
            "spells_trigger": lambda name: name in index.word_text or any(t in name for t in index.trigger_text)}


def test_remembered_answers_are_the_computed_ones(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    index = Engine(ruleset).run.python
    index._answers.clear()  # the index is shared with earlier tests through the cached rule set
    monkeypatch.setattr(python_index, "_ANSWERS_LIMIT", 5)
    for name in NAMES * 2:
        for method, computed in _uncached(index).items():
            assert getattr(index, method)(name) == computed(name), (method, name)
            assert len(index._answers) <= 5
    assert index.lookup_qualified("torch.cuda.synchronize") is not None
    assert index.lookup_qualified("typing.Optional") is None


def test_each_name_is_looked_up_once(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    index = Engine(ruleset).run.python
    index._answers.clear()  # earlier tests may have asked these names already
    asked: list[str] = []
    real = index._lookup_qualified

    def counting(dotted: str) -> object:
        asked.append(dotted)
        return real(dotted)

    monkeypatch.setattr(index, "_lookup_qualified", counting)
    answers = [index.lookup_qualified(name) for name in NAMES * 3]
    assert asked == NAMES and answers == [real(name) for name in NAMES * 3]
