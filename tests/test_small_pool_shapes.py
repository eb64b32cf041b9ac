"""Four shapes the small-pool hunters h1, h2 and h3 judged wrong on main d34dcbd (docs/validation.md,
#11, eighth session, fF), each with the near misses that keep their reading:

- a refusing ``if not <CUDA probe>: raise ... else:`` is no CPU fallback in its ``else``
  (analyzers/python_refusals.py, `refuses_in_if`; DeepSpeed ``inference/v2/modules/heuristics.py``);
- independent ``if``s, one per device, before a lone CUDA ``if`` that calls the same function
  (analyzers/python_prior_branches.py; accelerate ``checkpointing.py:174``);
- ``get_accelerator().device_name == "cuda"``, a method never called, is no device test
  (analyzers/python_uncalled_methods.py; DeepSpeed ``runtime/constants.py:300``);
- an upper-case ``"CPU"`` label before a chain does not spell the CPU path
  (analyzers/python_fall_through.py; bitsandbytes ``cextension.py:387``).
"""

from __future__ import annotations

import pytest

from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

from .conftest import finding_at

_CPU_SENTENCE = "silently run on the CPU"


def _status(found: Finding, target: str) -> str:
    return dict(found.targets)[target].status


# -- 1. a refusing `if not cuda: raise` with an explicit `else` -----------------------------------
_REFUSE = ("import torch\ndef pick(cfg):\n"
           "    if not torch.cuda.is_available():\n"
           '        raise ValueError("only supported on CUDA")\n'
           "    else:\n"
           "        major = torch.cuda.get_device_properties(0).major\n"
           "    return major\n")


@pytest.mark.parametrize("change", [
    ("", ""),
    ('        raise', '        print("no CUDA")\n        raise'),  # a message before the raise
    ("    else:\n        major", "    elif cfg:\n        major"),  # an `elif` instead of the `else`
    ("        major = torch.cuda.get_device_properties(0).major\n",  # nested in the else (heuristics.py)
     "        if cfg.rocm:\n            raise ValueError('NVIDIA only')\n"
     "        elif torch.cuda.get_device_properties(0).major != 8:\n            raise ValueError('Ampere')\n"),
])
def test_the_else_of_a_refusal_is_no_cpu_fallback(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _REFUSE.replace(*change)
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "get_device_properties" in text)
    found = finding_at(source, ruleset, line, "LL101")
    assert "cpu" not in dict(found.handled)
    assert _status(found, "cpu") == "missing"  # as the early-exit form reads it
    assert "without CUDA" not in found.message


@pytest.mark.parametrize("change", [
    ('        raise ValueError("only supported on CUDA")\n',  # the CPU branch does work first
     '        cfg.device = "cpu"\n        raise ValueError("only supported on CUDA")\n'),
    ('        raise ValueError("only supported on CUDA")\n',  # it raises only in a sub-case (TGI)
     '        if cfg.quantize:\n            raise ValueError("no quantization on CPU")\n'),
])
def test_a_cpu_branch_that_does_work_keeps_its_reading(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _REFUSE.replace(*change)
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "get_device_properties" in text)
    assert dict(finding_at(source, ruleset, line, "LL101").handled)["cpu"] == FALLBACK


# -- 2. independent `if`s per device before a lone CUDA `if` (accelerate checkpointing.py:161-174) --
_SAVE = ("import torch\ndef save(states):\n"
         "    states['cpu'] = torch.get_rng_state()\n"
         "    if is_xpu_available():\n"
         "        states['xpu'] = torch.xpu.get_rng_state_all()\n"
         "    if is_mlu_available():\n"
         "        states['mlu'] = torch.mlu.get_rng_state_all()\n"
         "    elif is_musa_available():\n"
         "        states['musa'] = torch.musa.get_rng_state_all()\n"
         "    if is_hpu_available():\n"
         "        states['hpu'] = torch.hpu.get_rng_state_all()\n"
         "    if is_cuda_available():\n"
         "        states['cuda'] = torch.cuda.get_rng_state_all()\n"
         "    return states\n")


def test_sibling_ifs_that_call_the_same_function_handle_their_platforms(ruleset: RuleSet) -> None:
    handled = dict(finding_at(_SAVE, ruleset, 13, "LL104").handled)
    assert handled["xpu"] == f"{BRANCH} (m.py:4)"
    assert handled["mlu"] == f"{BRANCH} (m.py:6)"
    assert handled["musa"] == f"{BRANCH} (m.py:8)"
    assert "ascend" not in handled and "mps" not in handled
    assert handled["cpu"] == FALLBACK
    # a bare call statement reads the same as an assigned one
    bare = _SAVE.replace("        states['xpu'] = torch.xpu", "        torch.xpu") \
        .replace("        states['cuda'] = torch.cuda", "        torch.cuda")
    assert dict(finding_at(bare, ruleset, 13, "LL104").handled)["xpu"] == f"{BRANCH} (m.py:4)"


@pytest.mark.parametrize("change", [
    ("torch.xpu.get_rng_state_all()", "torch.xpu.manual_seed_all(0)"),  # another function
    ("    if is_hpu_available():", "    log('saved')\n    if is_hpu_available():"),  # a statement ends the run
    ("    if is_xpu_available():", "    if not is_xpu_available():"),  # a negated test
    ("    return states\n", "    else:\n        pass\n    return states\n"),  # the CUDA `if` has an else
    ("    if is_cuda_available():\n        states['cuda']",  # not the `if`'s own body
     "    if is_cuda_available():\n      for i in range(2):\n        states['cuda']"),
])
def test_the_near_misses_credit_no_sibling(ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = _SAVE.replace(*change)
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "torch.cuda.get_rng" in text)
    assert "xpu" not in dict(finding_at(source, ruleset, line, "LL104").handled)


def test_a_cuda_elif_after_an_earlier_if_keeps_its_reading(ruleset: RuleSet) -> None:
    # accelerate's config/default.py: the CUDA call sits in an `elif` of a chain with a CPU `else`
    source = ("import torch\ndef count(config):\n"
              "    if is_mlu_available():\n        config['n'] = torch.mlu.device_count()\n"
              "    if is_musa_available():\n        config['n'] = torch.musa.device_count()\n"
              "    elif torch.cuda.is_available():\n        config['n'] = torch.cuda.device_count()\n"
              "    else:\n        config['n'] = 1\n")
    handled = dict(finding_at(source, ruleset, 8, "LL101").handled)
    assert "mlu" not in handled and handled["musa"] == BRANCH


# -- 3. `get_accelerator().device_name == "cuda"`: a method never called ---------------------------
@pytest.mark.parametrize("test, fires", [
    ('get_accelerator().device_name == "cuda"', False),
    ('"cuda" != deepspeed.accelerator.get_accelerator().current_device_name', False),
    ('get_accelerator().device_name() == "cuda"', True),
    ('accelerator.device_name == "cuda"', True),  # not known to be a method
    ('get_accelerator().device_type == "cuda"', True),  # not one of the accessor methods
])
def test_an_uncalled_accessor_method_is_no_device_test(ruleset: RuleSet, test: str, fires: bool) -> None:
    source = f"import deepspeed\nif {test}:\n    dtype = None\n"
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    assert any(f.rule_id == "LL201" and f.line == 2 for f in result.findings) is fires


# -- 4. an upper-case "CPU" label before the chain (bitsandbytes cextension.py:387) ------------------
_LABEL = ("import torch\nBACKEND = {value}\n"
          "if torch.version.hip:\n    BACKEND = 'ROCm'\n"
          "elif torch.cuda.is_available():\n    BACKEND = 'CUDA'\n")


@pytest.mark.parametrize("value, sentence", [
    ('"CPU"', False),
    ("'CPU'", False),
    ('"cpu"', True),
    ('torch.device("cpu")', True),
    ('"cuda" if USE_GPU else "cpu"', True),
])
def test_only_a_device_spelling_before_the_chain_spells_the_cpu(ruleset: RuleSet, value: str, sentence: bool) -> None:
    found = finding_at(_LABEL.format(value=value), ruleset, 5, "LL101")
    assert dict(found.handled)["cpu"] == FALLBACK
    assert (_CPU_SENTENCE in found.message) is sentence
