"""Whether a C/C++ file that passed the byte prefilter can hold a finding at all, from its words.

The byte prefilter (`kb.cuda_index.passes_prefilter`) looks for short tokens anywhere in the bytes:
``cuda`` in ``namespace cuda {``, in ``// namespace cuda`` or in ``"cuda"``. On the torch package
1,759 of 9,443 headers passed it and were pre-passed, parsed and matched; 1,509 of them held nothing.

The matcher (`cuda_matcher`) only ever judges the nodes at whole-word occurrences of its relevant
words (`relevant_words`), of the names ``using``/alias directives make reachable, and of the literals
``<<<``, the two all-ones masks and ``#include``. So a file whose words give it nothing to judge has
no finding, and `may_find` says so without a parse. It is sound by construction, not by sampling:

* identifiers, methods and construct words (`CudaIndex.direct_words`), catch-all names, ``<<<`` and
  the masks: present anywhere, the file is parsed;
* a warp-size finding needs a lane/warp word and a literal 31/32/0x1f/0x20 (`_WARP_NUMBER`);
* an include finding's path spells a rule's include path or prefix (`CudaIndex.include_tokens`);
* a scoped name or namespace (``at::cuda::getCurrentCUDAStream``, ``using namespace cub``) is found
  only through its namespace token (`CudaIndex.namespace_words`), which the file spells: in a
  qualified name, so next to ``::`` or before ``<``; in a ``using namespace`` directive; or after the
  ``=`` of a namespace alias (`_used_as_namespace`). ``namespace cuda {`` and the comment closing it
  are none of these. The last components of scoped names (the other hit words) reach a rule only
  together with such a token.

A file with a ``lockin:`` comment is always parsed, so an unused suppression is reported as before.
The pre-pass only blanks code or writes ``__device__``, which is no relevant word, so the source's
words cover the pre-passed text's.
"""

from __future__ import annotations

import re

from ..kb.cuda_index import CudaIndex
from ..kb.prefilter import IDENT_BYTE
from .cpp_prepass import may_write_device

#: ``data.translate(_WORD_BYTES).split()``: the maximal runs of identifier bytes, exactly the words
#: `kb.prefilter.word_occurrences` finds whole.
_WORD_BYTES = bytes(b if IDENT_BYTE[b] else 0x20 for b in range(256))
#: A lane/warp identifier (ASCII, as the grammar's identifiers the matcher reads are), one per line of
#: the newline-joined words.
_WARPISH_LINE = re.compile(rb"(?mi)^(?=[a-z_])[a-z0-9_]*(?:lane|warp)[a-z0-9_]*$")
#: A number the warp-size check accepts (`cuda_matcher._WARP_NUMBERS`), not inside a longer name.
_WARP_NUMBER = re.compile(rb"(?<![A-Za-z0-9_])(?:3[12]|0[xX]1[fF]|0[xX]20)")
_MASKS = (b"0xffffffff", b"0xFFFFFFFF")
#: What the grammar may skip between two tokens: blanks (non-ASCII ones too), line continuations, comments.
_SKIPPED = rb"(?:\s|[\x80-\xff]|\\\r?\n|/\*.*?\*/|//[^\n]*\n)*"
#: ``namespace x = ...``: what makes an alias target a use (a superset: anything but ``;{}`` between).
_NAMESPACE_ALIAS = re.compile(rb"\bnamespace\b(?:/\*.*?\*/|//[^\n]*\n|[^;{}=/]|/(?![/*]))*=", re.DOTALL)
#: ``using namespace``, with anything the grammar allows between the two words.
_USING_NAMESPACE = re.compile(rb"\busing" + _SKIPPED + rb"namespace\b", re.DOTALL)
#: Bytes the grammar skips between tokens (a backslash: a line continuation).
_BLANKS = b" \t\r\n\f\v\\\x1c\x1d\x1e\x1f"
#: How far around a namespace word to look for what follows or precedes it.
_AROUND = 256


def file_words(data: bytes) -> set[bytes]:
    """The file's words: maximal runs of identifier bytes (digits and non-ASCII bytes included)."""
    return set(data.translate(_WORD_BYTES).split())


def relevant_words(index: CudaIndex, words: set[bytes]) -> set[bytes]:
    """The words whose occurrences the matcher judges: hit words, catch-all names, lane/warp names."""
    relevant = words & index.hit_words
    if index.catch_all is not None or "warp-size-literal" in index.constructs:
        joined = b"\n".join(words - relevant)
        if index.catch_all_lines is not None:
            relevant.update(m.group(0) for m in index.catch_all_lines.finditer(joined))
        elif index.catch_all is not None:
            relevant.update(w for w in words - relevant if index.catch_all.fullmatch(w))
        if "warp-size-literal" in index.constructs:
            relevant.update(m.group(0) for m in _WARPISH_LINE.finditer(joined))
    return relevant


def may_find(index: CudaIndex, data: bytes, words: set[bytes]) -> bool:
    """Can the matcher find anything in this (non-``.cu``) file? False only when it provably cannot."""
    if b"lockin:" in data or b"<<<" in data or not words.isdisjoint(index.direct_words):
        return True
    if index.catch_all is not None:
        if index.catch_all_lines is not None:
            if index.catch_all_lines.search(b"\n".join(words)) is not None:
                return True
        elif any(index.catch_all.fullmatch(w) for w in words):
            return True
    if "warp-size-literal" in index.constructs and _WARP_NUMBER.search(data) is not None \
            and _WARPISH_LINE.search(b"\n".join(words)) is not None:
        return True
    if b"#include" in data and any(regex.search(data) for regex in index.include_tokens):
        return True
    spelled = words & index.namespace_words
    if spelled and (_USING_NAMESPACE.search(data) is not None
                    or any(_used_as_namespace(data, w, w in index.last_namespace_words
                                              or _NAMESPACE_ALIAS.search(data) is not None) for w in sorted(spelled))):
        return True
    masks = any(mask in data for mask in _MASKS)
    if masks and b"_sync" in data:
        return True  # ``__shfl_sync(0xffffffff, ...)``: a full mask in any function
    return (masks or not words.isdisjoint(index.device_words)) and _may_hold_device_code(data)


def _may_hold_device_code(data: bytes) -> bool:
    """Device functions, inline assembly and full masks only count in device code, which outside a
    ``.cu`` file is a ``__device__``/``__global__`` function, spelled or written by the pre-pass."""
    return b"__device__" in data or b"__global__" in data or may_write_device(data)


def _used_as_namespace(data: bytes, word: bytes, after_scope: bool) -> bool:
    """Is ``word`` spelled somewhere as a qualified name's part (``word::``, ``word<``), or, when
    ``after_scope`` (it ends a scoped name, or the file defines a namespace alias), after ``::`` or
    ``=``? A comment in between (``/``), a non-ASCII byte or more blanks than `_AROUND` count as yes.
    ``namespace cuda {`` and ``namespace at::cuda {`` are no use of ``cuda``."""
    start = data.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not IDENT_BYTE[data[start - 1]]) and (end >= len(data) or not IDENT_BYTE[data[end]]):
            after = data[end:end + _AROUND].lstrip(_BLANKS)[:1]
            before = data[max(0, start - _AROUND):start].rstrip(_BLANKS)[-1:]
            if after in (b":", b"<", b"/") or b"\x80" <= after or (not after and end + _AROUND < len(data)):
                return True
            if after_scope and (before in (b":", b"=", b"/") or b"\x80" <= before or (not before and start > _AROUND)):
                return True
        start = data.find(word, start + 1)
    return False
