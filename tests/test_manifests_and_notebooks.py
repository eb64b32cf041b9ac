"""Dependency manifests, build/container files and notebooks go through the same engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet, load_rules

from .conftest import ALL_UNKNOWN


def rule(rule_id: str, language: str, match: str) -> str:
    return (f"  - id: {rule_id}\n    name: t-{rule_id.lower()}\n    category: library\n    languages: [{language}]\n"
            f"    severity: warning\n    message: '`{{symbol}}`'\n    match: {match}\n    targets: {ALL_UNKNOWN}\n"
            f"    docs: '## What it does\\nA rule for tests.'\n")


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    directory = tmp_path_factory.mktemp("manifest-rules")
    (directory / "r.yaml").write_text(
        "rules:\n"
        + rule("LD901", "deps", "{packages: [flash-attn, '/nvidia-.*-cu1[12]/']}")
        + rule("LD902", "deps", "{packages: [torch], local_versions: '\\+cu\\d+'}")
        + rule("LD903", "deps", "{lines: ['(--extra-index-url\\s+\\S*/cu\\d+)'], files: ['requirements*.txt']}")
        + rule("LB901", "config", "{lines: ['^\\s*FROM\\s+(nvidia/cuda\\S*)'], files: [Dockerfile]}")
        + "  - id: LL901\n    name: t-ll901\n    category: device-api\n    languages: [python]\n"
          "    severity: warning\n    message: m\n    match: {qualified: [torch.cuda.synchronize]}\n"
          f"    targets: {ALL_UNKNOWN}\n    docs: '## What it does\\nA rule for tests.'\n",
        encoding="utf-8")
    return load_rules(directory, use_cache=False)


def found(rules: RuleSet, path: str, text: str) -> list[tuple[int, str, str]]:
    return [(f.line, f.rule_id, f.symbol) for f in check_bytes(path, text.encode(), rules).findings]


def test_requirements_with_markers_extras_and_a_line_pip_rejects(rules: RuleSet) -> None:
    text = ("--extra-index-url https://download.pytorch.org/whl/cu121\n"
            "torch==2.3.0+cu121 ; sys_platform == 'linux'\n"
            "torch==2.3.0  # a CPU build\n"
            "Flash_Attn[triton]>=2.5\n"
            "nvidia-cublas-cu12==12.1.3.1\n"
            "this is not a requirement ===\n"
            "numpy\n")
    result = check_bytes("requirements-gpu.txt", text.encode(), rules)
    assert [(f.line, f.rule_id, f.symbol) for f in result.findings] == [
        (1, "LD903", "--extra-index-url https://download.pytorch.org/whl/cu121"),
        (2, "LD902", "torch==2.3.0+cu121"), (4, "LD901", "Flash_Attn"), (5, "LD901", "nvidia-cublas-cu12")]
    assert len(result.errors) == 1 and result.errors[0].message.startswith("line 6: invalid requirement")
    assert result.errors[0].partial


def test_pyproject_setup_cfg_and_conda(rules: RuleSet) -> None:
    pyproject = ('[project]\nname = "x"\ndependencies = ["numpy", "flash-attn>=2"]\n'
                 '[project.optional-dependencies]\ngpu = ["nvidia-cudnn-cu11"]\n'
                 '[tool.poetry.dependencies]\npython = "^3.10"\nflash_attn = "^2.5"\n')
    assert found(rules, "pyproject.toml", pyproject) == [(3, "LD901", "flash-attn"), (5, "LD901", "nvidia-cudnn-cu11"),
                                                         (8, "LD901", "flash_attn")]
    setup_cfg = "[options]\ninstall_requires =\n    numpy\n    flash-attn==2.5.0\n"
    assert found(rules, "setup.cfg", setup_cfg) == [(4, "LD901", "flash-attn")]
    conda = "name: x\ndependencies:\n  - python=3.11\n  - nvidia::nvidia-cublas-cu12\n  - pip:\n    - flash-attn\n"
    assert found(rules, "environment.yml", conda) == [(4, "LD901", "nvidia-cublas-cu12"), (6, "LD901", "flash-attn")]


def test_broken_manifests_are_errors_and_the_run_goes_on(rules: RuleSet, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project\nname = "x"\n', encoding="utf-8")
    (tmp_path / "environment.yml").write_text("dependencies: [a, b\n", encoding="utf-8")
    (tmp_path / "nb.ipynb").write_text('{"cells": [\n  {"cell_type": "code",,}\n]}\n', encoding="utf-8")
    (tmp_path / "Dockerfile").write_text("FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\n", encoding="utf-8")
    run = check_paths(["."], rules, cwd=tmp_path)
    errors = {e.path: e.message for e in run.errors}
    assert errors["pyproject.toml"].startswith("invalid TOML") and "line 1" in errors["pyproject.toml"]
    assert errors["environment.yml"].startswith("line 2: invalid YAML")
    assert errors["nb.ipynb"].startswith("line 2: invalid notebook JSON")
    assert [(f.path, f.symbol) for f in run.findings] == [("Dockerfile", "nvidia/cuda:12.1.0-devel-ubuntu22.04")]


def test_config_files_skip_comment_lines(rules: RuleSet) -> None:
    text = "# FROM nvidia/cuda:11.8.0-base\nFROM python:3.11-slim AS cpu\nFROM nvidia/cuda:12.1.0-runtime AS gpu\n"
    assert found(rules, "docker/Dockerfile", text) == [(3, "LB901", "nvidia/cuda:12.1.0-runtime")]


def test_notebook_findings_carry_cell_and_file_positions(rules: RuleSet) -> None:
    cells = [{"cell_type": "markdown", "source": ["torch.cuda.synchronize() in prose\n"]},
             {"cell_type": "code", "source": ["%time x = 1\n", "import torch\n", "torch.cuda.synchronize()\n"]},
             {"cell_type": "code", "source": "!pip list\ntorch.cuda.synchronize()"}]
    text = json.dumps({"cells": cells, "nbformat": 4}, indent=1)
    result = check_bytes("exp.ipynb", text.encode(), rules)
    raw_lines = text.splitlines()
    placed = [(f.cell, f.cell_line, raw_lines[f.line - 1][f.column - 1 : f.end_column - 1]) for f in result.findings]
    assert placed == [(2, 3, "torch.cuda.synchronize"), (3, 2, "torch.cuda.synchronize")]
    assert not result.errors


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_requirement_includes_are_followed(ruleset: RuleSet, tmp_path: Path) -> None:
    """``-r``/``-c`` files are read whatever their name, once each (cycles end), and a missing one is a
    warning on the line that names it; the rest of the run goes on."""
    _write(tmp_path, {
        "requirements.txt": "-r deps/base.in\n--requirement=requirements-dev.txt\n-r missing.txt\n-c deps/pins.txt\n",
        "requirements-dev.txt": "-r requirements.txt\nbitsandbytes\n",
        "deps/base.in": "numpy\nflash-attn\n-r ../requirements.txt\n",
        "deps/pins.txt": "cupy-cuda12x==13.0\n",
    })
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert sorted((f.path, f.line, f.rule_id) for f in run.findings) == [
        ("deps/base.in", 2, "LD105"), ("deps/pins.txt", 1, "LD103"), ("requirements-dev.txt", 2, "LD107")]
    assert [(e.path, e.message, e.partial) for e in run.errors] == [
        ("requirements.txt", "line 3: cannot read the included requirements file 'missing.txt'", True)]
    assert run.files_scanned == 4


def test_an_include_named_on_the_command_line_is_read_as_requirements(ruleset: RuleSet, tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "-r base.in\n", "base.in": "xformers\n"})
    run = check_paths(["requirements.txt", "base.in"], ruleset, cwd=tmp_path)
    assert [(f.path, f.rule_id) for f in run.findings] == [("base.in", "LD105")]
    assert not run.errors


def test_setup_py_requirements(ruleset: RuleSet, tmp_path: Path) -> None:
    """``setup(install_requires=..., extras_require=...)`` literals go through the dependency rules,
    even in a setup.py the Python prefilter would skip; a string pip rejects is a warning with its line."""
    setup = ('from setuptools import setup\n'
             'setup(\n'
             '    name="x",\n'
             '    install_requires=["numpy", "flash-attn>=2"],\n'
             '    extras_require={"q": ["bitsandbytes"], "bad": ["==1.0"]},\n'
             '    tests_require=REQS,\n'
             ')\n'
             'other(install_requires=["xformers"])\n')
    _write(tmp_path, {"setup.py": setup, "pkg/not_setup.py": setup})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert [(f.path, f.line, f.rule_id, f.symbol) for f in run.findings] == [
        ("setup.py", 4, "LD105", "flash-attn"), ("setup.py", 5, "LD107", "bitsandbytes")]
    assert [(e.path, e.message.split(":")[0], e.partial) for e in run.errors] == [("setup.py", "line 5", True)]


def test_suppressions_in_manifests_and_build_files(ruleset: RuleSet) -> None:
    """``#`` comments suppress in every format that has them (Dockerfile comments only on their own line)."""
    run = check_paths(["fixtures/deps/requirements.txt", "fixtures/config"], ruleset, cwd=Path(__file__).parent.parent)
    hidden = sorted((f.path.rsplit("/", 1)[-1], f.rule_id, f.suppression) for f in run.suppressed)
    assert hidden == [("CMakeLists.txt", "LB101", "inline"), ("Dockerfile", "LB200", "inline"),
                      ("requirements.txt", "LD105", "inline")]
    assert not run.unused_suppressions


def test_a_conda_pip_list_includes_requirements(ruleset: RuleSet, tmp_path: Path) -> None:
    _write(tmp_path, {"environment.yml": "dependencies:\n  - pip\n  - pip:\n    - -r requirements/gpu.txt\n"
                                         "    - \"--requirement=extra.in\"\n",
                      "requirements/gpu.txt": "flash-attn\n", "extra.in": "bitsandbytes\n"})
    run = check_paths(["environment.yml"], ruleset, cwd=tmp_path)
    assert sorted((f.path, f.rule_id) for f in run.findings) == [("extra.in", "LD107"),
                                                               ("requirements/gpu.txt", "LD105")]


def test_setup_py_requirements_through_a_name(ruleset: RuleSet, tmp_path: Path) -> None:
    setup = ('from setuptools import setup\n'
             'BASE = ["numpy", "flash-attn"]\n'
             'GPU = BASE + ["bitsandbytes"]\n'
             'GPU += ["xformers"]\n'
             'setup(name="x", install_requires=GPU, extras_require={"docs": DOCS})\n')
    _write(tmp_path, {"setup.py": setup})
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert [(f.line, f.symbol) for f in run.findings] == [(2, "flash-attn"), (3, "bitsandbytes"), (4, "xformers")]
