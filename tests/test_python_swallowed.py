"""A CUDA-only call whose error an ``except`` swallows (analyzers/python_swallowed.py): the message
names the ``except`` and what silently happens on the targets still open; statuses, ``handled`` and
the finding set stay as they are (DeepSpeed's ``graph_profile.py`` ``_get_mem_usage_out_of_torch``)."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

BODY = '''import pynvml
import torch


def used_memory(index):
    adjust = 0
    try:
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        adjust = pynvml.nvmlDeviceGetMemoryInfo(handle).used
{handler}
    return adjust
'''


def _init(ruleset: RuleSet, handler: str) -> Finding:
    text = BODY.format(handler=handler)
    result = check_bytes("profile.py", text.encode(), ruleset)
    return next(f for f in result.findings if f.symbol == "pynvml.nvmlInit")


def _plain(ruleset: RuleSet) -> Finding:
    text = BODY.replace("    try:\n", "    if True:\n").format(handler="")
    result = check_bytes("profile.py", text.encode(), ruleset)
    return next(f for f in result.findings if f.symbol == "pynvml.nvmlInit")


@pytest.mark.parametrize(("handler", "outcome"), [
    ("    except Exception:\n        # pynvml not available\n        pass", "does nothing"),
    ("    except:\n        return 0", "returns 0"),
    ("    except (RuntimeError, Exception) as error:\n        adjust = -1", "falls back to adjust = -1"),
    ("    except BaseException:\n        pass\n    finally:\n        pass", "does nothing"),
])
def test_a_swallowing_except_is_named_in_the_message(ruleset: RuleSet, handler: str, outcome: str) -> None:
    found, plain = _init(ruleset, handler), _plain(ruleset)
    line = next(i for i, text in enumerate(BODY.format(handler=handler).splitlines(), 1) if "except" in text)
    open_targets = [t for t, info in found.targets.items() if info.status != "native"]
    assert open_targets
    assert found.message == (f"{plain.message}; the `except` at line {line} swallows its error, so on "
                             f"{', '.join(open_targets)} this silently {outcome}")
    # wording only: no target credited, no status changed
    assert found.targets == plain.targets and found.handled == plain.handled


@pytest.mark.parametrize("handler", [
    "    except ImportError:\n        pass",  # the call's own error escapes
    "    except Exception:\n        logger.warning('no NVML')",  # does something: not silent
    "    except Exception:\n        raise",
    "    except Exception:\n        adjust = fallback()",  # not a constant
    "    except Exception:\n        pass\n    except KeyboardInterrupt:\n        raise",  # one handler re-raises
    "    finally:\n        pynvml.nvmlShutdown()",  # no except at all
])
def test_other_handlers_change_nothing(ruleset: RuleSet, handler: str) -> None:
    assert _init(ruleset, handler).message == _plain(ruleset).message, handler


def test_only_unguarded_calls_in_the_try_body_are_named(ruleset: RuleSet) -> None:
    text = '''import torch


def probe():
    try:
        import pynvml
        version = torch.version.cuda
        def later():
            pynvml.nvmlInit()
        if torch.cuda.is_available():
            major = torch.cuda.get_device_capability()[0]
        return version, later
    except Exception:
        return None
'''
    findings = check_bytes("probe.py", text.encode(), ruleset).findings
    # the import, torch.version.cuda, the nested call, the test and the call it guards are all found
    assert {f.line for f in findings} >= {6, 7, 9, 10, 11}
    for finding in findings:
        assert "swallows" not in finding.message, finding
