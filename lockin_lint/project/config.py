"""Project configuration: ``[tool.lockin-lint]`` in ``pyproject.toml`` or a ``lockin-lint.toml``.

Found by walking up from the scanned paths, as Ruff does; CLI flags override it. A typo in a key
must not silently disable a check, so unknown keys and wrong types are errors naming the file, the
line and the key (exit 2).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from ..limits import LimitError, load_toml, read_regular
from ..model import CATEGORIES, SEVERITIES, STATUSES, TARGETS
from ..score.effort_model import (DEFAULT_CATEGORY_FACTOR, DEFAULT_GOOD_MAX_HOURS, DEFAULT_LINES_PER_HOUR,
                                  DEFAULT_STATUS_HOURS, EffortModel)
from ..score.ranges import DEFAULT_COSTS
from ..score.scopes import ScopeRules


def _tomllib() -> ModuleType:
    """The TOML parser, imported when a file is to be parsed (8 ms that a project without a
    configuration never needs)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib

_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
#: The largest number an effort setting may have (hours, factors, lines per hour).
_MAX = 1e6


class ConfigError(Exception):
    """One line naming the file (and line) of a configuration problem."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    targets: tuple[str, ...] | None = None
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    baseline: Path | None = None
    torch_version: str | None = None
    fail_under: dict[str, float] = field(default_factory=dict)
    respect_gitignore: bool = True
    effort: EffortModel = field(default_factory=EffortModel)
    scopes: ScopeRules = field(default_factory=ScopeRules)
    fail_on: str | None = None
    min_severity: str | None = None
    docs_url: str | None = None


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _targets(value: Any) -> bool:
    return _strings(value) and all(v in TARGETS for v in value)


def _per_file(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and _strings(v) for k, v in value.items())


def _fail_under(value: Any) -> bool:
    return isinstance(value, dict) and all(
        k in TARGETS and isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 100
        for k, v in value.items()
    )


#: key -> (check, what the value must be)
KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "targets": (_targets, f"a list of targets from {', '.join(TARGETS)}"),
    "select": (_strings, "a list of rule ids, prefixes, names or categories"),
    "extend-select": (_strings, "a list of rule ids, prefixes, names or categories"),
    "ignore": (_strings, "a list of rule ids, prefixes, names or categories"),
    "exclude": (_strings, "a list of globs"),
    "extend-exclude": (_strings, "a list of globs"),
    "per-file-ignores": (_per_file, "a table of glob = [rule codes]"),
    "baseline": (lambda v: isinstance(v, str) and bool(v), "a file path"),
    "torch-version": (lambda v: isinstance(v, str) and bool(_VERSION.match(v)), "a version such as \"2.6\""),
    "fail-under": (_fail_under, "a table of target = score between 0 and 100"),
    "respect-gitignore": (lambda v: isinstance(v, bool), "true or false"),
    "fail-on": (lambda v: v in ("any", "not-native"), '"any" or "not-native"'),
    "min-severity": (lambda v: v in SEVERITIES, f"one of {', '.join(SEVERITIES)}"),
    "docs-url": (lambda v: isinstance(v, str) and v.startswith(("https://", "http://")), "an http(s) URL"),
    "effort-hours": (lambda v: _numbers(v, STATUSES), f"a table of status = hours from 0 to {_MAX:g} "
                                                       f"({', '.join(STATUSES)})"),
    "category-factor": (lambda v: _numbers(v, CATEGORIES), f"a table of category = factor from 0 to {_MAX:g}"),
    "lines-per-hour": (lambda v: _number(v, 0.01), f"a number from 0.01 to {_MAX:g}"),
    "effort-ranges": (lambda v: _ranges(v), f"a table of kind = [low, high] hours, 0 <= low <= high "
                                             f"({', '.join(DEFAULT_COSTS)})"),
    "good-max-hours": (lambda v: _number(v), f"a number from 0 to {_MAX:g}"),
    "tests": (_strings, "a list of globs"),
    "vendored": (_strings, "a list of globs"),
}


def _ranges(value: Any) -> bool:
    def pair(v: Any) -> bool:
        return isinstance(v, list) and len(v) == 2 and all(_number(x) for x in v) and v[0] <= v[1]
    return isinstance(value, dict) and all(k in DEFAULT_COSTS and pair(v) for k, v in value.items())


def _effort(table: dict[str, Any]) -> EffortModel:
    """The effort model of a configuration; ``lines-per-hour`` sets the kernel rewrite speed (its low
    end; the high end is four times slower) unless ``effort-ranges`` sets it directly."""
    costs = dict(DEFAULT_COSTS)
    lines = float(table.get("lines-per-hour", DEFAULT_LINES_PER_HOUR))
    if "lines-per-hour" in table:
        costs["kernel-rewrite-line"] = (1 / lines, 4 / lines)
    costs.update({k: (float(v[0]), float(v[1])) for k, v in table.get("effort-ranges", {}).items()})
    return EffortModel(
        status_hours={**DEFAULT_STATUS_HOURS, **table.get("effort-hours", {})},
        category_factor={**DEFAULT_CATEGORY_FACTOR, **table.get("category-factor", {})},
        lines_per_hour=lines, costs=costs,
        good_max_hours=float(table.get("good-max-hours", DEFAULT_GOOD_MAX_HOURS)),
    )


def _number(value: Any, minimum: float = 0.0) -> bool:
    """A finite number in range: ``inf``, ``nan`` and 1e308 are valid TOML, but they would divide by
    zero or put ``NaN``/``Infinity`` (which is not JSON) into every score."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and minimum <= value <= _MAX


def _numbers(value: Any, keys: tuple[str, ...]) -> bool:
    return isinstance(value, dict) and all(k in keys and _number(v) for k, v in value.items())


def find_config(paths: list[str], cwd: Path) -> Path | None:
    """The nearest ``lockin-lint.toml``, or ``pyproject.toml`` with a ``[tool.lockin-lint]`` table,
    in the first scanned path's directory or above."""
    start = (cwd / paths[0]) if paths else cwd
    directory = start if start.is_dir() else start.parent
    for folder in (directory.resolve(), *directory.resolve().parents):
        own = folder / "lockin-lint.toml"
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _configures(pyproject):
            return pyproject
    return None


def _configures(pyproject: Path) -> bool:
    """Whether a ``pyproject.toml`` has a ``tool.lockin-lint`` table, in any TOML spelling (``[tool]``
    with a dotted key, an inline table): parsed, never grepped. One that does not parse but names
    lockin-lint is chosen, so that loading it reports the error instead of silently ignoring it.

    A text without ``lockin-lint`` and without a backslash (the only way a TOML key can spell a
    character other than itself: an escape in a quoted key) cannot hold the table, parsed or not, so
    it is not parsed: most projects' ``pyproject.toml`` has no such table."""
    try:
        text = read_regular(pyproject).decode("utf-8", "replace")
    except (OSError, LimitError):
        return False
    if "lockin-lint" not in text and "\\" not in text:
        return False
    tomllib = _tomllib()
    try:
        tool = load_toml(tomllib.loads, text).get("tool")
    except (OSError, LimitError):
        return False
    except tomllib.TOMLDecodeError:
        return "lockin-lint" in text
    return isinstance(tool, dict) and "lockin-lint" in tool


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: a form feed is no line end
        if re.match(rf'^\s*"?{re.escape(key)}"?\s*=', line):
            return number
    return 1


def load_config(path: Path) -> Config:
    try:
        text = read_regular(path).decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, LimitError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    tomllib = _tomllib()
    try:
        data = load_toml(tomllib.loads, text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except LimitError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("lockin-lint", {}) if isinstance(tool, dict) else {}
        where = "[tool.lockin-lint]"
    else:
        table, where = data, "lockin-lint.toml"
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(f"{path}:{_line_of(text, key)}: unknown key {key!r} in {where}; "
                              f"known keys: {', '.join(KEYS)}")
        check, expected = KEYS[key]
        if not check(value):
            raise ConfigError(f"{path}:{_line_of(text, key)}: {key!r} must be {expected}")
    base = path.parent
    tuple_or_none = lambda key: tuple(table[key]) if key in table else None  # noqa: E731
    return Config(
        path=path,
        targets=tuple(t for t in TARGETS if t in table["targets"]) if "targets" in table else None,
        select=tuple(table.get("select", ())),
        extend_select=tuple(table.get("extend-select", ())),
        ignore=tuple(table.get("ignore", ())),
        exclude=tuple_or_none("exclude"),
        extend_exclude=tuple(table.get("extend-exclude", ())),
        per_file_ignores=tuple((glob, tuple(codes)) for glob, codes in table.get("per-file-ignores", {}).items()),
        baseline=(base / table["baseline"]) if "baseline" in table else None,
        torch_version=table.get("torch-version"),
        fail_under={k: float(v) for k, v in table.get("fail-under", {}).items()},
        respect_gitignore=table.get("respect-gitignore", True),
        fail_on=table.get("fail-on"),
        min_severity=table.get("min-severity"),
        docs_url=table.get("docs-url"),
        effort=_effort(table),
        scopes=ScopeRules(tests=tuple(table.get("tests", ScopeRules.tests)),
                          vendored=tuple(table.get("vendored", ScopeRules.vendored))),
    )
