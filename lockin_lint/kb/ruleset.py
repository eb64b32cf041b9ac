"""The loaded knowledge base: find rule files, load them (from the cache when unchanged), check ids.

Rule files are the product's knowledge base, and users may add their own, so a broken file must
fail loudly with the file, rule id and line named (exit 2) rather than silently losing rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping
from pathlib import Path

from .. import __version__
from ..limits import LimitError, read_regular
from ..model import Rule
from .errors import RuleError

if TYPE_CHECKING:
    from .cuda_index import CudaIndex
    from .python_index import PythonIndex

#: A selection of Python rules: ``--select`` codes, ``--ignore`` codes, and rules matched anyway
#: (`python_index.build_python_index`'s ``also``).
Selection = tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]
#: A run without ``--select`` or ``--ignore``: its compiled Python index is cached with the rules.
DEFAULT_SELECTION: Selection = ((), (), frozenset())
#: A selection of C/C++ rules: ``--select`` and ``--ignore`` codes.
CudaSelection = tuple[tuple[str, ...], tuple[str, ...]]
#: The C/C++ rules as the cache stores them: the rules, and the default selection's compiled index
#: (None when it could not be built).
HeavyPart = tuple[tuple[Rule, ...], "CudaIndex | None"]
#: The other rules as the cache stores them: the rules, the catalog of every rule, and the default
#: selection's compiled Python index (None when it could not be built).
LightPart = tuple[tuple[Rule, ...], tuple["RuleEntry", ...], "PythonIndex | None"]


#: The installed package's directory (what ``importlib.resources.files`` gives for a package on disk,
#: without importing it: 9 ms of start-up).
_PACKAGE = Path(__file__).parent.parent


def rules_dir() -> Path:
    """Where the bundled rules live: inside the installed package, or at the repo root in a checkout."""
    packaged = _PACKAGE / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.yaml") if p.is_file())


#: The language whose compiled rules are ~90% of the knowledge base (14,000 C/C++ names): loaded only
#: when a run meets a C/C++/CUDA file, so a Python-only run (a pre-commit hook on staged ``.py``
#: files, an editor) starts without unpickling it.
HEAVY_LANGUAGE = "cuda"


@dataclass(frozen=True, slots=True)
class RuleEntry:
    """What selection needs of a rule (``--select``/``--ignore`` by id, prefix, name or category)."""

    id: str
    name: str
    category: str


class RuleSet:
    """All loaded rules, in id order, plus the fingerprint of the files they came from.

    The C/C++ rules are held apart and may be loaded lazily (``heavy`` is then a loader); everything
    that asks for all rules (`rules`, `by_id`) loads them, what asks by language does only when needed.
    The other rules, with the catalog and the default Python index, may be a loader too (``light``):
    a run that replays its stored output (`cli_memo`) needs only the fingerprint, and unpickling them
    was a fifth of its start-up.
    """

    def __init__(self, light: tuple[Rule, ...] | Callable[[], LightPart],
                 heavy: tuple[Rule, ...] | Callable[[], HeavyPart],
                 catalog: tuple[RuleEntry, ...] | None, fingerprint: str = "",
                 indexes: Mapping[Selection, PythonIndex] | None = None) -> None:
        self._light = light
        self._heavy = heavy
        self._catalog = catalog  # None while ``light`` is a loader: it comes with the light rules
        #: Changes whenever any rule file, the schema, the loader, the index or the version does (result
        #: caches key on it).
        self.fingerprint = fingerprint
        self._all: tuple[Rule, ...] | None = None
        self._indexes: dict[Selection, PythonIndex] = dict(indexes or {})
        self._cuda_indexes: dict[CudaSelection, CudaIndex] = {}

    @classmethod
    def of(cls, rules: tuple[Rule, ...] | list[Rule], fingerprint: str = "") -> RuleSet:
        ordered = tuple(sorted(rules, key=lambda r: r.id))
        light = tuple(r for r in ordered if HEAVY_LANGUAGE not in r.languages)
        heavy = tuple(r for r in ordered if HEAVY_LANGUAGE in r.languages)
        return cls(light, heavy, tuple(RuleEntry(r.id, r.name, r.category) for r in ordered), fingerprint)

    @property
    def light(self) -> tuple[Rule, ...]:
        """Every rule but the C/C++ ones, loaded now if they were not yet."""
        if callable(self._light):
            rules, catalog, index = self._light()
            self._light, self._catalog = rules, catalog
            if index is not None:
                self._indexes.setdefault(DEFAULT_SELECTION, index)
        return self._light

    @property
    def catalog(self) -> tuple[RuleEntry, ...]:
        """Every rule's id, name and category (selection's vocabulary), in id order."""
        light = self.light
        assert self._catalog is not None, light  # set with the light rules
        return self._catalog

    def heavy_rules(self) -> tuple[Rule, ...]:
        """The C/C++ rules, loaded now if they were not yet."""
        if callable(self._heavy):
            rules, index = self._heavy()
            self._heavy = rules
            if index is not None:
                self._cuda_indexes[((), ())] = index
        return self._heavy

    @property
    def rules(self) -> tuple[Rule, ...]:
        if self._all is None:
            self._all = tuple(sorted((*self.light, *self.heavy_rules()), key=lambda r: r.id))
        return self._all

    def for_language(self, language: str) -> tuple[Rule, ...]:
        """The rules of one language, without loading the C/C++ rules for any other language."""
        part = self.heavy_rules() if language == HEAVY_LANGUAGE else self.light
        return tuple(r for r in part if language in r.languages)

    def python_index(self, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
                     also: frozenset[str] = frozenset()) -> PythonIndex:
        """The selected Python rules compiled (`python_index.build_python_index`), once per selection:
        the default selection's comes from the rules cache with the rules it points at, so a run
        that checks one Python file does not spend 15 ms compiling it again."""
        key = (tuple(select), tuple(ignore), frozenset(also))
        self.light  # loads the cached default index with the rules
        index = self._indexes.get(key)
        if index is None:
            from .python_index import build_python_index

            index = self._indexes[key] = build_python_index(self, *key)
        return index

    def cuda_index(self, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> CudaIndex:
        """The selected C/C++ rules compiled (`cuda_index.build_cuda_index`), once per selection: the
        default selection's comes from the rules cache with the C/C++ rules (building it took 50 ms of
        every run that meets a C/C++ file; its regexes are compiled on first use, `lazy_regex`)."""
        key = (tuple(select), tuple(ignore))
        self.heavy_rules()  # loads the cached default index with the rules
        index = self._cuda_indexes.get(key)
        if index is None:
            from .cuda_index import build_cuda_index

            index = self._cuda_indexes[key] = build_cuda_index(self, *key)
        return index

    def by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def lookup(self) -> RuleLookup:
        """Rules by id, loading the C/C++ rules only when one of them is asked for."""
        return RuleLookup(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleSet) and self.rules == other.rules

    __hash__ = None  # type: ignore[assignment]  # mutable cache inside; compared by content

    def __reduce__(self) -> tuple[Any, ...]:  # a spawned worker gets every rule, not a loader
        return (RuleSet.of, (self.rules, self.fingerprint))

    def light_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.light}


class RuleLookup(Mapping[str, Rule]):
    """A read-only mapping by rule id over a `RuleSet` that loads the C/C++ rules on first need."""

    def __init__(self, ruleset: RuleSet) -> None:
        self._ruleset = ruleset
        self._light = ruleset.light_by_id()
        self._ids = tuple(entry.id for entry in ruleset.catalog)
        self._all: dict[str, Rule] | None = None

    def __getitem__(self, rule_id: str) -> Rule:
        rule = self._light.get(rule_id)
        if rule is not None:
            return rule
        if self._all is None:
            self._all = self._ruleset.by_id()
        return self._all[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


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
    That key is itself remembered under the files' stats (`cache.known_key`): reading and hashing the
    3 MB of rule files took 8 ms of every run's start-up.
    """
    from . import cache

    sources = _sources(directory, extra)
    if not use_cache:
        contents = _contents(sources)
        return _build(contents, _cache_key(contents))
    inputs = [path for _, path in sources] + [_PACKAGE.joinpath(*name.split("/")) for name in _CACHE_INPUTS]
    stats = cache.file_stats(inputs)
    name = "rules-key-" + hashlib.sha256(repr((__version__, sources)).encode()).hexdigest()[:16]
    key = cache.known_key(name, stats)
    if key is not None:
        cached = _from_cache(key, lambda: _contents(sources))
        if cached is not None:
            return cached
    contents = _contents(sources)
    key = _cache_key(contents)
    cache.remember_key(name, stats, key)
    cached = _from_cache(key, lambda: contents)
    if cached is not None:
        return cached
    ruleset = _build(contents, key, store_key=key)
    _store(key, ruleset)
    return ruleset


def _store(key: str, ruleset: RuleSet) -> LightPart:
    """Write the compiled parts of ``ruleset`` under ``key``; returns the light part as stored. C/C++
    rules `_build` left unparsed are stored when a run first needs them (`_store_heavy`)."""
    from . import cache

    if not callable(ruleset._heavy):
        _store_heavy(key, ruleset)
    light = (ruleset.light, ruleset.catalog, _default_index(ruleset))
    cache.store(f"{key}-light", light)
    return light


def _store_heavy(key: str, ruleset: RuleSet) -> HeavyPart:
    """Write ``ruleset``'s C/C++ rules and their default index under ``key``; returns them."""
    from . import cache

    part = (ruleset.heavy_rules(), _default_cuda_index(ruleset))
    cache.store(f"{key}-{HEAVY_LANGUAGE}", {"rules": part[0], "index": part[1]})
    return part


def _contents(sources: list[tuple[str, Path]]) -> list[tuple[str, bytes]]:
    contents = []
    for display, path in sources:
        try:
            contents.append((display, read_regular(path)))  # a FIFO would block, /dev/zero never end
        except OSError as exc:
            raise RuleError(f"{display}: cannot read rule file: {exc.strerror}") from None
        except LimitError as exc:
            raise RuleError(f"{display}: cannot read rule file: {exc}") from None
    return contents


def _from_cache(key: str, contents: Callable[[], list[tuple[str, bytes]]]) -> RuleSet | None:
    """The rule set compiled under ``key``, each of its two parts loaded on first use (rebuilt from
    ``contents`` if that entry is unreadable then); None when the light part is not cached."""
    from . import cache

    if not cache.stored(f"{key}-light"):
        return None

    def light() -> LightPart:
        cached = cache.load(f"{key}-light")
        if isinstance(cached, tuple) and len(cached) == 3:
            return cached  # type: ignore[no-any-return]
        ruleset = _build(contents(), key)  # unsigned, stale or corrupt: rebuilt, and stored again
        return _store(key, ruleset)

    def heavy() -> HeavyPart:
        cached = cache.load(f"{key}-{HEAVY_LANGUAGE}")
        if isinstance(cached, dict) and isinstance(cached.get("rules"), tuple):
            return cached["rules"], cached.get("index")
        return _store_heavy(key, _build(contents(), key))  # not stored yet (a first run met no C/C++), or corrupt

    return RuleSet(light, heavy, None, key)


def _default_index(ruleset: RuleSet) -> PythonIndex | None:
    """The default selection's index, pickled with the light rules (so it points at the same rule
    objects); None when the rules cannot be compiled, which a run then reports as it always did."""
    try:
        return ruleset.python_index(*DEFAULT_SELECTION)
    except RuleError:
        return None


def _default_cuda_index(ruleset: RuleSet) -> CudaIndex | None:
    """The default selection's C/C++ index, pickled with the C/C++ rules it points at; None when
    the rules cannot be compiled (a run then reports it when it builds the index)."""
    try:
        return ruleset.cuda_index()
    except RuleError:
        return None


#: Files whose content shapes the cached objects (the rules, and the compiled Python index stored
#: with them): a change to any of them invalidates the cache, so a developer editing the loader or
#: the index never gets a stale, differently shaped rule set back.
_CACHE_INPUTS = ("kb/rule_schema.yaml", "model.py", "kb/loader.py", "kb/python_index.py", "kb/cuda_index.py",
                 "kb/cuda_words.py", "kb/lazy_regex.py", "kb/torch_cpp.py")


def _cache_key(contents: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(__version__.encode())
    for name in _CACHE_INPUTS:
        digest.update(_PACKAGE.joinpath(*name.split("/")).read_bytes())
    for display, data in contents:
        digest.update(b"\0" + display.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:32]


def _build(contents: list[tuple[str, bytes]], fingerprint: str, store_key: str | None = None) -> RuleSet:
    """The rule set of ``contents``. A validated file of C/C++ rules only (`rule_digests.HEAVY`, which
    gives its rules' ids, names and categories) is parsed only when the C/C++ rules are first asked
    for: they are ~85% of the rules' YAML, and a first run on Python files never needs them. With
    ``store_key``, they are then stored in the cache under it (`_store` stored the rest)."""
    from . import rule_digests
    from .loader import load_rule_text, validated

    seen: dict[str, str] = {}
    rules: list[Rule] = []
    later: list[tuple[str, bytes]] = []
    entries: list[RuleEntry] = []
    for display, data in contents:
        trusted = validated(display, data)
        deferred = rule_digests.HEAVY.get(display) if trusted else None
        if deferred is None:
            loaded = load_rule_text(data, display, validated=trusted)
            rules += loaded
            ids = [rule.id for rule in loaded]
        else:
            later.append((display, data))
            entries += (RuleEntry(*entry) for entry in deferred)
            ids = [entry[0] for entry in deferred]
        for rule_id in ids:
            if rule_id in seen:
                raise RuleError(f"{display}: rule {rule_id}: id already defined in {seen[rule_id]}")
            seen[rule_id] = display
    if not later:
        return RuleSet.of(rules, fingerprint)
    now = RuleSet.of(rules)
    catalog = tuple(sorted((*now.catalog, *entries), key=lambda entry: entry.id))

    def heavy_part() -> HeavyPart:
        parsed = (rule for display, data in later for rule in load_rule_text(data, display, validated=True))
        part = tuple(sorted((*now.heavy_rules(), *parsed), key=lambda r: r.id))
        if store_key is None:
            return part, None
        return _store_heavy(store_key, RuleSet(now.light, part, catalog, fingerprint))

    return RuleSet(now.light, heavy_part, catalog, fingerprint)
