"""Bundled rule files the test suite validated skip the loader's checks; every other file gets them all.

`kb/rule_digests.py` lists each bundled file's sha256 as `scripts/gen_rule_digests.py` validated it;
`loader.validated` trusts a file only when its name, its bytes and the schema all match.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lockin_lint.kb import loader, rule_digests, ruleset
from lockin_lint.kb.errors import RuleError
from lockin_lint.kb.ruleset import load_rules

from .conftest import REPO, load_script, rule_yaml

BUNDLED = "rules/python/build.yaml"


def test_the_digests_are_current_and_every_listed_file_passes_every_check() -> None:
    script = load_script(REPO / "scripts" / "gen_rule_digests.py")
    committed = (REPO / "lockin_lint" / "kb" / "rule_digests.py").read_text(encoding="utf-8")
    assert script.render() == committed, "run: python scripts/gen_rule_digests.py"


def test_only_the_listed_bytes_under_their_own_name_and_schema_are_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (REPO / BUNDLED).read_bytes()
    assert loader.validated(BUNDLED, data)
    assert not loader.validated(BUNDLED, data + b"\n")  # an edited bundled file
    assert not loader.validated("/home/me/my_rules.yaml", data)  # the same bytes as a user's file
    monkeypatch.setattr(rule_digests, "SCHEMA", "0" * 64)  # listed under another schema
    assert not loader.validated(BUNDLED, data)


def _refuse(*_: Any, **__: Any) -> Any:
    raise AssertionError("a validated file was checked again")


def test_validated_bundled_files_skip_the_checks_and_build_the_same_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(loader, "_validator", _refuse)
        patch.setattr(loader, "load_yaml", _refuse)
        patch.setattr(loader, "_check_regexes", _refuse)
        trusted = load_rules(use_cache=False)
        trusted.heavy_rules()  # the C/C++ files, parsed on first need, skip them too
    checked: list[str] = []
    real = loader.load_yaml
    monkeypatch.setattr(loader, "load_yaml", lambda text, *rest: checked.append(text) or real(text, *rest))
    monkeypatch.setattr(loader, "validated", lambda display, data: False)
    full = load_rules(use_cache=False)
    assert len(checked) == len(rule_digests.FILES)  # every file took the checked path
    assert trusted.catalog == full.catalog  # the C/C++ files' entries come from rule_digests.HEAVY
    assert trusted == full and trusted.fingerprint == full.fingerprint
    assert [r.source for r in trusted.rules] == [r.source for r in full.rules]


def _copy_of_the_bundled_rules(tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(REPO / "rules", copy)
    return copy


def test_an_edited_bundled_file_gets_the_full_checks_and_their_one_line_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = _copy_of_the_bundled_rules(tmp_path)
    edited = copy / "python" / "build.yaml"
    text = edited.read_text(encoding="utf-8")
    assert "severity: warning" in text
    edited.write_text(text.replace("severity: warning", "severity: loud", 1), encoding="utf-8")
    monkeypatch.setattr(ruleset, "rules_dir", lambda: copy)
    with pytest.raises(RuleError) as info:
        load_rules(use_cache=False)
    message = str(info.value)
    line, rule_id = int(message.split(":")[1]), message.split("rule ")[1].split(":")[0]
    assert message.startswith(f"{BUNDLED}:") and "'loud' is not one of" in message and "\n" not in message
    assert edited.read_text(encoding="utf-8").splitlines()[line - 1].endswith(f"id: {rule_id}")  # the rule's line


def test_a_users_rule_file_is_checked_even_when_it_copies_a_bundled_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    full = loader.load_rule_text

    def spy(data: bytes, name: str, validated: bool = False) -> Any:
        if not validated:
            shown.append(name)
        return full(data, name, validated)

    monkeypatch.setattr(loader, "load_rule_text", spy)
    mine = tmp_path / "mine.yaml"
    mine.write_text("rules:\n" + rule_yaml("LL990", "{qualified: [a.b]}"), encoding="utf-8")
    load_rules(extra=(str(mine),), use_cache=False)
    assert shown == [str(mine)]
    shown.clear()
    shutil.copy(REPO / BUNDLED, mine)  # byte for byte a bundled file, but the user's: checked, then a clash
    with pytest.raises(RuleError, match="id already defined in rules/python/build.yaml"):
        load_rules(extra=(str(mine),), use_cache=False)
    assert shown == [str(mine)]


def _parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the rule files `loader.load_rule_text` parses from now on."""
    names: list[str] = []
    real = loader.load_rule_text

    def spy(data: bytes, name: str, validated: bool = False) -> Any:
        names.append(name)
        return real(data, name, validated)

    monkeypatch.setattr(loader, "load_rule_text", spy)
    return names


def test_a_first_run_parses_the_c_cpp_rule_files_only_when_it_needs_them_and_caches_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    parsed = _parsed(monkeypatch)
    first = load_rules()
    assert parsed and not any(name.startswith("rules/cuda/") for name in parsed)
    assert any(entry.id == "LC9000" for entry in first.catalog) and first.python_index().triggers
    assert not list((tmp_path / "cache").glob("rules-*-cuda.pickle"))  # stored once they are built
    assert any(rule.id == "LC9000" for rule in first.heavy_rules())
    assert any(name.startswith("rules/cuda/") for name in parsed) and first._cuda_indexes  # the index with them
    assert list((tmp_path / "cache").glob("rules-*-cuda.pickle"))
    parsed.clear()
    warm = load_rules()
    assert warm.heavy_rules() == first.heavy_rules() and warm._cuda_indexes and not parsed  # from the cache


def test_a_users_rule_reusing_an_id_of_an_unparsed_c_cpp_file_is_still_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("rules:\n" + rule_yaml("LC9000", "{qualified: [a.b]}"), encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(extra=(str(mine),), use_cache=False)
    assert str(info.value) == f"{mine}: rule LC9000: id already defined in rules/cuda/catchall.yaml"


def test_a_cached_run_that_first_needs_the_c_cpp_rules_builds_and_stores_them_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-commit run on Python files, then one on a .cu file, then another: the C/C++ files are
    parsed once, by the second run, and the third gets them and their index from the cache."""
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(tmp_path / "cache"))
    parsed = _parsed(monkeypatch)
    load_rules().python_index()
    second = load_rules()
    assert not list((tmp_path / "cache").glob("rules-*-cuda.pickle"))
    parsed.clear()
    assert second.cuda_index() and second._cuda_indexes[((), ())] is second.cuda_index()
    assert any(name.startswith("rules/cuda/") for name in parsed)
    parsed.clear()
    third = load_rules()
    assert third.heavy_rules() == second.heavy_rules() and third._cuda_indexes and not parsed


TRICKY_SCALARS = ["", "~", "null", "Null", "yes", "No", "on", "true", "FALSE", "1_000", "0x1F", "0o17", "017", "-1",
                  "+2", "1.5e3", ".inf", "-.Inf", ".NaN", "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
                  "<<", "=", "plain text", "a.b", "{}", "[]"]


def test_the_quick_loader_tags_every_node_as_pyyaml_does() -> None:
    text = "".join(f"k{n}: {value}\nq{n}: '{value}'\n" for n, value in enumerate(TRICKY_SCALARS))
    text += "seq: [1, a, {m: [2.5, null]}]\nblock: |\n  text\nanchored: &a [x]\nalias: *a\n"

    def tags(loader_class: type) -> list[str]:
        loader_ = loader_class(text)
        try:
            nodes, found = [loader_.get_single_node()], []
            while nodes:
                node = nodes.pop()
                found.append(node.tag)
                if isinstance(node.value, list):
                    nodes += (child for item in node.value for child in (item if isinstance(item, tuple) else (item,)))
            return found
        finally:
            loader_.dispose()

    assert loader._QuickLoader.EXACT
    quick, pyyaml = tags(loader._QuickLoader), tags(loader._BaseLoader)
    assert quick == pyyaml and len(set(pyyaml)) >= 6  # str, int, float, bool, null, timestamp, seq, map...
