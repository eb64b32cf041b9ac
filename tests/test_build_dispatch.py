"""Build-level dispatch on a project shaped like vLLM (fixtures/build_dispatch): the findings in sources
its CMake builds for CUDA only, and in the headers only they include, are handled for ROCm, keep their
status, and the report shows them apart with what porting them would cost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding, RunResult, Settings
from lockin_lint.output.report_formats import render_report_html, render_report_markdown, render_report_text
from lockin_lint.project.build_dispatch import left_out_files
from lockin_lint.score.hooks import LEFT_OUT_OF_BUILD, is_handled, left_out_of_build
from lockin_lint.score.report import build_report

from .conftest import FIXTURES

PROJECT = FIXTURES / "build_dispatch"
CUDA_ONLY = {"csrc/marlin/marlin.cu", "csrc/marlin/marlin.cuh", "csrc/marlin/marlin_template.h", "csrc/quant/awq.cu",
             "csrc/quant/fp4_quant.cu"}
BUILT_FOR_BOTH = {"csrc/common.cu", "csrc/shared.cuh", "csrc/cpu/cpu_ops.cpp"}


def _run(ruleset: RuleSet, project: Path) -> RunResult:
    return check_paths(["."], ruleset, cwd=project)


def _without_rocm_path(tmp_path: Path) -> Path:
    """A copy of the project whose CMake has no ROCm build (its ``elseif(HIP_FOUND)`` branch removed)."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    cmake = copy / "CMakeLists.txt"
    text = cmake.read_text()
    start = text.index("elseif(HIP_FOUND)")
    cmake.write_text(text[:start] + text[text.index("endif()", start):])
    return copy


def _unported(finding: Finding) -> bool:
    return finding.targets["rocm"].status != "native"


@pytest.fixture(scope="module")
def run(ruleset: RuleSet) -> RunResult:
    return _run(ruleset, PROJECT)


def test_findings_in_cuda_only_sources_and_their_headers_are_handled_for_rocm(run: RunResult) -> None:
    cuda_line = next(n for n, line in enumerate((PROJECT / "CMakeLists.txt").read_text().splitlines(), 1)
                     if line.startswith('if(GPU_LANG STREQUAL "CUDA")'))
    handled = {f.path for f in run.findings if left_out_of_build(f, "rocm")}
    assert handled == CUDA_ONLY
    for finding in run.findings:
        if finding.path in CUDA_ONLY and _unported(finding):
            how = dict(finding.handled)["rocm"]
            assert how.startswith(LEFT_OUT_OF_BUILD) and how.endswith(f"(CMakeLists.txt:{cuda_line})")
            assert is_handled(finding, "rocm") and not is_handled(finding, "ascend")
        if finding.path in BUILT_FOR_BOTH:
            assert not is_handled(finding, "rocm")


def test_handled_findings_keep_the_status_a_port_would_need(ruleset: RuleSet, run: RunResult, tmp_path: Path) -> None:
    # without a ROCm build path the project leaves nothing out, and the statuses are the same
    plain = _run(ruleset, _without_rocm_path(tmp_path))
    assert not any(left_out_of_build(f, "rocm") for f in plain.findings)
    statuses = {(f.path, f.line, f.rule_id): f.targets["rocm"].status for f in plain.findings}
    assert statuses == {(f.path, f.line, f.rule_id): f.targets["rocm"].status for f in run.findings}


def test_the_report_shows_what_the_rocm_build_leaves_out_and_prices_it(ruleset: RuleSet, run: RunResult,
                                                                       tmp_path: Path) -> None:
    report = build_report(run, Settings())
    left = report["left_out"]
    assert set(left) == {"rocm"}
    handled = [f for f in run.findings if left_out_of_build(f, "rocm")]
    assert left["rocm"]["findings"] == len(handled)
    assert left["rocm"]["files"] == len({f.path for f in handled})
    assert left["rocm"]["where"] == ["CMakeLists.txt:" + dict(handled[0].handled)["rocm"].rsplit(":", 1)[1][:-1]]
    assert 0 < left["rocm"]["effort_low"] <= left["rocm"]["effort_high"]
    sentence = "CUDA-only features the rocm build leaves out"
    assert all(sentence in render(report) for render in (render_report_text, render_report_markdown, render_report_html))
    # the ROCm estimate without the pass: the left-out code is priced in it
    before = build_report(_run(ruleset, _without_rocm_path(tmp_path)), Settings())
    assert "left_out" in before and before["left_out"] == {}
    assert sentence not in render_report_text(before)
    rocm, rocm_before = report["targets"]["rocm"], before["targets"]["rocm"]
    assert rocm["effort_high"] < rocm_before["effort_high"] and rocm["effort_low"] < rocm_before["effort_low"]
    assert left["rocm"]["effort_high"] <= rocm_before["effort_high"]
    assert report["targets"]["ascend"] == before["targets"]["ascend"]


def test_headers_join_through_chains_of_includes_and_only_when_every_includer_is_left_out() -> None:
    files = {
        "CMakeLists.txt": b"if(HIP_FOUND)\n  enable_language(HIP)\nendif()\nadd_library(c src/common.cu)\n"
                          b"if(BUILD_CUDA)\n  add_library(k src/kernel.cu)\nendif()\n",
        "src/kernel.cu": b'#include "one.cuh"\n',
        "src/one.cuh": b'#include "inc/two.cuh"\n#include <inc/shared.cuh>\n',
        "src/inc/two.cuh": b'#include "three.cuh"\n',
        "src/inc/three.cuh": b"",
        "src/inc/shared.cuh": b"",
        "src/common.cu": b'#include "inc/shared.cuh"\n',
        "other/orphan.cuh": b"",
    }
    left = left_out_files({path: path for path in files}, files.get)
    assert set(left) == {"src/kernel.cu", "src/one.cuh", "src/inc/two.cuh", "src/inc/three.cuh"}
    assert left["src/inc/three.cuh"] == f"{LEFT_OUT_OF_BUILD}: only sources it leaves out include it (CMakeLists.txt:5)"
