"""The loaded knowledge base: find rule files, load them (from the cache when unchanged), check ids.

Rule files are the product's knowledge base, and users may add their own, so a broken file must
fail loudly with the file, rule id and line named (exit 2) rather than silently losing rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .. import __version__
from ..limits import LimitError, read_regular
from ..model import Rule
from .errors import RuleError


def rules_dir() -> Path:
    """Where the bundled rules live: inside the installed package, or at the repo root in a checkout."""
    packaged = Path(str(resources.files("lockin_lint"))) / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.yaml") if p.is_file())


@dataclass(frozen=True)
class RuleSet:
    """All loaded rules, in id order, plus where they came from."""

    rules: tuple[Rule, ...]

    def by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}


def _sources(directory: Path | None, extra: tuple[str, ...]) -> list[tuple[str, Path]]:
    """Every rule file to load, with the name errors will show for it."""
    base = directory or rules_dir()
    if not base.is_dir():
        raise RuleError(f"{base}: rules directory not found")
    sources = [("rules/" + p.relative_to(base).as_posix(), p) for p in rule_files(base)]
    for raw in extra:
        path = Path(raw)
        if not path.exists():
            raise RuleError(f"{raw}: rule path not found")
        sources += [(str(p), p) for p in (rule_files(path) if path.is_dir() else [path])]
    return sources


def load_rules(directory: Path | None = None, extra: tuple[str, ...] = (), use_cache: bool = True) -> RuleSet:
    """Load every ``*.yaml`` under ``directory`` (default: the bundled rules) plus ``extra`` paths.

    Validating thousands of entries against the schema costs far more than a scan's start-up should,
    so the result is cached, keyed by the content of every rule file, the schema and the version.
    """
    from . import cache

    sources = _sources(directory, extra)
    contents = []
    for display, path in sources:
        try:
            contents.append((display, read_regular(path)))  # a FIFO would block, /dev/zero never end
        except OSError as exc:
            raise RuleError(f"{display}: cannot read rule file: {exc.strerror}") from None
        except LimitError as exc:
            raise RuleError(f"{display}: cannot read rule file: {exc}") from None
    key = _cache_key(contents)
    if use_cache:
        cached = cache.load(key)
        if isinstance(cached, RuleSet):
            return cached
    ruleset = _build(contents)
    if use_cache:
        cache.store(key, ruleset)
    return ruleset


#: Files whose content shapes the cached objects: a change to any of them invalidates the cache,
#: so a developer editing the loader never gets a stale, differently shaped rule set back.
_CACHE_INPUTS = ("kb/rule_schema.yaml", "model.py", "kb/loader.py")


def _cache_key(contents: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(__version__.encode())
    package = resources.files("lockin_lint")
    for name in _CACHE_INPUTS:
        digest.update(package.joinpath(*name.split("/")).read_bytes())
    for display, data in contents:
        digest.update(b"\0" + display.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:32]


def _build(contents: list[tuple[str, bytes]]) -> RuleSet:
    from .loader import load_rule_text

    seen: dict[str, str] = {}
    rules: list[Rule] = []
    for display, data in contents:
        for rule in load_rule_text(data, display):
            if rule.id in seen:
                raise RuleError(f"{display}: rule {rule.id}: id already defined in {seen[rule.id]}")
            seen[rule.id] = display
            rules.append(rule)
    rules.sort(key=lambda r: r.id)
    return RuleSet(tuple(rules))
