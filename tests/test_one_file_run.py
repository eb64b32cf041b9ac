"""A one-file run (a pre-commit hook on one staged file, an editor) starts with only what that file
needs: issue 17 asks for 0.15 s, and most of a changed file's run was start-up. No timing here: what
is checked is which modules such a run imports, and that what it now skips or reuses gives what
computing it would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lockin_lint.kb.python_index import build_python_index
from lockin_lint.kb.ruleset import DEFAULT_SELECTION, load_rules
from lockin_lint.project import config

from .conftest import rule_yaml, write_rules

#: Modules a run on one changed Python file has no use for: the C/C++ grammar, the rule loader and its
#: YAML and JSON Schema (the rules come from the cache), requirement parsing (only manifests and
#: setup.py), .gitignore matching (only a walk), the TOML parser (no configuration here), the
#: whole-project passes that read C/C++ and CMake files.
NOT_NEEDED = ("tree_sitter_cuda", "jsonschema", "yaml", "lockin_lint.kb.loader", "packaging",
              "lockin_lint.analyzers.manifest_reader", "pathspec", "tomllib", "lockin_lint.project.rocm_aliases",
              "lockin_lint.project.build_dispatch")

_PROBE = ("import sys\nfrom lockin_lint.cli import main\ncode = main(sys.argv[1:])\n"
          f"print('imported:', *sorted(m for m in {NOT_NEEDED!r} if m in sys.modules), file=sys.stderr)\n"
          "sys.exit(code)")


def _imported(tmp_path: Path, name: str) -> tuple[set[str], str]:
    """Run ``check name`` in a fresh interpreter after changing the file; the unneeded modules it
    imported, and its stdout."""
    target = tmp_path / name
    target.write_text(target.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _PROBE, "check", name], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 1, done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("imported:")]
    return set(line.split()[1:]), done.stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "a.py").write_text("import torch\ntorch.cuda.synchronize()\n", encoding="utf-8")
    (tmp_path / "k.cu").write_text("__global__ void k() { cudaDeviceSynchronize(); }\n", encoding="utf-8")
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(install_requires=['cupy-cuda12x'])\n",
                                       encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    return tmp_path


def test_a_changed_python_file_imports_only_what_it_needs(project: Path) -> None:
    _imported(project, "a.py")  # compiles the rules into the cache, as any first run does
    imported, out = _imported(project, "a.py")
    assert imported == set() and "a.py:2:" in out and "LL101" in out


def test_the_probe_sees_what_other_files_need(project: Path) -> None:
    """The same probe on a CUDA file and a setup.py: it does see the modules those do import."""
    _imported(project, "a.py")
    imported, out = _imported(project, "k.cu")
    assert "tree_sitter_cuda" in imported and "k.cu:1:" in out
    imported, out = _imported(project, "setup.py")
    assert {"packaging", "lockin_lint.analyzers.manifest_reader"} <= imported and "cupy-cuda12x" in out


def test_a_pyproject_without_the_table_is_not_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.ruff]\nline-length = 120\n", encoding="utf-8")
    monkeypatch.setattr(config, "_tomllib", lambda: pytest.fail("parsed"))
    assert config.find_config(["x.py"], tmp_path) is None


@pytest.mark.parametrize("text", ['[tool."lockin\\u002dlint"]\nselect = ["LL1"]\n',  # an escaped key
                                  '[tool]\n"lockin-lint" = {select = ["LL1"]}\n',
                                  "[tool.lockin-lint]\nselect = [\n"])  # broken: loading it says so
def test_every_spelling_of_the_table_is_still_found(tmp_path: Path, text: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text, encoding="utf-8")
    assert config.find_config(["x.py"], tmp_path) == pyproject.resolve()


def test_a_pyproject_that_only_looks_like_it_is_not_chosen(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.other]\npattern = "\\\\d+"\n', encoding="utf-8")
    assert config.find_config(["x.py"], tmp_path) is None


def test_the_cached_python_index_is_the_one_the_rules_compile_to(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    load_rules()
    cached = load_rules()
    assert DEFAULT_SELECTION in cached._indexes  # came with the rules, not built
    assert cached.python_index() == build_python_index(cached)
    narrowed = cached.python_index(("LL1",), ("LL101",))
    assert narrowed == build_python_index(cached, ("LL1",), ("LL101",)) and narrowed != cached.python_index()
    assert cached.python_index(("LL1",), ("LL101",)) is narrowed


def test_rules_that_do_not_compile_still_fail_when_a_run_compiles_them(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"),
                        rule_yaml("LL902", "{qualified: [a.b]}"))
    from lockin_lint.kb.errors import RuleError

    for _ in range(2):  # cold, then from the cache
        loaded = load_rules(rules)
        with pytest.raises(RuleError, match="already matched by LL901"):
            loaded.python_index()
