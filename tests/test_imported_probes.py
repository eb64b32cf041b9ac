"""Optional imports behind an availability flag another module computes (analyzers/python_imported_flags.py,
project/imported_probes.py): handled on every target when that module's probe reading accepts the
flag for the package imported, in a run over the tree, on one file, and in the editor alike."""

from __future__ import annotations

from pathlib import Path

from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import TARGETS, Finding
from lockin_lint.server.checking import check_document
from lockin_lint.server.workspace import Options, Resolver

# vLLM's triton_utils/importing.py and triton_utils/__init__.py, rewritten
PROBE = '''import logging
from importlib.util import find_spec

log = logging.getLogger(__name__)
HAVE_TRITON = find_spec("triton") is not None
if HAVE_TRITON:
    try:
        from triton.backends import backends
        drivers = [b for b in backends.values()]
    except ImportError:
        log.warning("no triton backends")
        HAVE_TRITON = False
'''
USER = '''from typing import TYPE_CHECKING

from {module} import HAVE_TRITON, Placeholder

if {test}:
    import triton
    import triton.language as tl
else:
    triton = Placeholder()
    tl = Placeholder()
'''
NOTE = "availability probe HAVE_TRITON (importing.py:5)"


def _write(tmp_path: Path, probe: str = PROBE, module: str = "kernels.utils.importing",
           test: str = "TYPE_CHECKING or HAVE_TRITON", user: str = USER) -> None:
    folder = tmp_path / "kernels" / "utils"
    folder.mkdir(parents=True)
    (folder / "importing.py").write_text(probe, encoding="utf-8")
    (folder / "__init__.py").write_text(user.format(module=module, test=test), encoding="utf-8")


def _imports(tmp_path: Path, ruleset: RuleSet, names: list[str]) -> list[Finding]:
    run = check_paths(names, ruleset, cwd=tmp_path)
    assert not run.errors, run.errors
    found = [f for f in run.findings if f.path.endswith("__init__.py") and f.rule_id == "LL516"]
    assert [f.line for f in found] == [6, 7]
    return found


def test_imports_behind_another_modules_probe_are_handled(tmp_path: Path, ruleset: RuleSet) -> None:
    for module, test in (("kernels.utils.importing", "TYPE_CHECKING or HAVE_TRITON"), (".importing", "HAVE_TRITON"),
                         ("utils.importing", "HAVE_TRITON or TYPE_CHECKING")):
        case = tmp_path / module.strip(".").replace(".", "_")
        case.mkdir()
        _write(case, module=module, test=test)
        for names in (["."], ["kernels/utils/__init__.py"]):  # the tree, and the file alone (read from disk)
            for found in _imports(case, ruleset, names):
                assert dict(found.handled) == dict.fromkeys(TARGETS, NOTE), (module, names)


def test_the_editor_sees_the_same(tmp_path: Path, ruleset: RuleSet) -> None:
    _write(tmp_path)
    path = tmp_path / "kernels" / "utils" / "__init__.py"
    resolved = Resolver(ruleset, Options(), [tmp_path]).resolve(path)
    result = check_document(path.read_text(encoding="utf-8"), path, resolved.shown(path), resolved, ruleset)
    found = [f for f in result.findings if f.rule_id == "LL516"]
    assert len(found) == 2 and all(dict(f.handled) == dict.fromkeys(TARGETS, NOTE) for f in found)


def test_near_misses_stay(tmp_path: Path, ruleset: RuleSet) -> None:
    cases = {
        "setting": {"probe": 'import os\nHAVE_TRITON = os.environ.get("USE_TRITON") == "1"\n'},  # no probe
        "other": {"probe": PROBE.replace('"triton"', '"apex"').replace("from triton.", "from apex.")},
        "missing": {"module": "kernels.utils.nowhere"},
        "flag_or": {"test": "USE_FAST or HAVE_TRITON"},
        "negated": {"test": "not HAVE_TRITON"},
        "unbound": {"user": USER.replace("    tl = Placeholder()\n", "    pass\n")},  # tl fails off Triton
    }
    for name, kwargs in cases.items():
        case = tmp_path / name
        case.mkdir()
        _write(case, **kwargs)
        run = check_paths(["."], ruleset, cwd=case)
        found = [f for f in run.findings if f.path.endswith("__init__.py") and f.rule_id == "LL516"]
        assert found and all(not f.handled for f in found), name


def test_a_file_alone_only_records_the_candidate(ruleset: RuleSet) -> None:
    source = USER.format(module="kernels.utils.importing", test="TYPE_CHECKING or HAVE_TRITON")
    result = check_bytes("kernels/utils/__init__.py", source.encode(), ruleset)
    assert not any(f.handled for f in result.findings)
    assert result.facts is not None
    [candidate] = result.facts.flag_imports
    assert (candidate.flag, candidate.module, candidate.package, candidate.places) == \
        ("HAVE_TRITON", "kernels.utils.importing", "triton", (("LL516", 6), ("LL516", 7)))
