"""A folder named for a ROCm-only package, holding a module that imports it at module level, is
ROCm's code: no finding in its Python modules (project/rocm_package_folders.py, kb/rocm_packages.py).
Near misses (the import without the folder name, the name without the import, an import inside a
function or an ``except``) keep their findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.rocm_packages import ROCM_ONLY_PACKAGES
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.project.rocm_package_folders import imports_at_module_level, package_folders

_CONNECTOR = """import torch
try:
    from mori.io import IOEngine
except ImportError:
    IOEngine = None


def save(layer):
    stream = torch.cuda.current_stream()
    event = torch.cuda.Event()
    event.record(stream)
    return event
"""
_COMMON = """import torch
from dataclasses import dataclass


@dataclass
class WriteTask:
    event: torch.cuda.Event
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _findings(root: Path, ruleset: RuleSet) -> dict[str, list[int]]:
    run = check_paths(["."], ruleset, cwd=root)
    assert not run.errors, run.errors
    found: dict[str, list[int]] = {}
    for finding in run.findings:
        found.setdefault(finding.path, []).append(finding.line)
    return found


def test_a_folder_built_on_a_rocm_only_package_has_no_python_findings(tmp_path: Path, ruleset: RuleSet) -> None:
    _write(tmp_path, {"kv/moriio/connector.py": _CONNECTOR, "kv/moriio/common.py": _COMMON,
                      "kv/nixl/connector.py": _COMMON})
    found = _findings(tmp_path, ruleset)
    assert not any(path.startswith("kv/moriio/") for path in found), found
    assert "kv/nixl/connector.py" in found  # a sibling folder of the same project keeps its findings


@pytest.mark.parametrize("files", [
    {"kv/connector.py": _CONNECTOR},  # the import, in a folder not named for the package
    {"kv/moriio/common.py": _COMMON, "kv/moriio/other.py": "import torch\n"},  # the name, no import
    {"kv/moriio/common.py": _COMMON, "kv/moriio/lazy.py": "def load():\n    import mori\n    return mori\n"},
    {"kv/moriio/common.py": _COMMON,
     "kv/moriio/guard.py": "try:\n    import torch\nexcept ImportError:\n    import mori\n"},
    {"kv/moriio/common.py": _COMMON, "kv/moriio/other.py": "import moriarty\n"},  # another package
    {"kv/memory/common.py": _COMMON, "kv/memory/other.py": "import mori\n"},  # a folder named otherwise
])
def test_near_misses_keep_their_findings(files: dict[str, str], tmp_path: Path, ruleset: RuleSet) -> None:
    _write(tmp_path, files)
    assert _findings(tmp_path, ruleset)


def test_a_one_file_run_of_a_module_importing_the_package_in_its_folder(tmp_path: Path, ruleset: RuleSet) -> None:
    _write(tmp_path, {"moriio/connector.py": _CONNECTOR})
    run = check_paths(["moriio/connector.py"], ruleset, cwd=tmp_path)
    assert run.findings == []


def test_module_level_imports_and_folder_names() -> None:
    assert imports_at_module_level(b"import mori\n", "mori")
    assert imports_at_module_level(b"from mori.ops import x\n", "mori")
    assert imports_at_module_level(b"try:\n    # optional\n    from mori.io import (\n        A,\n    )\n"
                                   b"except ImportError:\n    pass\n", "mori")
    assert not imports_at_module_level(b"if ROCM:\n    import mori\n", "mori")
    assert not imports_at_module_level(b"import moriio\n", "mori")
    assert package_folders("a/moriio/b/c.py") == [("a/moriio", "mori")]
    assert package_folders("a/aiter_ops/c.py") == [("a/aiter_ops", "aiter")]
    assert package_folders("a/memory/mori.py") == []  # a file's own name is not a folder's


def test_every_package_has_its_provenance() -> None:
    assert ROCM_ONLY_PACKAGES and all("github.com/ROCm/" in where for where in ROCM_ONLY_PACKAGES.values())
