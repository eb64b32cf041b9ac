"""Branches on a capability of the project's accelerator abstraction (analyzers/python_capabilities.py,
project/accelerator_capabilities.py): a target whose backend class answers the capability so that
the branch is never taken there is handled, noted with the method's line; the near misses (an
argument, logic, an answer no backend gives, another object's method, no backend module) keep the
finding as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet

_BACKEND = '''class {name}Accelerator:
    def is_synchronized_device(self):
        return {sync}

    def resolves_data_dependency(self):
        return self.is_synchronized_device()

    def has_streams(self):
        return {logic}

    def on_accelerator(self, tensor):
        return True
'''
_REAL = "def get_accelerator():\n    return None\n"
_USER = '''from accel import get_accelerator


def free(param, other):
    if {test}:
        param.grad.record_stream(get_accelerator().current_stream())
'''


def _handled(tmp_path: Path, ruleset: RuleSet, test: str, backends: tuple[str, ...] = ("cuda", "cpu", "mps"),
             real: str = _REAL) -> dict[str, str]:
    (tmp_path / "accel").mkdir()
    answers = {"cuda": "False", "cpu": "True", "mps": "False", "npu": "False"}
    for backend in backends:
        logic = "torch.cuda.is_available()" if backend == "cuda" else "False"
        (tmp_path / "accel" / f"{backend}_accelerator.py").write_text(
            _BACKEND.format(name=backend.title(), sync=answers[backend], logic=logic), encoding="utf-8")
    (tmp_path / "accel" / "real_accelerator.py").write_text(real, encoding="utf-8")
    (tmp_path / "user.py").write_text(_USER.format(test=test), encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert not run.errors, run.errors
    [found] = [f for f in run.findings if f.path == "user.py" and f.line == 6]
    assert found.rule_id == "LL904"
    return dict(found.handled)


def test_a_backend_that_never_takes_the_branch_is_handled(tmp_path: Path, ruleset: RuleSet) -> None:
    handled = _handled(tmp_path, ruleset, "not get_accelerator().is_synchronized_device()")
    assert handled == {"cpu": "is_synchronized_device() is True on its cpu backend (accel/cpu_accelerator.py:2)"}


def test_an_answer_through_another_method_and_an_and_operand_count(tmp_path: Path, ruleset: RuleSet) -> None:
    handled = _handled(tmp_path, ruleset, "other and not get_accelerator().resolves_data_dependency()")
    assert handled == {"cpu": "resolves_data_dependency() is True on its cpu backend (accel/cpu_accelerator.py:5)"}


def test_a_branch_every_backend_takes_or_cuda_never_takes_changes_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    # `is_synchronized_device()` is False on CUDA: the branch is the other backends' path, not CUDA's.
    assert _handled(tmp_path, ruleset, "get_accelerator().is_synchronized_device()") == {}


def test_arguments_logic_other_objects_and_no_backends_change_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    cases = (("not get_accelerator().on_accelerator(param)", ("cuda", "cpu", "mps"), _REAL),  # an argument
             ("not get_accelerator().has_streams()", ("cuda", "cpu", "mps"), _REAL),        # logic on CUDA
             ("not other.is_synchronized_device()", ("cuda", "cpu", "mps"), _REAL),         # another object
             ("not get_accelerator().is_synchronized_device()", ("cuda", "mps"), _REAL),    # no CPU backend
             ("not get_accelerator().is_synchronized_device()", ("cuda", "cpu"), "X = 1\n"))  # not its accessor
    for number, (test, backends, real) in enumerate(cases):
        folder = tmp_path / str(number)
        folder.mkdir()
        assert _handled(folder, ruleset, test, backends, real) == {}, test


def test_a_module_not_spelling_a_receiver_is_not_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_defined` searches a module with its line-anchored regex only when the module spells the name:
    the regex is tried at every line, and most modules of a backend folder name no receiver."""
    import lockin_lint.project.accelerator_capabilities as capabilities

    searched: list[bytes] = []
    real = capabilities.re.search

    def counting(pattern: bytes, data: bytes, flags: int = 0) -> object:
        searched.append(data)
        return real(pattern, data, flags)

    monkeypatch.setattr(capabilities.re, "search", counting)
    modules = {"a.py": b"import os\nx = 1\n", "b.py": b"accelerator: Accelerator = make()\n",
               "c.py": b"# accelerator in a comment only\n"}
    found = capabilities._defined({"accelerator"}, list(modules), {m: m for m in modules}, modules.get)
    assert found == {"accelerator"}
    assert searched == [modules["b.py"]]  # a.py never searched; b.py defines it, so c.py is not asked
