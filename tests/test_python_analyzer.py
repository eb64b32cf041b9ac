"""The Python matcher on its own rules, independent of the shipped rule pack's contents."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.model import Settings
from lockin_lint.kb.ruleset import RuleSet, load_rules

from .conftest import rule_yaml, write_rules

DEVICE_CONTEXTS = (
    "{strings: {pattern: '^cuda(:\\d+)?$', contexts: [{call: torch.device, position: 0}, "
    "{method: to, position: 0}, {keyword: device}, {subscript: os.environ}, {contains: os.environ}, "
    "{call: os.getenv, position: 0}]}, triggers: [cuda]}"
)


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    directory = tmp_path_factory.mktemp("rules")
    write_rules(
        directory,
        rule_yaml("LL901", "{qualified: [torch.cuda.synchronize, torch.cuda.amp.GradScaler, torch.cuda.amp,"
                  " numba.cuda.jit], prefixes: [torch.cuda]}"),
        rule_yaml("LL902", "{methods: [cuda], attributes: [is_cuda]}"),
        rule_yaml("LL903", "{imports: [cupy, numba.cuda]}", category="library"),
        rule_yaml("LL904", DEVICE_CONTEXTS.replace("^cuda(:\\d+)?$", "^cuda(:\\d+)?$"), category="device-string"),
        rule_yaml("LL905", "{qualified: [torch.utils.cpp_extension.load], when: {any_string: '\\.cuh?$',"
                  " keywords: [cuda_sources], true_keywords: [with_cuda]}}", category="build"),
        rule_yaml("LL906", "{strings: {pattern: '^NCCL_', contexts: [{subscript: os.environ},"
                  " {call: os.getenv, position: 0}, {contains: os.environ}]}, triggers: [NCCL_]}", category="env"),
    )
    return load_rules(directory)


def found(rules: RuleSet, code: str, **settings: object) -> list[tuple[int, str, str]]:
    result = check_bytes("t.py", code.encode(), rules, Settings(**settings))  # type: ignore[arg-type]
    assert not result.errors, result.errors
    return [(f.line, f.rule_id, f.symbol) for f in result.findings]


@pytest.mark.parametrize(
    "code",
    [
        "import torch\ntorch.cuda.synchronize()\n",
        "import torch as t\nt.cuda.synchronize()\n",
        "import torch.cuda\ntorch.cuda.synchronize()\n",
        "from torch import cuda\ncuda.synchronize()\n",
        "from torch import cuda as gpu\ngpu.synchronize()\n",
        "import torch.cuda as tc\ntc.synchronize()\n",
        "from torch.cuda import *\nsynchronize()\n",
    ],
)
def test_every_import_form_resolves(rules: RuleSet, code: str) -> None:
    assert found(rules, code) == [(2, "LL901", "torch.cuda.synchronize")]


def test_from_import_of_a_symbol_reports_import_and_uses(rules: RuleSet) -> None:
    code = "from torch.cuda.amp import GradScaler as GS\ns = GS()\nt = GS()\n"
    assert found(rules, code) == [(n, "LL901", "torch.cuda.amp.GradScaler") for n in (1, 2, 3)]


def test_submodule_alias_and_longest_name(rules: RuleSet) -> None:
    code = "from torch.cuda import amp as a\nwith a.autocast():\n    pass\nx = a.GradScaler()\n"
    assert found(rules, code) == [(1, "LL901", "torch.cuda.amp"), (2, "LL901", "torch.cuda.amp"),
                                  (4, "LL901", "torch.cuda.amp.GradScaler")]


def test_prefix_catch_all_names_the_member(rules: RuleSet) -> None:
    assert found(rules, "import torch\ntorch.cuda._lazy_init()\n") == [(2, "LL901", "torch.cuda._lazy_init")]


def test_relative_imports_and_unimported_names_are_left_alone(rules: RuleSet) -> None:
    code = "from . import cuda\nfrom .torch import cuda as c\ncuda.synchronize()\nc.synchronize()\n"
    assert found(rules, code) == []


def test_decorators_and_library_imports(rules: RuleSet) -> None:
    code = "from numba import cuda\nimport cupy as cp\n@cuda.jit\ndef k(a):\n    pass\ncp.asarray(1)\n"
    assert found(rules, code) == [(1, "LL903", "numba.cuda"), (2, "LL903", "cupy"), (3, "LL901", "numba.cuda.jit")]


def test_methods_on_any_receiver_but_not_definitions_or_own_methods(rules: RuleSet) -> None:
    code = (
        "x = model.cuda().half()\n"
        "y = torch_tensor().is_cuda\n"
        "class M:\n"
        "    def cuda(self):\n"
        "        return self.cuda()\n"
        "def helper(self):\n"
        "    return self.cuda()\n"
    )
    assert found(rules, code) == [(1, "LL902", ".cuda"), (2, "LL902", ".is_cuda"), (7, "LL902", ".cuda")]


def test_names_that_merely_contain_cuda_never_match(rules: RuleSet) -> None:
    code = (
        "import torch\n"
        "barracuda = 1\n"
        "cuda_available_flag = torch.accelerator.is_available()\n"
        "def f(use_cuda=False, cuda=None):\n"
        "    return use_cuda\n"
        "torch.get_device_module('cuda')\n"
    )
    assert found(rules, code) == []


def test_comments_docstrings_and_unrelated_strings_never_match(rules: RuleSet) -> None:
    code = (
        '"""Module docstring: torch.cuda.synchronize() and "cuda:0"."""\n'
        "import torch, os\n"
        "# torch.cuda.synchronize()\n"
        "msg = 'cuda'\n"
        "print('cuda:0')\n"
        "label = {'device': 'cuda'}\n"
    )
    assert found(rules, code) == []


def test_device_strings_only_where_a_device_is_expected(rules: RuleSet) -> None:
    code = (
        "import torch\n"
        "a = torch.device('cuda:1')\n"
        "b = x.to('cuda' if ok else 'cpu')\n"
        "c = torch.zeros(3, device=f'cuda:{rank}')\n"
        "d = x.to(device)\n"
        "e = torch.device('cpu')\n"
        "f = x.to(('cuda'))\n"
        "g = torch.ones(1, device='mps')\n"
        "h = x.to('mps' if 'cuda' else 'cpu')\n"
    )
    assert found(rules, code) == [(2, "LL904", "cuda:1"), (3, "LL904", "cuda"), (4, "LL904", "cuda:{rank}"),
                                  (7, "LL904", "cuda")]


def test_environment_variable_contexts(rules: RuleSet) -> None:
    code = (
        "import os\n"
        "from os import environ\n"
        "os.environ['NCCL_DEBUG'] = 'INFO'\n"
        "level = os.getenv('NCCL_IB_DISABLE')\n"
        "if 'NCCL_P2P_LEVEL' in environ:\n"
        "    pass\n"
        "print('NCCL_DEBUG')\n"
        "os.environ['HOME']\n"
    )
    assert found(rules, code) == [(3, "LL906", "NCCL_DEBUG"), (4, "LL906", "NCCL_IB_DISABLE"),
                                  (5, "LL906", "NCCL_P2P_LEVEL")]


def test_call_conditions_on_arguments(rules: RuleSet) -> None:
    code = (
        "from torch.utils.cpp_extension import load\n"
        "a = load('a', sources=['a.cpp'])\n"
        "b = load('b', sources=['b.cpp', 'b_kernel.cu'])\n"
        "c = load('c', sources=['c.cpp'], with_cuda=True)\n"
        "d = load('d', sources=['d.cpp'], with_cuda=False)\n"
    )
    assert found(rules, code) == [(3, "LL905", "torch.utils.cpp_extension.load"),
                                  (4, "LL905", "torch.utils.cpp_extension.load")]


def test_suppression_comments(rules: RuleSet) -> None:
    code = (
        "import torch\n"
        "torch.cuda.synchronize()  # lockin: ignore[LL901]\n"
        "# lockin: ignore\n"
        "torch.cuda.synchronize()\n"
        "torch.cuda.synchronize()  # lockin: ignore[LL999]\n"
    )
    assert found(rules, code) == [(5, "LL901", "torch.cuda.synchronize")]


def test_positions_are_one_based_characters(rules: RuleSet) -> None:
    result = check_bytes("t.py", "import torch\né = torch.cuda.synchronize()\n".encode(), rules)
    (finding,) = result.findings
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (2, 5, 2, 27)


def test_prefilter_skips_files_without_trigger_tokens(rules: RuleSet) -> None:
    result = check_bytes("t.py", b"import os\nprint(os.getcwd())\n", rules)
    assert result.skipped and not result.findings


def test_select_and_ignore_shape_the_index(rules: RuleSet) -> None:
    code = "import torch, cupy\ntorch.cuda.synchronize()\n"
    assert [r for _, r, _ in found(rules, code, select=("LL903",))] == ["LL903"]
    assert [r for _, r, _ in found(rules, code, ignore=("library",))] == ["LL901"]


def test_fingerprints_survive_inserted_lines_and_count_occurrences(rules: RuleSet) -> None:
    code = "import torch\ntorch.cuda.synchronize()\ntorch.cuda.synchronize()\n"
    before = [f.fingerprint for f in check_bytes("t.py", code.encode(), rules).findings]
    after = [f.fingerprint for f in check_bytes("t.py", ("\n\n# moved\n" + code).encode(), rules).findings]
    assert before == after and len(set(before)) == 2


def test_portable_rewrite_respects_min_torch(tmp_path: Path) -> None:
    extra = ("    portable:\n      - {replacement: 'torch.accelerator.synchronize()', min_torch: '2.6'}\n"
             "      - {replacement: 'torch.get_device_module(d).synchronize()', min_torch: '2.4'}\n")
    rules = load_rules(write_rules(tmp_path, rule_yaml("LL901", "{qualified: [torch.cuda.synchronize]}", extra=extra)))
    code = b"import torch\ntorch.cuda.synchronize()\n"

    def portable(version: str | None) -> str | None:
        (finding,) = check_bytes("t.py", code, rules, Settings(torch_version=version)).findings
        return finding.portable.replacement if finding.portable else None

    assert portable(None) == "torch.accelerator.synchronize()"
    assert portable("2.6") == "torch.accelerator.synchronize()"
    assert portable("2.5") == "torch.get_device_module(d).synchronize()"
    assert portable("2.1") is None


def test_fallback_imports_report_the_import_not_the_ambiguous_uses(rules: RuleSet) -> None:
    code = (
        "try:\n"
        "    from torch.cuda.amp import GradScaler\n"
        "except ImportError:\n"
        "    from torch.amp import GradScaler\n"
        "scaler = GradScaler()\n"
    )
    assert found(rules, code) == [(2, "LL901", "torch.cuda.amp.GradScaler")]
