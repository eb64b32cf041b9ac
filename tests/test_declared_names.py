"""LC9000 and the project's own headers: a name the project declares there is not an unknown API."""

from __future__ import annotations

from pathlib import Path

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Settings


def _unknown_names(tmp_path: Path, ruleset: RuleSet) -> set[str]:
    run = check_paths(["."], ruleset, Settings(select=("LC9000",)), cwd=tmp_path)
    return {f.symbol for f in run.findings}


def test_names_declared_in_included_headers_are_not_reported(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "llmc").mkdir()
    (tmp_path / "llmc" / "common.h").write_text('#pragma once\n#include "nested.h"\n'
                                                 "inline void cudaCheckResult(int e) {}\n")
    (tmp_path / "llmc" / "nested.h").write_text("#define cublasCheckResult(x) (x)\n")
    (tmp_path / "train.cu").write_text('#include "llmc/common.h"\n'
                                       "void f() { cudaCheckResult(1); cublasCheckResult(2); cudaFutureCall(3); }\n")
    assert _unknown_names(tmp_path, ruleset) == {"cudaFutureCall"}


def test_headers_that_do_not_exist_or_do_not_declare_change_nothing(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "other.h").write_text("void call_it() { cudaFutureCall(0); }\n")  # a use, not a declaration
    (tmp_path / "train.cu").write_text('#include "missing.h"\n#include "other.h"\n'
                                       "void f() { cudaFutureCall(3); }\n")
    assert "cudaFutureCall" in _unknown_names(tmp_path, ruleset)


def test_a_header_may_use_names_its_sibling_headers_declare(tmp_path: Path, ruleset: RuleSet) -> None:
    (tmp_path / "llmc").mkdir()
    (tmp_path / "llmc" / "common.h").write_text("#define cudaCheckResult(x) (x)\n")
    (tmp_path / "llmc" / "zero.cuh").write_text("void f() { cudaCheckResult(1); cudaFutureCall(2); }\n")
    (tmp_path / "main.cu").write_text("void g() { cudaCheckResult(1); }\n")  # not a header: no siblings
    run = check_paths(["."], ruleset, Settings(select=("LC9000",)), cwd=tmp_path)
    assert sorted((f.path, f.symbol) for f in run.findings) == [("llmc/zero.cuh", "cudaFutureCall"),
                                                                ("main.cu", "cudaCheckResult")]
