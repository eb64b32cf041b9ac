"""Compile loaded rules into lookup tables the Python matcher consumes in O(1) per name.

Rules are data; matching thousands of them one by one per node would be slow. The index is built once
per run (selection applied), and it also derives the prefilter's trigger tokens, so a rule can never be
added without the prefilter learning about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..model import Rule, StringContext
from .errors import RuleError

if TYPE_CHECKING:  # `RuleSet.python_index` builds and keeps the index: ruleset imports this module
    from .ruleset import RuleSet

#: Name components too common to be a useful prefilter token. Any component of a qualified name is a
#: *sound* trigger (a file can only reference ``a.b.c`` if it spells every component somewhere, in the
#: chain or in the import that aliases it); skipping these only picks a rarer one, for speed.
GENERIC_COMPONENTS = frozenset(
    {
        "torch",
        "os",
        "sys",
        "distributed",
        "distributed_c10d",
        "utils",
        "nn",
        "functional",
        "backends",
        "_C",
        "_distributed_c10d",
        "numba",
        "nvidia",
        "Tensor",
        "Module",
        "ops",
        "optim",
        "environ",
    }
)


#: How many answers `PythonIndex` keeps before starting afresh.
_ANSWERS_LIMIT = 100_000


def _trigger_for(dotted: str) -> str:
    parts = dotted.split(".")
    for part in parts:
        if part not in GENERIC_COMPONENTS:
            return part
    return parts[-1]


@dataclass(frozen=True)
class StringRule:
    rule: Rule
    pattern: re.Pattern[str]
    contexts: tuple[StringContext, ...]


@dataclass
class PythonIndex:
    """Lookup tables for one language's matcher, plus the prefilter tokens they imply."""

    qualified: dict[str, Rule] = field(default_factory=dict)
    prefixes: dict[str, Rule] = field(default_factory=dict)
    methods: dict[str, list[Rule]] = field(default_factory=dict)
    attributes: dict[str, list[Rule]] = field(default_factory=dict)
    imports: dict[str, Rule] = field(default_factory=dict)
    strings: list[StringRule] = field(default_factory=list)
    triggers: tuple[bytes, ...] = ()
    trigger_text: tuple[str, ...] = ()
    #: Whether every trigger is made of identifier bytes only (ASCII letters, digits, ``_`` and any
    #: non-ASCII byte): then each one occurs in a file exactly when it occurs in one of its words, and
    #: the prefilter looks for them in the file's distinct words instead of its bytes.
    triggers_are_words: bool = False
    #: Tokens that only count as a whole identifier (each a name part, of a rule without strings, that
    #: every other name part containing it is itself such a token): found through the file's set of
    #: words, so a pack of hundreds of API names costs one split per file, not one byte scan per token.
    word_triggers: frozenset[bytes] = frozenset()
    word_text: frozenset[str] = frozenset()
    #: Top-level modules that are CUDA-specific themselves (cupy, triton, apex, ...). A file can only
    #: use their names after importing them, so the prefilter looks for them in import lines instead of
    #: scanning every file's bytes for each of them.
    import_roots: frozenset[str] = frozenset()
    import_roots_bytes: frozenset[bytes] = frozenset()
    #: Every identifier that can be part of a match (name components, methods, attributes): an
    #: occurrence of a trigger inside any other identifier cannot produce a finding.
    name_parts: frozenset[str] = frozenset()
    #: Module paths below which some qualified name or prefix is indexed (for star imports).
    members_by_module: dict[str, list[str]] = field(default_factory=dict)
    #: Qualified names and prefixes of rules left out of the selection. A catch-all prefix
    #: (``torch.cuda``) must not report what a more specific rule claims: ``--ignore LL101`` means
    #: "do not report these calls", not "report them under LL110".
    unselected_qualified: frozenset[str] = frozenset()
    unselected_prefixes: frozenset[str] = frozenset()
    #: The lookups' answers by name: a project imports the same few hundred names in file after file
    #: (vLLM: 7,900 names from-imported in 666 files), and asking again cost about a sixth of its
    #: matching. An index is not changed once `build_python_index` returns it: no answer goes stale.
    _answers: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)

    def _answer(self, compute: Callable[[str], Any], name: str) -> Any:
        """``compute(name)``, asked once per name (``compute`` is one of the bound lookups below)."""
        key = (compute.__name__, name)
        try:
            return self._answers[key]
        except KeyError:
            if len(self._answers) >= _ANSWERS_LIMIT:  # a language server checks files for hours
                self._answers.clear()
            answer = self._answers[key] = compute(name)
            return answer

    def lookup_qualified(self, dotted: str) -> tuple[Rule, str] | None:
        """The rule for ``dotted`` or its longest indexed prefix, and the symbol it names."""
        answer: tuple[Rule, str] | None = self._answer(self._lookup_qualified, dotted)
        return answer

    def _lookup_qualified(self, dotted: str) -> tuple[Rule, str] | None:
        parts = dotted.split(".")
        for size in range(len(parts), 0, -1):
            name = ".".join(parts[:size])
            rule = self.qualified.get(name)
            if rule is not None:
                return rule, name
            if name in self.unselected_qualified:
                return None
            if size < len(parts):
                rule = self.prefixes.get(name)
                if rule is not None:
                    return rule, ".".join(parts[: size + 1])
                if name in self.unselected_prefixes:
                    return None
        return None

    def lookup_import(self, module: str) -> tuple[Rule, str] | None:
        """The import rule covering ``module`` (itself or a parent package) and the module it names."""
        answer: tuple[Rule, str] | None = self._answer(self._lookup_import, module)
        return answer

    def _lookup_import(self, module: str) -> tuple[Rule, str] | None:
        parts = module.split(".")
        for size in range(len(parts), 0, -1):
            name = ".".join(parts[:size])
            rule = self.imports.get(name)
            if rule is not None:
                return rule, name
        return None

    def has_trigger(self, dotted: str) -> bool:
        """Could a name at or below ``dotted`` match? (Decides which import aliases are tokens.)"""
        answer: bool = self._answer(self._has_trigger, dotted)
        return answer

    def _has_trigger(self, dotted: str) -> bool:
        return (dotted.split(".", 1)[0] in self.import_roots or any(t in dotted for t in self.trigger_text)
                or any(part in self.word_text for part in dotted.split(".")))

    def spells_trigger(self, name: str) -> bool:
        """Does the identifier ``name`` hold a trigger token, so that the prefilter's tokens already
        find it? (An import alias that does not is searched for as an extra token.)"""
        answer: bool = self._answer(self._spells_trigger, name)
        return answer

    def _spells_trigger(self, name: str) -> bool:
        return name in self.word_text or any(token in name for token in self.trigger_text)


def selects(rule: Rule, code: str) -> bool:
    """Whether one ``--select``/``--ignore`` code names ``rule``: an id or id prefix (``LL1``), or the
    whole name or category (``device-string``; ``device`` is no category, so it names nothing)."""
    return rule.id.startswith(code) or rule.category == code or rule.name == code


def selected(rule: Rule, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    def hits(patterns: tuple[str, ...]) -> bool:
        return any(selects(rule, p) for p in patterns)

    if select and not hits(select):
        return False
    return not hits(ignore)


def claim(table: dict[str, Rule], key: str, rule: Rule, kind: str) -> None:
    other = table.get(key)
    if other is not None and other.id != rule.id:
        raise RuleError(f"{rule.source}: rule {rule.id}: {kind} {key!r} is already matched by {other.id}")
    table[key] = rule


def minimal_tokens(tokens: set[str]) -> tuple[str, ...]:
    """Drop tokens that contain another token: the shorter one already finds them."""
    ordered = sorted(tokens, key=lambda t: (len(t), t))
    kept: list[str] = []
    for token in ordered:
        if not any(k in token for k in kept):
            kept.append(token)
    return tuple(sorted(kept))


def build_python_index(
    ruleset: RuleSet, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (), also: frozenset[str] = frozenset()
) -> PythonIndex:
    """The index of the selected Python rules, plus the rules ``also`` names (matched for what other
    rules need from them, e.g. the extension builds of LL600/LL601 for LL710; the engine drops their
    findings when they are not selected)."""
    index = PythonIndex()
    tokens: set[str] = set()
    string_tokens: set[str] = set()
    roots: set[str] = set()
    unselected_qualified: set[str] = set()
    unselected_prefixes: set[str] = set()
    for rule in ruleset.for_language("python"):
        if not (selected(rule, select, ignore) or rule.id in also):
            unselected_qualified.update(rule.match.qualified)
            unselected_prefixes.update(rule.match.prefixes)
            continue
        m = rule.match
        for name in m.qualified:
            claim(index.qualified, name, rule, "qualified name")
        for name in m.prefixes:
            claim(index.prefixes, name, rule, "prefix")
        for name in m.imports:
            claim(index.imports, name, rule, "import")
        for name in m.methods:
            index.methods.setdefault(name, []).append(rule)
        for name in m.attributes:
            index.attributes.setdefault(name, []).append(rule)
        if m.string_pattern:
            if not m.triggers:
                raise RuleError(f"{rule.source}: rule {rule.id}: a `strings` match needs `triggers`")
            index.strings.append(StringRule(rule, re.compile(m.string_pattern), m.string_contexts))
            string_tokens |= set(m.triggers)
        tokens |= _rule_tokens(rule, roots)
    for name in list(index.qualified) + list(index.prefixes):
        module, _, member = name.rpartition(".")
        if module:
            index.members_by_module.setdefault(module, []).append(member)
    index.import_roots = frozenset(roots)
    index.unselected_qualified = frozenset(unselected_qualified - set(index.qualified))
    index.unselected_prefixes = frozenset(unselected_prefixes - set(index.prefixes))
    index.name_parts = frozenset(
        part
        for name in (*index.qualified, *index.prefixes, *index.imports, *index.methods, *index.attributes)
        for part in name.split(".")
    )
    index.import_roots_bytes = frozenset(r.encode() for r in roots)
    words: set[str] = set()
    for token in sorted(tokens - string_tokens, key=len, reverse=True):  # a longer part is decided first
        if token.isidentifier() and all(part == token or part in words for part in index.name_parts if token in part):
            words.add(token)
    index.word_text = frozenset(words)
    index.word_triggers = frozenset(w.encode() for w in words)
    index.trigger_text = minimal_tokens(tokens - words)
    index.triggers = tuple(t.encode() for t in index.trigger_text)
    index.triggers_are_words = all(not c.isascii() or c.isalnum() or c == "_" for t in index.trigger_text for c in t)
    return index


def _rule_tokens(rule: Rule, roots: set[str]) -> set[str]:
    """Prefilter tokens for one rule: its explicit ``triggers``, or derived from each matched name.

    A module name whose top-level package is not generic (``cupy.RawKernel``, ``triton.jit``) adds
    that package to ``roots`` instead of a byte token. Explicit triggers replace derivation (a rule
    knows that ``NCCL`` is rarer than ``Backend``), so they are checked for soundness: each matched name
    must spell one inside a single component, otherwise a file using that name could be skipped unseen.
    """
    m = rule.match
    names = (*m.qualified, *m.prefixes, *m.imports, *m.methods, *m.attributes)
    if not m.triggers:
        tokens = {name for name in (*m.methods, *m.attributes)}
        for name in (*m.qualified, *m.prefixes, *m.imports):
            root = name.split(".", 1)[0]
            if root in GENERIC_COMPONENTS:
                tokens.add(_trigger_for(name))
            else:
                roots.add(root)
        return tokens
    for name in names:
        if not any(token in part for part in name.split(".") for token in m.triggers):
            raise RuleError(f"{rule.source}: rule {rule.id}: {name!r} contains none of its triggers {list(m.triggers)}")
    return set(m.triggers)
