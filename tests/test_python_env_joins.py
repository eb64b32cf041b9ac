"""One setting, one finding: the save and restore around an environment variable join its set
(analyzers/python_env_joins.py), and the effort counts the construct once."""

from __future__ import annotations

import json

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding
from lockin_lint.score.effort import summarize

GUARD = '''import os
def guard():
    old_value = os.environ.get("CUDA_VISIBLE_DEVICES")
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    try:
        yield
    finally:
        if old_value is None:
            del os.environ["CUDA_VISIBLE_DEVICES"]
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = old_value
'''

JIT_LOAD = '''import os
def jit_load(build):
    present = "TORCH_CUDA_ARCH_LIST" in os.environ
    arch_list = os.environ.get("TORCH_CUDA_ARCH_LIST")
    try:
        return build()
    finally:
        if present:
            os.environ["TORCH_CUDA_ARCH_LIST"] = arch_list
        else:
            os.environ.pop("TORCH_CUDA_ARCH_LIST", None)
'''


def _findings(source: str, ruleset: RuleSet) -> list[Finding]:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return list(result.findings)


def test_save_set_and_restores_are_one_finding_at_the_set(ruleset: RuleSet) -> None:
    [found] = _findings(GUARD, ruleset)
    assert (found.rule_id, found.line) == ("LL800", 4)
    assert found.message.endswith("(one setting, also at lines 3, 9, 11)")
    assert found.extra_symbols == ()  # the same variable: nothing new to list


def test_a_save_and_restore_without_a_set_join_the_first_save(ruleset: RuleSet) -> None:
    [found] = _findings(JIT_LOAD, ruleset)
    assert (found.rule_id, found.line) == ("LL804", 3)
    assert "lines 4, 9, 11" in found.message


def test_a_save_joins_a_set_with_no_restore(ruleset: RuleSet) -> None:
    source = ('import os\ndef enable():\n    global saved\n    saved = os.environ.get("CUBLAS_WORKSPACE_CONFIG", None)\n'
              '    os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":16:8"\n')
    [found] = _findings(source, ruleset)
    assert found.line == 5 and "line 4)" in found.message


def test_the_construct_costs_what_its_set_alone_costs(ruleset: RuleSet) -> None:
    alone = _findings('import os\ndef guard():\n    os.environ["CUDA_VISIBLE_DEVICES"] = ""\n', ruleset)
    joined = _findings(GUARD, ruleset)
    targets = tuple(joined[0].targets)
    assert summarize(joined, targets) == summarize(alone, targets)


def test_reads_and_settings_that_are_no_save_restore_stay_apart(ruleset: RuleSet) -> None:
    branches = ('import os\ndef pick(fast):\n    if os.environ.get("CUBLAS_WORKSPACE_CONFIG") is None:\n'
                '        os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"\n'
                '    else:\n        os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":16:8"\n')
    assert [f.line for f in _findings(branches, ruleset)] == [3, 4, 6]
    # at module level, or across two functions, nothing is one function's save/restore
    module = 'import os\nold = os.environ.get("CUDA_VISIBLE_DEVICES")\nos.environ["CUDA_VISIBLE_DEVICES"] = ""\n'
    assert [f.line for f in _findings(module, ruleset)] == [2, 3]
    split = ('import os\ndef save():\n    old = os.environ.get("CUDA_VISIBLE_DEVICES")\n'
             'def put():\n    os.environ["CUDA_VISIBLE_DEVICES"] = ""\n')
    assert [f.line for f in _findings(split, ruleset)] == [3, 5]
    # a derived value is no save; another variable's save is not this one's
    derived = ('import os\ndef f():\n    ids = os.environ.get("CUDA_VISIBLE_DEVICES").split(",")\n'
               '    os.environ["CUDA_VISIBLE_DEVICES"] = ids[0]\n')
    assert [f.line for f in _findings(derived, ruleset)] == [3, 4]
    other = ('import os\ndef f():\n    old = os.environ.get("NCCL_DEBUG")\n'
             '    os.environ["CUDA_VISIBLE_DEVICES"] = ""\n')
    assert sorted(f.rule_id for f in _findings(other, ruleset)) == ["LL800", "LL803"]


_DETERMINISM = '''import os
class Deterministic:
    def __init__(self):
        self.saved_blocking = None

    def __enter__(self):
        {save} = os.environ.get("CUDA_LAUNCH_BLOCKING", "")
        os.environ["CUDA_LAUNCH_BLOCKING"] = "1"

    def __exit__(self, *exc):
        os.environ["CUDA_LAUNCH_BLOCKING"] = {restore}
'''


def test_a_class_saving_on_self_is_one_scope_for_the_variable(ruleset: RuleSet) -> None:
    # DeepSpeed's tests/unit/common.py: __enter__ saves on self and sets, __exit__ puts it back
    source = _DETERMINISM.format(save="self.saved_blocking", restore="self.saved_blocking")
    [found] = _findings(source, ruleset)
    assert (found.rule_id, found.line) == ("LL801", 8)
    assert found.message.endswith("(one setting, also at lines 7, 11)")


def test_methods_saving_in_locals_stay_apart(ruleset: RuleSet) -> None:
    # a local save joins its own method's set; another method's set is another setting
    local = _DETERMINISM.format(save="saved", restore="saved")
    assert [f.line for f in _findings(local, ruleset)] == [8, 11]
    # a save on another object is not the method's own
    other = _DETERMINISM.format(save="config.saved_blocking", restore="config.saved_blocking")
    assert [f.line for f in _findings(other, ruleset)] == [7, 8, 11]


def test_a_notebook_message_names_the_lines_of_the_ipynb(ruleset: RuleSet) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# title\n"]},
             {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": GUARD.splitlines(keepends=True)}]
    text = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    result = check_bytes("n.ipynb", text.encode(), ruleset)
    [found] = result.findings
    json_lines = text.splitlines()
    named = [int(n) for n in found.message.split("lines ")[1].rstrip(")").split(", ")]
    assert [json_lines[n - 1].count("CUDA_VISIBLE_DEVICES") for n in named] == [1, 1, 1]
    assert "os.environ.get" in json_lines[named[0] - 1] and found.line not in named
