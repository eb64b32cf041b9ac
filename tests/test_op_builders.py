"""DeepSpeed-style op builders that refuse ROCm (fixtures/op_builders, `project.op_builders`): the
findings in their sources, and in the headers only those include, are handled for ROCm like a source
a CMake build leaves out; every doubt about the builders keeps a source built."""

from __future__ import annotations

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import RunResult, Settings
from lockin_lint.project.build_dispatch import left_out_files
from lockin_lint.project.op_builders import is_op_builder, left_out_by_builders
from lockin_lint.score.hooks import LEFT_OUT_OF_BUILD, is_handled, left_out_of_build
from lockin_lint.score.report import build_report

from .conftest import FIXTURES

PROJECT = FIXTURES / "op_builders"
REFUSAL = next(n for n, line in enumerate((PROJECT / "op_builder/gds.py").read_text().splitlines(), 1)
               if "if self.is_rocm_pytorch():" in line)
LEFT_OUT = {"csrc/gds/gds_op.cpp", "csrc/gds/py_gds.cpp", "csrc/gds/gds_utils.h"}

_REFUSING = '''class GDSBuilder(AsyncIOBuilder):
    def sources(self):
        return ["csrc/gds/op.cpp"]

    def is_compatible(self, verbose=False):
        if self.is_rocm_pytorch():
            return False
        return True
'''


@pytest.fixture(scope="module")
def run(ruleset: RuleSet) -> RunResult:
    return check_paths(["."], ruleset, cwd=PROJECT)


def _left(builders: dict[str, str], sources: tuple[str, ...] = ("csrc/gds/op.cpp",)) -> dict[str, str]:
    files = {path: text.encode() for path, text in builders.items()} | {path: b"" for path in sources}
    return left_out_by_builders({path: path for path in files}, files.get)


def test_findings_in_sources_only_a_rocm_refusing_builder_names_are_handled_for_rocm(run: RunResult) -> None:
    assert not run.errors, run.errors
    handled = {f.path for f in run.findings if left_out_of_build(f, "rocm")}
    assert handled == LEFT_OUT
    for finding in run.findings:
        if finding.path in LEFT_OUT:
            how = dict(finding.handled)["rocm"]
            assert how.startswith(LEFT_OUT_OF_BUILD) and how.endswith(f"(op_builder/gds.py:{REFUSAL})")
            assert finding.targets["rocm"].status == "rename" and not is_handled(finding, "ascend")
        else:  # the async-I/O op GDS extends, the inference op testing ROCm inside its CUDA check
            assert not is_handled(finding, "rocm")
    assert {f.path for f in run.findings} == LEFT_OUT | {"csrc/aio/aio_op.cpp", "csrc/inference/softmax.cu"}


def test_the_report_names_the_builder_line_where_the_rocm_build_leaves_code_out(run: RunResult) -> None:
    left = build_report(run, Settings())["left_out"]
    assert left["rocm"]["where"] == [f"op_builder/gds.py:{REFUSAL}"]
    assert left["rocm"]["files"] == len(LEFT_OUT)


def test_a_refusal_after_a_docstring_in_a_nested_op_builder_folder_counts() -> None:
    refusing = _REFUSING.replace("verbose=False):\n", 'verbose=False):\n        """Needs cuFile."""\n')
    files = {"pkg/op_builder/gds.py": refusing}
    assert _left(files, ("pkg/csrc/gds/op.cpp",)) == {"pkg/csrc/gds/op.cpp": "pkg/op_builder/gds.py:7"}
    assert _left({"op_builder/gds.py": _REFUSING}) == {"csrc/gds/op.cpp": "op_builder/gds.py:6"}


@pytest.mark.parametrize("builders", [
    # the ROCm test is part of another condition (DeepSpeed's inference builders)
    {"op_builder/gds.py": _REFUSING.replace("if self.is_rocm_pytorch():", "if not self.is_rocm_pytorch() and old():")},
    # the refusal is not the first statement: something before it may return True
    {"op_builder/gds.py": _REFUSING.replace("        if self.is_rocm_pytorch():",
                                            "        while forced():\n            return True\n"
                                            "        if self.is_rocm_pytorch():")},
    # the ROCm branch only warns
    {"op_builder/gds.py": _REFUSING.replace("            return False\n        return True",
                                            "            print('slow')\n        return True")},
    # another builder names the same file, however it spells the path
    {"op_builder/gds.py": _REFUSING, "op_builder/other.py": "SOURCES = ['./csrc/gds/op.cpp']\n"},
    # the rest of the refusing builder's file names it (a class that builds everywhere)
    {"op_builder/gds.py": _REFUSING + "\n\nclass Plain:\n    def sources(self):\n        return ['csrc/gds/op.cpp']\n"},
    # a class derives from the refusing one and may build its sources
    {"op_builder/gds.py": _REFUSING, "op_builder/rocm_gds.py": "class RocmGDS(GDSBuilder):\n    pass\n"},
    # not a builder folder
    {"builders/gds.py": _REFUSING},
    # a builder that does not parse is no evidence
    {"op_builder/gds.py": _REFUSING + "\n    def broken(:\n"},
])
def test_near_misses_keep_the_source_built(builders: dict[str, str]) -> None:
    assert _left(builders) == {}


@pytest.mark.parametrize("opening", ["if not self.is_rocm_pytorch() and old():",
                                     "while forced():\n            return True\n        if self.is_rocm_pytorch():"])
def test_only_the_classes_that_refuse_rocm_claim_their_sources(opening: str) -> None:
    """The file is parsed for its refusing class; a class beside it whose ``is_compatible`` opens
    otherwise claims nothing."""
    inference = _REFUSING.replace("GDSBuilder", "InferenceBuilder").replace("gds/op.cpp", "inference/op.cu")
    builders = {"op_builder/gds.py": _REFUSING + "\n\n" + inference.replace("if self.is_rocm_pytorch():", opening)}
    assert _left(builders, ("csrc/gds/op.cpp", "csrc/inference/op.cu")) == {"csrc/gds/op.cpp": "op_builder/gds.py:6"}


def test_a_named_path_that_is_no_file_of_the_run_is_not_claimed() -> None:
    assert _left({"op_builder/gds.py": _REFUSING}, ()) == {}


def test_builder_and_cmake_sources_share_the_header_reading() -> None:
    files = {
        "op_builder/gds.py": _REFUSING.encode(),
        "csrc/gds/op.cpp": b'#include "gds.h"\n',
        "csrc/gds/gds.h": b"",
        "csrc/aio/aio.cpp": b'#include "../gds/shared.h"\n',
        "csrc/gds/shared.h": b"",
    }
    left = left_out_files({path: path for path in files}, files.get)
    assert left == {"csrc/gds/op.cpp": f"{LEFT_OUT_OF_BUILD} (op_builder/gds.py:6)",
                    "csrc/gds/gds.h": f"{LEFT_OUT_OF_BUILD}: only sources it leaves out include it (op_builder/gds.py:6)"}


def test_op_builder_files_are_python_files_in_an_op_builder_folder() -> None:
    assert is_op_builder("op_builder/gds.py") and is_op_builder("x/op_builder/hpu/gds.py")
    assert not is_op_builder("op_builder/README.md") and not is_op_builder("my_op_builder/gds.py")
