"""Whether a C/C++ file that passed the byte prefilter can hold a finding at all, from its words.

The byte prefilter (`kb.cuda_index.passes_prefilter`) looks for short tokens anywhere in the bytes:
``cuda`` in ``namespace cuda {``, in ``// namespace cuda`` or in ``"cuda"``. On the torch package
1,759 of 9,443 headers passed it and were pre-passed, parsed and matched; 1,509 of them held nothing.
This gate runs first (`cuda.CudaAnalyzer.check`: it rejects more, for about the prefilter's cost); a
file is parsed only when both let it through.

The matcher (`cuda_matcher`) only ever judges the nodes at whole-word occurrences of its relevant
words (`relevant_words`), of the names ``using``/alias directives make reachable, and of the literals
``<<<``, the two all-ones masks and ``#include``. So a file whose words give it nothing to judge has
no finding, and `may_find` says so without a parse. It is sound by construction, not by sampling:

* identifiers and construct words (`CudaIndex.direct_words`), catch-all names and ``<<<``: present
  anywhere, the file is parsed;
* a method (``is_cuda``) only when called on an object, ``.name(`` or ``->name(`` (`_called_as_method`);
* a warp-size finding needs a lane/warp word and a literal 31/32/0x1f/0x20 (`_WARP_NUMBER`);
* an include finding's path is a rule's include path or under one of its prefixes (`_includes_a_rule`);
* a scoped name or namespace (``at::cuda::getCurrentCUDAStream``, ``using namespace cub``) is found
  only through its namespace token (`CudaIndex.namespace_words`), which the file spells where the
  written name could resolve to a rule's: between the parts the rules have around it, in a
  ``using namespace`` directive, or anywhere near ``::`` once the file defines a namespace alias
  (`_used_as_namespace`). ``namespace cuda {``, ``namespace at::cuda {``, the comment closing them
  and ``c10::DeviceType t;`` are none of these. The last components of scoped names (the other hit
  words) reach a rule only together with such a token;
* device functions (``rsqrt``), inline assembly and full masks count only in device code, which a
  host file has only if it spells ``__device__``/``__global__`` or a macro the pre-pass turns into
  ``__device__`` (`cpp_prepass.may_write_device`); a mask passed to a ``__*_sync`` call counts anywhere;
* ``PYBIND11_MODULE``/``TORCH_LIBRARY`` are constructs only in a ``.cu`` source, and a host file that
  registers ops is never gated (`FileFacts.registers_ops`).

A file with a ``lockin:`` comment is always parsed, so an unused suppression is reported as before.
The pre-pass only blanks code or writes ``__device__``, which is no relevant word, so the source's
words cover the pre-passed text's.
"""

from __future__ import annotations

import re

from ..kb.cuda_index import CudaIndex
from ..kb.cuda_words import NamespaceShape
from ..kb.prefilter import IDENT_BYTE
from .cpp_prepass import may_write_device, writes_device

#: ``data.translate(_WORD_BYTES).split()``: the maximal runs of identifier bytes, exactly the words
#: `kb.prefilter.word_occurrences` finds whole.
_WORD_BYTES = bytes(b if IDENT_BYTE[b] else 0x20 for b in range(256))
#: A lane/warp identifier (ASCII, as the grammar's identifiers the matcher reads are), one per line of
#: the newline-joined words.
_WARPISH_LINE = re.compile(rb"(?mi)^(?=[a-z_])[a-z0-9_]*(?:lane|warp)[a-z0-9_]*$")
#: A number the warp-size check accepts (`warp_widths._WARP_NUMBERS`), not inside a longer name.
_WARP_NUMBER = re.compile(rb"(?<![A-Za-z0-9_])(?:3[12]|0[xX]1[fF]|0[xX]20)")
_MASKS = (b"0xffffffff", b"0xFFFFFFFF")
#: What the grammar may skip between two tokens: blanks (non-ASCII ones too), line continuations, comments.
_SKIPPED = rb"(?:\s|[\x80-\xff]|\\\r?\n|/\*.*?\*/|//[^\n]*\n)*"
#: ``namespace x = ...``: what makes an alias target a use (a superset: anything but ``;{}`` between).
_NAMESPACE_ALIAS = re.compile(rb"\bnamespace\b(?:/\*.*?\*/|//[^\n]*\n|[^;{}=/]|/(?![/*]))*=", re.DOTALL)
#: ``#include`` and its path after ASCII blanks, a plain ``<...>`` or ``"..."`` (no escapes); else the
#: rest of its line.
_INCLUDE = re.compile(rb"#include(?:(?![A-Za-z0-9_])(?:[ \t\r\n\f\v]|\\\r?\n)*(<[^>\n]*>|\"[^\"\n\\]*\")|([^\n]*))")
#: ``using namespace``, with anything the grammar allows between the two words.
_USING_NAMESPACE = re.compile(rb"\busing" + _SKIPPED + rb"namespace\b", re.DOTALL)
#: Bytes the grammar skips between tokens (a backslash: a line continuation).
_BLANKS = b" \t\r\n\f\v\\\x1c\x1d\x1e\x1f"
#: How far around a namespace word to look for what follows or precedes it.
_AROUND = 256
#: How many include paths `_Tables.included` remembers (a worker reads thousands of headers).
_MEMO_SIZE = 50_000


def file_words(data: bytes) -> set[bytes]:
    """The file's words: maximal runs of identifier bytes (digits and non-ASCII bytes included)."""
    return set(data.translate(_WORD_BYTES).split())


def relevant_words(index: CudaIndex, words: set[bytes]) -> set[bytes]:
    """The words whose occurrences the matcher judges: hit words, catch-all names, lane/warp names."""
    relevant = words & index.hit_words
    if index.catch_all is not None or "warp-size-literal" in index.constructs:
        joined = b"\n".join(words - relevant)
        tables = _tables(index)
        if tables.first_line is not None and tables.later_lines is not None:
            relevant.update(_lines(tables.first_line, tables.later_lines, joined))
        elif index.catch_all is not None:
            relevant.update(w for w in words - relevant if index.catch_all.fullmatch(w))
        if "warp-size-literal" in index.constructs:
            relevant.update(_warpish(joined))
    return relevant


def _warpish(joined: bytes, first: bool = False) -> list[bytes]:
    """The lines of ``joined`` `_WARPISH_LINE` finds (with ``first``, at most one), from where ``lane``
    or ``warp`` occurs in any case: few words spell either, and the regex, tried at every line of a
    file's words, cost more than finding them."""
    found: list[bytes] = []
    lowered = joined.lower()
    for needle in (b"lane", b"warp"):
        at = lowered.find(needle)
        while at >= 0:
            start = lowered.rfind(b"\n", 0, at) + 1
            end = lowered.find(b"\n", at)
            end = len(lowered) if end < 0 else end
            if _WARPISH_LINE.fullmatch(joined, start, end) is not None:
                found.append(joined[start:end])
                if first:
                    return found
            at = lowered.find(needle, end)
    return found


def _lines(first_line: re.Pattern[bytes], later_lines: re.Pattern[bytes], joined: bytes) -> set[bytes]:
    """The lines of ``joined`` that ``first_line`` (a pattern of whole lines, multi-line ``^``) finds
    with ``finditer``: its match at the start, and the matches of ``later_lines`` (the same pattern
    after a literal newline) without their newline."""
    found = {m.group(0)[1:] for m in later_lines.finditer(joined)}
    first = first_line.match(joined)
    if first is not None:
        found.add(first.group(0))
    return found


def may_find(index: CudaIndex, data: bytes, words: set[bytes]) -> bool:
    """Can the matcher find anything in this (non-``.cu``) file? False only when it provably cannot."""
    if b"lockin:" in data or b"<<<" in data:
        return True
    tables = _tables(index)
    gated = words & tables.gated  # one pass over the file's words for the four tables below
    if not gated.isdisjoint(index.direct_words):
        return True
    joined = b"\n".join(words)
    if tables.first_line is not None and tables.later_lines is not None:
        if tables.first_line.match(joined) is not None or tables.later_lines.search(joined) is not None:
            return True
    elif index.catch_all is not None and any(index.catch_all.fullmatch(w) for w in words):
        return True
    if "warp-size-literal" in index.constructs:
        if _warpish(joined, first=True) and _WARP_NUMBER.search(data) is not None:
            return True
    if b"#include" in data and _includes_a_rule(index, data):
        return True
    methods = gated & index.method_words
    if methods and any(_called_as_method(data, w) for w in sorted(methods)):
        return True
    spelled = gated & index.namespace_words
    if spelled and b"using" in words and _USING_NAMESPACE.search(data) is not None:
        return True
    if spelled:
        alias = _NAMESPACE_ALIAS.search(data) is not None
        if any(_used_as_namespace(data, w, None if alias else index.namespace_shapes.get(w)) for w in sorted(spelled)):
            return True
    masks = any(mask in joined for mask in _MASKS)  # identifier bytes only: in a word exactly when in the file
    if masks and b"_sync" in data:
        return True  # ``__shfl_sync(0xffffffff, ...)``: a full mask in any function
    return (masks or not gated.isdisjoint(index.device_words)) and _may_hold_device_code(data, words)


class _Tables:
    """What `may_find` derives once per index rather than once per file (about 9,000 headers on the torch
    package): the union of the word tables it intersects a file's words with, and the catch-all names
    searched after a newline.

    ``later_lines`` is `CudaIndex.catch_all_lines` behind a literal ``\\n``: ``re`` then tries it only
    after each newline of the joined words (a pattern starting with ``^`` has no literal prefix and
    is tried at every byte), and the first word is tried with ``match``; together they test the same
    line starts as ``catch_all_lines.search``."""

    __slots__ = ("index", "gated", "first_line", "later_lines", "included")

    def __init__(self, index: CudaIndex) -> None:
        self.index = index
        self.gated = index.direct_words | index.method_words | index.namespace_words | index.device_words
        lines = index.catch_all_lines
        self.first_line: re.Pattern[bytes] | None = None if lines is None else lines.compiled
        self.later_lines: re.Pattern[bytes] | None = None if lines is None else re.compile(
            b"(?m)\\n(?:" + lines.pattern.removeprefix(b"(?m)") + b")")
        #: Whether an ``#include``'s written ``<...>``/``"..."`` names a rule's path, by its bytes.
        self.included: dict[bytes, bool] = {}


_last_tables: _Tables | None = None


def _tables(index: CudaIndex) -> _Tables:
    """The tables of ``index`` (the run's one index; another index gets its own)."""
    global _last_tables
    if _last_tables is None or _last_tables.index is not index:
        _last_tables = _Tables(index)
    return _last_tables


def _includes_a_rule(index: CudaIndex, data: bytes) -> bool:
    """Could an ``#include`` name a path a rule knows (`CudaIndex.lookup_include`, as the matcher asks)?

    A plain ``<...>`` or ``"..."`` after blanks is looked up as the matcher would. Anything else
    (``#include MACRO(x)``, a comment in between, ``// #includes we need``) is judged from the rest of
    its line, which must then spell a rule's include path; a line that could go on past its end (a
    ``/`` for a comment, a ``(``, a backslash, nothing at all) counts as yes."""
    known = _tables(index).included
    for path, rest in set(_INCLUDE.findall(data)):
        if path:
            found = known.get(path)
            if found is None:  # the same few hundred paths in every header of a tree: looked up once each
                if len(known) >= _MEMO_SIZE:
                    known.clear()
                found = known[path] = index.lookup_include(path.decode("utf-8", "replace").strip('<>"')) is not None
            if found:
                return True
            continue
        rest = rest.rstrip(b"\r")
        if not rest.strip() or rest.endswith(b"\\") or b"/" in rest or b"(" in rest \
                or (index.include_spelling is not None and index.include_spelling.search(rest) is not None):
            return True
    return False


def _may_hold_device_code(data: bytes, words: set[bytes]) -> bool:
    """Device functions, inline assembly and full masks only count in device code, which outside a
    ``.cu`` file is a ``__device__``/``__global__`` function, spelled or written by the pre-pass."""
    if b"__device__" in data or b"__global__" in data:
        return True
    return writes_device(words) if data.isascii() else may_write_device(data)  # ASCII: words are its \b-words


def _used_as_namespace(data: bytes, word: bytes, shape: NamespaceShape | None) -> bool:
    """Is ``word`` spelled somewhere as a part of a name the matcher could resolve to one of its rules?

    With its ``shape`` (no alias in the file, so a written name is the name looked up): the part
    written before it must be one the rules have there (``at::cuda``, a first ``cub``), and the part
    after it too (``DeviceType::CUDA``), unless it ends a scoped name (``c10::kCUDA``) or a namespace
    (anything after ``::``). Without (the file defines a namespace alias): next to ``::``, before
    ``<`` or after ``=``. Whatever the bytes cannot tell (a comment in between, a template argument
    list, a non-ASCII byte, more blanks than `_AROUND`) counts as yes. ``namespace cuda {`` and
    ``namespace at::cuda {`` are no use of ``cuda``; ``c10::DeviceType t;`` none of ``DeviceType``."""
    start = data.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not IDENT_BYTE[data[start - 1]]) and (end >= len(data) or not IDENT_BYTE[data[end]]):
            after = data[end:end + _AROUND].lstrip(_BLANKS)
            before = data[max(0, start - _AROUND):start].rstrip(_BLANKS)
            if shape is None:
                if after[:1] in (b":", b"<", b"/") or b"\x80" <= after[:1] or (not after and end + _AROUND < len(data)):
                    return True
                if before[-1:] in (b":", b"=", b"/") or b"\x80" <= before[-1:] or (not before and start > _AROUND):
                    return True
            else:
                written = _part_before(before, start > _AROUND)
                if written is None or written in shape.before:
                    following = _part_after(after, end + _AROUND < len(data))
                    if shape.last or following is None or (
                            following and (shape.after is None or following in shape.after)):
                        return True
        start = data.find(word, start + 1)
    return False


def _called_as_method(data: bytes, word: bytes) -> bool:
    """Is ``word`` spelled somewhere as a method call, ``.word(`` or ``->word(`` (blanks allowed; a
    comment, a non-ASCII byte or more blanks than `_AROUND` count as yes)? ``bool is_cuda() const``
    declares the method; only a call on an object is a finding (`cuda_matcher._name`)."""
    start = data.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not IDENT_BYTE[data[start - 1]]) and (end >= len(data) or not IDENT_BYTE[data[end]]):
            before = data[max(0, start - _AROUND):start].rstrip(_BLANKS)[-1:]
            after = data[end:end + _AROUND].lstrip(_BLANKS)[:1]
            if (before in (b".", b">", b"/") or b"\x80" <= before or (not before and start > _AROUND)) \
                    and (after in (b"(", b"<", b"/") or b"\x80" <= after or (not after and end + _AROUND < len(data))):
                return True
        start = data.find(word, start + 1)
    return False


_TRAILING_NAME = re.compile(rb"[A-Za-z0-9_]+$")
_LEADING_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def _part_before(before: bytes, cut: bool) -> bytes | None:
    """The name part written before a word (``at`` of ``at::cuda``; ``b""``: none, the word comes
    first); None when the bytes cannot tell."""
    if not before:
        return None if cut else b""
    if before.endswith(b"::"):
        scope = before[:-2].rstrip(_BLANKS)
        if not scope:
            return None if cut else b""
        name = _TRAILING_NAME.search(scope)
        if name is None:
            return None if scope[-1:] in (b">", b"/") or b"\x80" <= scope[-1:] else b""  # ``(::cub::x``: rooted
        start = name.start()
        if name.group(0)[:1].isdigit() or name.group(0) == b"template" or (start and scope[start - 1] >= 0x80):
            return None
        return name.group(0)
    if before[-1:] == b"/" or b"\x80" <= before[-1:] or before.endswith(b"template"):
        return None
    return b""


def _part_after(after: bytes, cut: bool) -> bytes | None:
    """The name part written after a word and ``::`` (``b""``: no ``::`` follows); None when the bytes
    cannot tell (a template argument list, a comment, ``::template``)."""
    if not after:
        return None if cut else b""
    if after[:1] in (b"<", b"/") or b"\x80" <= after[:1]:
        return None
    if not after.startswith(b"::"):
        return b""
    member = after[2:].lstrip(_BLANKS)
    name = _LEADING_NAME.match(member)
    if name is None or name.group(0) == b"template" or b"\x80" <= member[name.end():name.end() + 1]:
        return None
    return name.group(0)
