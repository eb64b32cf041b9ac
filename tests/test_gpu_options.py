"""``if args.gpu: <CUDA> else: <host path>`` with ``--gpu`` declared ``store_true`` somewhere in the run:
the CPU is handled by the ``else`` (`analyzers.python_gpu_options`, `project.gpu_options`; DeepSpeed's
``csrc/aio/py_test/torch_io.py:49``, judged false twice), and only then."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

from .test_rocm_callers import _run

#: DeepSpeed's ``torch_fastio_engine.py`` in miniature: the switch picks GPU memory, the default host memory.
ENGINE = '''import torch


def allocate(args, device_id, handle):
    if args.gpu:
        buffer = torch.randint(high=128, size=(args.io_size, ), device=f'cuda:{device_id}')
    else:
        buffer = handle.new_cpu_locked_tensor(args.io_size, torch.empty(0))
    return buffer
'''
#: Its ``ds_aio_args.py``: the option is a switch, off by default.
ARGS = '''import argparse


def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument('--io_size', type=int, default=1024)
    parser.add_argument('--gpu', action='store_true', help='Use GPU memory')
    return parser.parse_args()
'''
_AT = ("engine.py", 6)


def _buffer(tmp_path: Path, ruleset: RuleSet, files: dict[str, str]) -> Finding:
    [found] = _run(tmp_path, ruleset, files, at=_AT)
    assert found.rule_id == "LL200"
    return found


def test_a_store_true_gpu_switch_hands_the_cpu_to_the_else(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _buffer(tmp_path, ruleset, {"engine.py": ENGINE, "args.py": ARGS})
    assert dict(found.handled) == {"cpu": "fallback path (cpu)"}
    assert found.targets["cpu"].status == "native"
    assert {t: i.status for t, i in found.targets.items() if t not in ("cpu", "rocm")} == \
        {t: "rename" for t in ("ascend", "mlu", "musa", "xpu", "mps")}  # the switch's path spells CUDA


def test_a_short_flag_before_the_option_is_the_same_declaration(tmp_path: Path, ruleset: RuleSet) -> None:
    files = {"engine.py": ENGINE, "args.py": ARGS.replace("('--gpu',", "('-g', '--gpu',")}
    assert dict(_buffer(tmp_path, ruleset, files).handled) == {"cpu": "fallback path (cpu)"}


def test_a_cuda_switch_is_not_read(tmp_path: Path, ruleset: RuleSet) -> None:
    """Only ``gpu`` (the file's word set gates it for free; ``cuda`` is in nearly every file)."""
    files = {"engine.py": ENGINE.replace("args.gpu", "args.cuda"), "args.py": ARGS.replace("'--gpu'", "'--cuda'")}
    assert "cpu" not in dict(_buffer(tmp_path, ruleset, files).handled)


@pytest.mark.parametrize("args", [
    None,  # nothing declares the option: the name alone says nothing
    ARGS.replace("action='store_true'", "default=None, type=int"),  # a device index: falsy for GPU 0
    ARGS.replace("'--gpu', action='store_true'", "'--gpus', action='store_true'"),  # another option
    ARGS + "\n\ndef more(parser):\n    parser.add_argument('--gpu', type=int, default=0)\n",  # declared both ways
])
def test_without_a_store_true_declaration_the_cpu_stays_open(tmp_path: Path, ruleset: RuleSet,
                                                              args: str | None) -> None:
    files = {"engine.py": ENGINE} | ({"args.py": args} if args is not None else {})
    assert "cpu" not in dict(_buffer(tmp_path, ruleset, files).handled)


@pytest.mark.parametrize("change", [
    ("    if args.gpu:", "    if args.gpu is not None:"),  # a value, not a switch
    ("    if args.gpu:", "    if args.gpu and args.fast:"),
    ("    if args.gpu:", "    if args.gpus:"),
    ("    else:\n        buffer = handle", "    elif args.npu:\n        buffer = handle"),
    ("handle.new_cpu_locked_tensor(args.io_size, torch.empty(0))", "torch.empty(args.io_size).cuda()"),  # CUDA too
])
def test_other_shapes_keep_the_cpu_open(tmp_path: Path, ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = ENGINE.replace(*change)
    assert source != ENGINE
    assert "cpu" not in dict(_buffer(tmp_path, ruleset, {"engine.py": source, "args.py": ARGS}).handled), change
