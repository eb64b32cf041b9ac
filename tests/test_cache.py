"""The compiled-rules cache: reused when nothing changed, rebuilt when anything did, never fatal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lockin_lint.kb.ruleset import load_rules

from .conftest import rule_yaml, write_rules


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(directory))
    return directory


def test_cache_is_reused_and_keyed_by_content(tmp_path: Path, cache_dir: Path) -> None:
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    first = load_rules(rules)
    entries = list(cache_dir.glob("rules-*.pickle"))
    assert len(entries) == 1
    assert load_rules(rules) == first and list(cache_dir.glob("rules-*.pickle")) == entries
    write_rules(rules, rule_yaml("LL901", "{qualified: [a.c]}"))
    changed = load_rules(rules)
    assert changed.rules[0].match.qualified == ("a.c",)
    assert len(list(cache_dir.glob("rules-*.pickle"))) == 2


def test_a_corrupt_entry_is_rebuilt(tmp_path: Path, cache_dir: Path) -> None:
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    expected = load_rules(rules)
    (entry,) = cache_dir.glob("rules-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_rules(rules) == expected


def test_no_cache_writes_nothing(tmp_path: Path, cache_dir: Path) -> None:
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    load_rules(rules, use_cache=False)
    assert not cache_dir.exists()


def test_cli_start_up_from_the_cache_skips_yaml_and_jsonschema(cache_dir: Path) -> None:
    probe = ("import sys; from lockin_lint.cli import main; main(['rules']); "
             "print('jsonschema' in sys.modules, 'yaml' in sys.modules, file=sys.stderr)")
    cold = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert cold.stderr.strip() == "True True"
    assert warm.stderr.strip() == "False False" and warm.stdout == cold.stdout


class _Planted:
    """Unpickling this writes a marker file: proof that a planted entry's code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path(self.marker).write_text, ("ran",))


def test_a_planted_entry_is_never_unpickled(tmp_path: Path, cache_dir: Path) -> None:
    import pickle

    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    expected = load_rules(rules)
    (entry,) = cache_dir.glob("rules-*.pickle")
    marker = tmp_path / "marker"
    for planted in (pickle.dumps(_Planted(str(marker))), b"\0" * 32 + pickle.dumps(_Planted(str(marker)))):
        entry.write_bytes(planted)
        assert load_rules(rules) == expected
    assert not marker.exists()


def test_the_signing_key_is_private_and_a_foreign_one_disables_the_cache(tmp_path: Path, cache_dir: Path) -> None:
    import os
    import stat

    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    expected = load_rules(rules)
    key = cache_dir / ".key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    key.chmod(0o644)  # readable by others: anyone could sign entries, so nothing is trusted
    from lockin_lint.kb import cache

    (entry,) = cache_dir.glob("rules-*.pickle")
    assert cache.load(entry.name[len("rules-"):-len(".pickle")]) is None
    assert load_rules(rules) == expected  # rebuilt, not an error
    key.unlink()
    key.symlink_to(tmp_path / "elsewhere")
    assert cache.load(entry.name[len("rules-"):-len(".pickle")]) is None
    assert os.path.islink(key)
