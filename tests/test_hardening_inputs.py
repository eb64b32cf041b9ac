"""Regression tests for issue #18's bad inputs to the pure core: each was a traceback, a wrong result
or a lost finding, and each must now be a clear error or the right result (docs/reliability.md)."""

from __future__ import annotations

import json

import pytest

from lockin_lint.api import check_bytes
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.limits import MAX_FILE_BYTES

CUDA = "import torch\ntorch.cuda.synchronize()\n"


def _messages(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.message for e in result.errors]


def _no_internal_error(result) -> None:  # type: ignore[no-untyped-def]
    assert not any("internal error" in m for m in _messages(result)), _messages(result)


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("pyproject.toml", '[tool.poetry.dependencies]\nfoo = [{version = "1.0", python = "<3.10"}, '
                       '{version = "2.0", python = ">=3.10"}]\ncupy = "1"\n', None),
    ("environment.yml", "dependencies:\n", None),
    ("environment.yml", "dependencies: 5\n", "dependencies must be a list, not a number"),
    ("environment.yml", "dependencies:\n  - pip: 5\n", "pip must be a list, not a number"),
    ("pyproject.toml", 'project = "x"\n', "project must be a table, not a string"),
    ("pyproject.toml", "tool = 5\n", "tool must be a table, not a number"),
    ("pyproject.toml", "[tool.poetry]\ndependencies = []\n", "tool.poetry.dependencies must be a table, not a list"),
    ("pyproject.toml", '[project.optional-dependencies]\ngpu = "cupy"\n',
     "optional-dependencies.gpu must be a list, not a string"),
    ("pyproject.toml", "[project]\noptional-dependencies = 5\n", "optional-dependencies must be a table"),
    ("pyproject.toml", '[project]\ndependencies = "cupy"\n', "project.dependencies must be a list, not a string"),
    ("pyproject.toml", '[tool.pdm.dev-dependencies]\ntest = "cupy"\n', "must be a list, not a string"),
])
def test_wrong_typed_manifest_values_are_reported_not_crashes(ruleset: RuleSet, name: str, text: str,
                                                             expected: str | None) -> None:
    result = check_bytes(name, text.encode(), ruleset)
    _no_internal_error(result)
    if expected is None:
        assert not result.errors
    else:
        assert any(expected in m for m in _messages(result)), _messages(result)
        assert all(e.partial for e in result.errors)  # the rest of the file is still read


def test_poetry_multiple_constraints_still_find_the_other_dependencies(ruleset: RuleSet) -> None:
    text = '[tool.poetry.dependencies]\ncupy = [{version = "12", python = "<3.10"}, {version = "13"}]\n'
    result = check_bytes("pyproject.toml", text.encode(), ruleset)
    assert [(f.line, f.symbol) for f in result.findings] == [(2, "cupy")]


@pytest.mark.parametrize("source", [[None], [1], [["x.cuda()\n"]], 5, {"a": 1}])
def test_notebook_sources_that_are_not_strings(ruleset: RuleSet, source: object) -> None:
    notebook = {"cells": [{"cell_type": "code", "source": source}, {"cell_type": "code", "source": ["y.cuda()\n"]}]}
    result = check_bytes("nb.ipynb", json.dumps(notebook).encode(), ruleset)
    _no_internal_error(result)
    assert _messages(result) == ["cell 1: 'source' must be a string or a list of strings"]


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("setup.py", b"setup(install_requires=" + b"[" * 500 + b"'cupy'" + b"]" * 500 + b")\n", None),
    ("nb.ipynb", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("baseline.ipynb", b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ("pyproject.toml", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    ("environment.yml", b"dependencies: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", ""),
    ("environment.yml", b"a:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 3000)), ""),
])
def test_deep_nesting_is_an_error_not_a_recursion_crash(ruleset: RuleSet, name: str, data: bytes,
                                                         expected: str | None) -> None:
    result = check_bytes(name, data, ruleset)
    _no_internal_error(result)
    assert all("maximum recursion" not in m for m in _messages(result))
    if expected is not None:
        assert result.errors and expected in _messages(result)[0]


def test_a_yaml_bomb_in_a_manifest_is_refused(ruleset: RuleSet) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    text = "\n".join(levels) + "\ndependencies: [*a9]\n"
    result = check_bytes("environment.yml", text.encode(), ruleset)
    assert any("expands to more than" in m for m in _messages(result)), _messages(result)


@pytest.mark.parametrize(("name", "data", "line"), [
    ("lone_cr.py", b"# a comment\rimport torch\rtorch.cuda.synchronize()\r", 3),
    ("lone_cr.cu", b"// a comment\rvoid f() { cudaDeviceSynchronize(); }\r", 2),
    ("utf16.py", CUDA.encode("utf-16"), 2),
    ("utf16be.py", b"\xfe\xff" + CUDA.encode("utf-16-be"), 2),
])
def test_line_ends_and_encodings_editors_write(ruleset: RuleSet, name: str, data: bytes, line: int) -> None:
    result = check_bytes(name, data, ruleset)
    assert [f.line for f in result.findings] == [line] and not result.errors


@pytest.mark.parametrize("separator", ["\x0c", "\x0b", "\u2028", "\x1c", "\x85"])
def test_form_feeds_and_unicode_separators_do_not_shift_manifest_lines(ruleset: RuleSet, separator: str) -> None:
    text = f"numpy  # a note{separator}with a separator\ncupy\ncupy  # lockin: ignore\n"
    result = check_bytes("requirements.txt", text.encode(), ruleset)
    assert [f.line for f in result.findings] == [2]
    assert [f.line for f in result.suppressed] == [3] and not result.unused_suppressions


def _notebook(*cells: list[str], ensure_ascii: bool = True) -> bytes:
    data = {"cells": [{"cell_type": "code", "source": cell} for cell in cells]}
    return json.dumps(data, indent=1, ensure_ascii=ensure_ascii).encode()


@pytest.mark.parametrize("magic", ["%%time", "%%timeit -n 3", "%%capture out", "%%prun"])
def test_cells_under_python_cell_magics_are_checked(ruleset: RuleSet, magic: str) -> None:
    result = check_bytes("nb.ipynb", _notebook([magic + "\n", "x.cuda()\n"]), ruleset)
    assert [(f.cell, f.cell_line) for f in result.findings] == [(1, 2)]


def test_cells_under_other_cell_magics_are_not_python(ruleset: RuleSet) -> None:
    result = check_bytes("nb.ipynb", _notebook(["%%bash\n", "x.cuda()\n"]), ruleset)
    assert not result.findings


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_notebook_findings_on_non_ascii_lines_are_placed_right(ruleset: RuleSet, ensure_ascii: bool) -> None:
    data = _notebook(["a = 1\n", "s = 'é'; x.cuda()\n"], ensure_ascii=ensure_ascii)
    row = next(i for i, line in enumerate(data.decode().split("\n"), start=1) if "cuda" in line)
    column = data.decode().split("\n")[row - 1].index("cuda()") + 1  # `.cuda` is reported at its name
    result = check_bytes("nb.ipynb", data, ruleset)
    assert [(f.line, f.column, f.cell_line) for f in result.findings] == [(row, column, 2)]


def test_notebook_with_a_utf8_bom(ruleset: RuleSet) -> None:
    result = check_bytes("nb.ipynb", b"\xef\xbb\xbf" + _notebook(["x.cuda()\n"]), ruleset)
    assert len(result.findings) == 1 and not result.errors


def test_a_file_over_the_size_cap_is_skipped_with_the_reason(ruleset: RuleSet) -> None:
    result = check_bytes("big.py", b"x = [" + b"1," * (MAX_FILE_BYTES // 2) + b"]\n" + CUDA.encode(), ruleset)
    assert not result.findings and result.skipped
    assert len(result.errors) == 1 and result.errors[0].partial
    assert "over the 4.2 MB limit for one file" in result.errors[0].message


def test_an_overlong_requirement_line_is_reported_not_parsed(ruleset: RuleSet) -> None:
    result = check_bytes("requirements.txt", b"cupy" + b" " * 20_000 + b"==1\ncupy\n", ruleset)
    assert [f.line for f in result.findings] == [2]
    assert "line 1: requirement of 20,007 characters not read" in _messages(result)[0]


def test_a_long_run_of_spaces_before_a_comment_is_still_a_comment(ruleset: RuleSet) -> None:
    result = check_bytes("requirements.txt", b"cupy" + b" " * 5000 + b"# gpu only\n", ruleset)
    assert [f.symbol for f in result.findings] == ["cupy"] and not result.errors
