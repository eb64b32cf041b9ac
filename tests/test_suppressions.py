"""Inline and file-level suppressions, and the report of suppressions that hide nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lockin_lint.analyzers import suppress
from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet


def test_inline_file_level_and_unused(ruleset: RuleSet) -> None:
    code = (
        "import torch\n"
        "torch.cuda.synchronize()  # lockin: ignore[LL101]\n"
        "x = y.cuda()  # lockin: ignore[LL999]\n"
        "# lockin: ignore\n"
        "z = w.cuda()\n"
    )
    result = check_bytes("t.py", code.encode(), ruleset)
    assert [(f.line, f.rule_id) for f in result.findings] == [(3, "LL120")]
    assert [(f.line, f.suppression) for f in result.suppressed] == [(2, "inline"), (5, "inline")]
    assert [(u.line, u.codes) for u in result.unused_suppressions] == [(3, ("LL999",))]
    whole = check_bytes("t.py", ("# lockin: ignore-file\n" + code).encode(), ruleset)
    assert not whole.findings and {f.suppression for f in whole.suppressed} == {"inline", "file"}


def test_suppressions_in_files_the_prefilter_skips_are_unused(ruleset: RuleSet) -> None:
    result = check_bytes("t.py", b"x = 1  # lockin: ignore[LL101]\n", ruleset)
    assert result.skipped and [(u.line, u.codes) for u in result.unused_suppressions] == [(1, ("LL101",))]


def test_c_and_cuda_suppressions(ruleset: RuleSet) -> None:
    code = b"void f() {\n  cudaMalloc(&p, 4);  // lockin: ignore[LC1011]\n  cudaFree(p);\n}\n"
    result = check_bytes("k.cu", code, ruleset)
    assert [f.symbol for f in result.findings] == ["cudaFree"]
    assert [f.symbol for f in result.suppressed] == ["cudaMalloc"]


def test_cli_reports_unused_suppressions(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("import torch\ntorch.cuda.synchronize()  # lockin: ignore[LL120]\n")
    proc = subprocess.run([sys.executable, "-m", "lockin_lint", "check", "."], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert "warning: t.py:2: unused suppression `lockin: ignore[LL120]`" in proc.stderr
    data = subprocess.run([sys.executable, "-m", "lockin_lint", "check", ".", "--format", "json"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert json.loads(data.stdout)["summary"]["unused_suppressions"] == [{"path": "t.py", "line": 2, "codes": ["LL120"]}]


def test_statistics(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("import torch\ntorch.cuda.synchronize()\ntorch.cuda.synchronize()\nx = y.cuda()\n")
    proc = subprocess.run([sys.executable, "-m", "lockin_lint", "check", ".", "--statistics"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.stdout.splitlines() == ["     2  LL101   torch-cuda-device", "     1  LL120   cuda-method"]


def test_markers_inside_string_literals_are_not_comments(ruleset: RuleSet) -> None:
    """A test's source text or a docstring that mentions the marker neither hides nor counts as unused."""
    code = (
        'import torch\n'
        'SAMPLE = "torch.cuda.synchronize()  # lockin: ignore[LL101]"\n'
        'torch.cuda.synchronize(); note = "# lockin: ignore"\n'
        'skipped = """\n# lockin: ignore-file\n"""\n'
    )
    result = check_bytes("t.py", code.encode(), ruleset)
    assert [(f.line, f.rule_id) for f in result.findings] == [(3, "LL101")]
    assert not result.suppressed and not result.unused_suppressions
    c_code = b'const char* s = "// lockin: ignore[LC1011]";\nvoid f() { cudaFree(p); }  // lockin: ignore[LC1011]\n'
    c_result = check_bytes("k.cu", c_code, ruleset)
    assert [f.line for f in c_result.suppressed] == [2] and not c_result.unused_suppressions
    skipped = check_bytes("u.py", b'x = "# lockin: ignore[LL101]"\ny = 1  # lockin: ignore[LL101]\n', ruleset)
    assert skipped.skipped and [u.line for u in skipped.unused_suppressions] == [2]


def _notebook(cells: list[list[str]]) -> bytes:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                  "source": source} for source in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1).encode()


def test_unused_suppressions_in_notebooks_point_into_the_ipynb(ruleset: RuleSet) -> None:
    data = _notebook([["import torch\n", "torch.cuda.synchronize()\n"], ["x = 1  # lockin: ignore[LL120]\n"]])
    lines = data.decode().splitlines()
    result = check_bytes("nb.ipynb", data, ruleset)
    [unused] = result.unused_suppressions
    assert "lockin: ignore[LL120]" in lines[unused.line - 1]
    skipped = check_bytes("nb.ipynb", _notebook([["x = 1\n"], ["y = 2  # lockin: ignore\n"]]), ruleset)
    assert skipped.skipped
    [unused] = skipped.unused_suppressions
    assert "lockin: ignore" in _notebook([["x = 1\n"], ["y = 2  # lockin: ignore\n"]]).decode().splitlines()[unused.line - 1]


def test_suppressions_of_rules_not_selected_are_not_reported_unused(ruleset: RuleSet) -> None:
    from lockin_lint.model import Settings

    code = b"import torch\nx = y.cuda()  # lockin: ignore[LL120]\nz = 1  # lockin: ignore[LL999]\n"
    full = check_bytes("t.py", code, ruleset)
    assert [u.line for u in full.unused_suppressions] == [3]  # LL999 names no rule
    narrow = check_bytes("t.py", code, ruleset, Settings(select=("LL101",)))
    assert not narrow.findings and [u.line for u in narrow.unused_suppressions] == [3]
    ignored = check_bytes("t.py", code, ruleset, Settings(ignore=("LL120",)))
    assert [u.line for u in ignored.unused_suppressions] == [3]


def test_codes_are_what_select_accepts_names_prefixes_and_categories(ruleset: RuleSet) -> None:
    lines = ["x = y.cuda()  # lockin: ignore[cuda-method]", "x = y.cuda()  # lockin: ignore[LL1]",
             "x = y.cuda()  # lockin: ignore[LL12]", "torch.cuda.synchronize()  # lockin: ignore[device-api]"]
    code = "import torch\n" + "\n".join(lines) + "\n"
    result = check_bytes("t.py", code.encode(), ruleset)
    assert result.findings == () and len(result.suppressed) == 4
    assert result.unused_suppressions == ()
    other = check_bytes("t.py", b"import torch\nx = y.cuda()  # lockin: ignore[LL2]\n", ruleset)
    assert [f.rule_id for f in other.findings] == ["LL120"]
    assert [u.codes for u in other.unused_suppressions] == [("LL2",)]


def test_noqa_with_our_codes_suppresses_and_foreign_codes_are_left_alone(ruleset: RuleSet) -> None:
    code = ("import torch\nx = y.cuda()  # noqa: LL120\nz = w.cuda()  # noqa: E501\n"
            "v = u.cuda()  # noqa: E501, LL12\nq = 1  # noqa: F401\nr = 2  # noqa: LL101\n")
    result = check_bytes("t.py", code.encode(), ruleset)
    assert [f.line for f in result.findings] == [3]
    assert [f.line for f in result.suppressed] == [2, 4]
    assert [(u.line, u.codes, u.marker) for u in result.unused_suppressions] == [(6, ("LL101",), "noqa")]


def test_cli_names_an_unused_noqa_as_written(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("import torch\ntorch.cuda.synchronize()  # noqa: LL120\n")
    proc = subprocess.run([sys.executable, "-m", "lockin_lint", "check", "."], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert "warning: t.py:2: unused suppression `noqa: LL120`" in proc.stderr


def test_the_marker_is_a_whole_word(ruleset: RuleSet) -> None:
    code = ("import torch\n# lockin: ignored - still needs porting\nx = y.cuda()\n"
            "# lockin: ignore-files are listed in the docs\nz = w.cuda()\n")
    result = check_bytes("t.py", code.encode(), ruleset)
    assert [f.line for f in result.findings] == [3, 5] and result.suppressed == ()
    assert result.unused_suppressions == ()


def test_an_unclosed_bracket_does_not_swallow_the_lines_after_it(ruleset: RuleSet) -> None:
    code = "import torch\nx = y.cuda()  # lockin: ignore[LL120\nz = w.cuda()  # lockin: ignore[LL101]\n"
    result = check_bytes("t.py", code.encode(), ruleset)
    assert [f.line for f in result.findings] == [2, 3]
    assert [(u.line, u.codes) for u in result.unused_suppressions] == [(3, ("LL101",))]


def test_many_suppressions_take_linear_time(ruleset: RuleSet) -> None:
    """40,000 comments took 65 s when every finding scanned every comment and every marker counted
    the newlines before it; each of the two costs is now one pass."""
    import time

    from lockin_lint.analyzers.suppress import suppressions

    def timed(count: int) -> float:
        data = b"".join(b"x = y.cuda()  # lockin: ignore[LL120]\n" for _ in range(count))
        started = time.perf_counter()
        table = suppressions(data)
        for line in range(1, count + 1):
            assert table.match(line, "LL120") is not None
        return time.perf_counter() - started

    small, large = min(timed(4_000) for _ in range(3)), min(timed(40_000) for _ in range(3))
    assert large < small * 40  # linear is 10x, quadratic 100x (best of three: the machine is shared)


_MARKER_PIECES = ["#", "//", "/", " ", "\t", "\n", "lockin:", "noqa:", "ignore", "ignore-file", "[", "]", "LL1",
                  ",", "E501", "x", "'", "-"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_MARKER_PIECES), max_size=14))
@example(["#", "lockin:", "ignore", "[", "#", "noqa:", "LL1", "]"])  # a marker inside another's codes
def test_marker_search_finds_what_the_regex_finds(pieces: list[str]) -> None:
    """The markers are looked for from each ``lockin:``/``noqa:`` word instead of by the regex over
    the whole file: the matches must be the regex's own, leftmost and non-overlapping."""
    data = "".join(pieces).encode()
    expected = [(m.span(), m.groups()) for m in suppress._MARKER.finditer(data)]
    assert [(m.span(), m.groups()) for m in suppress._markers(data)] == expected
