"""Dependency manifests: which CUDA-only packages a project installs, and where it says so.

Requirements files, ``pyproject.toml`` (PEP 621, Poetry, PDM), ``setup.cfg`` and conda environment
files are read with real parsers (``packaging``'s requirement grammar, TOML, INI, YAML) rather than
regexes, so extras, markers and version specifiers cannot fool the match; a line pip would reject is
reported with its line number and the rest of the file is still read.
"""

from __future__ import annotations

import configparser
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import unquote

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

from .matching import LineMatch
from .source import text_lines
from ..limits import MAX_REQUIREMENT_CHARS, LimitError, load_toml, load_yaml
from ..model import Rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True, slots=True)
class Dependency:
    name: str
    version: str
    line: int
    column: int


class ManifestError(Exception):
    """A manifest that does not parse at all; the message starts with its line when known."""


def normalize(name: str) -> str:
    """PEP 503: ``Flash_Attn`` and ``flash-attn`` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _locate(lines: list[str], needle: str, start: int = 0) -> tuple[int, int]:
    """1-based line and column of ``needle`` (a name) at or after line index ``start``."""
    pattern = re.compile(r"(?<![A-Za-z0-9_.-])" + re.escape(needle) + r"(?![A-Za-z0-9_-])", re.IGNORECASE)
    for index in range(start, len(lines)):
        match = pattern.search(lines[index])
        if match:
            return index + 1, match.start() + 1
    return 1, 1


def _requirement(text: str) -> tuple[str, str]:
    req = Requirement(text)
    return req.name, str(req.specifier)


def parse_requirement(text: str, line: int, column: int) -> Dependency:
    """One PEP 508 string at a known place (a ``setup.py`` literal); raises InvalidRequirement."""
    name, version = _requirement(text)
    return Dependency(name, version, line, column)


#: A file pip installs as it is (a wheel or an sdist archive).
_ARCHIVE = re.compile(r"\.(whl|tar\.gz|zip|tar\.bz2)$")


def _is_direct_reference(line: str) -> bool:
    """A requirement line that is a URL or a path, which pip installs as it is."""
    return "://" in line or line.startswith((".", "/", "~")) or bool(_ARCHIVE.search(line))


def _direct_reference(line: str) -> tuple[str, str] | None:
    """(name, version) of a URL or path line, from the ``#egg=`` fragment or the wheel/sdist file name
    (``torch-2.3.0%2Bcu121-...whl`` is torch ``==2.3.0+cu121``); None when it names no package (a
    local directory, a VCS URL without ``#egg``)."""
    location, _, fragment = line.partition("#")
    egg = re.search(r"(?:^|&)egg=([A-Za-z0-9._-]+)", fragment)
    if egg:
        return egg.group(1), ""
    filename = unquote(location.rstrip("/").rsplit("/", 1)[-1])
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return str(name), f"=={version}"
        if _ARCHIVE.search(filename):
            name, sdist_version = parse_sdist_filename(filename)
            return str(name), f"=={sdist_version}"
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None



def requirements_txt(text: str, problems: list[str]) -> Iterator[Dependency]:
    lines = text_lines(text)
    for index, raw in enumerate(lines):
        comment = _COMMENT.search(raw)  # not re.split(r"\s+#"): quadratic on a long run of spaces
        line = (raw[: comment.start()] if comment else raw).strip()
        if not line or line.startswith(("#", "-")):  # options (-r, --extra-index-url) go to `lines` rules
            continue
        if len(line) > MAX_REQUIREMENT_CHARS:
            problems.append(f"line {index + 1}: requirement of {len(line):,} characters not read "
                            f"(over {MAX_REQUIREMENT_CHARS:,})")
            continue
        if _is_direct_reference(line):
            direct = _direct_reference(line)
            if direct is not None:
                yield Dependency(direct[0], direct[1], index + 1, raw.find(line) + 1)
            continue
        try:
            name, version = _requirement(line)
        except InvalidRequirement as exc:
            problems.append(f"line {index + 1}: invalid requirement {_short(line)}: {exc}")
            continue
        yield Dependency(name, version, index + 1, raw.find(name) + 1 if name in raw else 1)


#: Where a requirements line's comment starts: ``#`` after whitespace (pip's rule).
_COMMENT = re.compile(r"\s#")


def _short(text: str, limit: int = 80) -> str:
    """``repr`` of a value for a message, cut so one bad line cannot make a megabyte of output."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _list_of(value: Any, where: str, lines: list[str], problems: list[str]) -> list[Any]:
    """A manifest value that must be a list: anything else is reported (never read one character at
    a time, as iterating a string would) and read as empty."""
    if value is None or isinstance(value, list):
        return value or []
    line, _ = _locate_key(lines, where.rsplit(".", 1)[-1])
    problems.append(f"line {line}: {where} must be a list, not {_type_name(value)}; not read")
    return []


def _table(value: Any, where: str, lines: list[str], problems: list[str]) -> dict[str, Any]:
    """A manifest value that must be a table (a mapping): anything else is reported and read as empty."""
    if value is None or isinstance(value, dict):
        return value or {}
    line, _ = _locate_key(lines, where.rsplit(".", 1)[-1])
    problems.append(f"line {line}: {where} must be a table, not {_type_name(value)}; not read")
    return {}


def _type_name(value: Any) -> str:
    return {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _locate_key(lines: list[str], key: str) -> tuple[int, int]:
    """Where a key is written (``key =`` in TOML, ``key:`` in YAML, or a ``[..key]`` header)."""
    pattern = re.compile(r"^\s*(?:\[[^\]]*\b|[\"']?)" + re.escape(key) + r"\b")
    for index, line in enumerate(lines):
        if pattern.search(line):
            return index + 1, 1
    return 1, 1


def _from_strings(specs: list[Any], lines: list[str], problems: list[str], where: str) -> Iterator[Dependency]:
    cursor = 0
    for spec in specs:
        if not isinstance(spec, str) or spec.lstrip().startswith("-"):  # pip options in a conda list
            continue
        try:
            if len(spec) > MAX_REQUIREMENT_CHARS:
                raise InvalidRequirement(f"{len(spec):,} characters, over {MAX_REQUIREMENT_CHARS:,}")
            name, version = _requirement(spec)
        except InvalidRequirement as exc:
            line, _ = _locate(lines, spec.split()[0][:200] if spec.split() else spec[:200])
            problems.append(f"line {line}: invalid requirement {_short(spec)} in {where}: {exc}")
            continue
        line, column = _locate(lines, name, cursor)
        cursor = max(cursor, line - 1)
        yield Dependency(name, version, line, column)


def pyproject(text: str, problems: list[str]) -> Iterator[Dependency]:
    try:
        data = load_toml(tomllib.loads, text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"invalid TOML: {exc}") from None
    except LimitError as exc:
        raise ManifestError(str(exc)) from None
    lines = text_lines(text)
    project = _table(data.get("project"), "project", lines, problems)
    yield from _from_strings(_list_of(project.get("dependencies"), "project.dependencies", lines, problems),
                             lines, problems, "[project]")
    extras = _table(project.get("optional-dependencies"), "project.optional-dependencies", lines, problems)
    for extra, specs in extras.items():
        where = f"optional-dependencies.{extra}"
        yield from _from_strings(_list_of(specs, where, lines, problems), lines, problems, where)
    tool = _table(data.get("tool"), "tool", lines, problems)
    yield from _poetry(_table(tool.get("poetry"), "tool.poetry", lines, problems), lines, problems)
    pdm = _table(tool.get("pdm"), "tool.pdm", lines, problems)
    for group, specs in _table(pdm.get("dev-dependencies"), "tool.pdm.dev-dependencies", lines, problems).items():
        where = f"tool.pdm.dev-dependencies.{group}"
        yield from _from_strings(_list_of(specs, where, lines, problems), lines, problems, where)


def _poetry(poetry: dict[str, Any], lines: list[str], problems: list[str]) -> Iterator[Dependency]:
    tables = [_table(poetry.get("dependencies"), "tool.poetry.dependencies", lines, problems),
              _table(poetry.get("dev-dependencies"), "tool.poetry.dev-dependencies", lines, problems)]
    for name, group in _table(poetry.get("group"), "tool.poetry.group", lines, problems).items():
        where = f"tool.poetry.group.{name}"
        tables.append(_table(_table(group, where, lines, problems).get("dependencies"), where + ".dependencies",
                             lines, problems))
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("[tool.poetry")), 0)
    for table in tables:
        for name, value in table.items():
            if name.lower() == "python":
                continue
            # Poetry's multiple-constraint form is a list of tables, one per Python version or platform
            version = ",".join(filter(None, (_poetry_version(v) for v in value))) if isinstance(value, list) \
                else _poetry_version(value)
            line, column = _locate(lines, name, start)
            yield Dependency(name, version, line, column)


def _poetry_version(value: Any) -> str:
    """A Poetry constraint (``"1.2"``, ``{version = "^1.2"}``, a path or git table) as written."""
    version = value if isinstance(value, str) else value.get("version", "") if isinstance(value, dict) else ""
    version = version if isinstance(version, str) else ""
    return "==" + version if version[:1].isdigit() else version  # Poetry's bare "1.2.3" means ==1.2.3


def setup_cfg(text: str, problems: list[str]) -> Iterator[Dependency]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise ManifestError(f"invalid setup.cfg: {str(exc).splitlines()[0]}") from None
    lines = text_lines(text)
    specs = []
    if parser.has_option("options", "install_requires"):
        specs += parser.get("options", "install_requires").splitlines()
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            specs += value.splitlines()
    yield from _from_strings([s.strip() for s in specs if s.strip()], lines, problems, "setup.cfg")


def environment_yml(text: str, problems: list[str]) -> Iterator[Dependency]:
    import yaml  # only conda files need it; start-up stays free of PyYAML

    try:
        data = load_yaml(text, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ManifestError(f"line {mark.line + 1}: invalid YAML" if mark else "invalid YAML") from None
    except LimitError as exc:
        raise ManifestError(str(exc)) from None
    lines = text_lines(text)
    if not isinstance(data, dict):
        return
    for entry in _list_of(data.get("dependencies"), "dependencies", lines, problems):
        if isinstance(entry, str):
            spec = entry.split("::")[-1]
            name = re.split(r"[=<>!~\s]", spec, maxsplit=1)[0]
            line, column = _locate(lines, name)
            yield Dependency(name, spec[len(name):], line, column)
        elif isinstance(entry, dict):
            yield from _from_strings(_list_of(entry.get("pip"), "pip", lines, problems), lines, problems, "pip")


PARSERS = {
    "pyproject.toml": pyproject,
    "setup.cfg": setup_cfg,
}


def dependencies(path: str, text: str, problems: list[str]) -> list[Dependency]:
    name = path.rsplit("/", 1)[-1]
    if name in PARSERS:
        return list(PARSERS[name](text, problems))
    if name.endswith((".yml", ".yaml")):
        return list(environment_yml(text, problems))
    return list(requirements_txt(text, problems))


#: pip's include options and what separates them from the file (``-r x``, ``--requirement=x``, ``-rx``).
_INCLUDE_OPTION = r"(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=\S))"
_INCLUDE = re.compile(r"^\s*" + _INCLUDE_OPTION + r"(\S+)")
#: The same option as an item of a conda file's ``pip:`` list (``  - -r requirements.txt``).
_YAML_INCLUDE = re.compile(r"^\s*-\s+['\"]?" + _INCLUDE_OPTION + r"([^\s'\"]+)")


def requirement_includes(text: str, conda: bool = False) -> tuple[tuple[str, int], ...]:
    """The files a requirements file (or a conda file's ``pip:`` list) pulls in with ``-r``/``-c``,
    with their lines.

    URLs are left out: pip can fetch them, a linter does not.
    """
    found = []
    pattern = _YAML_INCLUDE if conda else _INCLUDE
    for number, line in enumerate(text_lines(text), start=1):
        match = pattern.match(line)
        if match and "://" not in match.group(1):
            found.append((match.group(1), number))
    return tuple(found)


def manifest_includes(path: str, text: str) -> tuple[tuple[str, int], ...]:
    """The ``-r``/``-c`` files of a requirements file or of a conda file's ``pip:`` list (TOML and INI
    manifests have no includes)."""
    name = path.rsplit("/", 1)[-1]
    if name in PARSERS:
        return ()
    return requirement_includes(text, conda=name.endswith((".yml", ".yaml")))


@dataclass(frozen=True)
class PackageRule:
    rule: Rule
    names: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    local_versions: re.Pattern[str] | None

    def matches(self, dependency: Dependency) -> bool:
        name = normalize(dependency.name)
        if name not in self.names and not any(p.fullmatch(name) for p in self.patterns):
            return False
        return self.local_versions is None or bool(self.local_versions.search(dependency.version))


def compile_package_rules(rules: list[Rule]) -> list[PackageRule]:
    compiled = []
    for rule in rules:
        if not rule.match.packages:
            continue
        names = frozenset(normalize(p) for p in rule.match.packages if not p.startswith("/"))
        patterns = tuple(re.compile(p[1:-1]) for p in rule.match.packages if p.startswith("/") and p.endswith("/"))
        versions = re.compile(rule.match.local_versions) if rule.match.local_versions else None
        compiled.append(PackageRule(rule, names, patterns, versions))
    # a version-specific rule (torch==...+cu121) is more specific than one for the bare name
    compiled.sort(key=lambda r: r.local_versions is None)
    return compiled


def match_package(dependency: Dependency, rules: list[PackageRule]) -> tuple[Rule, str] | None:
    """The first rule (most specific first) that reports ``dependency``, and the symbol it shows."""
    for rule in rules:
        if rule.matches(dependency):
            return rule.rule, dependency.name + (dependency.version if rule.local_versions else "")
    return None


def match_dependencies(found: list[Dependency], rules: list[PackageRule]) -> list[LineMatch]:
    matches = []
    for dependency in found:
        matched = match_package(dependency, rules)
        if matched is not None:
            end = dependency.column + len(dependency.name)
            matches.append(LineMatch(matched[0], matched[1], dependency.line, dependency.column, end))
    return matches
