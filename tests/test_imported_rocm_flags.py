"""A ROCm flag one module binds and another imports (analyzers/python_imported_rocm_flags.py,
project/imported_rocm_flags.py): bitsandbytes' ``HIP_ENVIRONMENT`` (``cextension.py``, True under
``if torch.version.hip:``) makes ``torch.version.hip if HIP_ENVIRONMENT else torch.version.cuda`` in
``diagnostics/cuda.py`` a path ROCm never takes: rocm handled, noted with the flag's binding."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

BINDS = '''import torch

HIP_ENVIRONMENT = False
BACKEND = "CPU"
if torch.version.hip:
    HIP_ENVIRONMENT = True
    BACKEND = "ROCm"
'''
USES = '''import torch

from pkg.ext import HIP_ENVIRONMENT


def runtime():
    {line}
'''
READS = "return torch.version.hip if HIP_ENVIRONMENT else torch.version.cuda"


def _version(tmp_path: Path, ruleset: RuleSet, binds: str = BINDS, line: str = READS,
             paths: tuple[str, ...] = (".",)) -> Finding:
    (tmp_path / "pkg").mkdir(exist_ok=True)
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pkg" / "ext.py").write_text(binds, encoding="utf-8")
    (tmp_path / "pkg" / "diag.py").write_text(USES.format(line=line), encoding="utf-8")
    run = check_paths(list(paths), ruleset, None, cwd=tmp_path)
    assert not run.errors, run.errors
    return next(f for f in run.findings if f.path == "pkg/diag.py" and f.symbol == "torch.version.cuda")


def test_the_false_side_of_an_imported_rocm_flag_is_off_rocm(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _version(tmp_path, ruleset)
    assert found.targets["rocm"].status == "native"
    assert dict(found.handled)["rocm"] == "HIP_ENVIRONMENT set True for the ROCm build (ext.py:6)"
    assert found.targets["cpu"].status != "native" and "cpu" not in dict(found.handled)  # only rocm


def test_a_file_checked_alone_reads_the_flag_from_disk(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _version(tmp_path, ruleset, paths=("pkg/diag.py",))
    assert dict(found.handled)["rocm"] == "HIP_ENVIRONMENT set True for the ROCm build (ext.py:6)"


@pytest.mark.parametrize(("binds", "line"), [
    ("import torch\nHIP_ENVIRONMENT = torch.version.hip is not None\n", READS),
    ("import torch\nHIP_ENVIRONMENT = bool(torch.version.hip)\n", READS),
    (BINDS, "if not HIP_ENVIRONMENT:\n        return torch.version.cuda"),
    (BINDS, "if HIP_ENVIRONMENT:\n        return None\n    else:\n        return torch.version.cuda"),
])
def test_other_bindings_and_false_sides(tmp_path: Path, ruleset: RuleSet, binds: str, line: str) -> None:
    found = _version(tmp_path, ruleset, binds, line)
    assert found.targets["rocm"].status == "native" and "set True for the ROCm build" in dict(found.handled)["rocm"]


@pytest.mark.parametrize(("binds", "line"), [
    (BINDS + "HIP_ENVIRONMENT = False\n", READS),  # reset after
    (BINDS + "\ndef force():\n    global HIP_ENVIRONMENT\n    HIP_ENVIRONMENT = True\n", READS),  # set elsewhere
    ("import torch\nHIP_ENVIRONMENT = torch.cuda.is_available()\n", READS),  # no ROCm test
    (BINDS, "return torch.version.cuda if HIP_ENVIRONMENT else None"),  # the true side
    (BINDS, "if HIP_ENVIRONMENT:\n        return None\n    elif torch.__version__:\n        return 1\n"
            "    else:\n        return torch.version.cuda"),  # an elif in between
    (BINDS, "HIP_ENVIRONMENT = 0\n    " + READS),  # rebound in the importing file
    (BINDS.replace("HIP_ENVIRONMENT", "HIP_ENV"), READS),  # the module binds no such name
])
def test_near_misses_keep_the_rocm_gap(tmp_path: Path, ruleset: RuleSet, binds: str, line: str) -> None:
    found = _version(tmp_path, ruleset, binds, line)
    assert found.targets["rocm"].status != "native" and "rocm" not in dict(found.handled), (binds, line)
