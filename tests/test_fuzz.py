"""Structure-aware fuzzing: manifests, notebooks, configs, baselines and suppression comments with
the right shape and the wrong types (not only random bytes), through the pure core and the CLI.

The invariant (docs/reliability.md): a clear error or a result, never a traceback, and the right exit
code. The engine turns any analyzer exception into an "internal error" file error so that one odd file
cannot stop a run; here that message counts as a failure, so a fuzz find is a real bug, not a shrug.
Budget: about a minute in CI (``max_examples`` below; no deadline, the machine is shared).
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockin_lint.api import check_bytes
from lockin_lint.cli import main
from lockin_lint.kb.ruleset import RuleSet, load_rules

RULES = load_rules()
CORE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLI = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
requirement = st.sampled_from(["cupy", "cupy-cuda12x>=12", "torch==2.3.0+cu121", "numpy", "flash-attn[x]; "
                               "python_version>'3'", "-r other.txt", "./local", "bad req!!", "", " ", "nvidia-*"])
scalar = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | text | requirement
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text | requirement, inner,
                                                                                         max_size=4), max_leaves=12)
#: Either the shape the format expects or anything at all.
strings = st.lists(requirement | scalar, max_size=5)


def _no_crash(name: str, data: bytes, ruleset: RuleSet = RULES) -> None:
    result = check_bytes(name, data, ruleset)
    internal = [e.message for e in result.errors if "internal error" in e.message]
    assert not internal, internal
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 2  # a lone CR ends a line too
    assert all(1 <= f.line <= lines and f.column >= 1 for f in result.findings)


# -- TOML: a tiny writer for generated values (TOML has no null: a None is dropped) ---------------------
def _toml_value(item: Any) -> str | None:
    if item is None:
        return None
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item) if -2**63 <= item < 2**63 else json.dumps(str(item))
    if isinstance(item, float):
        return "nan" if math.isnan(item) else ("inf" if item > 0 else "-inf") if math.isinf(item) else repr(item)
    if isinstance(item, str):
        return json.dumps(item)
    if isinstance(item, list):
        return "[" + ", ".join(v for v in map(_toml_value, item) if v is not None) + "]"
    pairs = ((json.dumps(str(k)), _toml_value(v)) for k, v in item.items())
    return "{" + ", ".join(f"{k} = {v}" for k, v in pairs if v is not None) + "}"


def _toml(tables: dict[str, dict[str, Any]]) -> str:
    out = []
    for table, entries in tables.items():
        out.append(f"[{table}]")
        out += [f"{json.dumps(str(k))} = {v}" for k, v in ((k, _toml_value(v)) for k, v in entries.items())
                if v is not None]
    return "\n".join(out) + "\n"


pyproject = st.fixed_dictionaries({}, optional={
    "project": st.fixed_dictionaries({}, optional={"dependencies": strings | value,
                                                   "optional-dependencies": st.dictionaries(text, strings | value,
                                                                                            max_size=3) | value}),
    "tool.poetry.dependencies": st.dictionaries(requirement | text, value | st.just([{"version": "1"},
                                                                                   {"version": "2"}]), max_size=4),
    "tool.poetry": st.fixed_dictionaries({}, optional={"group": value, "dev-dependencies": value}),
    "tool.pdm": st.fixed_dictionaries({}, optional={"dev-dependencies": value}),
    "tool": st.dictionaries(st.sampled_from(["poetry", "pdm", "lockin-lint"]), value, max_size=2),
})


@CORE
@given(pyproject)
def test_pyproject_shapes(tables: dict[str, dict[str, Any]]) -> None:
    _no_crash("pyproject.toml", _toml({k: v for k, v in tables.items() if isinstance(v, dict)}).encode())


@CORE
@given(st.one_of(value, st.fixed_dictionaries({}, optional={
    "dependencies": st.lists(requirement | value | st.fixed_dictionaries({"pip": strings | value}), max_size=5)
    | value, "name": value})))
def test_environment_yml_shapes(document: Any) -> None:
    _no_crash("environment.yml", yaml.safe_dump(document, allow_unicode=True).encode())


source = st.one_of(text, st.lists(st.sampled_from(["x.cuda()\n", "%%time\n", "%%bash\n", "!nvidia-smi\n",
                                                   "s = 'é'; torch.cuda.synchronize()\n", "# lockin: ignore\n"])
                                  | scalar, max_size=5), value)
cell = st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown"]) | scalar, "source": source})


@CORE
@given(st.one_of(st.fixed_dictionaries({"cells": st.lists(cell | value, max_size=4)}), value),
       st.booleans(), st.booleans())
def test_notebook_shapes(notebook: Any, indent: bool, ascii_only: bool) -> None:
    data = json.dumps(notebook, indent=1 if indent else None, ensure_ascii=ascii_only).encode()
    _no_crash("nb.ipynb", data)


fragments = st.sampled_from(["import torch", "torch.cuda.synchronize()", "x.cuda()", "# lockin: ignore",
                             "# lockin: ignore[LL101]", "# lockin: ignore[", "# lockin: ignore-file", "'cuda'",
                             "\r", "\x0c", "\u2028", "def f(:", "    ", "cudaMalloc(&p, 1);", "// lockin: ignore",
                             "setup(install_requires=[", "])", "CUDAExtension('m', ['a.cu'])", "é", "\t"])
lines = st.lists(st.lists(fragments, max_size=4).map(" ".join), max_size=12).map("\n".join)


@CORE
@given(lines, st.sampled_from(["a.py", "setup.py", "a.cu", "requirements.txt", "setup.cfg", "CMakeLists.txt",
                               "Dockerfile", ".github/workflows/ci.yml"]), st.sampled_from(["utf-8", "utf-16"]))
def test_sources_with_suppressions_and_odd_line_ends(body: str, name: str, encoding: str) -> None:
    _no_crash(name, body.encode(encoding))


@CORE
@given(st.binary(max_size=300), st.sampled_from(["a.py", "a.cu", "nb.ipynb", "pyproject.toml", "environment.yml",
                                                  "requirements.txt", "setup.cfg"]))
def test_random_bytes(data: bytes, name: str) -> None:
    _no_crash(name, data)


# -- CLI, in process: configs and baselines ----------------------------------------------------------
config_keys = st.sampled_from(["targets", "select", "ignore", "exclude", "per-file-ignores", "baseline",
                               "torch-version", "fail-under", "respect-gitignore", "effort-hours", "category-factor",
                               "lines-per-hour", "unknown-key"])


def _run_cli(files: dict[str, str], args: list[str]) -> tuple[int, str]:
    """Run the CLI in this process on ``ok.py`` (one finding) and the generated ``files``; names in
    ``args`` that are among the files are passed as absolute paths (no chdir: tests run in parallel)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = {"ok.py": "import torch\ntorch.cuda.synchronize()\n", **files}
        for name, content in files.items():
            (root / name).write_text(content)
        err = io.StringIO()
        code = main([str(root / a) if a in files else a for a in args], io.StringIO(), err)
    return code, err.getvalue()


@CLI
@given(st.dictionaries(config_keys, value | strings, max_size=4))
def test_configs(table: dict[str, Any]) -> None:
    config = _toml({"x": table}).split("\n", 1)[1]  # the entries without a table header
    code, err = _run_cli({"lockin-lint.toml": config}, ["check", "ok.py", "--config", "lockin-lint.toml"])
    assert code in (0, 1, 2) and "Traceback" not in err
    assert (code == 2) == err.startswith(("lockin-lint: config error:", "lockin-lint: error:", "lockin-lint: baseline"))


baseline = st.one_of(value, st.fixed_dictionaries({"tool": value, "format": st.just(1) | value,
                                                  "findings": st.lists(st.fixed_dictionaries(
                                                      {}, optional={"fingerprint": value, "path": value}) | value,
                                                      max_size=4) | value}))


@CLI
@given(baseline)
def test_baselines(document: Any) -> None:
    code, err = _run_cli({"b.json": json.dumps(document)}, ["check", "ok.py", "--baseline", "b.json"])
    assert code in (1, 2) and "Traceback" not in err
    assert (code == 2) == ("baseline error" in err)
