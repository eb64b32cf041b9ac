"""The model's slotted dataclasses pickle through `model._quick_state` (results from the pool workers,
the result cache, the compiled rules): the same values come back, a subclass keeps its own fields, and
a state in the shape ``dataclass`` itself writes (a list of the field values) still loads."""

from __future__ import annotations

import copyreg
import pickle
from dataclasses import dataclass, fields

from lockin_lint.model import FileError, FileFacts, FileResult, Finding, Portable, RocmCallers, TargetInfo


def _finding() -> Finding:
    return Finding("LL101", "device-api", "warning", "a.py", 3, 4, 3, 9, "cuda", "msg",
                   {"rocm": TargetInfo("native"), "cpu": TargetInfo("missing", None, None, (("2.1", "rename", "x"),))},
                   portable=Portable("to(device)", "2.0"), handled=(("rocm", "preprocessor branch"),))


def test_results_come_back_equal() -> None:
    result = FileResult("a.py", findings=(_finding(),), errors=(FileError("a.py", "partial", True),), lines=7,
                        facts=FileFacts(rocm_callers=(RocmCallers("f", (("LL602", 6),), (15,)),)))
    assert pickle.loads(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)) == result
    assert pickle.loads(pickle.dumps(FileError("b.py", "x"))) == FileError("b.py", "x")


def test_a_state_as_dataclass_writes_it_still_loads() -> None:
    finding = _finding()
    listed = [getattr(finding, f.name) for f in fields(Finding)]  # what ``dataclass(slots=True)`` pickles
    blank = copyreg.__newobj__(Finding)  # type: ignore[attr-defined]
    blank.__setstate__(listed)
    assert blank == finding


@dataclass(frozen=True)
class _Marked(Finding):  # not slotted: it inherits Finding's pickling methods
    dispatch: bool = False


def test_a_subclass_keeps_its_own_fields() -> None:
    marked = _Marked(*[getattr(_finding(), f.name) for f in fields(Finding)], dispatch=True)
    again = pickle.loads(pickle.dumps(marked))
    assert type(again) is _Marked and again.dispatch and again == marked
