"""Environment-registry entries no code of the run reads (project/unread_env_entries.py; vLLM's
``envs.py:582``, ``"CUDA_HOME": lambda: ...``, which nothing reads as ``envs.CUDA_HOME``): kept at
``info`` with every target handled; an entry another file reads, by attribute, quoted name or import,
keeps its finding as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

ENVS = '''import os
from typing import Any, Callable

environment_variables: dict[str, Callable[[], Any]] = {
    "VLLM_HOST_IP": lambda: os.getenv("VLLM_HOST_IP", ""),
    "CUDA_HOME": lambda: os.environ.get("CUDA_HOME", None),
    "CUDA_VISIBLE_DEVICES": lambda: os.environ.get("CUDA_VISIBLE_DEVICES", None),
}


def __getattr__(name: str):
    return environment_variables[name]()
'''
USER = '''import vllm.envs as envs
from torch.utils.cpp_extension import CUDA_HOME


def devices():
    return envs.CUDA_VISIBLE_DEVICES, CUDA_HOME
'''
_NOTE = "env registry entry no code reads (envs.py:6)"


def _run(tmp_path: Path, ruleset: RuleSet, files: dict[str, str]) -> dict[int, Finding]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert not run.errors, run.errors
    return {f.line: f for f in run.findings if f.path == "vllm/envs.py" and f.category == "env"}


def test_an_entry_no_code_reads_is_kept_at_info_and_handled(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _run(tmp_path, ruleset, {"vllm/envs.py": ENVS, "vllm/user.py": USER})
    home, visible = found[6], found[7]
    assert home.symbol == "CUDA_HOME" and home.severity == "info"
    assert set(dict(home.handled).values()) == {_NOTE}
    assert all(info.status == "native" for info in home.targets.values())
    # read elsewhere as envs.CUDA_VISIBLE_DEVICES: lock-in, as it was
    alone = check_bytes("vllm/envs.py", ENVS.encode(), ruleset)
    [before] = [f for f in alone.findings if f.line == 7]
    assert visible == before and visible.severity == "warning" and not visible.handled


@pytest.mark.parametrize("reader", [
    "import vllm.envs as envs\nprint(envs.CUDA_HOME)\n",
    'from vllm import envs\nhome = getattr(envs, "CUDA_HOME")\n',
    "from vllm.envs import (\n    VLLM_HOST_IP,\n    CUDA_HOME,\n)\n",
    "from vllm.envs import *\n",
])
def test_an_entry_another_file_reads_keeps_its_finding(tmp_path: Path, ruleset: RuleSet, reader: str) -> None:
    found = _run(tmp_path, ruleset, {"vllm/envs.py": ENVS, "vllm/user.py": USER, "vllm/reader.py": reader})
    assert found[6].severity == "warning" and not found[6].handled, reader


@pytest.mark.parametrize("change", [
    ('    "CUDA_HOME": lambda: os.environ.get("CUDA_HOME", None),\n',
     '    "CUDA_HOME": os.environ.get("CUDA_HOME", None),\n'),         # a value, not a getter
    ('    return environment_variables[name]()\n',
     '    if name == "CUDA_HOME":\n        return None\n    return environment_variables[name]()\n'),  # read here
    ('    "CUDA_HOME": lambda: os.environ.get("CUDA_HOME", None),\n',
     '    "TOOLKIT": lambda: os.environ.get("CUDA_HOME", None),\n'),    # another key: read as envs.TOOLKIT?
])
def test_near_misses_keep_the_finding(tmp_path: Path, ruleset: RuleSet, change: tuple[str, str]) -> None:
    source = ENVS.replace(*change)
    assert source != ENVS
    found = _run(tmp_path, ruleset, {"vllm/envs.py": source, "vllm/user.py": USER})
    assert found[6].severity == "warning" and not found[6].handled, change
