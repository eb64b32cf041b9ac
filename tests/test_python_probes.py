"""An import inside an availability probe handles every target (analyzers/python_probes.py); an
import that is a use, or a probe that cannot answer False first, stays as it was."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import TARGETS, Finding


def _imports(source: str, ruleset: RuleSet) -> list[Finding]:
    result = check_bytes("imports.py", source.encode(), ruleset)
    return [f for f in result.findings if f.rule_id in ("LL512", "LL516")]


def test_imports_inside_probes_are_handled_everywhere(ruleset: RuleSet) -> None:
    accelerate = ("def is_bitsandbytes_multi_backend_available():\n    if not is_bnb_available():\n"
                  "        return False\n    import bitsandbytes as bnb\n"
                  '    return "multi_backend" in getattr(bnb, "features", set())\n')
    xformers = ("import torch\ndef _is_triton_available():\n    if not torch.cuda.is_available():\n"
                "        return False\n    try:\n        import triton\n        return True\n"
                "    except ImportError:\n        return False\n")
    # xformers' probe first sends every device but CUDA out through `return False` (line 4): that
    # exit is the note there (`python_cuda_exits`), the probe's for a guard that is no platform test
    for source, note in ((accelerate, "availability probe is_bitsandbytes_multi_backend_available()"),
                         (xformers, "device-agnostic else (imports.py:4)")):
        [found] = _imports(source, ruleset)
        assert {t: i.status for t, i in found.targets.items()} == {t: "native" for t in TARGETS}
        assert note in dict(found.handled)["ascend"]


def test_uses_and_unguarded_probes_stay(ruleset: RuleSet) -> None:
    for source in ("def load():\n    if is_bnb_available():\n        import bitsandbytes\n",  # a use
                   "def is_bnb_available():\n    import bitsandbytes\n    return True\n",  # fails where missing
                   "try:\n    import bitsandbytes\nexcept ImportError:\n    pass\n"):  # module level
        [found] = _imports(source, ruleset)
        assert not found.handled and found.targets["ascend"].status != "native", source


def test_a_module_level_availability_flag_is_a_probe(ruleset: RuleSet) -> None:
    # bitsandbytes' backends/utils.py
    source = ("try:\n    import triton  # noqa: F401\n    import triton.language as tl\n\n    triton_available = True\n"
              "except ImportError:\n    triton_available = False\n")
    found = _imports(source, ruleset)
    assert len(found) == 2
    for finding in found:
        assert {t: i.status for t, i in finding.targets.items()} == {t: "native" for t in TARGETS}
        assert "availability probe triton_available:" in dict(finding.handled)["ascend"]


def test_a_module_level_try_doing_more_is_no_probe(ruleset: RuleSet) -> None:
    for source in ("try:\n    import triton\n    x = triton.f()\n    ok = True\nexcept ImportError:\n    ok = False\n",
                   "try:\n    import triton\n    ok = True\nexcept Exception:\n    ok = False\n",
                   "try:\n    import triton\n    ok = True\nexcept ImportError:\n    other = False\n"):
        [found] = _imports(source, ruleset)
        assert not found.handled and found.targets["ascend"].status != "native", source


_SPEC_FLAG = ('from importlib.util import find_spec\nHAS_TRITON = {value}\nif HAS_TRITON:\n    try:\n'
              '        from triton.backends import backends\n        drivers = [x for x in backends.values()]\n'
              '    except {caught}:\n        logger.warning("Disabling Triton.")\n        HAS_TRITON = {off}\n')


def test_a_find_spec_flag_turned_off_on_import_error_is_a_probe(ruleset: RuleSet) -> None:
    # vLLM's triton_utils/importing.py
    for value in ('find_spec("triton") is not None',
                  '(\n    find_spec("triton") is not None\n    or find_spec("pytorch-triton-xpu") is not None  # Not compatible\n)'):
        [found] = _imports(_SPEC_FLAG.format(value=value, caught="ImportError", off="False"), ruleset)
        assert {t: i.status for t, i in found.targets.items()} == {t: "native" for t in TARGETS}
        assert "availability probe HAS_TRITON:" in dict(found.handled)["ascend"]


def test_a_flag_not_from_find_spec_or_not_turned_off_is_no_probe(ruleset: RuleSet) -> None:
    for value, caught, off in (("True", "ImportError", "False"),  # no find_spec: the import may fail
                               ('find_spec("numpy") is not None', "ImportError", "False"),  # another package
                               ('find_spec("triton") is not None', "Exception", "False"),  # not import errors
                               ('find_spec("triton") is not None', "ImportError", "True"),  # not turned off
                               ('find_spec("triton") is None', "ImportError", "False")):  # the inverse test
        source = _SPEC_FLAG.format(value=value, caught=caught, off=off)
        [found] = _imports(source, ruleset)
        assert not found.handled and found.targets["ascend"].status != "native", source


_PRESET = ("import logging\nlogger = logging.getLogger(__name__)\n{preset}try:\n    import triton\n"
           "    import triton.language as tl\n\n    _HAVE_TRITON = True\nexcept {caught}:\n{handler}\n{after}")
_LOGS = '    logger.info("Triton missing; using the PyTorch path.")'
_CHOOSES = "def fill(x):\n    if not _HAVE_TRITON:\n        return x.cumsum(0)\n    return kernel(x)\n"


def test_a_flag_preset_off_before_the_try_is_a_probe(ruleset: RuleSet) -> None:
    # DeepSpeed's moe/ep_kernels.py: the handler only logs, the preset keeps the flag False
    for preset, handler in (("_HAVE_TRITON = False\n", _LOGS), ("_HAVE_TRITON = None\n", "    pass"),
                            ("_HAVE_TRITON = False\n", _LOGS + "\n    _HAVE_TRITON = False")):
        found = _imports(_PRESET.format(preset=preset, caught="ImportError", handler=handler, after=_CHOOSES), ruleset)
        assert len(found) == 2
        for finding in found:
            assert {t: i.status for t, i in finding.targets.items()} == {t: "native" for t in TARGETS}
            assert "availability probe _HAVE_TRITON:" in dict(finding.handled)["mps"]


def test_a_preset_flag_that_chooses_nothing_or_a_handler_that_fails_is_no_probe(ruleset: RuleSet) -> None:
    for preset, caught, handler, after in (
            ("", "ImportError", _LOGS, _CHOOSES),  # no preset: the flag is unbound where triton is missing
            ("_HAVE_TRITON = False\n", "ImportError", _LOGS, "def fill(x):\n    return kernel(x)\n"),  # never read
            ("_HAVE_TRITON = False\n", "ImportError", _LOGS + "\n    raise", _CHOOSES),  # re-raises
            ("_HAVE_TRITON = False\n", "Exception", _LOGS, _CHOOSES),  # hides a broken install too
            ("_HAVE_TRITON = True\n", "ImportError", _LOGS, _CHOOSES),  # preset on
            ("_HAVE_TRITON = False\n_HAVE_TRITON = probe()\n", "ImportError", _LOGS, _CHOOSES)):  # bound twice
        source = _PRESET.format(preset=preset, caught=caught, handler=handler, after=after)
        found = _imports(source, ruleset)
        assert len(found) == 2, source
        for finding in found:
            assert not finding.handled and finding.targets["mps"].status != "native", source


def test_a_probed_name_used_behind_its_flag_gets_the_probes_notes(ruleset: RuleSet) -> None:
    # DeepSpeed's test_blocked_attn.py shape: the call runs only where the probe's import succeeded
    probe = ("try:\n    from flash_attn.flash_attn_interface import flash_attn_varlen_func\n"
             "    validate_accuracy = True\nexcept ImportError:\n    validate_accuracy = False\n\n\n"
             "def helper(q, check):\n")
    body = ["    if validate_accuracy and check:\n        return flash_attn_varlen_func(q)\n",
            "    if (validate_accuracy):\n        return flash_attn_varlen_func(q)\n"]
    near_misses = ["    if not validate_accuracy:\n        return flash_attn_varlen_func(q)\n",
                   "    if validate_accuracy or check:\n        return flash_attn_varlen_func(q)\n",
                   "    if validate_accuracy:\n        pass\n    else:\n        return flash_attn_varlen_func(q)\n",
                   "    return flash_attn_varlen_func(q)\n"]
    for guarded, expected in [(b, True) for b in body] + [(b, False) for b in near_misses]:
        found = [f for f in check_bytes("test_attn.py", (probe + guarded).encode(), ruleset).findings
                 if f.rule_id == "LL517"]
        assert len(found) == 1, guarded
        handled = "availability probe validate_accuracy:" in dict(found[0].handled).get("ascend", "")
        assert handled == expected and (found[0].targets["ascend"].status == "native") == expected, guarded
    rebound = probe.replace("def helper", "def flash_attn_varlen_func(q):\n    return q\n\n\ndef helper")
    found = [f for f in check_bytes("test_attn.py", (rebound + body[0]).encode(), ruleset).findings
             if f.rule_id == "LL517" and f.line > 8]
    assert all(not f.handled for f in found)


def test_a_chain_rooted_at_a_probed_module_behind_its_flag_gets_the_probes_notes(ruleset: RuleSet) -> None:
    # DeepSpeed's runtime/engine.py: apex's optimizer class named only to recognise the user's optimizer
    probe = ("try:\n    import apex\n    APEX_INSTALLED = True\nexcept ImportError:\n    APEX_INSTALLED = False\n\n\n"
             "def fused_kinds(optimizer, FusedAdam):\n")
    guarded = "    if APEX_INSTALLED:\n        kinds = (apex.optimizers.FusedAdam, FusedAdam)\n    return kinds\n"
    near_misses = ["    kinds = (apex.optimizers.FusedAdam, FusedAdam)\n    return kinds\n",  # zero/utils.py: no flag
                   "    if not APEX_INSTALLED:\n        kinds = (apex.optimizers.FusedAdam, FusedAdam)\n    return kinds\n",
                   "    if APEX_INSTALLED:\n        pass\n    else:\n        kinds = (apex.optimizers.FusedAdam,)\n"]
    for body, expected in [(guarded, True)] + [(b, False) for b in near_misses]:
        found = [f for f in check_bytes("engine.py", (probe + body).encode(), ruleset).findings if f.rule_id == "LL502"]
        assert len(found) == 1, body
        handled = "availability probe APEX_INSTALLED:" in dict(found[0].handled).get("mlu", "")
        assert handled == expected and (found[0].targets["mlu"].status == "native") == expected, body


def test_a_cuda_call_rooted_at_a_probed_torch_stays(ruleset: RuleSet) -> None:
    # Only the plugin rules follow a chain: torch being importable says nothing about CUDA
    source = ("try:\n    import torch\n    HAS_TORCH = True\nexcept ImportError:\n    HAS_TORCH = False\n\n\n"
              "def sync():\n    if HAS_TORCH:\n        torch.cuda.synchronize()\n")
    found = [f for f in check_bytes("sync.py", source.encode(), ruleset).findings if f.line == 10]
    assert found
    for finding in found:
        assert not any("availability probe" in note for _, note in finding.handled), finding.rule_id
        assert finding.targets["mps"].status != "native", finding.rule_id
