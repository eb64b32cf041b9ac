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
    entries = sorted(cache_dir.glob("rules-*.pickle"))
    assert len(entries) == 2  # the C/C++ rules apart from the rest
    assert load_rules(rules) == first and sorted(cache_dir.glob("rules-*.pickle")) == entries
    write_rules(rules, rule_yaml("LL901", "{qualified: [a.c]}"))
    changed = load_rules(rules)
    assert changed.rules[0].match.qualified == ("a.c",)
    assert len(list(cache_dir.glob("rules-*.pickle"))) == 4


def test_a_corrupt_entry_is_rebuilt(tmp_path: Path, cache_dir: Path) -> None:
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    expected = load_rules(rules)
    for entry in cache_dir.glob("rules-*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert load_rules(rules) == expected
    (heavy,) = cache_dir.glob("rules-*-cuda.pickle")
    heavy.write_bytes(b"not a pickle")
    assert load_rules(rules) == expected  # a corrupt C/C++ part alone is rebuilt too


def test_no_cache_writes_nothing(tmp_path: Path, cache_dir: Path) -> None:
    rules = write_rules(tmp_path / "rules", rule_yaml("LL901", "{qualified: [a.b]}"))
    load_rules(rules, use_cache=False)
    assert not cache_dir.exists()


def test_cli_start_up_from_the_cache_skips_yaml_and_jsonschema(cache_dir: Path) -> None:
    probe = ("import sys; from lockin_lint.cli import main; main(['rules']); "
             "print('jsonschema' in sys.modules, 'yaml' in sys.modules, file=sys.stderr)")
    cold = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert cold.stderr.strip() == "False True"  # the bundled rules are validated (`rule_digests`): no schema
    assert warm.stderr.strip() == "False False" and warm.stdout == cold.stdout


def test_a_python_only_run_never_loads_the_c_cpp_rules(tmp_path: Path, cache_dir: Path) -> None:
    """The C/C++ knowledge base is 90% of the compiled rules: a pre-commit run on staged ``.py``
    files must start without it, and a run that meets a ``.cu`` file must still use it."""
    (tmp_path / "a.py").write_text("import torch\ntorch.cuda.synchronize()\n", encoding="utf-8")
    (tmp_path / "k.cu").write_text("__global__ void k() {}\n", encoding="utf-8")
    probe = ("import sys; from lockin_lint.kb import ruleset; from lockin_lint.cli import main\n"
             "loads = []; real = ruleset.RuleSet.heavy_rules\n"
             "ruleset.RuleSet.heavy_rules = lambda self: loads.append(1) or real(self)\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print('heavy', bool(loads), file=sys.stderr)")
    runs = {}
    for name in ("warm-up", "a.py", "k.cu"):
        target = "a.py" if name == "warm-up" else name
        done = subprocess.run([sys.executable, "-c", probe, "check", str(tmp_path / target)],
                              capture_output=True, text=True, check=False)
        runs[name] = done
    assert "heavy False" in runs["a.py"].stderr and "LL101" in runs["a.py"].stdout
    assert "heavy True" in runs["k.cu"].stderr and "LC7000" in runs["k.cu"].stdout


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
    entries = sorted(cache_dir.glob("rules-*.pickle"))
    marker = tmp_path / "marker"
    for planted in (pickle.dumps(_Planted(str(marker))), b"\0" * 32 + pickle.dumps(_Planted(str(marker)))):
        for entry in entries:  # the rules apart from C/C++, and the C/C++ rules
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

    entry = sorted(cache_dir.glob("rules-*.pickle"))[0]
    assert cache.load(entry.name[len("rules-"):-len(".pickle")]) is None
    assert load_rules(rules) == expected  # rebuilt, not an error
    key.unlink()
    key.symlink_to(tmp_path / "elsewhere")
    assert cache.load(entry.name[len("rules-"):-len(".pickle")]) is None
    assert os.path.islink(key)
