"""An instance flag only a CUDA test can set (vLLM's ``use_shared_experts_stream``) keeps the body of
``if self.flag:`` off every other target (`python_instance_flags`); the near misses, where something
else can set the flag or the test does not require it, keep their findings as they were."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_CLASS = """import torch
from vllm.platforms import current_platform


class Runner:
    def __init__(self, stream):
        self.stream = stream
        self.use_stream = False
{extra}
    def setup(self, hidden):
        if {use}:
            hidden.record_stream(self.stream)
            self.stream.wait_stream(torch.cuda.current_stream())

    def forward(self, hidden):
        self.use_stream = (
            {value}
        )
        self.setup(hidden)
"""
_VALUE = "current_platform.is_cuda() and self.stream is not None and hidden.shape[0] < 256"
_NOTE = "CUDA-only flag use_stream (runner.py:16)"


def _found(ruleset: RuleSet, use: str = "self.use_stream", value: str = _VALUE, extra: str = "") -> list[Finding]:
    source = _CLASS.format(use=use, value=value, extra=extra)
    result = check_bytes("runner.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    line = source.splitlines().index("            hidden.record_stream(self.stream)") + 1
    return [f for f in result.findings if f.line in (line, line + 1)]


def test_the_body_of_a_cuda_only_instance_flag_runs_on_no_other_target(ruleset: RuleSet) -> None:
    for use in ("self.use_stream", "self.use_stream and hidden.is_contiguous()", "(self.use_stream)"):
        found = _found(ruleset, use=use)
        # record_stream misses nowhere once handled: the operator finding goes; the stream API stays, handled
        assert [f.rule_id for f in found] == ["LL102"], use
        handled = dict(found[0].handled)
        assert handled["mps"] == _NOTE and handled["cpu"] == _NOTE and handled["rocm"] == _NOTE, use
    # torch.cuda.is_available() is true on ROCm builds too: rocm is not handled by the flag
    [stream] = _found(ruleset, value="torch.cuda.is_available() and self.stream is not None")
    assert "rocm" not in dict(stream.handled) and dict(stream.handled)["xpu"].startswith("CUDA-only flag")
    # so is a tensor's `.is_cuda` (a property, unlike vLLM's NVIDIA-only `current_platform.is_cuda()`)
    for value in ("hidden.is_cuda and self.stream is not None", "hidden.device.is_cuda and hidden.shape[0] < 256"):
        [stream] = _found(ruleset, value=value)
        assert "rocm" not in dict(stream.handled) and dict(stream.handled)["xpu"].startswith("CUDA-only flag"), value


def test_a_flag_something_else_can_set_keeps_its_findings(ruleset: RuleSet) -> None:
    for use, value, extra in (
            ("not self.use_stream", _VALUE, ""),                                 # the other side
            ("self.use_stream or hidden.is_cuda", _VALUE, ""),                   # not required
            ("self.use_stream", "self.stream is not None and hidden.shape[0] < 256", ""),  # no platform test
            ("self.use_stream", "current_platform.is_cuda() or self.stream is not None", ""),
            ("self.use_stream", _VALUE, "        self.use_stream = stream is not None\n"),  # a parameter
            ("self.use_stream", _VALUE, "        self.use_stream = True\n"),
            ("self.use_stream", _VALUE, "        self.use_stream |= stream is not None\n"),
            ("self.use_stream", _VALUE, "        setattr(self, 'use_stream', stream is not None)\n"),
            ("self.use_stream", _VALUE, "\n    def force(self, other):\n        other.use_stream = True\n"),
            ("self.use_stream", _VALUE, "\n    def force(self):\n        self.use_stream, self.stream = True, None\n"),
            ("self.use_stream", "current_platform.is_rocm() and self.stream is not None", "")):  # not CUDA
        found = _found(ruleset, use=use, value=value, extra=extra)
        assert sorted(f.rule_id for f in found) == ["LL102", "LL904"], (use, value, extra)
        assert not any(note.startswith("CUDA-only flag") for f in found for _, note in f.handled), (use, value, extra)


def test_a_write_from_another_class_cancels_the_flag(ruleset: RuleSet) -> None:
    extra = "\n\nclass Forced(Runner):\n    def force(self):\n        self.use_stream = True\n"
    source = _CLASS.format(use="self.use_stream", value=_VALUE, extra="") + extra
    result = check_bytes("runner.py", source.encode(), ruleset)
    assert "LL904" in {f.rule_id for f in result.findings}
