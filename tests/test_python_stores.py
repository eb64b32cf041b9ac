"""A CUDA name that is only stored into (a monkey-patch of ``torch.cuda``), or only saved to be
stored back, is no use of it (analyzers/python_stores.py; docs/validation.md, #11, seventh session,
f20b): vLLM's ``torch.cuda.set_stream = _patched_set_stream`` and the CPU runner's stub and restore
of ``torch.cuda.Stream``. The near misses keep firing."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet

# vLLM's torch_utils.py:511-522 and cpu_model_runner.py:121-129, rewritten
_PATCHES = '''import torch
from contextlib import contextmanager

original = torch.cuda.set_stream

def _tracked(stream):
    original(stream)

torch.cuda.set_stream = _tracked

@contextmanager
def no_streams():
    kept = torch.cuda.Stream
    try:
        torch.cuda.Stream = object
        yield
    finally:
        torch.cuda.Stream = kept
'''


def _lines(source: str, ruleset: RuleSet) -> dict[int, str]:
    found = check_bytes("patch.py", source.encode(), ruleset).findings
    return {f.line: f.rule_id for f in found if f.rule_id.startswith("LL1")}


def test_stores_into_torch_cuda_and_the_restored_save_are_no_use(ruleset: RuleSet) -> None:
    # line 4 saves the original that the wrapper calls: a use, kept
    assert _lines(_PATCHES, ruleset) == {4: "LL102"}


def test_near_misses_keep_firing(ruleset: RuleSet) -> None:
    source = '''import torch

torch.cuda.Stream.priority = 1
torch.cuda.memory_allocated += 1
stream = torch.cuda.Stream()

def saved_only():
    kept = torch.cuda.Stream
    torch.cuda.Stream = object
    return kept

def restored_elsewhere():
    kept = torch.cuda.Stream
    return kept

def other():
    torch.cuda.Stream = kept

torch.backends.cudnn.benchmark = True
'''
    found = _lines(source, ruleset)
    # 3: a store into an attribute of the class reads it; 4: augmented; 5: a call;
    # 8: saved but never stored back in its function; 13: the restore is in another function;
    # 19: a store into a setting outside torch.cuda configures CUDA
    assert sorted(found) == [3, 4, 5, 8, 13, 19]
