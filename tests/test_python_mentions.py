"""Mentions that only word a message are not lock-in (analyzers/python_mentions.py)."""

from __future__ import annotations

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet


def _lines(source: str, ruleset: RuleSet, rule: str) -> list[int]:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return [f.line for f in result.findings if f.rule_id == rule]


def test_a_backend_test_that_only_adds_a_hint_is_not_reported(ruleset: RuleSet) -> None:
    """DeepSpeed's env_report.py: an NCCL link appended to a /dev/shm warning."""
    source = ('def f(warn):\n    if get_accelerator().communication_backend_name() == "nccl":\n'
              '        warn.append(f"see NCCL\'s troubleshooting page")\n')
    assert _lines(source, ruleset, "LL300") == []
    logged = 'import torch\nif torch.cuda.is_available() and verbose:\n    logger.warning("use flash")\n'
    assert _lines(logged, ruleset, "LL101") == []


def test_a_test_whose_branch_decides_is_reported(ruleset: RuleSet) -> None:
    source = ('def f(reqs):\n    if get_accelerator().communication_backend_name() == "nccl":\n'
              '        reqs.append("cupy-cuda12x")\n')
    assert _lines(source, ruleset, "LL300") == [2]
    both = ('import torch\nif torch.cuda.is_available():\n    print("gpu")\n    x = x.cuda()\n')
    assert _lines(both, ruleset, "LL101") == [2]
    guarding = 'import torch\nif torch.cuda.is_available():\n    print(torch.cuda.device_count(), "devices")\n'
    assert _lines(guarding, ruleset, "LL101") == [2, 3]  # the test guards CUDA code in the message
    empty = "import torch\nif torch.cuda.is_available():\n    pass\n"
    assert _lines(empty, ruleset, "LL101") == [2]
    setting = 'import os\nif "NCCL_DEBUG" not in os.environ:\n    print("set NCCL_DEBUG=INFO")\n'
    assert _lines(setting, ruleset, "LL803") == [2]  # no platform test: reading the setting is the use


def test_cuda_home_in_a_failure_message_beside_its_use(ruleset: RuleSet) -> None:
    """DeepSpeed's nvcc_version(): line 3 decides and is reported, line 5 only shows the value."""
    source = ("from torch.utils import cpp_extension as ext\ndef f():\n    home = ext.CUDA_HOME\n"
              "    if home is None:\n        return f'[FAIL] cannot find CUDA_HOME={ext.CUDA_HOME}'\n"
              "    raise RuntimeError(ext.CUDA_HOME)\n")
    assert _lines(source, ruleset, "LL602") == [3]
    alone = "from torch.utils import cpp_extension as ext\nprint(f'CUDA_HOME={ext.CUDA_HOME}')\n"
    assert _lines(alone, ruleset, "LL602") == [2]  # the file's only mention stays
    built = ("from torch.utils import cpp_extension as ext\nhome = ext.CUDA_HOME\n"
             "args = [f'-DCMAKE_CUDA_COMPILER={ext.CUDA_HOME}/bin/nvcc']\n")
    assert _lines(built, ruleset, "LL602") == [2, 3]  # a build argument, not a message


_LAUNCH = ('import os, torch\ndef launch(function, args):\n'
           '    if is_mps_available():\n        os.environ["PYTORCH_ENABLE_MPS_FALLBACK"] = "1"\n'
           '        print("on MPS")\n'
           '    elif torch.cuda.is_available():\n{cuda}'
           '    elif torch.xpu.is_available():\n        print("on one XPU")\n'
           '    else:\n{other}'
           '    function(*args)\n')


def test_a_cuda_clause_that_only_picks_a_log_line_is_not_reported(ruleset: RuleSet) -> None:
    """accelerate's launchers.py: an earlier clause that sets an env var does not make the CUDA
    test decide anything; the CUDA clause and every later one only print."""
    source = _LAUNCH.format(cuda='        print("on one GPU")\n', other='        print("on CPU")\n')
    assert _lines(source, ruleset, "LL101") == []


def test_a_cuda_clause_that_acts_or_a_later_clause_that_acts_is_reported(ruleset: RuleSet) -> None:
    printed, line = '        print("on one GPU")\n', 6
    raising = _LAUNCH.format(cuda=printed, other='        raise RuntimeError("no device")\n')
    assert _lines(raising, ruleset, "LL101") == [line]
    returning = _LAUNCH.format(cuda=printed, other='        return None\n')
    assert _lines(returning, ruleset, "LL101") == [line]
    setting = _LAUNCH.format(cuda=printed + '        device = "cuda"\n', other='        print("on CPU")\n')
    assert line in _lines(setting, ruleset, "LL101")
    called = _LAUNCH.format(cuda=printed + '        torch.cuda.set_device(0)\n', other='        print("on CPU")\n')
    assert line in _lines(called, ruleset, "LL101")
    returned = _LAUNCH.format(cuda=printed + '        return "gpu"\n', other='        print("on CPU")\n')
    assert _lines(returned, ruleset, "LL101") == [line]


def test_a_cpu_named_only_in_a_log_line_is_not_a_cpu_path(ruleset: RuleSet) -> None:
    """The CPU sentence needs code that runs on the CPU, not ``print("Launching training on CPU.")``."""
    sentence = "silently run on the CPU"
    head = 'import torch\ndef f(function, args):\n    if torch.cuda.is_available():\n        torch.cuda.set_device(0)\n'
    printed = check_bytes("m.py", (head + '    else:\n        print("Launching training on CPU.")\n'
                                   '    function(*args)\n').encode(), ruleset)
    messages = [f.message for f in printed.findings if f.rule_id == "LL101"]
    assert messages and not any(sentence in m for m in messages)
    assigned = check_bytes("m.py", (head + '    else:\n        device = "cpu"\n    return device\n').encode(), ruleset)
    assert any(sentence in f.message for f in assigned.findings if f.rule_id == "LL101")


def test_a_version_formatted_only_into_a_raised_exception_is_not_reported(ruleset: RuleSet) -> None:
    """flash-attention's csrc/layer_norm/setup.py: line 3 parses the version and is reported; line 5
    only formats it into the exception's text. A ``.format`` into a log line is no such message:
    DeepSpeed's ``logger.info("...".format(amp.__path__))`` under ``except NameError`` is a probe."""
    source = ("import torch\ndef check(found):\n    built = parse(torch.version.cuda)\n    if found != built:\n"
              "        raise RuntimeError('PyTorch was built with CUDA {}.'.format(torch.version.cuda) + ' Retry.')\n"
              "    TAIL\n")
    assert _lines(source.replace("TAIL", "return built"), ruleset, "LL122") == [3]
    for tail, line in (("return Version('{}.0'.format(torch.version.cuda))", 6),  # the text is parsed
                       ("logger.info('CUDA {}'.format(torch.version.cuda))", 6),  # a log line
                       ("error = RuntimeError('CUDA {}'.format(torch.version.cuda))", 6)):  # built, not raised
        assert _lines(source.replace("TAIL", tail), ruleset, "LL122") == [3, line], tail
    probe = ("from apex import amp\ntry:\n    logger.info('Initializing Apex amp from: {}'.format(amp.__path__))\n"
             "except NameError:\n    raise RuntimeError('Unable to import apex/amp')\nmodel = amp.initialize(model)\n")
    assert _lines(probe, ruleset, "LL501") == [3, 6]
