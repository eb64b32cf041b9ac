"""The CMake model behind build-level dispatch: commands as written, conditions in a ROCm and a CUDA
build, and which sources a project's build leaves out of ROCm (`project.cmake_build`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockin_lint.project.cmake_build import read_build
from lockin_lint.project.cmake_conditions import evaluate
from lockin_lint.project.cmake_lists import Arg, parse_commands


def _condition(text: str) -> tuple[bool | None, bool | None]:
    (command,) = parse_commands(f"if({text})\n".encode())
    return evaluate(command.args, "rocm"), evaluate(command.args, "cuda")


def test_commands_are_read_as_written_with_comments_and_brackets_left_out() -> None:
    data = (b'# if(HIP_FOUND) in a comment\n#[[ add_library(x y.cu) ]]\nset(SRCS\n  "a b.cu" # a comment\n'
            b'  [[c;d.cu]] e\\;f.cu)\nIF((A AND B) OR C)\n')
    commands = parse_commands(data)
    assert [(c.name, c.line) for c in commands] == [("set", 3), ("if", 6)]
    assert commands[0].args == (Arg("SRCS"), Arg("a b.cu", quoted=True), Arg("c;d.cu", quoted=True), Arg("e\\;f.cu"))
    assert [a.text for a in commands[1].args] == ["(", "A", "AND", "B", ")", "OR", "C"]


def test_a_truncated_file_keeps_the_commands_before_the_damage() -> None:
    assert [c.name for c in parse_commands(b'set(A 1)\nlist(APPEND A "unterminated\n')] == ["set"]
    assert [c.name for c in parse_commands(b"set(A 1)\nif(A\n")] == ["set"]
    assert parse_commands(b"\xff\xfe not cmake at all") == []


@pytest.mark.parametrize(("condition", "rocm", "cuda"), [
    ('VLLM_GPU_LANG STREQUAL "CUDA"', False, True),
    ('VLLM_GPU_LANG STREQUAL "HIP"', True, False),
    ('"${COMPUTE_BACKEND}" STREQUAL "hip"', True, False),
    ('${COMPUTE_BACKEND} STREQUAL "cuda"', False, True),
    ('VLLM_TARGET_DEVICE STREQUAL "rocm"', True, False),
    ("HIP_FOUND", True, False),
    ("USE_ROCM", True, False),
    ("BUILD_CUDA", False, True),
    ("CMAKE_CUDA_COMPILER", False, True),
    ("DEFINED CMAKE_CUDA_COMPILER_VERSION", False, True),
    ("CUDA_FOUND", None, True),                       # a machine may have both toolkits
    ("NOT HIP_FOUND AND CUDA_FOUND", False, True),
    ("NOT HIP_FOUND", False, True),
    ('(MARLIN_ARCHS AND BUILD_HIP) OR USE_ROCM', True, False),
    ("MARLIN_ARCHS", None, None),                     # unknown: changes nothing
    ("MARLIN_ARCHS AND BUILD_CUDA", False, None),
    ("MARLIN_ARCHS OR BUILD_CUDA", None, True),
    ('CUDA_VERSION VERSION_GREATER_EQUAL 12.0', None, None),
    ('SOME_NAME STREQUAL "CUDA"', None, None),         # not a selector's name: unknown
    ('GPU_LANG STREQUAL "${OTHER}"', None, None),
    ("ON", True, True),
    ("OFF", False, False),
    ("NOT", None, None),                              # malformed: unknown
    ("A AND", None, None),
])
def test_conditions_in_a_rocm_and_a_cuda_build(condition: str, rocm: bool | None, cuda: bool | None) -> None:
    assert _condition(condition) == (rocm, cuda)


def _left_out(files: dict[str, str]) -> dict[str, str]:
    data = {path: text.encode() for path, text in files.items()}
    cmake = [p for p in data if p.endswith(("CMakeLists.txt", ".cmake"))]
    left, _ = read_build(cmake, set(data) | {f"src/{n}.cu" for n in "abcdefgh"}, data.get)
    return left


_HIP_PATH = 'if(HIP_FOUND)\n  set(GPU_LANG "HIP")\nendif()\n'


def test_a_source_appended_only_in_the_cuda_branch_is_left_out_with_its_line() -> None:
    cmake = (_HIP_PATH + 'set(EXT_SRC "src/a.cu")\n'
             'if(GPU_LANG STREQUAL "CUDA")\n  list(APPEND EXT_SRC "src/b.cu")\n'
             '  set(SRCS "src/c.cu")\n  list(APPEND EXT_SRC "${SRCS}")\nendif()\n'
             "define_gpu_extension_target(_C SOURCES ${EXT_SRC})\n")
    line = cmake.splitlines().index('if(GPU_LANG STREQUAL "CUDA")') + 1
    assert _left_out({"CMakeLists.txt": cmake}) == {"src/b.cu": f"CMakeLists.txt:{line}",
                                                    "src/c.cu": f"CMakeLists.txt:{line}"}


def test_no_rocm_build_path_leaves_nothing_out() -> None:
    cmake = 'if(GPU_LANG STREQUAL "CUDA")\n  add_library(x src/b.cu)\nendif()\nadd_library(y src/a.cu)\n'
    assert _left_out({"CMakeLists.txt": cmake}) == {}
    assert _left_out({"CMakeLists.txt": _HIP_PATH + cmake}) == {"src/b.cu": "CMakeLists.txt:4"}


def test_a_rocm_path_that_only_fails_is_no_build_path() -> None:
    cmake = 'if(USE_ROCM)\n  message(FATAL_ERROR "no")\nendif()\nif(BUILD_CUDA)\n  add_library(x src/b.cu)\nendif()\n'
    assert _left_out({"CMakeLists.txt": cmake}) == {}


def test_the_else_of_a_cuda_branch_is_no_rocm_build_path() -> None:
    """``else()`` of ``if(BUILD_CUDA)`` may be a CPU fallback; a ROCm path must name ROCm."""
    cmake = "if(BUILD_CUDA)\n  add_library(x src/b.cu)\nelse()\n  add_library(x src/a.cu)\nendif()\n"
    assert _left_out({"CMakeLists.txt": cmake}) == {}
    assert _left_out({"CMakeLists.txt": cmake + "enable_language(HIP)\n"}) == {"src/b.cu": "CMakeLists.txt:1"}
    negated = 'if(NOT GPU_LANG STREQUAL "CUDA")\n  add_library(x src/a.cu)\nelse()\n  add_library(x src/b.cu)\nendif()\n'
    assert _left_out({"CMakeLists.txt": negated}) == {}
    assert _left_out({"CMakeLists.txt": negated + _HIP_PATH}) == {"src/b.cu": "CMakeLists.txt:3"}


def test_else_and_elseif_branches() -> None:
    cmake = ('if(${BACKEND} STREQUAL "cuda")\n  add_library(x src/a.cu)\n'
             'elseif(${BACKEND} STREQUAL "hip")\n  add_library(x src/b.cu)\n'
             "else()\n  add_library(x src/c.cu)\nendif()\n"
             'if(GPU_LANG STREQUAL "HIP")\n  add_library(y src/d.cu)\nelse()\n  add_library(y src/e.cu)\nendif()\n')
    # c.cu is built by neither GPU build (a CPU build): not a CUDA-only feature; e.cu is the else of HIP
    assert _left_out({"CMakeLists.txt": cmake}) == {"src/a.cu": "CMakeLists.txt:1", "src/e.cu": "CMakeLists.txt:10"}


def test_unknown_conditions_change_nothing_and_nesting_keeps_the_outer_verdict() -> None:
    cmake = (_HIP_PATH + "if(MARLIN_ARCHS)\n  add_library(x src/a.cu)\n"
             '  if(GPU_LANG STREQUAL "CUDA")\n    add_library(x src/b.cu)\n  endif()\nendif()\n'
             'if(GPU_LANG STREQUAL "CUDA")\n  if(MARLIN_ARCHS)\n    add_library(x src/c.cu)\n  endif()\nendif()\n')
    cuda = [n for n, line in enumerate(cmake.splitlines(), 1) if 'if(GPU_LANG STREQUAL "CUDA")' in line]
    assert _left_out({"CMakeLists.txt": cmake}) == {"src/b.cu": f"CMakeLists.txt:{cuda[0]}",
                                                    "src/c.cu": f"CMakeLists.txt:{cuda[1]}"}


def test_a_source_some_rocm_path_builds_is_not_left_out() -> None:
    cmake = (_HIP_PATH + 'set(GPU_FILES src/a.cu)\nif(BUILD_CUDA)\n  list(APPEND SRC ${GPU_FILES} src/b.cu)\n'
             "elseif(BUILD_HIP)\n  list(APPEND SRC ${GPU_FILES})\nendif()\nadd_library(bnb SHARED ${SRC})\n")
    assert _left_out({"CMakeLists.txt": cmake}) == {"src/b.cu": "CMakeLists.txt:5"}


def test_a_conditional_set_keeps_the_value_a_rocm_build_still_has() -> None:
    cmake = (_HIP_PATH + "set(S src/a.cu)\nif(BUILD_CUDA)\n  set(S src/b.cu)\nendif()\nadd_library(x ${S})\n")
    assert _left_out({"CMakeLists.txt": cmake}) == {"src/b.cu": "CMakeLists.txt:5"}


def test_variables_that_never_reach_a_build_command_build_nothing() -> None:
    cmake = (_HIP_PATH + 'if(BUILD_CUDA)\n  set(UNUSED src/a.cu)\n  set_source_files_properties(src/b.cu)\n'
             '  message(STATUS "src/c.cu")\nendif()\n')
    assert _left_out({"CMakeLists.txt": cmake}) == {}


def test_globs_includes_subdirectories_and_function_bodies() -> None:
    files = {
        "CMakeLists.txt": (_HIP_PATH + "include(cmake/utils.cmake)\nif(BUILD_CUDA)\n"
                           "  include(${CMAKE_CURRENT_LIST_DIR}/cmake/cuda.cmake)\n  add_subdirectory(sub)\nendif()\n"
                           "make_ext(_C ${EXT})\n"),
        "cmake/utils.cmake": "function(make_ext NAME)\n  add_library(${NAME} src/h.cu)\nendfunction()\n",
        "cmake/cuda.cmake": 'file(GLOB EXT "${CMAKE_CURRENT_SOURCE_DIR}/src/[ab].cu")\n',
        "sub/CMakeLists.txt": "add_library(z ../src/c.cu)\n",
    }
    assert _left_out(files) == {"src/a.cu": "CMakeLists.txt:5", "src/b.cu": "CMakeLists.txt:5",
                                "src/c.cu": "CMakeLists.txt:5"}


def test_an_included_module_is_found_in_the_module_path() -> None:
    files = {"CMakeLists.txt": (_HIP_PATH + 'list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_SOURCE_DIR}/cmake")\n'
                                "include(FetchContent)\nif(BUILD_CUDA)\n  include(extra)\nendif()\n"),
             "cmake/extra.cmake": "add_library(e src/a.cu)\n"}
    assert _left_out(files) == {"src/a.cu": "CMakeLists.txt:6"}


def test_each_top_level_project_needs_its_own_rocm_path() -> None:
    files = {"one/CMakeLists.txt": _HIP_PATH + "if(BUILD_CUDA)\n  add_library(x ../src/a.cu)\nendif()\n",
             "two/CMakeLists.txt": "if(BUILD_CUDA)\n  add_library(y ../src/b.cu ../src/a.cu)\nendif()\n"}
    assert _left_out(files) == {"src/a.cu": "one/CMakeLists.txt:4"}
    files["two/CMakeLists.txt"] = "add_library(y ../src/a.cu)\n"
    assert _left_out(files) == {}


_PIECES = st.sampled_from(["if(", "elseif(", "else()", "endif()", "set(", "list(APPEND ", "file(GLOB ", "include(",
                           "add_subdirectory(", "function(f)", "endfunction()", "foreach(", "NOT ", "AND ", "OR ", "(",
                           ")", '"', "[[", "]]", "#", "${", "}", "HIP_FOUND ", "BUILD_CUDA ", "S ", "src/a.cu ",
                           "CMakeLists.txt ", ".", "\n", "\\", ";"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60), st.lists(_PIECES, max_size=30))
def test_any_cmake_text_gives_an_answer_never_an_exception(top: list[str], sub: list[str]) -> None:
    files = {"CMakeLists.txt": "".join(top), "x/CMakeLists.txt": "".join(sub), "x/y.cmake": "".join(sub)}
    assert set(_left_out(files)) <= {f"src/{n}.cu" for n in "abcdefgh"}


@pytest.mark.parametrize("argument", ["${" * 20000, "$ENVabc{" * 20000, "$a" * 20000, "${A}" * 20000])
def test_parsing_is_linear_on_hostile_arguments(argument: str) -> None:
    """Each of these took minutes when the argument rule scanned ahead for a ``}`` at every ``${``."""
    import time

    start = time.perf_counter()
    (command,) = parse_commands(f"set({argument})\n".encode())
    assert command.args[0].text == argument and time.perf_counter() - start < 2.0


def test_deep_nesting_and_long_negations_are_bounded() -> None:
    assert _condition("NOT " * 5000 + "HIP_FOUND") == (True, False)
    assert _condition("(" * 40 + "HIP_FOUND" + ")" * 40) == (None, None)  # deeper than MAX_DEPTH: unknown
    doubling = _HIP_PATH + 'set(X "src/a.cu;")\n' + 'set(X "${X}${X}")\n' * 64 + "if(BUILD_CUDA)\n  add_library(y ${X})\nendif()\n"
    assert _left_out({"CMakeLists.txt": doubling}) == {}  # a value past the bound is no value: nothing left out
    deep = "if(HIP_FOUND)\n" * 3000 + "add_library(x src/a.cu)\n"
    assert _left_out({"CMakeLists.txt": deep, "a.cmake": "include(a.cmake)\n"}) == {}
