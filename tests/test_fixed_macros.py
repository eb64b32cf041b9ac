"""A branch that a project's own fixed configuration macro rules out is compiled by no build."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.analyzers.macro_values import definitions
from lockin_lint.analyzers.preprocessor import never_compiled
from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet

CONFIG = "#ifndef _config_h\n#define _config_h\n\n#define QMODE_4BIT 1\n#define QMODE_8BIT 0\n\n#endif\n"
#: The shape of TGI's exllamav2 ``qdq_4.cuh``: the ``#else`` of a mode ``config.h`` fixes to 1.
KERNEL = """#ifndef _qdq_4_cuh
#define _qdq_4_cuh
#include "../config.h"
#if QMODE_4BIT == 1
__device__ void dequant_fast(half2* dq) { dq[0] = __half2half2(__float2half(1.0f)); }
#else
__device__ void dequant_slow(half2* dq) { dq[0] = __half2half2(__float2half(2.0f)); }
#endif
#if QMODE_8BIT == 1
__device__ void dequant_8(half2* dq) { dq[0] = __half2half2(__float2half(3.0f)); }
#endif
#endif
"""


def test_definitions_keep_only_unconditional_single_integer_macros() -> None:
    found = definitions(b"#pragma once\n#ifndef A\n#define A 1\n#endif\n#define B 0x10\n#define C 017 // c\n"
                        b"#define D(x) 1\n#define E 2\n#undef E\n#define F 3\n#define F 3\n#define G (4u)\n"
                        b"#define H hello\n#ifdef Z\n#include \"z.h\"\n#endif\n#include \"y.h\"\n#if A && K\n#endif\n")
    assert found.values == {"B": (4, 16), "C": (5, 15), "G": (11, 4)}
    assert found.unfixed == {"A", "D", "E", "F", "H"}  # a default under its #ifndef, function-like, #undef, twice
    assert found.includes == ((16, "y.h"),) and found.conditional_includes == ("z.h",)
    assert {"A", "K", "Z"} <= found.tested


def test_an_include_guard_is_no_condition_but_a_guard_with_an_else_is() -> None:
    assert definitions(CONFIG.encode()).values == {"QMODE_4BIT": (3, 1), "QMODE_8BIT": (4, 0)}
    guarded_else = b"#ifndef X_H\n#define X_H\n#define M 1\n#else\n#define N 2\n#endif\n"
    assert definitions(guarded_else).values == {}


def test_never_compiled_evaluates_fixed_macros_from_their_line_on() -> None:
    source = b"#include \"config.h\"\n#if MODE == 1\na\n#else\nb\n#endif\n#ifdef MODE\nc\n#else\nd\n#endif\n"
    dead = never_compiled(source, {"MODE": (0, 1)}) or []
    lines = source.split(b"\n")
    assert [lines[i] for i, d in enumerate(dead) if d] == [b"b", b"d"]
    assert never_compiled(source, {"MODE": (5, 1)}) is not None  # seen only from line 5 on: the #ifdef
    assert never_compiled(source, {"MODE": (10, 1)}) is None  # defined after every condition
    assert never_compiled(source, {"OTHER": (0, 1)}) is None


def _project(tmp_path: Path, kernel: str = KERNEL, config: str = CONFIG, **extra: str) -> Path:
    (tmp_path / "csrc" / "quant").mkdir(parents=True)
    (tmp_path / "csrc" / "config.h").write_text(config)
    (tmp_path / "csrc" / "quant" / "qdq_4.cuh").write_text(kernel)
    for name, text in extra.items():
        (tmp_path / name.replace("__", "/")).write_text(text)
    return tmp_path


def _lines(root: Path, ruleset: RuleSet) -> list[int]:
    run = check_paths(["."], ruleset, cwd=root)
    return sorted({f.line for f in run.findings if f.path == "csrc/quant/qdq_4.cuh"})


def test_the_else_of_a_mode_an_included_config_fixes_is_dropped(tmp_path: Path, ruleset: RuleSet) -> None:
    assert _lines(_project(tmp_path), ruleset) == [5]


def test_a_config_reached_through_another_header_counts(tmp_path: Path, ruleset: RuleSet) -> None:
    root = _project(tmp_path, KERNEL.replace('"../config.h"', '"util.cuh"'))
    (root / "csrc" / "quant" / "util.cuh").write_text('#pragma once\n#include "../config.h"\n')
    assert _lines(root, ruleset) == [5]


def test_a_macro_defined_in_the_file_itself_counts(tmp_path: Path, ruleset: RuleSet) -> None:
    kernel = KERNEL.replace('#include "../config.h"', "#define QMODE_4BIT 1\n#define QMODE_8BIT 0")
    assert _lines(_project(tmp_path, kernel), ruleset) == [6]


@pytest.mark.parametrize("change", [
    "default", "undef", "redefined", "conditional include", "build flag", "cmake flag", "after the condition",
])
def test_near_misses_keep_every_branch(tmp_path: Path, ruleset: RuleSet, change: str) -> None:
    """What a build may change is not fixed: every finding of both branches stays."""
    kernel, config, extra = KERNEL, CONFIG, {}
    if change == "default":  # a default under its own #ifndef: -DQMODE_4BIT=0 overrides it
        config = CONFIG.replace("#define QMODE_4BIT 1", "#ifndef QMODE_4BIT\n#define QMODE_4BIT 1\n#endif")
    elif change == "undef":
        kernel = KERNEL.replace('#include "../config.h"\n', '#include "../config.h"\n#undef QMODE_4BIT\n'
                                                            "#define QMODE_4BIT 0\n")
    elif change == "redefined":
        (tmp_path / "csrc").mkdir()
        (tmp_path / "csrc" / "other.h").write_text("#pragma once\n#define QMODE_4BIT 0\n")
        kernel = KERNEL.replace('#include "../config.h"\n', '#include "../config.h"\n#include "../other.h"\n')
    elif change == "conditional include":
        kernel = KERNEL.replace('#include "../config.h"\n', '#ifdef USE_CONFIG\n#include "../config.h"\n#endif\n')
    elif change == "build flag":
        extra = {"setup.py": 'extra_compile_args = {"nvcc": ["-DQMODE_4BIT=0"]}\n'}
    elif change == "cmake flag":
        extra = {"CMakeLists.txt": "add_compile_definitions(QMODE_4BIT=0)\n"}
    elif change == "after the condition":
        kernel = KERNEL.replace('#include "../config.h"\n', "").replace("#endif\n#endif\n",
                                                                       '#endif\n#include "../config.h"\n#endif\n')
    lines = _lines(_project(tmp_path, kernel, config, **extra), ruleset)
    fast, slow = (kernel.count("\n", 0, kernel.index(name)) + 1 for name in ("dequant_fast", "dequant_slow"))
    assert fast in lines and slow in lines


def test_definitions_join_continuations_and_skip_a_hash_inside_a_line() -> None:
    found = definitions(b'#define WIDE \\\n  8\nconst char* s = "#define NOT 1";\n#  define SPACED 2\n#define LATE 3\n')
    assert found.values == {"WIDE": (0, 8), "SPACED": (3, 2), "LATE": (4, 3)}
