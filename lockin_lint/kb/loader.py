"""Parse one YAML rule file, validate it against the rule schema, and build `Rule` objects.

Kept apart from `ruleset` because it imports PyYAML (and, for a file not validated before, jsonschema:
~0.1 s together): a run whose compiled rules come from the cache never imports this module at all.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterable

import yaml

from ..limits import LimitError, load_yaml
from ..model import (
    STATUSES,
    TARGETS,
    CallCondition,
    Match,
    Portable,
    Rule,
    StringContext,
    SymbolInfo,
    SymbolTable,
    TargetInfo,
)
from .errors import RuleError

if TYPE_CHECKING:
    import jsonschema

try:  # the C loader is ~5x faster; fall back when PyYAML was built without libyaml
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _BaseLoader = yaml.SafeLoader


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    import jsonschema  # only files not validated before need it (`load_rule_text`)

    text = resources.files(__package__).joinpath("rule_schema.yaml").read_text(encoding="utf-8")
    schema = yaml.load(text, Loader=_BaseLoader)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _load_with_lines(text: str) -> tuple[Any, dict[int, int]]:
    """Parse YAML, remembering the 1-based line where each mapping starts (keyed by ``id``)."""
    lines: dict[int, int] = {}

    class LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            mapping = super().construct_mapping(node, deep=deep)
            lines[id(mapping)] = node.start_mark.line + 1
            return mapping

    LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_mapping)
    return load_yaml(text, LineLoader, "rule file"), lines


_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


class _QuickLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader with a leaner tag resolver: the parser calls it for each of the 220,000 nodes
    of the bundled rules. A safe loader has no path resolvers, so the tag depends only on the node's
    kind and, for a plain scalar, on the implicit resolvers listed under its first character."""

    _base: Any = _BaseLoader  # (its class attributes, untyped)
    _IMPLICIT = {first: tuple(rules) for first, rules in _base.yaml_implicit_resolvers.items()}
    _DEFAULT = {yaml.ScalarNode: _base.DEFAULT_SCALAR_TAG, yaml.SequenceNode: _base.DEFAULT_SEQUENCE_TAG,
                yaml.MappingNode: _base.DEFAULT_MAPPING_TAG}
    #: False if this PyYAML has a wildcard or path resolver: `_load_validated` then uses its own resolver.
    EXACT = None not in _IMPLICIT and not _base.yaml_path_resolvers

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            for tag, regexp in self._IMPLICIT.get(value[:1], ()):
                if regexp.match(value):
                    return tag  # type: ignore[no-any-return]
        return self._DEFAULT[kind]

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # only path resolvers need the path

    def ascend_resolver(self) -> None:
        pass


def _load_validated(text: str) -> Any:
    """What ``yaml.load(text, _BaseLoader)`` gives, for validated bytes, built in half the time.

    PyYAML's constructor walks every node through generic dispatch (~0.35 s for the 220,000 nodes of
    the bundled rules); strings, lists and mappings, nearly all of them, are built here directly, an
    alias's node once (as PyYAML shares it), anything else by PyYAML itself, and the tags come from
    `_QuickLoader`. Only for validated bytes: `scripts/gen_rule_digests.py` lists a file only when
    both ways build equal rules.
    """
    loader = (_QuickLoader if _QuickLoader.EXACT else _BaseLoader)(text)
    try:
        node = loader.get_single_node()
        built: dict[int, Any] = {}

        def build(node: Any) -> Any:
            tag = node.tag
            if tag == _STR:
                return node.value
            if id(node) in built:
                return built[id(node)]
            if tag == _MAP:
                mapping: dict[Any, Any] = {}
                built[id(node)] = mapping
                for key, value in node.value:
                    mapping[build(key)] = build(value)
                return mapping
            if tag == _SEQ:
                items: list[Any] = []
                built[id(node)] = items
                items.extend(build(item) for item in node.value)
                return items
            return loader.construct_object(node, deep=True)

        return None if node is None else build(node)
    finally:
        loader.dispose()


def validated(display: str, data: bytes) -> bool:
    """Did the test suite validate exactly these bytes, shown under this name, against the schema in
    use (`rule_digests`, written by ``scripts/gen_rule_digests.py``)? Then `load_rule_text` only
    parses and builds them. Any other bytes (a user's rule file, an edited bundled one, any file once
    the schema changes) get every check, and so exactly the errors they always got."""
    from . import rule_digests

    return (rule_digests.FILES.get(display) == hashlib.sha256(data).hexdigest()
            and rule_digests.SCHEMA == _schema_digest())


@lru_cache(maxsize=1)
def _schema_digest() -> str:
    return hashlib.sha256(resources.files(__package__).joinpath("rule_schema.yaml").read_bytes()).hexdigest()


def _locate(data: Any, path: Iterable[Any], lines: dict[int, int]) -> tuple[str, int]:
    """Rule id and best line for a schema error at ``path`` inside ``data``."""
    rule_id, line, node = "?", lines.get(id(data), 1), data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict):
            line = lines.get(id(node), line)
            if rule_id == "?" and isinstance(node.get("id"), str):
                rule_id = node["id"]
    return rule_id, line


def _targets(raw: dict[str, Any]) -> dict[str, TargetInfo]:
    return {
        name: TargetInfo.from_raw(entry)
        for name, entry in raw.items()
    }


def _portable(raw: list[dict[str, Any]] | None) -> tuple[Portable, ...]:
    return tuple(Portable(p["replacement"], p.get("min_torch")) for p in raw or ())


def _match(raw: dict[str, Any]) -> Match:
    strings = raw.get("strings") or {}
    when = raw.get("when")
    return Match(
        qualified=tuple(raw.get("qualified", ())),
        prefixes=tuple(raw.get("prefixes", ())),
        methods=tuple(raw.get("methods", ())),
        attributes=tuple(raw.get("attributes", ())),
        imports=tuple(raw.get("imports", ())),
        string_pattern=strings.get("pattern"),
        string_contexts=tuple(StringContext(**ctx) for ctx in strings.get("contexts", ())),
        when=CallCondition(
            any_string=when.get("any_string"),
            keywords=tuple(when.get("keywords", ())),
            true_keywords=tuple(when.get("true_keywords", ())),
            call=bool(when.get("call")),
            calls=bool(when.get("calls", False)),
            value_used=bool(when.get("value_used", False)),
        )
        if when
        else None,
        triggers=tuple(raw.get("triggers", ())),
        identifiers=tuple(raw.get("identifiers", ())),
        scoped=tuple(raw.get("scoped", ())),
        scoped_prefixes=tuple(raw.get("scoped_prefixes", ())),
        includes=tuple(raw.get("includes", ())),
        patterns=tuple(raw.get("patterns", ())),
        constructs=tuple(raw.get("constructs", ())),
        asm=raw.get("asm"),
        files=tuple(raw.get("files", ())),
        lines=tuple(raw.get("lines", ())),
        packages=tuple(raw.get("packages", ())),
        local_versions=raw.get("local_versions"),
    )


def _build_rule(raw: dict[str, Any], source: str) -> Rule:
    default = SymbolInfo(_targets(raw["targets"]), _portable(raw.get("portable")))
    symbols = SymbolTable(raw.get("symbols") or {}, default)
    return Rule(
        id=raw["id"],
        name=raw["name"],
        category=raw["category"],
        languages=tuple(raw["languages"]),
        severity=raw["severity"],
        message=raw["message"],
        match=_match(raw["match"]),
        default=default,
        symbols=symbols,
        docs=raw["docs"].strip(),
        source=source,
        min_torch=raw.get("min_torch"),
        title=raw.get("title", ""),
    )


def _check_regexes(raw: dict[str, Any], where: str) -> None:
    match = raw["match"]
    named = [ctx.get("named") for ctx in (match.get("strings") or {}).get("contexts", ())]
    patterns = [*named, (match.get("strings") or {}).get("pattern"), (match.get("when") or {}).get("any_string"),
                match.get("asm"), match.get("local_versions"), *match.get("patterns", ()), *match.get("lines", ()),
                *(p[1:-1] for p in match.get("packages", ()) if len(p) > 2 and p.startswith("/") and p.endswith("/"))]
    for pattern in filter(None, patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RuleError(f"{where}: invalid regex {pattern!r}: {exc}") from None


def load_rule_text(raw_bytes: bytes, shown: str, validated: bool = False) -> list[Rule]:
    """Validate one rule file's bytes; raise `RuleError` with a one-line message on any problem.

    ``validated`` says these exact bytes already passed every check below under this schema (a
    bundled file whose digest `rule_digests` records, `validated`): they are only parsed and
    built. The checks cost ~1 s of a first run, and their verdict depends on nothing but the bytes
    and the schema, so repeating them on bytes the test suite checked cannot change it.
    """
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RuleError(f"{shown}: rule file is not UTF-8: {exc.reason}") from None
    if validated:
        return [_build_rule(raw, shown) for raw in _load_validated(text)["rules"]]
    data: Any
    try:
        data, lines = _load_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at_line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RuleError(f"{shown}{at_line}: invalid YAML: {problem}") from None
    except LimitError as exc:
        raise RuleError(f"{shown}: {exc}") from None
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(_without_symbols(data)))
    if error is None and isinstance(data, dict):
        error = _symbols_error(data, lines)
    if error is not None:
        rule_id, line = _locate(data, error.absolute_path, lines)
        where = "/".join(str(p) for p in error.absolute_path) or "<root>"
        raise RuleError(f"{shown}:{line}: rule {rule_id}: {error.message} (at {where})")
    rules = []
    for raw in data["rules"]:
        where = f"{shown}:{lines.get(id(raw), 1)}: rule {raw['id']}"
        _check_regexes(raw, where)
        unknown = set(raw.get("symbols") or ()) - _declared_symbols(raw["match"])
        if unknown:
            raise RuleError(f"{where}: symbols not named in match: {', '.join(sorted(unknown))}")
        rules.append(_build_rule(raw, shown))
    return rules


def _without_symbols(data: Any) -> Any:
    """The file with every rule's ``symbols`` map left out (checked by `_symbols_error` instead).

    Generated files hold ~14,000 per-symbol overrides; jsonschema took ~7 s on them, the same checks
    in plain Python take milliseconds. tests/test_ruleset.py holds the two to the same verdicts, and
    validates the shipped files against the full schema.
    """
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return data
    rules = [{k: v for k, v in r.items() if k != "symbols"} if isinstance(r, dict) else r for r in data["rules"]]
    return {**data, "rules": rules}


_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


class _SymbolError(Exception):
    def __init__(self, path: list[Any], message: str) -> None:
        super().__init__(message)
        self.absolute_path = path
        self.message = message


def _symbols_error(data: dict[str, Any], lines: dict[int, int]) -> _SymbolError | None:
    """The first problem in any rule's ``symbols`` map, shaped like a jsonschema error."""
    for index, rule in enumerate(data.get("rules", [])):
        symbols = rule.get("symbols")
        if symbols is None:
            continue
        base: list[Any] = ["rules", index, "symbols"]
        if not isinstance(symbols, dict):
            return _SymbolError(base, f"{symbols!r} is not of type 'object'")
        for name, override in symbols.items():
            problem = _override_problem(override)
            if problem is not None:
                return _SymbolError(base + [name, *problem[0]], problem[1])
    return None


def _override_problem(override: Any) -> tuple[list[Any], str] | None:
    if not isinstance(override, dict):
        return [], f"{override!r} is not of type 'object'"
    extra = set(override) - {"targets", "portable"}
    if extra:
        return [], f"Additional properties are not allowed ({', '.join(map(repr, sorted(extra)))} unexpected)"
    targets = override.get("targets", {})
    if not isinstance(targets, dict):
        return ["targets"], f"{targets!r} is not of type 'object'"
    for target, info in targets.items():
        if target not in TARGETS:
            return ["targets"], f"Additional properties are not allowed ({target!r} was unexpected)"
        if not isinstance(info, dict):
            return ["targets", target], f"{info!r} is not of type 'object'"
        if "status" not in info:
            return ["targets", target], "'status' is a required property"
        if info["status"] not in STATUSES:
            return ["targets", target, "status"], f"{info['status']!r} is not one of {list(STATUSES)}"
        for key, value in info.items():
            if key == "replacement" and not (isinstance(value, str) and value):
                return ["targets", target, key], f"{value!r} is not a non-empty string"
            if key == "min_torch" and not (isinstance(value, str) and _VERSION.match(value)):
                return ["targets", target, key], f"{value!r} does not match '{_VERSION.pattern}'"
            if key == "versions" and not (isinstance(value, dict) and all(
                    isinstance(v, str) and _VERSION.match(v) and isinstance(f, dict) and f.get("status") in STATUSES
                    and set(f) <= {"status", "replacement"} for v, f in value.items())):
                return ["targets", target, key], f"{value!r} is not a mapping of versions to {{status, replacement}}"
            if key not in ("status", "replacement", "min_torch", "versions"):
                return ["targets", target], f"Additional properties are not allowed ({key!r} was unexpected)"
    portable = override.get("portable", [])
    if not isinstance(portable, list):
        return ["portable"], f"{portable!r} is not of type 'array'"
    for position, option in enumerate(portable):
        if not isinstance(option, dict) or not isinstance(option.get("replacement"), str) or not option["replacement"]:
            return ["portable", position], "'replacement' is a required non-empty string"
        if set(option) - {"replacement", "min_torch"}:
            return ["portable", position], "Additional properties are not allowed"
        if "min_torch" in option and not (isinstance(option["min_torch"], str) and _VERSION.match(option["min_torch"])):
            return ["portable", position, "min_torch"], f"{option['min_torch']!r} does not match '{_VERSION.pattern}'"
    return None


def _declared_symbols(match: dict[str, Any]) -> set[str]:
    declared = set()
    for key in ("qualified", "methods", "attributes", "imports", "identifiers", "scoped", "includes", "packages"):
        declared.update(match.get(key, ()))
    return declared


