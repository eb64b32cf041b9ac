"""Triton availability checks the first probe reading missed (analyzers/python_probes.py,
eighth session, fH): a probe ``try`` that is all a module-level ``if`` holds, an ``except
Exception`` that only turns the flag off after a call into the package, and an ``is_compatible``
method whose import-error handler returns False. Each near miss keeps its status."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_NOTE = "availability probe {}: False where the package is missing"


def _triton(source: str, ruleset: RuleSet) -> list[Finding]:
    result = check_bytes("probe.py", source.encode(), ruleset)
    found = [f for f in result.findings if f.rule_id == "LL516"]
    assert found, source
    return found


def _handled_as(found: list[Finding], probe: str) -> bool:
    """Every finding handled on every target with the probe's note (and so native everywhere)."""
    return all(all(i.status == "native" for i in f.targets.values())
               and dict(f.handled).get("mps") == _NOTE.format(probe) for f in found)


def _unhandled(found: list[Finding]) -> bool:
    """No finding noted as a probe; mps still ``missing`` (a ``torch.version.hip`` test may handle rocm)."""
    return all(not any("availability probe" in note for _, note in f.handled)
               and f.targets["mps"].status == "missing" for f in found)


# DeepSpeed's deepspeed/__init__.py: the flag is bound on every path
_BRANCH = ("import torch\nif not torch.version.hip:\n    try:\n        import triton\n        HAS_TRITON = True\n"
           "    except ImportError:\n        HAS_TRITON = {off}\n{otherwise}")
# xFormers' benchmarks/utils.py: the flag is preset before the if and read after it
_PRESET = ("import logging\nimport torch\n{preset}if _ok:\n    try:\n        import triton\n"
           "    except {caught}:\n        logging.warning(f'Triton is not available: {{e}}')\n        _ok = False\n"
           "{after}")


def test_a_probe_try_that_is_all_an_if_holds_is_a_probe(ruleset: RuleSet) -> None:
    source = _BRANCH.format(off="False", otherwise="else:\n    HAS_TRITON = False\n")
    assert _handled_as(_triton(source, ruleset), "HAS_TRITON")
    source = _PRESET.format(preset="_ok = torch.cuda.is_available()\n", caught="ImportError as e",
                            after="if _ok:\n    def bench():\n        pass\n")
    assert _handled_as(_triton(source, ruleset), "_ok")


def test_near_misses_of_a_probe_inside_an_if_stay(ruleset: RuleSet) -> None:
    sources = [
        _BRANCH.format(off="False", otherwise=""),  # unbound where the test fails, and never read
        _BRANCH.format(off="False", otherwise="else:\n    HAS_TRITON = True\n"),  # the else claims it
        _BRANCH.format(off="False", otherwise="elif torch.cuda.is_available():\n    HAS_TRITON = False\n"),
        _BRANCH.format(off="True", otherwise="else:\n    HAS_TRITON = False\n"),  # never turned off
        _PRESET.format(preset="", caught="ImportError as e", after="if _ok:\n    pass\n"),  # bound nowhere before
        _PRESET.format(preset="_ok = True\n", caught="ImportError as e", after=""),  # read nowhere after
        _PRESET.format(preset="_ok = True\n", caught="Exception as e", after="print(_ok)\n"),  # hides a broken one
        _BRANCH.format(off="False", otherwise="else:\n    HAS_TRITON = False\n").replace(
            "HAS_TRITON = True\n", "HAS_TRITON = True\n        triton.compile()\n", 1),  # does more
    ]
    for source in sources:
        assert _unhandled(_triton(source, ruleset)), source


# DeepSpeed's deepspeed/ops/triton_ops/_triton.py
_BROAD = ("try:\n    import triton\n    import triton.language as tl\n    {call}\n    _AVAILABLE = True\n"
          "except {caught}:\n    triton = None\n    tl = None\n    {handler}\n")
_BROAD_PARTS = {"call": "triton.runtime.driver.active.get_current_target()", "caught": "Exception",
                "handler": "_AVAILABLE = False"}


def test_a_broad_catch_answering_for_a_driver_call_is_a_probe(ruleset: RuleSet) -> None:
    found = _triton(_BROAD.format(**_BROAD_PARTS), ruleset)
    assert len(found) == 2 and _handled_as(found, "_AVAILABLE")


def test_near_misses_of_a_broad_catch_stay(ruleset: RuleSet) -> None:
    for parts in ({"call": "target = triton.runtime.driver.active.get_current_target()"},  # keeps a result
                  {"call": "torch.cuda.init()"},  # a call into something else
                  {"call": "pass"},  # nothing but the imports: Exception hides a broken install
                  {"handler": "_AVAILABLE = False\n    logger.warning('no triton')"},  # does more than reset
                  {"handler": "_AVAILABLE = True"},  # never turned off
                  {"caught": "ImportError"}):  # the call's own failures escape: no probe of the call
        source = _BROAD.format(**(_BROAD_PARTS | parts))
        assert _unhandled(_triton(source, ruleset)), source
    # another handler re-raises a missing triton: the module cannot load without it
    source = _BROAD.format(**_BROAD_PARTS).replace("except Exception:", "except ImportError:\n    raise\nexcept Exception:")
    assert _unhandled(_triton(source, ruleset)), source


# DeepSpeed's op_builder/fp_quantizer.py and sparse_attn.py
_COMPATIBLE = ("class Builder:\n    def {name}(self, verbose=False):\n        try:\n            import triton\n"
               "        except ImportError:\n            if verbose:\n                self.warning('please install triton')\n"
               "            {exit}\n        return triton.__version__.startswith('3.')\n")


def test_an_is_compatible_method_answering_false_is_a_probe(ruleset: RuleSet) -> None:
    for exit in ("return False", "return None"):
        found = _triton(_COMPATIBLE.format(name="is_compatible", exit=exit), ruleset)
        assert _handled_as(found, "is_compatible()"), exit


def test_near_misses_of_a_compatibility_method_stay(ruleset: RuleSet) -> None:
    for name, exit in (("is_compatible", "return DummyKernel()"),  # a fallback object, not an answer
                       ("is_compatible", "raise"),  # re-raises: fails where triton is missing
                       ("load", "return False")):  # not a probe by name
        found = _triton(_COMPATIBLE.format(name=name, exit=exit), ruleset)
        assert _unhandled(found), (name, exit)


def test_a_handler_that_re_raises_stays(ruleset: RuleSet) -> None:
    # DeepSpeed's diffusers_attention.py (judged true): the module cannot load without triton
    for source in ("try:\n    import triton\nexcept ImportError:\n    raise ImportError('install triton')\n",
                   "try:\n    import triton\nexcept ImportError as e:\n    raise RuntimeError('no triton') from e\n"):
        assert _unhandled(_triton(source, ruleset)), source
