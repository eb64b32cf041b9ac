"""An instance flag that can be True only where an attribute of the accelerator object is not None
(analyzers/python_attribute_flags.py, answered by project/accelerator_capabilities.py): DeepSpeed's
``offload_activations.py`` sets ``use_streams`` only when ``get_accelerator().Stream`` is not None,
and the CPU and MPS accelerators' ``Stream`` property returns None, so neither reaches the
``record_stream`` under ``if self.use_streams:``. The near misses (any other write of the flag or of
the stream, a name bound twice, ``or``, ``not``, a backend whose ``Stream`` has logic) record nothing
or credit nothing."""

from __future__ import annotations

from pathlib import Path

from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet

_INIT = '''        stream_cls = get_accelerator().Stream
        self.s1 = stream_cls() if (use_streams and stream_cls is not None) else None
        self.use_streams = bool(use_streams and self.s1 is not None)
'''
_USER = '''from accel import get_accelerator


class Offloader:

    def __init__(self, use_streams=True):
{init}
    def offload(self, tensor):
        if {test}:
            tensor.record_stream(self.s1)
'''
_BACKEND = '''class {name}Accelerator:

    @property
    def Stream(self):
        return {stream}
'''
_REAL = "def get_accelerator():\n    return None\n"


def _user(init: str = _INIT, test: str = "self.use_streams") -> bytes:
    return _USER.format(init=init, test=test).encode()


def _tests(ruleset: RuleSet, source: bytes) -> tuple[tuple[str, int, str, str, bool], ...]:
    result = check_bytes("user.py", source, ruleset)
    assert [f.rule_id for f in result.findings] == ["LL904"]
    assert result.facts is not None
    return result.facts.capability_tests


def test_a_flag_set_only_when_the_accelerator_stream_is_not_none_is_recorded(ruleset: RuleSet) -> None:
    assert _tests(ruleset, _user()) == (("LL904", 13, "get_accelerator", ".Stream", True),)
    # the same through an ``and`` with another flag in the ``if``, and with the attribute read directly
    direct = _INIT.replace("stream_cls is not None", "get_accelerator().Stream is not None")
    assert _tests(ruleset, _user(direct, "ready and self.use_streams"))[0][2:] == ("get_accelerator", ".Stream", True)


def test_other_writes_and_shapes_record_nothing(ruleset: RuleSet) -> None:
    cases = {
        "the flag from a parameter elsewhere": _INIT + "        if use_streams:\n            self.use_streams = use_streams\n",
        "the stream made without its test": _INIT + "        self.s1 = get_accelerator().Stream()\n",
        "the flag on another receiver": _INIT + "        other.use_streams = True\n",
        "a name bound twice": _INIT.replace("        self.s1", "        if fallback:\n            stream_cls = torch.cuda.Stream\n"
                                            "        self.s1"),
        "a name a loop binds again": _INIT.replace("        self.s1", "        for stream_cls in others:\n            pass\n"
                                                   "        self.s1"),
        "the name a parameter": _INIT.replace("stream_cls = get_accelerator().Stream", "pass").replace(
            "stream_cls", "use_streams"),
        "or": _INIT.replace("bool(use_streams and self.s1", "bool(use_streams or self.s1"),
        "is None": _INIT.replace("self.s1 is not None)", "self.s1 is None)"),
        "an else that is not None": _INIT.replace("else None", "else object()"),
        "an augmented write": _INIT + "        self.use_streams |= True\n",
    }
    for why, init in cases.items():
        assert _tests(ruleset, _user(init)) == (), why
    assert _tests(ruleset, _user(test="not self.use_streams")) == ()


def _handled(tmp_path: Path, ruleset: RuleSet, streams: dict[str, str]) -> dict[str, str]:
    (tmp_path / "accel").mkdir(parents=True)
    for backend, stream in streams.items():
        (tmp_path / "accel" / f"{backend}_accelerator.py").write_text(
            _BACKEND.format(name=backend.title(), stream=stream), encoding="utf-8")
    (tmp_path / "accel" / "real_accelerator.py").write_text(_REAL, encoding="utf-8")
    (tmp_path / "user.py").write_bytes(_user())
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert not run.errors, run.errors
    [found] = [f for f in run.findings if f.path == "user.py"]
    return dict(found.handled)


def test_a_backend_whose_stream_is_none_is_handled(tmp_path: Path, ruleset: RuleSet) -> None:
    handled = _handled(tmp_path, ruleset, {"cuda": "torch.cuda.Stream", "cpu": "None", "mps": "None",
                                           "xpu": "torch.xpu.Stream"})
    assert handled == {"cpu": "Stream is None on its cpu backend (accel/cpu_accelerator.py:4)",
                       "mps": "Stream is None on its mps backend (accel/mps_accelerator.py:4)"}


def test_a_stream_with_logic_or_none_on_cuda_credits_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    logic = _handled(tmp_path / "logic", ruleset, {"cuda": "torch.cuda.Stream", "cpu": "make_stream()"})
    none_on_cuda = _handled(tmp_path / "cuda", ruleset, {"cuda": "None", "cpu": "None"})
    assert logic == {} and none_on_cuda == {}
