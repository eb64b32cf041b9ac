"""The compiled C/C++ index is cached with the C/C++ rules (issue 17: one changed ``.cu`` file spent
50 ms building it on every run), its regexes compiled on first use. What comes back from the cache
must be what building it gives, for the default selection only; no timing here."""

from __future__ import annotations

import gc
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lockin_lint.kb import cache
from lockin_lint.kb.cuda_index import build_cuda_index
from lockin_lint.kb.lazy_regex import LazyPattern
from lockin_lint.kb.ruleset import RuleSet, load_rules


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("LOCKIN_LINT_CACHE_DIR", str(directory))
    return directory


def test_the_cached_index_is_the_built_one(cache_dir: Path) -> None:
    load_rules()  # compiles the rules and stores them, the C/C++ index with them
    warm = load_rules()
    cached = warm.cuda_index()
    assert warm._cuda_indexes  # it came with the rules, not from a build
    fresh = build_cuda_index(RuleSet.of(warm.rules))
    assert cached == fresh
    assert cached.prefilter and all(isinstance(p, LazyPattern) for p in cached.prefilter)
    # the rules the index points at are the rules of the run, not copies
    some = next(iter(cached.identifiers.values()))
    assert any(rule is some for rule in warm.heavy_rules())


def test_another_selection_builds_its_own_index(cache_dir: Path) -> None:
    load_rules()
    warm = load_rules()
    selected = warm.cuda_index(("LC1",), ())
    assert selected == build_cuda_index(RuleSet.of(warm.rules), ("LC1",), ())
    assert selected != warm.cuda_index()
    assert warm.cuda_index(("LC1",), ()) is selected  # once per selection


def test_a_warm_cu_run_does_not_build_the_index_and_reports_the_same(tmp_path: Path, cache_dir: Path) -> None:
    source = tmp_path / "k.cu"
    source.write_text("#include <cuda_runtime.h>\n__global__ void k() { cudaDeviceSynchronize(); }\n"
                      "void f() { cudaMalloc(0, 4); cuFooBar(); }\n", encoding="utf-8")
    probe = ("import sys\nfrom lockin_lint.kb import cuda_index\nbuilds = []\nreal = cuda_index.build_cuda_index\n"
             "cuda_index.build_cuda_index = lambda *a: builds.append(1) or real(*a)\n"
             "from lockin_lint.cli import main\ncode = main(sys.argv[1:])\n"
             "print('builds', len(builds), file=sys.stderr)\nsys.exit(code)")
    runs = [subprocess.run([sys.executable, "-c", probe, "check", "k.cu", "--format", "json", *extra], cwd=tmp_path,
                           capture_output=True, text=True, check=False) for extra in ([], [], ["--no-cache"])]
    assert "builds 1" in runs[0].stderr  # the first run compiles the rules, the index with them
    assert "builds 0" in runs[1].stderr, runs[1].stderr
    assert "builds 1" in runs[2].stderr
    assert runs[1].stdout == runs[0].stdout == runs[2].stdout and "LC9" in runs[1].stdout


@pytest.mark.parametrize("source, text", [(r"^cu[A-Z]\w*$", "cuMemAlloc"), (rb"ab(?:c|d)", b"xxabd"),
                                          (r"^CU_[A-Z]+$", "cu_x")])
def test_a_lazy_pattern_answers_as_re_and_pickles_as_its_source(source: str | bytes, text: str | bytes) -> None:
    lazy = LazyPattern(source)
    compiled = re.compile(source)
    assert bool(lazy.search(text)) == bool(compiled.search(text))
    assert bool(lazy.fullmatch(text)) == bool(compiled.fullmatch(text))
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    back = pickle.loads(pickle.dumps(lazy))
    assert back == lazy and back._compiled is None and b"sre" not in pickle.dumps(lazy)


@pytest.mark.parametrize("collecting", [True, False])
def test_reading_the_cache_leaves_the_collector_as_it_was(cache_dir: Path, collecting: bool) -> None:
    """Unpickling pauses garbage collection; a failed or successful read gives it back as it was."""
    cache.store("probe", {"a": [1, 2]})
    (cache_dir / "rules-broken.pickle").write_bytes(b"\0" * 40)
    was = gc.isenabled()
    try:
        gc.enable() if collecting else gc.disable()
        assert cache.load("probe") == {"a": [1, 2]}
        assert gc.isenabled() is collecting
        assert cache.load("broken") is None and cache.read_signed(cache_dir / "missing") is None
        assert gc.isenabled() is collecting
    finally:
        gc.enable() if was else gc.disable()
