"""An optional import that only upgrades a portable class the module defines handles every target the
rule does not call native (analyzers/python_fallback_imports.py); near misses stay as they were."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_SOURCE = ("import logging\nimport torch\nlogger = logging.getLogger(__name__)\n\n\n{before}\n\n"
           "try:\n    from apex.normalization import FusedRMSNorm{alias}\n\n    RMSNormLayer = {imported}\n"
           '    logger.info("apex found, using its fused norm")\n{body}'
           "except {caught}:\n    # the plain RMSNormLayer stays\n    {handler}\n{more}\n"
           "NORM_LAYERS = [RMSNormLayer]\n{after}")
_CLASS = ("class RMSNormLayer(torch.nn.Module):\n    def forward(self, x):\n"
          "        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True))")
_PARTS = {"before": _CLASS, "alias": "", "imported": "FusedRMSNorm", "body": "", "caught": "ImportError",
          "handler": "pass", "more": 'except Exception:\n    logger.warning("apex is broken, falling back")\n    pass\n',
          "after": ""}


def _apex(ruleset: RuleSet, **parts: str) -> list[Finding]:
    source = _SOURCE.format(**(_PARTS | parts))
    result = check_bytes("norms.py", source.encode(), ruleset)
    return [f for f in result.findings if f.rule_id in ("LL500", "LL503")]


def test_an_optional_import_upgrading_a_portable_class_is_handled(ruleset: RuleSet) -> None:
    for parts in ({}, {"alias": " as Fused", "imported": "Fused"}, {"more": ""},
                  {"before": "@torch.jit.script\ndef RMSNormLayer(x):\n    return x"}):
        found = _apex(ruleset, **parts)
        assert {f.rule_id for f in found} == {"LL500", "LL503"}, parts
        for finding in found:
            assert all(info.status == "native" for info in finding.targets.values()), parts
            handled = dict(finding.handled)
            assert handled["cpu"] == "optional import, falls back to RMSNormLayer"
            # ROCm builds apex's fork: its native status and replacement stay, unnoted
            assert "rocm" not in handled and finding.targets["rocm"].replacement


def test_near_misses_of_an_optional_import_stay(ruleset: RuleSet) -> None:
    for parts in ({"before": "RMSNormLayer = None"},  # a placeholder, no portable class
                  {"before": ""},  # nothing to fall back to
                  {"handler": "raise"},  # the failure propagates
                  {"more": "except Exception:\n    RMSNormLayer = None\n"},  # a handler that sets something
                  {"body": "    FusedRMSNorm.warm_up()\n"},  # the body uses the package
                  {"after": "def f(x):\n    return isinstance(x, FusedRMSNorm)\n"},  # used after the try
                  {"caught": "Exception", "more": ""},  # no handler of the import's failure alone
                  {"more": "else:\n    logger.info('ok')\n"}):  # an else runs only with apex
        found = _apex(ruleset, **parts)
        assert found, parts
        for finding in found:
            assert not finding.handled and finding.targets["cpu"].status != "native", parts


_PLACEHOLDER = ("import torch\n\ntry:\n    from triton.tools.disasm import extract as {name}\n"
                "except {caught}:\n    {handler}\n\n\ndef device():\n    return torch.cuda.current_device(){after}\n")
_PLACEHOLDER_PARTS = {"name": "_extract", "caught": "ImportError", "handler": "_extract = None", "after": ""}


def _triton(ruleset: RuleSet, **parts: str) -> list[Finding]:
    source = _PLACEHOLDER.format(**(_PLACEHOLDER_PARTS | parts))
    return [f for f in check_bytes("dsl_utils.py", source.encode(), ruleset).findings if f.symbol.startswith("triton")]


def test_a_private_placeholder_read_nowhere_is_handled(ruleset: RuleSet) -> None:
    for parts in ({}, {"caught": "ModuleNotFoundError"}):
        found = _triton(ruleset, **parts)
        assert found, parts
        for finding in found:
            assert all(info.status == "native" for info in finding.targets.values()), parts
            assert dict(finding.handled)["cpu"] == "optional import, unused", parts


def test_near_misses_of_an_unused_placeholder_stay(ruleset: RuleSet) -> None:
    for parts in ({"name": "extract", "handler": "extract = None"},  # public: another module may import it
                  {"after": " if _extract is None else _extract(b'')"},  # read in the module
                  {"handler": "raise"},  # the failure propagates
                  {"handler": "_extract = lambda data: data"},  # a fallback, not a placeholder
                  {"caught": "Exception"}):  # hides a broken install too
        found = _triton(ruleset, **parts)
        assert found, parts
        for finding in found:
            assert "optional import, unused" not in dict(finding.handled).values(), parts
            assert any(info.status != "native" for info in finding.targets.values()), parts


# DeepSpeed's tests/unit/modeling.py: the portable class is defined in the handler, not before the try
_IN_HANDLER = ("import torch\n\ntry:\n    import apex\n    import apex.normalization\n"
               "    NormLayer = {bound}\nexcept ImportError:\n    print('apex would be faster')\n\n"
               "    class {name}(torch.nn.Module):\n        def forward(self, x):\n            return {returned}\n{more}\n"
               "LAYERS = [NormLayer]\n")
_IN_HANDLER_PARTS = {"bound": "apex.normalization.FusedLayerNorm", "name": "NormLayer",
                     "returned": "torch.nn.functional.layer_norm(x, x.shape[-1:])", "more": ""}


def _defined_in_handler(ruleset: RuleSet, **parts: str) -> list[Finding]:
    source = _IN_HANDLER.format(**(_IN_HANDLER_PARTS | parts))
    found = [f for f in check_bytes("modeling.py", source.encode(), ruleset).findings
             if f.rule_id in ("LL500", "LL503")]
    assert found, parts
    return found


def test_a_portable_class_defined_in_the_handler_is_a_fallback(ruleset: RuleSet) -> None:
    found = _defined_in_handler(ruleset)
    assert {f.rule_id for f in found} == {"LL500", "LL503"} and len(found) == 3
    for finding in found:
        assert all(info.status == "native" for info in finding.targets.values())
        assert dict(finding.handled)["cpu"] == "optional import, falls back to NormLayer"


def test_near_misses_of_a_class_defined_in_the_handler_stay(ruleset: RuleSet) -> None:
    for parts in ({"name": "OtherLayer"},  # defines something else: NormLayer is unbound without apex
                  {"returned": "apex.normalization.fused_layer_norm(x)"},  # the fallback needs apex too
                  {"more": "\n\ndef g(x):\n    return apex.normalization.FusedLayerNorm(x)\n"},  # used after
                  {"bound": "apex.normalization.FusedLayerNorm()"}):  # binds an instance: a use of apex
        for finding in _defined_in_handler(ruleset, **parts):
            assert not finding.handled and finding.targets["cpu"].status != "native", parts
