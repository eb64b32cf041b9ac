"""A one-file ``check`` (a pre-commit hook) imports and loads only what it needs: the fix stage, the
output context, the scoring code and the compiled rules are left alone when the run replays its stored
output, and a run that does check the file still reports what it always did. Module counts, not timings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lockin_lint.kb.ruleset import RuleSet, load_rules
from lockin_lint.output import REPORT_FORMAT_NAMES

#: Prints the package's modules a ``main(argv)`` imported, after its output.
_PROBE = ("import sys\nfrom lockin_lint.cli import main\ncode = main(sys.argv[1:])\n"
          "print('MODULES', ' '.join(sorted(m for m in sys.modules if m.startswith('lockin_lint'))))\n"
          "sys.exit(code)")
#: What a replayed run must not import: the fix stage, the output formats' context, the scoring, the
#: compiled Python index (it comes with the light rules, which a replay never unpickles).
_LAZY = ("lockin_lint.fix", "lockin_lint.fix.cli", "lockin_lint.output.context", "lockin_lint.score.effort",
         "lockin_lint.kb.python_index", "lockin_lint.output.report_formats")


def _check(root: Path, cache: Path, *extra: str) -> tuple[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, "check", "train.py", *extra], cwd=root,
                          capture_output=True, text=True, check=False,
                          env=os.environ | {"LOCKIN_LINT_CACHE_DIR": str(cache)})
    output, _, modules = done.stdout.rpartition("MODULES ")
    assert done.returncode == 1, done.stderr
    return output + done.stderr, set(modules.split())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "train.py").write_text("import torch\ntorch.cuda.synchronize()\n", encoding="utf-8")
    old = time.time() - 60  # older than the cache's racy-mtime window, as after any real pause
    os.utime(root / "train.py", (old, old))
    return root


def test_a_replayed_one_file_check_imports_neither_fixes_nor_scoring_nor_rules(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, checked = _check(project, cache)
    replayed, imported = _check(project, cache)
    assert replayed == first and "LL" in first  # the same report, findings and all
    assert "lockin_lint.cli_memo" in imported and "lockin_lint.engine" not in imported  # it did replay
    assert not imported & set(_LAZY), sorted(imported & set(_LAZY))
    assert set(_LAZY) - {"lockin_lint.output.report_formats"} <= checked  # a run that checks still uses them


def test_a_check_with_no_cache_reports_what_the_cached_runs_report(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, _ = _check(project, cache)
    assert _check(project, cache, "--no-cache")[0] == first == _check(project, cache)[0]


def test_rules_from_the_cache_are_unpickled_only_when_asked_for(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    built = load_rules()
    cached = load_rules()
    assert callable(cached._light) and cached.fingerprint == built.fingerprint  # the fingerprint needs no rules
    assert cached.catalog == built.catalog and not callable(cached._light)
    assert cached == built and cached.light == built.light


def test_a_light_part_unreadable_when_first_asked_for_is_rebuilt_and_stored(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(cache))
    built = load_rules()
    lazy = load_rules()
    for entry in cache.glob("rules-*.pickle"):
        entry.write_bytes(b"not a pickle")  # after the run started: found out only when loaded
    assert lazy.catalog == built.catalog and lazy == built
    again = load_rules()  # both parts were stored again: loaded, not rebuilt
    assert isinstance(again, RuleSet) and callable(again._light)
    assert again.light == built.light and again.heavy_rules() == built.heavy_rules()


def test_the_grammar_names_every_report_format() -> None:
    from lockin_lint.output.report_formats import REPORT_FORMATS

    assert list(REPORT_FORMAT_NAMES) == sorted(REPORT_FORMATS)


def test_a_python_or_cuda_file_is_told_by_its_suffix_without_compiling_name_globs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from lockin_lint.analyzers import ANALYZERS, language_of
    from lockin_lint.analyzers.file_kinds import NameGlobs

    def refuse() -> None:
        pytest.fail("a name glob was compiled for a file its suffix decides")

    for entry in ANALYZERS:
        if entry.names is not None:
            monkeypatch.setattr(entry.names, "_regexes", refuse)
    assert language_of("src/train.py") == "python" and language_of("csrc/k.cu") == "cuda"
    fresh = NameGlobs(("requirements*.txt", ".github/workflows/*.yml"))
    assert fresh._compiled is None  # nothing compiled until a name is asked about
    assert fresh.match("requirements-dev.txt") and fresh.match("a/.github/workflows/ci.yml")
    assert not fresh.match("docs/requirements.md")
