"""Which lines of a C/C++/CUDA file only a ROCm build compiles, and which a ROCm build leaves out.

Projects that already run on ROCm keep both sides in one file: ``#ifdef USE_ROCM ... #else ... #endif``.
The ROCm side is not CUDA lock-in at all, and the CUDA side is already ported for ``rocm`` (a ROCm
build takes the other branch or needs nothing there). Conditions are evaluated twice, once as a ROCm
build and once as a CUDA build, in three-valued logic over a small model of the usual macros: names
spelled for ROCm (``USE_ROCM``, ``__HIP_PLATFORM_AMD__``, ``__gfx942__``, ``HIP_VERSION``) are never
defined in a CUDA build; the platform flags among them are defined in a ROCm build; everything else
is unknown in both. A branch whose fate depends on anything unknown changes nothing. A build flag
spelled for CUDA (``BUILD_CUDA``) is unknown too, except in a file that also tests its ROCm twin
(``BUILD_HIP``): there the project spells both builds, and a ROCm build does not define the CUDA one
(bitsandbytes' ``pythonInterface.cpp``, `twin_flags`); so are ``CUDART_VERSION``/``CUDA_VERSION`` in
an ``#if``/``#else`` group of such a file (`cuda_version_gates`).
"""

from __future__ import annotations

import functools
import re
from typing import Iterator, Mapping

from .cuda_version_gates import RUNTIME_VERSION_MACROS, gated_groups

#: Defined (as 1) in every ROCm build, never in a CUDA build.
ROCM_FLAGS = frozenset({
    "USE_ROCM", "USE_HIP", "BUILD_HIP", "BNB_HIP", "__HIP_PLATFORM_AMD__", "__HIP_PLATFORM_HCC__", "__HIPCC__",
    "__HIP__", "__HIP_PLATFORM_AMD", "HIP_PLATFORM_AMD",
})
#: Defined only when HIP targets NVIDIA: never in a ROCm build, unknown in a CUDA one.
HIP_ON_NVIDIA = frozenset({"__HIP_PLATFORM_NVIDIA__", "__HIP_PLATFORM_NVCC__"})
#: A CUDA build flag -> its ROCm twin: a file testing both is built with one or the other, never both.
CUDA_FLAG_TWINS = {"BUILD_CUDA": "BUILD_HIP"}
_ROCM_TOKENS = frozenset({"hip", "rocm", "hcc", "amd", "amdgpu"})
_ROCM_TOKEN_PREFIXES = ("hipblas", "hipcc", "hipify", "gfx", "rocm")

#: Line states, by priority: inside a ROCm-only branch wins over inside a branch ROCm builds skip.
NEUTRAL, NOT_ON_ROCM, ROCM_ONLY = 0, 1, 2

Tri = bool | None  # True, False, or unknown
Value = int | None

_DIRECTIVE = re.compile(rb"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b(.*)$")
_COMMENTS = re.compile(r"//.*$|/\*.*?\*/")
_TOKEN = re.compile(r"\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|\|\||&&|==|!=|<=|>=|<<|>>|[()!<>+\-*/%~?:&|^])")
_FLAG_TEST = re.compile(rb"^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif)\b(.*)$", re.MULTILINE)
_WORD = re.compile(rb"[A-Za-z_]\w*")
_NUMBER_SUFFIX = re.compile(r"[uUlL]+$")
_ALTERNATIVES = {"and": "&&", "or": "||", "not": "!", "bitand": "&", "bitor": "|", "xor": "^", "compl": "~"}
_BINARY = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7, ">=": 7,
           "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10}


def spelled_for_rocm(name: str) -> bool:
    """``USE_ROCM``, ``__HIP__GFX9__``, ``hipblasVersionMajor``: a name no CUDA build defines."""
    if name in HIP_ON_NVIDIA:
        return False
    for token in name.lower().split("_"):
        if token in _ROCM_TOKENS or token.startswith(_ROCM_TOKEN_PREFIXES):
            return True
    return False


def twin_flags(source: bytes) -> frozenset[str]:
    """The CUDA build flags of `CUDA_FLAG_TWINS` that ``source`` tests alongside their ROCm twin.

    bitsandbytes builds with ``-DBUILD_CUDA`` or ``-DBUILD_HIP`` (CMake's ``if(BUILD_CUDA)`` ...
    ``elseif(BUILD_HIP)``), and ``pythonInterface.cpp`` tests each in its own ``#if``: in a ROCm build its
    ``#if BUILD_CUDA`` branch is not compiled. A file testing ``BUILD_CUDA`` alone says nothing of ROCm.
    """
    found = set()
    for cuda_flag, rocm_flag in CUDA_FLAG_TWINS.items():
        if cuda_flag.encode() in source and rocm_flag.encode() in source:
            tested = {name for match in _FLAG_TEST.finditer(source) for name in _WORD.findall(match.group(1))}
            if cuda_flag.encode() in tested and rocm_flag.encode() in tested:
                found.add(cuda_flag)
    return frozenset(found)


def _macro(name: str, rocm: bool, cuda_only: frozenset[str] = frozenset(),
           fixed: Mapping[str, int] | None = None) -> tuple[Tri, Value]:
    """(is it defined, its value) in a ROCm build (``rocm``) or a CUDA build; None: unknown.

    ``cuda_only``: the project's macros that a ROCm build never defines (found by the caller in headers,
    e.g. DeepSpeed's ``PTX_AVAILABLE``, defined only in the non-HIP branch of ``ds_kernel_utils.h``).
    ``fixed``: the project's macros every build defines to one integer (`macro_values`).
    """
    if fixed and name in fixed:
        return True, fixed[name]
    if name in HIP_ON_NVIDIA or name in cuda_only:
        return (False, 0) if rocm else (None, None)
    if not spelled_for_rocm(name):
        return None, None
    if not rocm:
        return False, 0
    return (True, 1) if name in ROCM_FLAGS else (True, None) if "version" in name.lower() else (None, None)


class _Unsupported(Exception):
    """An expression outside the modelled grammar: the whole condition is unknown."""


class _Evaluator:
    """A tiny precedence-climbing evaluator of ``#if`` expressions in three-valued logic."""

    def __init__(self, tokens: list[str], rocm: bool, cuda_only: frozenset[str] = frozenset(),
                 fixed: Mapping[str, int] | None = None) -> None:
        self.tokens = tokens
        self.pos = 0
        self.rocm = rocm
        self.cuda_only = cuda_only
        self.fixed = fixed

    def _next(self) -> str:
        if self.pos >= len(self.tokens):
            raise _Unsupported
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self, floor: int = 1) -> Value:
        left = self._unary()
        while True:
            op = self._peek()
            if op is None or op not in _BINARY or _BINARY[op] < floor:
                return left
            self.pos += 1
            right = self.expression(_BINARY[op] + 1)
            left = _apply(op, left, right)

    def _unary(self) -> Value:
        token = self._next()
        if token in ("!", "-", "+", "~"):
            value = self._unary()
            if value is None:
                return None
            return {"!": int(not value), "-": -value, "+": value, "~": ~value}[token]
        if token == "(":
            value = self.expression()
            if self._next() != ")":
                raise _Unsupported
            return value
        if token == "defined":
            wrapped = self._peek() == "("
            if wrapped:
                self.pos += 1
            name = self._next()
            if wrapped and self._next() != ")":
                raise _Unsupported
            defined = _macro(name, self.rocm, self.cuda_only, self.fixed)[0]
            return None if defined is None else int(defined)
        if token[0].isdigit():
            return int(_NUMBER_SUFFIX.sub("", token), 0) if not token.startswith("0") or len(token) == 1 \
                or token[1] in "xX" else int(_NUMBER_SUFFIX.sub("", token), 8)
        if token[0].isalpha() or token[0] == "_":
            if self._peek() == "(":  # a function-like macro (``__has_include(...)``): unknown
                raise _Unsupported
            return _macro(token, self.rocm, self.cuda_only, self.fixed)[1]
        raise _Unsupported


def _apply(op: str, left: Value, right: Value) -> Value:
    if op == "&&":
        if left == 0 or right == 0:
            return 0
        return None if left is None or right is None else 1
    if op == "||":
        if (left is not None and left != 0) or (right is not None and right != 0):
            return 1
        return None if left is None or right is None else 0
    if left is None or right is None:
        return None
    if op in ("/", "%") and right == 0:
        return None
    return int({
        "|": lambda: left | right, "^": lambda: left ^ right, "&": lambda: left & right,
        "==": lambda: left == right, "!=": lambda: left != right, "<": lambda: left < right,
        ">": lambda: left > right, "<=": lambda: left <= right, ">=": lambda: left >= right,
        "<<": lambda: left << right, ">>": lambda: left >> right, "+": lambda: left + right,
        "-": lambda: left - right, "*": lambda: left * right, "/": lambda: int(left / right),
        "%": lambda: left % right,
    }[op]())


def evaluate(condition: str, rocm: bool, cuda_only: frozenset[str] = frozenset(),
             fixed: Mapping[str, int] | None = None) -> Tri:
    """An ``#if`` condition in a ROCm build (``rocm``) or a CUDA build: True, False or None (unknown).

    ``cuda_only`` and ``fixed``: see `_macro`."""
    text = _COMMENTS.sub(" ", condition).strip()
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip():
                return None
            break
        tokens.append(_ALTERNATIVES.get(match.group(1), match.group(1)))
        pos = match.end()
    if not tokens:
        return None
    try:
        parser = _Evaluator(tokens, rocm, cuda_only, fixed)
        value = parser.expression()
        if parser.pos != len(tokens):
            return None
    except (_Unsupported, ValueError, OverflowError):
        return None
    return None if value is None else value != 0


@functools.lru_cache(maxsize=4096)
def _evaluated(condition: str, rocm: bool, cuda_only: frozenset[str]) -> Tri:
    """`evaluate` without fixed macros, remembered: the same conditions (``#ifdef USE_ROCM``,
    ``#if defined(__HIP_PLATFORM_AMD__)``) open the groups of file after file."""
    return evaluate(condition, rocm, cuda_only)


def _and(a: Tri, b: Tri) -> Tri:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _not(a: Tri) -> Tri:
    return None if a is None else not a


class _Group:
    """One ``#if`` ... ``#endif`` chain: whether the branches so far were all not taken, per build."""

    def __init__(self, outer: int) -> None:
        self.outer = outer
        self.none_rocm: Tri = True
        self.none_cuda: Tri = True
        self.state = NEUTRAL

    def branch(self, in_rocm: Tri, in_cuda: Tri) -> None:
        taken_rocm, taken_cuda = _and(self.none_rocm, in_rocm), _and(self.none_cuda, in_cuda)
        self.none_rocm = _and(self.none_rocm, _not(in_rocm))
        self.none_cuda = _and(self.none_cuda, _not(in_cuda))
        own = ROCM_ONLY if taken_cuda is False and taken_rocm is not False else \
            NOT_ON_ROCM if taken_rocm is False and taken_cuda is not False else NEUTRAL
        self.state = max(self.outer, own)


def _logical_lines(source: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(first line, last line, text) of each line, backslash continuations joined; 0-based lines."""
    lines = source.split(b"\n")
    index = 0
    while index < len(lines):
        first, text = index, lines[index].rstrip(b"\r")
        while text.endswith(b"\\") and index + 1 < len(lines):
            index += 1
            text = text[:-1] + b" " + lines[index].rstrip(b"\r")
        yield first, index, text
        index += 1


#: A line whose first non-blank byte is ``#`` followed by what may begin a conditional directive's
#: keyword (or a line continuation before it): where such a logical line (`_directives`) can show.
#: Searched for after a newline (a literal first byte, which the regex engine scans for quickly; a
#: ``^`` in multi-line mode is tried at every byte).
_HASH_LINE = re.compile(rb"\n[ \t]*#[ \t]*(?:if|el|endif|\\)")


def _directives(source: bytes) -> Iterator[tuple[int, int, re.Match[bytes]]]:
    """(first line, last line, `_DIRECTIVE` match) of each conditional directive's logical line: what
    `_logical_lines` gives for them, without stepping through every other line of the file in Python.

    Such a logical line has only blanks before its ``#``, so the ``#`` is at the start of one of its
    physical lines (after blanks); that line's logical line begins after the last line before it that
    does not end with a backslash."""
    lines = source.split(b"\n")
    after_newline = b"\n" + source  # the first line too follows a newline
    line, counted, done = -1, 0, -1  # done: the last line of the logical line read last
    for hash_line in _HASH_LINE.finditer(after_newline):
        line += after_newline.count(b"\n", counted, hash_line.start() + 1)
        counted = hash_line.start() + 1
        if line <= done:
            continue
        first = line
        while first > 0 and lines[first - 1].rstrip(b"\r").endswith(b"\\"):
            first -= 1
        last, text = first, lines[first].rstrip(b"\r")
        while text.endswith(b"\\") and last + 1 < len(lines):
            last += 1
            text = text[:-1] + b" " + lines[last].rstrip(b"\r")
        done = last
        match = _DIRECTIVE.match(text)
        if match is not None:
            yield first, last, match


def line_states(source: bytes, cuda_only: frozenset[str] = frozenset()) -> list[int] | None:
    """Per 0-based line, `NEUTRAL`, `NOT_ON_ROCM` or `ROCM_ONLY`; None when no condition names ROCm.

    Most files have no ROCm branch at all; they pay one byte search. ``cuda_only``: see `_macro`.
    """
    lowered = source.lower()
    if b"hip" not in lowered and b"rocm" not in lowered and b"gfx" not in lowered and b"amd" not in lowered \
            and not any(name.encode() in source for name in cuda_only):
        return None
    cuda_only = cuda_only | twin_flags(source)
    gated = gated_groups(((first, match.group(1).decode(), match.group(2).decode("utf-8", "replace"))
                          for first, _, match in _directives(source)), ROCM_FLAGS) \
        if b"CUDART_VERSION" in source or b"CUDA_VERSION" in source else frozenset()
    group_only: list[frozenset[str]] = []  # per open group: the ``cuda_only`` its conditions read
    states = [NEUTRAL] * (source.count(b"\n") + 1)
    stack: list[_Group] = []
    current = NEUTRAL
    touched = False
    after = 0  # the first line after the last directive: the lines up to the next one are code of `current`
    for first, last, match in _directives(source):
        if current and first > after:
            states[after:first] = [current] * (first - after)
        after = last + 1
        keyword, rest = match.group(1).decode(), match.group(2).decode("utf-8", "replace")
        # a directive's own line (``#if CUBLAS_VERSION >= 11000``) is code of the group around it
        enclosing = stack[-1].outer if keyword in ("elif", "else", "endif") and stack else current
        if keyword == "elif" and stack and stack[-1].none_rocm is False and stack[-1].none_cuda is not False:
            enclosing = max(enclosing, NOT_ON_ROCM)  # a ROCm build took a branch before: never reads this
        if enclosing:
            for line in range(first, last + 1):
                states[line] = enclosing
        if keyword in ("if", "ifdef", "ifndef"):
            stack.append(_Group(current))
            group_only.append(cuda_only | RUNTIME_VERSION_MACROS if first in gated else cuda_only)
            condition = rest if keyword == "if" else f"defined({rest.split()[0] if rest.split() else ''})"
            if keyword == "ifndef":
                condition = f"!{condition}"
            stack[-1].branch(_evaluated(condition, True, group_only[-1]), _evaluated(condition, False, group_only[-1]))
        elif keyword == "elif" and stack:
            stack[-1].branch(_evaluated(rest, True, group_only[-1]), _evaluated(rest, False, group_only[-1]))
        elif keyword == "else" and stack:
            stack[-1].branch(True, True)
        elif keyword == "endif" and stack:
            stack.pop()
            group_only.pop()
        current = stack[-1].state if stack else NEUTRAL
        touched = touched or current != NEUTRAL
    if current and after < len(states):
        states[after:] = [current] * (len(states) - after)
    return states if touched else None


#: A branch chosen by a literal (``#if 0``, ``#elif 1``): the only kind `never_compiled` looks for.
_LITERAL_BRANCH = re.compile(rb"^[ \t]*#[ \t]*(?:el)?if[ \t]+\(?[ \t]*[01][ \t]*\)?[ \t]*(?:$|//|/\*)", re.MULTILINE)
#: Its cheap prefilter: an anchored multi-line search costs six times more over files that have none.
_LITERAL_BRANCH_HINT = re.compile(rb"if[ \t]+\(?[ \t]*[01]\b")


def never_compiled(source: bytes, fixed: Mapping[str, tuple[int, int]] | None = None) -> list[bool] | None:
    """Per 0-based line, whether no build compiles it; None when the file has no such line.

    vLLM keeps 50 CUDA lines under ``#if 0  // Disable the following code to reduce the binary size.``:
    code that neither a CUDA nor a ROCm build reads is nobody's lock-in. A branch is dead when its
    condition is false in both builds (`evaluate`), or when a branch before it is taken in both
    (``#if 1 ... #else``); everything nested in a dead branch is dead. Without ``fixed`` only files with
    a literal ``#if 0``/``#if 1`` are read: other conditions are seldom false everywhere.

    ``fixed``: macros every build defines to one value, name -> (the 0-based line from which it is
    defined, its value): TGI's exllamav2 ``qdq_4.cuh`` includes ``config.h`` (``#define QMODE_4BIT 1``)
    on line 5, so its ``#else`` of ``#if QMODE_4BIT == 1`` on line 7 is dead (`project.fixed_macros`).
    A condition before the definition does not see it.
    """
    if not fixed and (_LITERAL_BRANCH_HINT.search(source) is None or _LITERAL_BRANCH.search(source) is None):
        return None
    dead = [False] * (source.count(b"\n") + 1)
    stack: list[tuple[bool, bool]] = []  # per open group: (this branch is dead, a branch before was always taken)
    for first, last, text in _logical_lines(source):
        match = _DIRECTIVE.match(text) if b"#" in text else None
        keyword = match.group(1).decode() if match is not None else ""
        outer = stack[:-1] if keyword in ("elif", "else", "endif") else stack
        if any(branch_dead for branch_dead, _ in outer):
            dead[first:last + 1] = [True] * (last + 1 - first)
        if match is None:
            continue
        rest = match.group(2).decode("utf-8", "replace")
        known = {name: value for name, (line, value) in fixed.items() if line < first} if fixed else None
        if keyword in ("if", "ifdef", "ifndef"):
            name = rest.split()[0] if keyword != "if" and rest.split() else ""
            condition = rest if keyword == "if" else "unknown" if not known or name not in known \
                else f"{'!' if keyword == 'ifndef' else ''}defined({name})"  # other names: maybe in some build
            stack.append(_literal_branch(condition, False, known))
        elif keyword == "elif" and stack:
            stack[-1] = _literal_branch(rest, stack[-1][1], known)
        elif keyword == "else" and stack:
            stack[-1] = (stack[-1][1], stack[-1][1])
        elif keyword == "endif" and stack:
            stack.pop()
    return dead if any(dead) else None


def _literal_branch(condition: str, taken_before: bool, fixed: Mapping[str, int] | None = None) -> tuple[bool, bool]:
    """(dead, a branch up to this one is always taken) for one ``#if``/``#elif`` branch."""
    if fixed:
        in_rocm, in_cuda = evaluate(condition, True, fixed=fixed), evaluate(condition, False, fixed=fixed)
    else:  # no fixed macro: `_macro` reads an empty table as none
        in_rocm, in_cuda = _evaluated(condition, True, frozenset()), _evaluated(condition, False, frozenset())
    dead = taken_before or (in_rocm is False and in_cuda is False)
    return dead, taken_before or (in_rocm is True and in_cuda is True)
