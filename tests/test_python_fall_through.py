"""The fall-through readings of analyzers/python_fall_through.py and the inline CUDA-only keyword of
python_cuda_branches.py (docs/validation.md, #11, fifth session, f11a): a fall-through that is CUDA
again has no cpu fallback, every operand of a forced-CUDA build test shares one fall-through, the CPU
sentence only where the path without CUDA spells the CPU, and ``k=v if <cuda> else None``; each with
the near misses that keep their old reading."""

from __future__ import annotations

import pytest

from lockin_lint.analyzers.python_cuda_branches import CUDA_ONLY_KEYWORD
from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_CPU_SENTENCE = "silently run on the CPU"


def _at(source: str, ruleset: RuleSet, line: int, rule: str = "") -> Finding:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    [found] = [f for f in result.findings if f.line == line and rule in f.rule_id]
    return found


# -- a fall-through that calls CUDA again (bitsandbytes functional.py:395) ---------------------------
_STREAM = ("import torch\ndef stream(t):\n"
           '    if t.device.type == "cuda":\n'
           "        return torch._C._cuda_getCurrentRawStream(t.device.index)\n"
           '    if t.device.type == "xpu":\n'
           "        return torch._C._xpu_getCurrentRawStream(t.device.index)\n"
           "    # CPU tensors: the current device's stream\n"
           '    if hasattr(torch, "xpu") and torch.xpu.is_available():\n'
           "        return torch._C._xpu_getCurrentRawStream(torch.xpu.current_device())\n"
           "    return torch._C._cuda_getCurrentRawStream(torch.cuda.current_device())\n")


def test_a_fall_through_that_calls_cuda_again_is_no_cpu_fallback(ruleset: RuleSet) -> None:
    found = _at(_STREAM, ruleset, 3, "LL201")
    assert dict(found.handled) == {"xpu": BRANCH}
    assert "without CUDA" not in found.message


@pytest.mark.parametrize("change", [
    ("    return torch._C._cuda_getCurrentRawStream(torch.cuda.current_device())\n", "    return None\n"),
    ("        return torch._C._cuda_getCurrentRawStream(t.device.index)\n",
     "        s = torch._C._cuda_getCurrentRawStream(t.device.index)\n"),  # the CUDA branch goes on
    ("    # CPU tensors", "    if t.is_pinned():\n        return 0\n    # CPU tensors"),  # a test naming no platform
])
def test_a_portable_or_unreached_fall_through_keeps_the_cpu_fallback(ruleset: RuleSet,
                                                                     change: tuple[str, str]) -> None:
    source = _STREAM.replace(*change)
    assert dict(_at(source, ruleset, 3, "LL201").handled).get("cpu") == FALLBACK


# -- every operand of a forced-CUDA build test (xformers setup.py:173-181) ---------------------------
_FORCED = ("import os, torch\nfrom torch.utils.cpp_extension import CUDA_HOME\nif (\n"
           "    (torch.cuda.is_available() and CUDA_HOME is not None)\n"
           '    or os.getenv("FORCE_CUDA", "0") == "1"\n'
           '    or os.getenv("TORCH_CUDA_ARCH_LIST", "") != ""\n'
           "):\n    ext = 1\n")


def test_every_operand_of_a_forced_cuda_build_test_shares_the_fall_through(ruleset: RuleSet) -> None:
    assert dict(_at(_FORCED, ruleset, 4, "LL602").handled).get("cpu") == FALLBACK
    assert dict(_at(_FORCED, ruleset, 6, "LL804").handled).get("cpu") == FALLBACK


@pytest.mark.parametrize("change", [
    ('os.getenv("FORCE_CUDA", "0") == "1"', 'os.getenv("BUILD_ALL", "0") == "1"'),  # no CUDA switch
    ("    ext = 1\n", "    ext = 1\nelse:\n    raise RuntimeError('no CUDA')\n"),  # no fallback at all
    ('    (torch.cuda.is_available() and CUDA_HOME is not None)\n    or ', "    "),  # no CUDA test
])
def test_an_operand_beside_other_switches_keeps_its_own_reading(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _FORCED.replace(*change)
    line = 6 if change[1] != "    " else 5
    assert "cpu" not in dict(_at(source, ruleset, line, "LL804").handled)


# -- the CPU sentence only where the path without CUDA runs on the CPU (TGI server.py:78) -----------
_WARM_UP = ("import torch\ndef health(model):\n"
            '    if model.device.type == "cuda":\n'
            "        torch.zeros((2, 2)).cuda()\n    return 1\n")


def test_a_fall_through_that_runs_nothing_on_the_cpu_says_so(ruleset: RuleSet) -> None:
    found = _at(_WARM_UP, ruleset, 4, "LL120")
    assert dict(found.handled) == {"cpu": FALLBACK}
    assert "without CUDA it takes a path no test names ascend" in found.message
    assert _CPU_SENTENCE not in found.message


@pytest.mark.parametrize("change", [
    ("        torch.zeros((2, 2)).cuda()\n", "        model.cuda()\n"),  # the model stays on the host
    ("    return 1\n", "    else:\n        model.device = 'cpu'\n    return 1\n"),  # the else names the CPU
    ("def health(model):\n", "def health(model):\n    model.device = torch.device('cpu')\n"),  # a CPU default
])
def test_a_path_that_spells_the_cpu_keeps_the_sentence(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _WARM_UP.replace(*change)
    line = 4 + (1 if change[1].startswith("def health(model):\n    model") else 0)
    assert _CPU_SENTENCE in _at(source, ruleset, line, "LL120").message


def test_a_conditional_reads_its_other_value(ruleset: RuleSet) -> None:
    dtype = "import torch\ndtype = 'bf16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'fp16'\n"
    found = check_bytes("m.py", dtype.encode(), ruleset).findings
    assert any("without CUDA it takes a path" in f.message for f in found)
    assert not any(_CPU_SENTENCE in f.message for f in found)
    device = "import torch\ndevice = 'cuda' if torch.cuda.is_available() else 'cpu'\n"
    assert _CPU_SENTENCE in _at(device, ruleset, 2, "LL201").message


# -- a CUDA-only keyword option written inline (apex test_dist_adam.py:66) ---------------------------
_DDP = ("import torch\ndef wrap(model, rank, device='cuda'):\n"
        "    return torch.nn.parallel.DistributedDataParallel(\n"
        '        model, device_ids=[rank] if device == "cuda" else None, bucket_cap_mb=1)\n')


def test_an_inline_cuda_only_keyword_is_handled_everywhere_but_rocm(ruleset: RuleSet) -> None:
    found = _at(_DDP, ruleset, 4, "LL201")
    handled = dict(found.handled)
    assert set(handled) == {"ascend", "mlu", "musa", "xpu", "mps", "cpu"}
    assert all(note == f"{CUDA_ONLY_KEYWORD} (m.py:4)" for note in handled.values())
    assert _CPU_SENTENCE not in found.message


@pytest.mark.parametrize("change", [
    ('else None, bucket', 'else [0], bucket'),  # another value off CUDA
    ('model, device_ids=[rank] if device == "cuda" else None,', 'model, [rank] if device == "cuda" else None,'),
    ('if device == "cuda"', 'if device != "cpu"'),  # not a CUDA test
])
def test_an_inline_option_that_is_no_cuda_only_keyword_keeps_its_reading(ruleset: RuleSet,
                                                                         change: tuple[str, str]) -> None:
    source = _DDP.replace(*change)
    result = check_bytes("m.py", source.encode(), ruleset)
    notes = [note for f in result.findings for note in dict(f.handled).values()]
    assert not any(note.startswith(CUDA_ONLY_KEYWORD) for note in notes)


def test_the_body_of_a_forced_cuda_build_test_shares_the_fall_through(ruleset: RuleSet) -> None:
    """xformers setup.py:182, ``get_cuda_version(CUDA_HOME)`` in the body: without CUDA and with no
    switch set the body is skipped for the CPU build, like the test's operands."""
    source = _FORCED.replace("    ext = 1\n", "    version = get_cuda_version(CUDA_HOME)\n    if version > 1:\n"
                                               "        home = CUDA_HOME\n")
    assert dict(_at(source, ruleset, 8, "LL602").handled).get("cpu") == FALLBACK
    assert dict(_at(source, ruleset, 10, "LL602").handled).get("cpu") == FALLBACK


@pytest.mark.parametrize("change", [
    ('os.getenv("FORCE_CUDA", "0") == "1"', 'os.getenv("BUILD_ALL", "0") == "1"'),  # no CUDA switch
    ("    ext = 1\n", "    ext = 1\nelse:\n    raise RuntimeError('no CUDA')\n"),  # no fallback at all
])
def test_the_body_of_another_test_keeps_its_own_reading(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _FORCED.replace(*change).replace("    ext = 1\n", "    home = CUDA_HOME\n")
    assert "cpu" not in dict(_at(source, ruleset, 8, "LL602").handled)


# -- the CPU named in a message is no CPU path (accelerate environment.py:339-346) -------------------
_AFFINITY = ("import torch\ndef affinity():\n    if torch.cuda.is_available():\n"
             "        if not available():\n"
             '            raise ImportError("To set CPU affinity on CUDA GPUs install pynvml")\n'
             "        torch.cuda.synchronize()\n")


def test_an_early_exit_whose_message_names_the_cpu_runs_nothing_there(ruleset: RuleSet) -> None:
    found = _at(_AFFINITY, ruleset, 6, "LL1")
    assert dict(found.handled).get("cpu") == FALLBACK
    assert _CPU_SENTENCE not in found.message


@pytest.mark.parametrize("change", [
    ('            raise ImportError("To set CPU affinity on CUDA GPUs install pynvml")\n',
     '            return "cpu"\n'),  # the exit names the CPU device
    ('            raise ImportError("To set CPU affinity on CUDA GPUs install pynvml")\n',
     "            return x.cpu()\n"),  # or moves to it
])
def test_an_early_exit_that_spells_the_cpu_in_code_keeps_the_sentence(ruleset: RuleSet,
                                                                      change: tuple[str, str]) -> None:
    assert _CPU_SENTENCE in _at(_AFFINITY.replace(*change), ruleset, 6, "LL1").message


# -- a dtype cast in an enclosing `if` that tests no device (bitsandbytes test_autograd.py:106) -------
_CAST = ("import torch\ndef check(device, ops, weight, out):\n"
         "    if ops[0] is torch.mm:\n"
         "        packed = weight.to(torch.float16)\n"
         '        if device == "cuda":\n'
         "            torch.cuda.synchronize()\n"
         "        return out.sum() + packed.sum()\n")


@pytest.mark.parametrize("cast", ["weight.to(torch.float16)", "weight.to(dtype=torch.half)",
                                  "weight.to(torch.bfloat16, copy=True)", "weight.to(out.dtype)"])
def test_a_dtype_cast_moves_nothing_to_the_device(ruleset: RuleSet, cast: str) -> None:
    """Off CUDA the test runs on its own device and skips the synchronize: nothing picks the CPU."""
    found = _at(_CAST.replace("weight.to(torch.float16)", cast), ruleset, 6, "LL1")
    assert dict(found.handled).get("cpu") == FALLBACK
    assert _CPU_SENTENCE not in found.message


@pytest.mark.parametrize("move", ["weight.to(device)", "weight.to(device, torch.float16)", "weight.cuda()"])
def test_a_move_to_the_device_still_leaves_the_object_on_the_host(ruleset: RuleSet, move: str) -> None:
    assert _CPU_SENTENCE in _at(_CAST.replace("weight.to(torch.float16)", move), ruleset, 6, "LL1").message
