"""Configuration per document, resolved the way ``lockin-lint check`` resolves it.

An editor has no command line: each open file takes the nearest ``lockin-lint.toml`` or
``pyproject.toml`` with ``[tool.lockin-lint]`` above it (`project.config.find_config`, the CLI's own
walk), and the client's initialization options play the part of CLI flags, overriding the file. The
file is re-read when its modification time changes, so an edit to the configuration shows on the next
check without a restart. Paths are shown relative to the configuration's folder (the project root), or
else to the workspace folder holding the file: the same display path, hence the same fingerprints,
per-file-ignores and baseline matches, as running ``lockin-lint check`` from that folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kb.ruleset import RuleSet
from ..model import TARGETS, Settings
from ..project.baseline import BaselineError, load_baseline
from ..project.config import KEYS, Config, ConfigError, find_config, load_config
from ..project.discover import display_path

#: Where ``codeDescription.href`` points by default: the generated rule pages, one anchor per rule.
DEFAULT_DOCS_URL = "https://github.com/lockin-lint/lockin-lint/blob/main/docs/rules.md"
#: Quiet time after a keystroke before the document is checked again (an option can change it).
DEFAULT_DEBOUNCE_MS = 25

#: Initialization options that override the configuration file, as its own keys spell them.
OVERRIDABLE = ("targets", "select", "extend-select", "ignore", "torch-version", "per-file-ignores")
#: Initialization options of the server itself: key -> (check, what the value must be).
SERVER_KEYS: dict[str, tuple[Any, str]] = {
    "docs-url": (lambda v: isinstance(v, str) and bool(v), "a URL"),
    "debounce-ms": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10_000,
                    "a whole number of milliseconds from 0 to 10000"),
    "config": (lambda v: isinstance(v, str) and bool(v), "the path of a lockin-lint.toml or pyproject.toml"),
}


@dataclass(frozen=True)
class Options:
    """The client's initialization options, validated once at ``initialize``."""

    overrides: dict[str, Any] = field(default_factory=dict)
    docs_url: str = DEFAULT_DOCS_URL
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    config: Path | None = None


def parse_options(raw: object) -> Options:
    """Validate initialization options with the configuration file's own checks.

    Raises `ConfigError` naming the option, so a typo is shown instead of silently ignored.
    """
    if raw is None:
        return Options()
    if not isinstance(raw, dict):
        raise ConfigError("initializationOptions: must be an object")
    overrides: dict[str, Any] = {}
    for key, value in raw.items():
        if key in OVERRIDABLE:
            check, expected = KEYS[key]
        elif key in SERVER_KEYS:
            check, expected = SERVER_KEYS[key]
        else:
            known = ", ".join((*OVERRIDABLE, *SERVER_KEYS))
            raise ConfigError(f"initializationOptions: unknown key {key!r}; known keys: {known}")
        if not check(value):
            raise ConfigError(f"initializationOptions: {key!r} must be {expected}")
        if key in OVERRIDABLE:
            overrides[key] = value
    return Options(
        overrides=overrides,
        docs_url=raw.get("docs-url", DEFAULT_DOCS_URL),
        debounce_ms=raw.get("debounce-ms", DEFAULT_DEBOUNCE_MS),
        config=Path(raw["config"]).expanduser() if "config" in raw else None,
    )


@dataclass(frozen=True)
class Resolved:
    """Everything a check of one document needs besides its text."""

    settings: Settings
    config: Config
    #: The folder display paths are relative to (and that per-file-ignores globs match from).
    root: Path
    #: Fingerprints of the configuration's baseline (empty without one).
    baseline: frozenset[str] = frozenset()

    def shown(self, path: Path) -> str:
        return display_path(path, self.root)


def merge(config: Config, overrides: dict[str, Any], ruleset: RuleSet) -> Settings:
    """The configuration with the options on top, by the CLI's precedence (flags win over the file).

    Raises `ConfigError` for a rule code that matches nothing, as ``lockin-lint check`` refuses it.
    """
    select = tuple(overrides.get("select", config.select))
    select = (*select, *config.extend_select, *overrides.get("extend-select", ())) if select else ()
    ignore = tuple(overrides.get("ignore", config.ignore))
    per_file = config.per_file_ignores
    if "per-file-ignores" in overrides:
        per_file = tuple((glob, tuple(codes)) for glob, codes in overrides["per-file-ignores"].items())
    known = {r.id for r in ruleset.rules} | {r.category for r in ruleset.rules} | {r.name for r in ruleset.rules}
    for code in (*select, *ignore, *(c for _, codes in per_file for c in codes)):
        if not any(k.startswith(code) for k in known):
            where = config.path or "initializationOptions"
            raise ConfigError(f"{where}: select/ignore: {code!r} matches no rule id, prefix, name or category")
    targets = overrides.get("targets")
    return Settings(
        targets=tuple(t for t in TARGETS if t in targets) if targets else (config.targets or TARGETS),
        select=tuple(select),
        ignore=ignore,
        torch_version=overrides.get("torch-version", config.torch_version),
        extend_exclude=config.extend_exclude,
        exclude=config.exclude,
        per_file_ignores=per_file,
        respect_gitignore=config.respect_gitignore,
    )


class Resolver:
    """Finds and caches the configuration of each document; cheap enough to ask on every keystroke.

    The walk up the folders costs a few ``stat`` calls; a configuration is parsed again only when its
    file's modification time or size changes, or after `forget` (a watched-file notification).
    """

    def __init__(self, ruleset: RuleSet, options: Options, folders: list[Path]) -> None:
        self.ruleset = ruleset
        self.options = options
        #: Workspace folders, deepest first, so a file takes the innermost one.
        self.folders = sorted(folders, key=lambda p: len(p.parts), reverse=True)
        self._loaded: dict[Path, tuple[tuple[int, int], Resolved]] = {}

    def forget(self) -> None:
        self._loaded.clear()

    def resolve(self, path: Path | None) -> Resolved:
        """The settings for a file at ``path`` (None: an unsaved buffer, which gets the workspace's).

        Raises `ConfigError` or `BaselineError` with a one-line message naming the file.
        """
        start = path if path is not None else (self.folders[-1] if self.folders else Path.cwd())
        found = self.options.config or find_config([str(start)], Path(os.sep))
        if found is None:
            return Resolved(merge(Config(), self.options.overrides, self.ruleset), Config(), self._folder(path))
        try:
            stat = found.stat()
        except OSError as exc:
            raise ConfigError(f"{found}: cannot read configuration: {exc.strerror}") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._loaded.get(found)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        config = load_config(found)
        baseline = frozenset(load_baseline(config.baseline)) if config.baseline is not None else frozenset()
        resolved = Resolved(merge(config, self.options.overrides, self.ruleset), config, found.parent.resolve(),
                            baseline)
        self._loaded[found] = (stamp, resolved)
        return resolved

    def _folder(self, path: Path | None) -> Path:
        if path is None:
            return self.folders[-1] if self.folders else Path.cwd()
        for folder in self.folders:
            if path == folder or folder in path.parents:
                return folder
        return path.parent


__all__ = ["BaselineError", "ConfigError", "DEFAULT_DOCS_URL", "Options", "Resolved", "Resolver", "merge",
           "parse_options"]
