"""A one-file run (a pre-commit hook on one staged file, an editor) starts with only what that file
needs: issue 17 asks for 0.15 s, and most of a changed file's run was start-up. No timing here: what
is checked is which modules such a run imports, and that what it now skips or reuses gives what
computing it would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lockin_lint import cli
from lockin_lint.kb import ruleset as ruleset_module
from lockin_lint.kb.python_index import build_python_index
from lockin_lint.kb.ruleset import DEFAULT_SELECTION, load_rules
from lockin_lint.model import Settings
from lockin_lint.project import config
from lockin_lint.project.result_cache import ResultCache, scope_of

from .conftest import FIXTURES, rule_yaml, write_rules
from .test_result_cache import _age, _Counter

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
    assert cached.light and DEFAULT_SELECTION in cached._indexes  # came with the rules, not built
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


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The acceptance project (extension links, includes, CMake, CUDA) as the working directory."""
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(FIXTURES / "repo", tmp_path / "work" / "repo")
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path / "work"


def test_a_one_file_run_leaves_the_trees_cache_alone(project_copy: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A pre-commit run on one file used to replace the whole tree's cache with its one entry, so the
    next run of the tree parsed every file again; now each keeps its own."""
    _age(project_copy)
    assert cli.main(["check", "repo", "--format", "json"]) == 1
    capsys.readouterr()
    edited = project_copy / "repo" / "fused_ops" / "layers.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert cli.main(["check", "repo/fused_ops/layers.py"]) == 0  # skipped by the prefilter
    capsys.readouterr()
    shutil.rmtree(tmp_path / "cache" / "outputs")  # not replayed (`cli_memo`): through the result cache
    counter = _Counter(monkeypatch)
    assert cli.main(["check", "repo", "--format", "json"]) == 1
    warm = capsys.readouterr().out
    assert "repo/fused_ops/layers.py" in counter.paths and not any(p.endswith(".cu") for p in counter.paths)
    assert warm == (cli.main(["check", "repo", "--format", "json", "--no-cache"]), capsys.readouterr().out)[1]


def test_files_named_one_by_one_have_a_cache_of_their_own(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("", encoding="utf-8")
    assert scope_of(["a.py"], tmp_path) == scope_of(["a.py", "a.py"], tmp_path) == "files"
    assert scope_of(["."], tmp_path) == scope_of(["a.py", "."], tmp_path) == scope_of(["gone.py"], tmp_path) == "tree"


def test_the_index_says_which_tree_the_stored_passes_are_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    first = ResultCache.for_run("rules", Settings(), tmp_path)
    assert first is not None
    first.put_passes("tree-1", ("tree-1", {}, []))
    first.save()
    again = ResultCache.for_run("rules", Settings(), tmp_path)
    assert again is not None and again.passes("tree-2") is None
    assert again._stored is None  # another tree: the results file was not even loaded
    assert again.passes("tree-1") == ("tree-1", {}, [])


def test_unchanged_rule_files_are_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    _age(rules)
    first = load_rules(rules)
    monkeypatch.setattr(ruleset_module, "_contents", lambda sources: pytest.fail("read"))
    assert load_rules(rules) == first


@pytest.mark.parametrize("keep_mtime", [False, True])
def test_an_edited_rule_file_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_mtime: bool) -> None:
    """Also when the edit keeps the size and the mtime (its ctime still changes)."""
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    _age(rules)
    assert load_rules(rules).rules[0].match.qualified == ("a.b",)
    before = (rules / "rules.yaml").stat()
    write_rules(rules, rule_yaml("LL901", "{qualified: [a.c]}"))
    if keep_mtime:
        os.utime(rules / "rules.yaml", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert load_rules(rules).rules[0].match.qualified == ("a.c",)


def test_rule_files_edited_just_before_the_key_was_stored_are_read_again(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))  # modified just now
    load_rules(rules)
    reads: list[int] = []
    real = ruleset_module._contents
    monkeypatch.setattr(ruleset_module, "_contents", lambda sources: reads.append(1) or real(sources))
    load_rules(rules)
    assert reads == [1]
