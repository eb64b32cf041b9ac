"""Whether a CMake ``if()`` condition holds in a ROCm build and in a CUDA build, from its names alone.

The same philosophy as `analyzers.preprocessor`: a condition is evaluated twice, once as a ROCm build
and once as a CUDA build, in three-valued logic (True, False, unknown) over a small model of how
projects spell their GPU choice. Nothing is executed and no variable's value is looked up:

- a backend selector compared with a backend (``VLLM_GPU_LANG STREQUAL "CUDA"``, ``${COMPUTE_BACKEND}
  STREQUAL "hip"``, ``VLLM_TARGET_DEVICE STREQUAL "rocm"``): the selector is a variable whose name
  says it chooses a language, backend, device or platform; it is true in the build of that backend
  and false in the other;
- a ROCm flag (``HIP_FOUND``, ``USE_ROCM``, ``BUILD_HIP``, ``GGML_HIP``): true in a ROCm build,
  false in a CUDA build;
- a CUDA flag (``BUILD_CUDA``, ``USE_CUDA``, ``CMAKE_CUDA_COMPILER``, ``DEFINED
  CMAKE_CUDA_COMPILER_VERSION``): false in a ROCm build (no nvcc, the CUDA option off), true in a
  CUDA build. ``CUDA_FOUND`` and ``CUDAToolkit_FOUND`` are true in a CUDA build but unknown in a
  ROCm one: a machine may have both toolkits (vLLM tests ``NOT HIP_FOUND AND CUDA_FOUND``);
- ``ON``/``OFF``/``TRUE``/``FALSE``/``1``/``0`` are themselves;
- everything else (architecture lists, versions, options of the project) is unknown, and a branch
  whose fate depends on anything unknown changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..analyzers.preprocessor import spelled_for_rocm
from .cmake_lists import Arg

Tri = bool | None
#: The two builds a condition is evaluated in.
WORLDS = ("rocm", "cuda")

_CUDA_VALUES = frozenset({"cuda", "nvidia", "nvcc"})
_ROCM_VALUES = frozenset({"hip", "rocm", "amd", "hipcc", "amdgpu"})
_SELECTOR_TOKENS = frozenset({"lang", "language", "backend", "device", "platform", "gpu", "accelerator"})
_FLAG_PREFIXES = frozenset({"use", "with", "build", "enable", "have"})
_COMPARISONS = frozenset({"STREQUAL", "MATCHES", "EQUAL"})
_BINARY = frozenset({
    "STREQUAL", "MATCHES", "EQUAL", "LESS", "GREATER", "LESS_EQUAL", "GREATER_EQUAL", "STRLESS", "STRGREATER",
    "STRLESS_EQUAL", "STRGREATER_EQUAL", "VERSION_EQUAL", "VERSION_LESS", "VERSION_GREATER",
    "VERSION_LESS_EQUAL", "VERSION_GREATER_EQUAL", "IN_LIST", "IS_NEWER_THAN", "PATH_EQUAL",
})
_UNARY = frozenset({"DEFINED", "EXISTS", "COMMAND", "POLICY", "TARGET", "TEST", "IS_DIRECTORY", "IS_SYMLINK",
                    "IS_ABSOLUTE", "IS_READABLE", "IS_WRITABLE", "IS_EXECUTABLE"})
_CONSTANTS = {"on": True, "yes": True, "true": True, "y": True, "1": True,
              "off": False, "no": False, "false": False, "n": False, "0": False, "ignore": False, "notfound": False}
#: Always defined by a CUDA build with nvcc, never by a ROCm build.
_CUDA_COMPILER = frozenset({"CMAKE_CUDA_COMPILER", "CMAKE_CUDA_COMPILER_VERSION", "CMAKE_CUDA_COMPILER_ID"})
_CUDA_MAYBE_BOTH = frozenset({"CUDA_FOUND", "CUDATOOLKIT_FOUND", "CUDAToolkit_FOUND"})
MAX_DEPTH = 32


def _name(arg: Arg) -> str:
    """The variable an argument names: ``X``, ``${X}`` or ``"${X}"``."""
    text = arg.text.strip()
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        return text[2:-1]
    return "" if arg.quoted else text


def _tokens(name: str) -> list[str]:
    return [t for t in name.lower().split("_") if t]


def _backend(value: str) -> str | None:
    lowered = value.strip().lower()
    return "cuda" if lowered in _CUDA_VALUES else "rocm" if lowered in _ROCM_VALUES else None


def _flag(name: str) -> str | None:
    """``rocm`` or ``cuda`` for a name that switches that backend on (``USE_ROCM``, ``BUILD_CUDA``)."""
    tokens = _tokens(name)
    if not tokens:
        return None
    shaped = tokens[0] in _FLAG_PREFIXES or tokens[-1] == "found" or (len(tokens) == 2 and tokens[1] in ("hip", "cuda"))
    if not shaped:
        return None
    if spelled_for_rocm(name):
        return "rocm"
    return "cuda" if "cuda" in tokens else None


def _truth_of_name(name: str, world: str) -> Tri:
    if not name:
        return None
    constant = _CONSTANTS.get(name.lower())
    if constant is not None:
        return constant
    if name in _CUDA_COMPILER:
        return world == "cuda"
    if name in _CUDA_MAYBE_BOTH:
        return True if world == "cuda" else None
    flag = _flag(name)
    return None if flag is None else flag == world


def _compare(left: Arg, right: Arg, world: str) -> Tri:
    for variable, value in ((left, right), (right, left)):
        name = _name(variable)
        backend = None if value.text.lstrip().startswith("${") else _backend(value.text)
        if name and backend is not None and (set(_tokens(name)) & _SELECTOR_TOKENS):
            return backend == world
    return None


def tri_not(value: Tri) -> Tri:
    return None if value is None else not value


def tri_and(values: Sequence[Tri]) -> Tri:
    return False if False in values else True if all(v is True for v in values) else None


def tri_or(values: Sequence[Tri]) -> Tri:
    return True if True in values else False if all(v is False for v in values) else None


class _Parser:
    """Recursive descent over CMake's ``if()`` grammar: parentheses, unary and binary tests, NOT,
    AND, OR (in that precedence)."""

    def __init__(self, args: Sequence[Arg], world: str) -> None:
        self.args = args
        self.pos = 0
        self.world = world
        self.depth = 0

    def peek(self) -> str | None:
        if self.pos >= len(self.args) or self.args[self.pos].quoted:
            return None
        return self.args[self.pos].text

    def expression(self) -> Tri:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError("condition nested too deep")
        values = [self.conjunction()]
        while self.peek() == "OR":
            self.pos += 1
            values.append(self.conjunction())
        self.depth -= 1
        return tri_or(values)

    def conjunction(self) -> Tri:
        values = [self.negation()]
        while self.peek() == "AND":
            self.pos += 1
            values.append(self.negation())
        return tri_and(values)

    def negation(self) -> Tri:
        flips = 0
        while self.peek() == "NOT":  # a loop: ``NOT NOT ... x`` must not recurse once per NOT
            self.pos += 1
            flips += 1
        value = self.primary()
        return tri_not(value) if flips % 2 else value

    def primary(self) -> Tri:
        if self.pos >= len(self.args):
            raise ValueError("condition ends early")
        token = self.peek()
        if token == "(":
            self.pos += 1
            value = self.expression()
            if self.peek() != ")":
                raise ValueError("unbalanced parenthesis")
            self.pos += 1
            return value
        if token in _UNARY:
            self.pos += 2
            if self.pos > len(self.args):
                raise ValueError("test without operand")
            operand = self.args[self.pos - 1]
            if token == "DEFINED" and _name(operand) in _CUDA_COMPILER:
                return self.world == "cuda"
            return None
        left = self.args[self.pos]
        self.pos += 1
        operator = self.peek()
        if operator in _BINARY:
            if self.pos + 1 >= len(self.args):
                raise ValueError("comparison without right operand")
            right = self.args[self.pos + 1]
            self.pos += 2
            return _compare(left, right, self.world) if operator in _COMPARISONS else None
        return _truth_of_name(_name(left) or ("" if left.quoted else left.text), self.world)


def evaluate(args: Sequence[Arg], world: str) -> Tri:
    """The condition of an ``if``/``elseif`` in ``world`` (``rocm``, ``cuda``, or ``other``: a build for
    neither, where every backend test is false); unknown when it does not parse."""
    if not args:
        return None
    parser = _Parser(args, world)
    try:
        value = parser.expression()
    except ValueError:
        return None
    return value if parser.pos == len(args) else None
