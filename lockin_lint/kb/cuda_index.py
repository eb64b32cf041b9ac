"""Compile the C/C++/CUDA rules into lookup tables and a byte prefilter.

The knowledge base holds thousands of identifiers (HIPIFY's tables alone list ~10,000), far too many
to search one by one. Their spellings cluster into a few families (``cuda*``, ``cu[A-Z]*``,
``cublas*``, ``nccl*``, ``__shfl*``...), so each name contributes a short prefix token, tokens are
grouped by their first two bytes, and each group becomes one regex with a literal prefix, which
Python's ``re`` scans for at C speed. The matcher, once a file is parsed, finds its hits from the
file's identifiers instead (`CudaIndex.hit_words`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

from .cuda_words import NamespaceShape, line_safe, namespace_shapes
from .lazy_regex import LazyPattern
from .python_index import claim, minimal_tokens, selected
from ..model import Rule
from .torch_cpp import LIBRARY_IMPL_MACROS, LIBRARY_MACROS
from .prefilter import IDENT_BYTE
from .errors import RuleError

if TYPE_CHECKING:  # `RuleSet.cuda_index` builds and keeps the index: ruleset imports this module
    from .ruleset import RuleSet

#: Tokens for the structural constructs; they are what any file containing the construct must spell.
CONSTRUCT_TOKENS: dict[str, tuple[str, ...]] = {
    "kernel-definition": ("__global__",),
    "kernel-launch": ("<<<",),
    "dynamic-parallelism": ("<<<",),
    "launch-bounds": ("__launch_bounds__",),
    "inline-asm": ("asm",),
    "warp-size-literal": ("threadIdx", "lane", "Lane", "LANE", "warp", "Warp", "WARP"),
    "full-lane-mask": ("0xffffffff", "0xFFFFFFFF"),
    "torch-cuda-registration": ("TORCH_LIBRARY", "PYBIND11_MODULE"),
}

#: Identifiers (and keywords) through which the matcher reaches the structural constructs.
ASM_WORDS = ("asm", "__asm__", "__asm")
CONSTRUCT_WORDS = ("__global__", "__launch_bounds__", *ASM_WORDS, "threadIdx", "PYBIND11_MODULE",
                   *sorted(LIBRARY_MACROS | LIBRARY_IMPL_MACROS))
#: Macros that mean ``__device__`` (or ``__host__ __device__``) in the libraries CUDA code is written
#: with; the C/C++ pre-pass reads them as ``__device__``. They are no prefilter tokens: c10's headers
#: spell ``C10_HOST_DEVICE`` everywhere, and a CUDA header spelling them names ``cute``/``cutlass``/``cuda``.
DEVICE_MACROS = frozenset({
    "CUTLASS_DEVICE", "CUTLASS_HOST_DEVICE", "CUTE_DEVICE", "CUTE_HOST_DEVICE", "CUTE_HOST_DEVICE_INLINE",
    "C10_DEVICE", "C10_HOST_DEVICE", "C10_HOST_DEVICE_INLINE", "THRUST_DEVICE_FUNCTION", "THRUST_HOST_DEVICE",
    "CUB_DEVICE", "CUB_HOST_DEVICE", "CUB_RUNTIME_FUNCTION", "CCCL_DEVICE", "_CCCL_DEVICE", "_CCCL_HOST_DEVICE",
    "__host__device__", "HOST_DEVICE", "DEVICE_INLINE", "HOST_DEVICE_INLINE", "DEVICE_FUNCTION",
    "FLASHINFER_INLINE", "QUALIFIERS", "CUTLASS_HOST_DEVICE_INLINE",
})
#: Literal spellings the matcher finds by byte search (not identifiers).
CONSTRUCT_LITERALS = (b"<<<", b"0xffffffff", b"0xFFFFFFFF", b"#include")

#: Leading runs that make a name CUDA-specific on their own: a name starting with one of these
#: contributes its first four bytes as token (``cuMemAlloc`` -> ``cuMe``); any other name is covered
#: by a token it contains (``make_cudaExtent`` contains ``cuda``) or contributes itself.
_FAMILY_START = re.compile(r"^(?:cu|CU|nccl|NCCL|nv|NV|__|cub|thrust|cutlass|cute|wmma)")


#: How many names `CudaIndex.lookup_identifier` remembers (a few MB).
_MEMO_SIZE = 50_000


@dataclass
class CudaIndex:
    identifiers: dict[str, Rule] = field(default_factory=dict)
    scoped: dict[str, Rule] = field(default_factory=dict)
    scoped_prefixes: dict[str, Rule] = field(default_factory=dict)
    includes: dict[str, Rule] = field(default_factory=dict)
    include_prefixes: dict[str, Rule] = field(default_factory=dict)
    patterns: list[tuple[LazyPattern[str], Rule]] = field(default_factory=list)
    constructs: dict[str, list[Rule]] = field(default_factory=dict)
    methods: dict[str, list[Rule]] = field(default_factory=dict)
    asm_patterns: dict[str, LazyPattern[str]] = field(default_factory=dict)
    #: What decides whether a C/C++ file is parsed at all. Device functions (rule category
    #: ``kernel``: ``rsqrt``, ``__ldg``, ...) only count inside device code, which a non-``.cu``
    #: file can only have if it spells ``__device__`` or ``__global__``; so their tokens (many of
    #: them ordinary C math names) are replaced here by those two markers.
    prefilter: tuple[LazyPattern[bytes], ...] = ()
    prefilter_words: tuple[LazyPattern[bytes], ...] = ()
    #: Whole identifiers worth a look in a parsed file; the matcher intersects them with the file's
    #: own identifiers (one ``findall`` and a set operation, both at C speed) instead of running
    #: every prefilter regex over the file again.
    hit_words: frozenset[bytes] = frozenset()
    #: The catch-all identifier patterns as one regex, tried on each distinct identifier of a file.
    catch_all: LazyPattern[bytes] | None = None
    #: The same alternatives searched over a file's distinct words joined by newlines, one search at C
    #: speed instead of a ``fullmatch`` per word; None when a pattern could match across lines
    #: (`cuda_words.line_safe`), and then each word is tried.
    catch_all_lines: LazyPattern[bytes] | None = None
    #: The `hit_words` through which a file can reach a finding wherever it spells them: identifiers,
    #: methods, construct words (`analyzers.cpp_gate`).
    direct_words: frozenset[bytes] = frozenset()
    #: The `hit_words` that are a scoped name's namespace token (``cuda`` of ``at::cuda::...``, not
    #: an identifier of any rule): they reach a finding only next to ``::``, ``<``, ``=`` or in a
    #: ``using namespace`` (`analyzers.cpp_gate`). The other hit words are last components of scoped
    #: names, reached only together with such a token.
    namespace_words: frozenset[bytes] = frozenset()
    #: Per namespace word, where it stands in the names it is the token of (`NamespaceShape`).
    namespace_shapes: dict[bytes, NamespaceShape] = field(default_factory=dict)
    #: Method names no other table holds (``is_cuda``): a finding only as ``.name(`` / ``->name(``.
    method_words: frozenset[bytes] = frozenset()
    #: Device functions (``rsqrt``, ``erfinv``: ordinary C math names outside device code) and the
    #: inline-assembly keywords: findings only inside device code (`analyzers.cpp_gate`).
    device_words: frozenset[bytes] = frozenset()
    #: Any include path or path prefix of the rules, as one regex: an include finding's path spells one.
    include_spelling: LazyPattern[bytes] | None = None
    #: Every namespace that holds a scoped name or prefix (``at``, ``at::cuda``, ``nvcuda::wmma``).
    namespaces: set[str] = field(default_factory=set)
    #: Last components of scoped names, so a bare use after ``using namespace`` can be resolved.
    scoped_by_last: dict[str, list[str]] = field(default_factory=dict)
    #: Exact names of rules left out of the selection: the catch-all patterns and namespace
    #: prefixes must not report what a more specific rule claims (``--ignore`` must ignore).
    unselected: frozenset[str] = frozenset()
    #: `lookup_identifier`'s answers by name: a large file spells the same names thousands of times,
    #: and a name no table holds is tried against every catch-all pattern (RedispatchFunctions.h:
    #: 190,000 pattern matches for 8,800 names).
    _identifier_memo: dict[str, tuple[Rule, str] | None] = field(default_factory=dict, repr=False, compare=False)
    _include_memo: dict[str, tuple[Rule, str] | None] = field(default_factory=dict, repr=False, compare=False)

    def compile(self) -> None:
        """Compile every regex now: before a process pool forks, so that its workers share them."""
        for regex in (*self.prefilter, *self.prefilter_words, *(p for p, _ in self.patterns), *self.asm_patterns.values(),
                      self.catch_all, self.catch_all_lines, self.include_spelling):
            if regex is not None:
                regex.compiled

    @cached_property
    def catch_all_ids(self) -> frozenset[str]:
        """Ids of the rules that match by name pattern (unknown CUDA-like names, LC9xxx); asked for each
        finding of a file, so kept (the index is complete once built)."""
        return frozenset(rule.id for _, rule in self.patterns)

    def lookup_scoped(self, name: str) -> tuple[Rule, str] | None:
        """The rule for ``a::b::c`` or its longest namespace prefix, and the symbol it names."""
        rule = self.scoped.get(name)
        if rule is not None:
            return rule, name
        if name in self.unselected:
            return None
        parts = name.split("::")
        for size in range(len(parts) - 1, 0, -1):
            prefix = "::".join(parts[:size])
            rule = self.scoped_prefixes.get(prefix)
            if rule is not None:
                return rule, name
        return None

    def lookup_include(self, path: str) -> tuple[Rule, str] | None:
        try:  # the same few hundred paths in every file of a project
            return self._include_memo[path]
        except KeyError:
            if len(self._include_memo) >= _MEMO_SIZE:
                self._include_memo.clear()
            found = self._include_memo[path] = self._lookup_include(path)
            return found

    def _lookup_include(self, path: str) -> tuple[Rule, str] | None:
        rule = self.includes.get(path)
        if rule is not None:
            return rule, path
        if path in self.unselected:
            return None
        parts = path.split("/")
        for size in range(len(parts) - 1, 0, -1):
            prefix = "/".join(parts[:size]) + "/"
            rule = self.include_prefixes.get(prefix)
            if rule is not None:
                return rule, prefix
        return None

    def lookup_identifier(self, name: str) -> tuple[Rule, str] | None:
        try:
            return self._identifier_memo[name]
        except KeyError:
            if len(self._identifier_memo) >= _MEMO_SIZE:  # bounded: a worker reads thousands of files
                self._identifier_memo.clear()
            found = self._identifier_memo[name] = self._lookup_identifier(name)
            return found

    def _lookup_identifier(self, name: str) -> tuple[Rule, str] | None:
        rule = self.identifiers.get(name)
        if rule is not None:
            return rule, name
        if name in self.unselected:
            return None
        for pattern, rule in self.patterns:
            if pattern.fullmatch(name):
                return rule, name
        return None


def _pattern_prefilter(pattern: str) -> LazyPattern[bytes]:
    """An identifier regex as a prefilter regex: anchors and a trailing ``\\w*`` dropped.

    ``^cu[A-Z]\\w*$`` becomes ``cu[A-Z]``: it must start with a literal of two or more characters,
    which is what keeps the scan fast (and what stops a catch-all from passing every file)."""
    body = pattern.removeprefix("^").removesuffix("$")
    body = re.sub(r"(\\w\*|\\w\+|\[[^\]]*\]\*)$", "", body)
    literal = re.match(r"[A-Za-z0-9_]+", body)
    if literal is None or len(literal.group(0)) < 2:
        raise ValueError(pattern)
    return LazyPattern(body.encode())


def _name_tokens(names: list[str]) -> tuple[set[str], set[str]]:
    """Prefilter tokens for identifiers, scoped names and include paths: (family prefixes, words).

    Any text a file must contain to use the name is a sound token; short family prefixes (``cuMe``
    for ``cuMemAlloc``) keep the count low and may sit inside a longer name. A name no family prefix
    covers contributes itself, and a scoped name its first distinctive namespace (`_namespace_token`);
    those stand for whole identifiers (``cute`` is a namespace, not the middle of ``execute``), so the
    prefilter may require them as whole words.
    """
    family = {n[:4] for n in names if "::" not in n and _FAMILY_START.match(n)}
    covered = re.compile("|".join(re.escape(f) for f in sorted(family))) if family else None
    words = set()
    for name in names:
        text = _namespace_token(name) if "::" in name else name
        if covered is None or not covered.search(text):
            words.add(text)
    return family, words - family


#: Namespaces too common to tell a file anything (``at::cuda::X`` is found by ``cuda``).
_GENERIC_NAMESPACES = frozenset({"at", "c10", "torch", "std", "detail", "native", "impl", "nvcuda"})


def _namespace_token(name: str) -> str:
    """The first distinctive namespace of a scoped name (``thrust`` for ``thrust::sort``).

    Every way to reach the name spells it: ``thrust::sort``, ``using namespace thrust;`` or a
    namespace alias ``namespace t = thrust;``. The matcher then finds unqualified uses through the
    file's using-directives; the last component (``sort``) would match half of all C++ files.
    """
    for part in name.split("::"):
        if part not in _GENERIC_NAMESPACES and len(part) >= 3:
            return part
    return name.rsplit("::", 1)[-1]


def _regexes(tokens: Iterable[str], suffix: bytes = b"") -> tuple[LazyPattern[bytes], ...]:
    """One regex per two-byte prefix, so ``re`` can use its fast literal-prefix search."""
    groups: dict[str, set[str]] = defaultdict(set)
    for token in tokens:
        groups[token[:2]].add(token[2:])
    compiled = []
    for head, tails in sorted(groups.items()):
        alternatives = sorted(tails, key=lambda t: (-len(t), t))
        if "" in tails:
            body = ""
        else:
            body = "(?:" + "|".join(re.escape(t) for t in alternatives) + ")"
        compiled.append(LazyPattern((re.escape(head) + body).encode() + suffix))
    return tuple(compiled)


def build_cuda_index(ruleset: RuleSet, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> CudaIndex:
    index = CudaIndex()
    tokens: set[str] = set()
    triggers: set[str] = set()
    names: list[str] = []
    has_device_names = False
    pattern_regexes: list[LazyPattern[bytes]] = []
    unselected: set[str] = set()
    for rule in ruleset.for_language("cuda"):
        if not selected(rule, select, ignore):
            unselected.update((*rule.match.identifiers, *rule.match.scoped, *rule.match.includes))
            continue
        m = rule.match
        for name in m.identifiers:
            claim(index.identifiers, name, rule, "identifier")
            if rule.category == "kernel":  # device functions: found through device-code markers
                has_device_names = True
            else:
                names.append(name)
        for name in m.scoped:
            claim(index.scoped, name, rule, "scoped name")
            index.scoped_by_last.setdefault(name.rsplit("::", 1)[1], []).append(name)
            names.append(name)
        for name in m.scoped_prefixes:
            claim(index.scoped_prefixes, name, rule, "namespace")
            names.append(name)
        for path in m.includes:
            claim(index.include_prefixes if path.endswith("/") else index.includes, path, rule, "include")
            names.append(path)
        for method in m.methods:
            index.methods.setdefault(method, []).append(rule)
            tokens.add(method)
        for pattern in m.patterns:
            index.patterns.append((LazyPattern(pattern), rule))
            try:
                pattern_regexes.append(_pattern_prefilter(pattern))
            except ValueError:
                raise RuleError(f"{rule.source}: rule {rule.id}: pattern {pattern!r} must start with a "
                                "literal of 2+ characters (the prefilter needs it)") from None
        for construct in m.constructs:
            index.constructs.setdefault(construct, []).append(rule)
            tokens.update(CONSTRUCT_TOKENS[construct])
        if m.asm:
            index.asm_patterns[rule.id] = LazyPattern(m.asm)
        tokens.update(m.triggers)
        triggers.update(m.triggers)
    hit_words = set(index.identifiers) | set(index.methods) | set(CONSTRUCT_WORDS) | {
        t for t in tokens if t.isidentifier()}
    for name in (*index.scoped, *index.scoped_prefixes):
        parts = name.split("::")
        index.namespaces.update("::".join(parts[:size]) for size in range(1, len(parts) + (name in index.scoped_prefixes)))
        hit_words.update((parts[-1], _namespace_token(name)))
    index.hit_words = frozenset(w.encode() for w in hit_words)
    # Registration macros other than the ``*_IMPL`` ones are constructs only in a ``.cu`` source, and
    # lane/warp tokens only next to a warp-size literal: neither makes a host file worth a parse.
    host_only = {"PYBIND11_MODULE", *LIBRARY_MACROS} - LIBRARY_IMPL_MACROS
    direct = set(index.identifiers) | (set(CONSTRUCT_WORDS) - host_only) | {t for t in triggers if t.isidentifier()}
    index.method_words = frozenset(w.encode() for w in set(index.methods) - direct)
    device = {name for name, rule in index.identifiers.items()
              if rule.category == "kernel" and not name.startswith("__")}
    device = (device | set(ASM_WORDS)) - set(index.methods) - triggers
    index.device_words = frozenset(w.encode() for w in device)
    index.direct_words = frozenset(w.encode() for w in direct - device)
    index.namespace_words = frozenset(_namespace_token(name).encode()
                                      for name in (*index.scoped, *index.scoped_prefixes)) - index.direct_words
    index.namespace_shapes = namespace_shapes(index.scoped, index.scoped_prefixes, {
        name: token for name in (*index.scoped, *index.scoped_prefixes)
        if (token := _namespace_token(name).encode()) in index.namespace_words})
    paths = sorted({*index.includes, *index.include_prefixes}, key=lambda p: (-len(p), p))
    index.include_spelling = LazyPattern(b"|".join(re.escape(p.encode()) for p in paths)) if paths else None
    index.unselected = frozenset(unselected - set(index.identifiers) - set(index.scoped) - set(index.includes))
    if index.patterns:
        index.catch_all = LazyPattern("|".join(f"(?:{p.pattern})" for p, _ in index.patterns).encode())
        if all(line_safe(p.pattern) for p, _ in index.patterns):
            index.catch_all_lines = LazyPattern(b"(?m)" + index.catch_all.pattern)
    family, words = _name_tokens(names)
    markers = {"__device__", "__global__"} if has_device_names else set()
    words -= tokens
    prefixes = set(minimal_tokens(tokens | family | words | markers)) - words
    index.prefilter = _regexes(prefixes) + tuple(pattern_regexes)
    index.prefilter_words = _regexes(words, suffix=rb"(?![A-Za-z0-9_])")
    return index


def passes_prefilter(index: CudaIndex, data: bytes) -> bool:
    """Can any C/C++ rule match these bytes? Whole-word tokens must also start a word."""
    if any(regex.search(data) for regex in index.prefilter):
        return True
    for regex in index.prefilter_words:
        for match in regex.finditer(data):
            start = match.start()
            if start == 0 or not IDENT_BYTE[data[start - 1]]:
                return True
    return False
