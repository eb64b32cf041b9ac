"""A platform chain's ``else`` that reads ``current_platform.<attr>`` (vLLM's platform object forwards
it to ``torch.<device>``) handles the targets no clause is for (analyzers/python_platform_else.py);
anything less stays as it was."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

IMPORT = "from vllm.platforms import current_platform\n"


def _source(body: str, imported: str = IMPORT) -> bytes:
    return ("import torch\n\n\ndef stream_for(tls):\n    " + imported
            + "    if current_platform.is_rocm() or current_platform.is_cuda():\n"
            "        torch.cuda.set_stream(torch.cuda.Stream())\n"
            "    elif current_platform.is_cpu():\n        tls.value = None\n"
            "    else:\n" + body + "    return tls.value\n").encode()


def _stream(source: bytes, ruleset: RuleSet) -> Finding:
    result = check_bytes("torch_utils.py", source, ruleset)
    [found] = [f for f in result.findings if f.symbol == "torch.cuda.Stream"]
    return found


FORWARDED = ("        get = current_platform.current_stream\n        if get is None:\n"
             "            raise ValueError('no current_stream')\n        tls.value = get()\n")


def test_an_else_through_the_platform_object_handles_the_other_targets(ruleset: RuleSet) -> None:
    handled = dict(_stream(_source(FORWARDED), ruleset).handled)
    for target in ("ascend", "mlu", "musa", "xpu"):
        assert handled[target] == "device-agnostic else (torch_utils.py:11)", target
    assert "mps" not in handled and "rocm" not in handled  # torch.mps has no current_stream


def test_near_misses_handle_no_other_target(ruleset: RuleSet) -> None:
    for source in (
            _source("        tls.value = torch.cuda.current_stream()\n"),  # CUDA in the else
            _source("        get = current_platform.current_stream\n        torch.cuda.synchronize()\n"
                    "        tls.value = get()\n"),  # the platform object and another CUDA call
            _source("        device = 'cpu'\n        tls.value = current_platform.current_stream\n"),
            _source("        tls.value = current_platform.is_xpu()\n"),  # a test, not a forwarded read
            _source(FORWARDED, "from vllm.utils import current_platform\n"),  # not the platforms package
    ):
        handled = dict(_stream(source, ruleset).handled)
        assert "xpu" not in handled and "ascend" not in handled, source.decode()
