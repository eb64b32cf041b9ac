"""The refusals of analyzers/python_refusals.py and the platform shapes of
analyzers/python_later_branches.py (docs/validation.md, #11, fourth session, f8disp): the later
operands of ``if not (a and b): raise``, a script entry that stops without CUDA, a CUDA default
replaced by the next platform ``if``, vLLM's out-of-tree branch; each with the near
misses that keep their old reading."""

from __future__ import annotations

from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.analyzers.python_later_branches import OUT_OF_TREE
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding


def _found(source: str, ruleset: RuleSet, line: int, rule: str = "") -> list[Finding]:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    return sorted((f for f in result.findings if f.line == line and rule in f.rule_id), key=lambda f: f.column)


# -- the later operands of a negated `and` whose branch raises (xformers k_scaled_index_add.py:265) --
_NEGATED = ("def f(x, y, z):\n    if not (x.is_cuda and y.is_cuda and z.is_cuda):\n"
            "        {body}\n    return x\n")


def test_every_operand_of_a_refusing_negated_and_reads_as_the_first(ruleset: RuleSet) -> None:
    found = _found(_NEGATED.format(body='raise ValueError("must be CUDA")'), ruleset, 2, "LL121")
    assert len(found) == 3
    assert all(dict(f.handled) == dict(found[0].handled) and "cpu" not in dict(f.handled) for f in found)
    assert not any("silently run on the CPU" in f.message for f in found)


def test_a_negated_and_whose_branch_goes_on_keeps_the_fallback_of_later_operands(ruleset: RuleSet) -> None:
    found = _found(_NEGATED.format(body="x = x.cpu()"), ruleset, 2, "LL121")
    assert dict(found[1].handled).get("cpu") == FALLBACK


def test_a_plain_and_that_raises_keeps_its_reading(ruleset: RuleSet) -> None:
    source = "def f(x, y):\n    if x.is_cuda and y.is_cuda:\n        raise ValueError('no')\n    return x\n"
    found = _found(source, ruleset, 2, "LL121")
    assert "cpu" in dict(found[1].handled)  # not a negated `and`: the second operand keeps its note


# -- the later operands of an `and` an `assert` tests (flash-attention mha.py:187, j11A) ----------------
def test_every_operand_of_an_asserted_and_reads_as_the_first(ruleset: RuleSet) -> None:
    source = "def f(q, kv):\n    assert q.is_cuda and (kv.is_cuda and q.is_cuda)\n    return q\n"
    found = _found(source, ruleset, 2, "LL121")
    assert len(found) == 3
    assert all(dict(f.handled) == dict(found[0].handled) and "cpu" not in dict(f.handled) for f in found)
    assert not any("silently run on the CPU" in f.message or "no test names" in f.message for f in found)


def test_an_and_in_an_asserts_message_keeps_its_reading(ruleset: RuleSet) -> None:
    source = "def f(q, kv):\n    assert q, kv.is_cuda and q.is_cuda\n    return q\n"
    found = _found(source, ruleset, 2, "LL121")
    assert "cpu" in dict(found[1].handled)  # the message is no condition: nothing is refused


# -- a script entry that stops without CUDA (vLLM benchmark_fp8_block_dense_gemm.py:231) -------------
_SCRIPT = ("import torch\ndef {name}():\n    if not torch.cuda.is_available():\n"
           "        print('CUDA not available!')\n        {ret}\n    torch.cuda.synchronize()\n{tail}")
_MAIN = "if __name__ == '__main__':\n    run_benchmarks()\n"


def _cpu(source: str, ruleset: RuleSet) -> tuple[str | None, str]:
    [found] = _found(source, ruleset, 6, "LL1")
    return dict(found.handled).get("cpu"), found.message


def test_a_script_entry_that_stops_without_cuda_handles_no_cpu(ruleset: RuleSet) -> None:
    for name, tail in (("main", ""), ("run_benchmarks", _MAIN)):
        note, message = _cpu(_SCRIPT.format(name=name, ret="return", tail=tail), ruleset)
        assert note is None and "silently run on the CPU" not in message, name


def test_library_functions_and_value_returns_keep_the_cpu_fallback(ruleset: RuleSet) -> None:
    for name, ret, tail in (("setup", "return", ""), ("main", "return False", ""),
                            ("run_benchmarks", "return", "run_benchmarks()\n")):
        assert _cpu(_SCRIPT.format(name=name, ret=ret, tail=tail), ruleset)[0] == FALLBACK, (name, ret)


# -- a CUDA default replaced by the very next platform `if` (vLLM tests/lora/conftest.py:52) --------
_DEFAULT = ("from vllm.platforms import current_platform\nimport torch.distributed as dist\ndef init():\n"
            "    backend = 'nccl'\n{between}    if current_platform.is_cpu() or current_platform.is_tpu():\n"
            "        {name} = 'gloo'\n    dist.init_process_group(backend=backend)\n")


def _backend_cpu(ruleset: RuleSet, between: str = "", name: str = "backend") -> str | None:
    [found] = _found(_DEFAULT.format(between=between, name=name), ruleset, 4, "LL300")
    return dict(found.handled).get("cpu")


def test_a_default_replaced_by_the_next_platform_if_is_handled_there(ruleset: RuleSet) -> None:
    assert _backend_cpu(ruleset) == BRANCH


def test_a_later_if_or_another_name_does_not_handle_the_default(ruleset: RuleSet) -> None:
    assert _backend_cpu(ruleset, between="    timeout = 30\n") is None
    assert _backend_cpu(ruleset, name="other") is None


# -- vLLM's out-of-tree platform branch (vllm/distributed/parallel_state.py:362) --------------------
_CHAIN = ("import torch\nfrom vllm.platforms import current_platform\ndef pick(rank):\n"
          "    if current_platform.is_cuda_alike():\n        device = torch.device(f'cuda:{{rank}}')\n"
          "    elif current_platform.is_xpu():\n        device = torch.device(f'xpu:{{rank}}')\n"
          "    elif {test}:\n        device = torch.device(f'{{{name}.device_name}}:{{rank}}')\n"
          "    else:\n        device = torch.device('cpu')\n    return device\n")


def _chain(ruleset: RuleSet, test: str = "current_platform.is_out_of_tree()",
           name: str = "current_platform") -> dict[str, str]:
    [found] = _found(_CHAIN.format(test=test, name=name), ruleset, 5, "LL200")
    return dict(found.handled)


def test_the_out_of_tree_branch_handles_the_plugin_platforms(ruleset: RuleSet) -> None:
    handled = _chain(ruleset)
    assert {t: handled[t] for t in ("ascend", "mlu", "musa")} == dict.fromkeys(
        ("ascend", "mlu", "musa"), f"{OUT_OF_TREE} (m.py:8)")
    assert "mps" not in handled and handled["xpu"] == BRANCH and handled["cpu"] == FALLBACK


def test_other_tests_or_device_names_are_no_out_of_tree_branch(ruleset: RuleSet) -> None:
    for test, name in (("current_platform.is_plugin()", "current_platform"),
                       ("current_platform.is_out_of_tree()", "other_platform")):
        assert "ascend" not in _chain(ruleset, test, name), (test, name)


# -- a detection cascade of `if NAME is None:` blocks (DeepSpeed accelerator/real_accelerator.py:192) --
_CASCADE = ("import torch\ndef detect():\n    accelerator_name = None\n    if accelerator_name is None:\n        try:\n"
            "            import torch_npu\n            {first} = 'npu'\n        except ImportError:\n            pass\n"
            "    if accelerator_name is None:\n        if torch.cuda.is_available():\n            accelerator_name = 'cuda'\n    return accelerator_name\n")


def _cascade(ruleset: RuleSet, first: str = "accelerator_name") -> dict[str, str]:
    [found] = _found(_CASCADE.format(first=first), ruleset, 12, "LL201")
    return dict(found.handled)


def test_earlier_blocks_of_a_detection_cascade_handle_what_they_assign(ruleset: RuleSet) -> None:
    handled = _cascade(ruleset)
    assert handled.get("ascend") == BRANCH and "musa" not in handled


def test_blocks_assigning_another_name_are_no_cascade(ruleset: RuleSet) -> None:
    assert "ascend" not in _cascade(ruleset, first="other")
