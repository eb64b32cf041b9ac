"""Which platforms a line of Python can run on, read from the device and platform tests around it.

Real projects already dispatch: ``if torch.version.hip:``, ``current_platform.is_rocm()``,
``device.type == "xpu"``, ``if backend == "nccl": ... elif backend == "hccl":``, early returns such as
``if not current_platform.is_cuda(): return``. Reporting the CUDA side of such a branch as lock-in for
a target the project already handles, or the ROCm side as CUDA lock-in at all, is what made users
distrust the numbers. This module reads those tests (never executing anything) and tells the analyzer,
per matched node:

- the code never runs on an NVIDIA/CUDA build (it sits in a branch for another platform): not CUDA
  lock-in, so the match is dropped;
- the code runs only on some platforms, and the dispatch names others: those targets are *handled*
  (a branch handles target T only when its test names T; the path a test falls through to when it is
  false is the plain fallback, which handles ``cpu`` only, and nothing when it is an ``else`` that
  only raises);
- the node is itself the test (``torch.cuda.is_available()`` in an ``if``): reported, with the same
  per-target handling.

A test this module does not understand tells nothing (the code may run anywhere), so an unknown
condition never hides or softens a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import tree_sitter as ts

from ..model import TARGETS
from .backend_paths import BACKEND_TOKENS, dedicated_backend, name_tokens
from .findings import CPU_FALLBACK
from .matching import RawMatch, node_text
from .python_chain_shapes import chain_notes, crashes_without
from .python_mentions import only_raises
from .python_other_paths import (LaterSetups, agnostic_side_around, asserted_absent,
                                 tensor_device_test, compared_names, has_comparison,
                                 names_other_backends, note_line, rocm_home_beside)

#: Every platform a test can name. ``cuda`` is an NVIDIA build; ``other`` is a platform that is none
#: of the targets (TPU, HPU, Neuron, ...), which still makes a branch "not CUDA".
PLATFORMS: frozenset[str] = frozenset({"cuda", *TARGETS, "other"})
Platforms = frozenset[str]
_CUDA_BUILDS: Platforms = frozenset({"cuda", "rocm"})  # torch.cuda, "cuda" devices and "nccl" work on both

#: Device, backend and platform words, as strings (``"xpu"``, ``"hccl"``) or inside names (``is_xpu``).
#: ``cuda`` spells a device type that ROCm builds share; HCCL is both Huawei's and Habana's library.
_WORDS: dict[str, Platforms] = {
    "cuda": _CUDA_BUILDS, "gpu": _CUDA_BUILDS, "nccl": _CUDA_BUILDS, "nvidia": frozenset({"cuda"}),
    "rocm": frozenset({"rocm"}), "hip": frozenset({"rocm"}), "amd": frozenset({"rocm"}), "rccl": frozenset({"rocm"}),
    "xpu": frozenset({"xpu"}), "xccl": frozenset({"xpu"}), "ccl": frozenset({"xpu"}), "oneccl": frozenset({"xpu"}),
    "npu": frozenset({"ascend"}), "ascend": frozenset({"ascend"}), "hccl": frozenset({"ascend", "other"}),
    "mlu": frozenset({"mlu"}), "cncl": frozenset({"mlu"}), "musa": frozenset({"musa"}), "mccl": frozenset({"musa"}),
    "mps": frozenset({"mps"}), "cpu": frozenset({"cpu"}), "gloo": frozenset({"cpu"}),
    "hpu": frozenset({"other"}), "tpu": frozenset({"other"}), "xla": frozenset({"other"}),
    "neuron": frozenset({"other"}), "habana": frozenset({"other"}), "gaudi": frozenset({"other"}),
    "sdaa": frozenset({"other"}),  # Tecorigin's accelerator (accelerate's is_sdaa_available)
    # Intel Extension for PyTorch runs on Intel GPUs and CPUs (TGI's SYSTEM == "ipex"): both are Intel's.
    "ipex": frozenset({"xpu", "cpu"}),
}
#: A platform predicate or flag: ``is_rocm()``, ``is_rocm_pytorch()``, ``is_cuda_alike()``, ``is_torch_npu_available()``,
#: ``IS_HIP_EXTENSION``, ``args.use_cuda``; not ``use_cuda_graph`` (a feature, not a platform).
_PREDICATE = re.compile(
    r"(?i)^_?(?:is|use|using|on|has|run_on|with)_(?:torch_)?([a-z]+)"
    r"(_available|_alike|_extension|_platform|_build|_device|_backend|_is_available|_pytorch|_torch)?$"
)
#: ``torch.version.hip`` / ``torch.version.cuda``: the build's toolkit version, None on other builds.
#: An availability flag or method named for a platform: vLLM's ``self._rocm_arch_available()``,
#: ``cuda_available``; ``triton_available`` names no platform and stays unknown.
_AVAILABLE = re.compile(r"(?i)^_?([a-z]+)_(?:arch_|device_|devices_)?(?:is_)?available$")
#: A CPU-build flag: DeepSpeed's ``self.build_for_cpu`` (``use_cpu`` and ``is_cpu`` are `_PREDICATE`'s);
#: only names with the whole word ``cpu`` and a build/only qualifier (not ``cpu_offload``).
_CPU_FLAG = re.compile(r"(?i)^_?(?:(?:build_for|build_on|for|only)_cpu|cpu_only|cpu_build)$")
_VERSION_FLAGS: dict[str, Platforms] = {"hip": frozenset({"rocm"}), "cuda": frozenset({"cuda"})}
_DEVICE_STRING = re.compile(r"^([a-z]+)(?::\d+)?$")
#: An enum member naming a platform: accelerate's ``DistributedType.MULTI_NPU``, vLLM's
#: ``PlatformEnum.ROCM``, ``Backend.NCCL``; only of a class whose name says it lists such things.
_ENUM_MEMBER = re.compile(r"(?:^|\.)[A-Za-z_]*(?:Type|Device|Backend|Platform|Enum)\.(?:MULTI_)?([A-Z]+)$")
_EXITS = frozenset({"return_statement", "continue_statement", "break_statement"})


@dataclass(frozen=True, slots=True)
class Test:
    """What a condition says: the platforms where it may be true and those where it surely is (an
    unknown part of ``a and b`` makes the second smaller, so that ``not (a and b)`` stays honest), and
    the platforms it names (a branch handles only what its test names)."""

    may: Platforms = PLATFORMS
    must: Platforms = frozenset()
    named: Platforms = frozenset()
    #: Platforms an earlier branch of the same dispatch was for (``if SYSTEM == "ipex": ... else:``):
    #: a value test's false side says nothing about where the code runs, but it does say that the
    #: project has a path for them.
    elsewhere: Platforms = frozenset()
    #: Whether the path taken when the tests are false goes on (the plain fallback, which handles the
    #: CPU); False under a chain whose ``else`` only raises ("No GPU or Intel XPU found").
    fallback: bool = True

    @property
    def known(self) -> bool:
        return self.may != PLATFORMS or bool(self.must)

    def negated(self) -> Test:
        return Test(PLATFORMS - self.must, PLATFORMS - self.may, self.named, fallback=self.fallback)


def _atom(platforms: Platforms) -> Test:
    """A test true exactly on ``platforms`` (``is_rocm()``, ``torch.version.hip``)."""
    return Test(platforms, platforms, platforms)


def _value_test(platforms: Platforms) -> Test:
    """A test of a value naming ``platforms`` (``device.type == "xpu"``, ``backend == "nccl"``): true
    only there, but false says nothing, since a tensor on the CPU or a backend chosen by the user can
    differ from the platform (``elif torch.cuda.is_available():`` after ``if x.device.type == "cuda":``
    still runs on CUDA)."""
    return Test(platforms, frozenset(), platforms)


_UNKNOWN = Test()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the dispatch around a node means for its finding."""

    drop: bool = False
    handled: frozenset[str] = frozenset()
    named: frozenset[str] = frozenset()  # the platforms the tests around the node name
    check: bool = False  # the node is part of a device/platform test itself
    #: Targets the device-agnostic side of the CUDA branch around the node handles, and its line
    #: (`python_other_paths.agnostic_side`).
    agnostic: frozenset[str] = frozenset()
    agnostic_line: int = 0


_NONE = Verdict()


def _both(a: Test, b: Test) -> Test:
    return Test(a.may & b.may, a.must & b.must, a.named | b.named, a.elsewhere | b.elsewhere,
                a.fallback and b.fallback)


def _otherwise(test: Test, condition: ts.Node | None) -> Test:
    """The path where ``condition`` (whose reading is ``test``) was false: its negation, and the
    platforms it pointed to are handled elsewhere when it is a plain positive test (``x == "xpu"``,
    ``is_xpu()``; not ``!=`` or ``not``, whose true side is for no named platform)."""
    negated = test.negated()
    return replace(negated, elsewhere=test.named & test.may) if _positive(condition) and test.known else negated


def _parts(node: ts.Node) -> list[ts.Node]:
    """The named children of ``node`` but comments (TGI's ``!= 16384  # TODO`` inside a test)."""
    return [child for child in node.named_children if child.type != "comment"]


def _positive(node: ts.Node | None) -> bool:
    if node is None:
        return False
    if node.type == "parenthesized_expression" and len(_parts(node)) == 1:
        return _positive(_parts(node)[0])
    if node.type == "comparison_operator":
        operators = [node_text(child) for child in node.children if not child.is_named]
        return operators in (["=="], ["in"])
    if node.type == "boolean_operator":
        return _positive(node.child_by_field_name("left")) and _positive(node.child_by_field_name("right"))
    return node.type in ("call", "attribute", "identifier")


def _either(a: Test, b: Test) -> Test:
    return Test(a.may | b.may, a.must | b.must, a.named | b.named, fallback=a.fallback and b.fallback)


def _word(word: str) -> Platforms | None:
    return _WORDS.get(word.lower())


def _string_platforms(node: ts.Node) -> Platforms | None:
    """Platforms a string literal or platform enum member (or a tuple/list/set of them) names; None
    if any is no platform."""
    if node.type == "string":
        if any(child.type == "interpolation" for child in node.children):
            return None
        match = _DEVICE_STRING.match(node_text(node)[1:-1].strip("'\""))
        return _word(match.group(1)) if match else None
    if node.type == "attribute":
        member = _ENUM_MEMBER.search(node_text(node))
        return _word(member.group(1)) if member else None
    if node.type in ("tuple", "list", "set", "parenthesized_expression"):
        found: set[str] = set()
        for item in node.named_children:
            platforms = _string_platforms(item)
            if platforms is None:
                return None
            found |= platforms
        return frozenset(found) if found else None
    return None


def _name_test(name: str) -> Test:
    """A predicate's or flag's last name component: ``is_rocm``, ``is_cuda``, ``IS_HIP_EXTENSION``."""
    match = _PREDICATE.match(name)
    if match is None and _CPU_FLAG.match(name):
        return _atom(frozenset({"cpu"}))
    if match is None:
        available = _AVAILABLE.match(name)
        platforms = _word(available.group(1)) if available else None
        return _atom(platforms) if platforms else _UNKNOWN
    platforms = _word(match.group(1))
    if platforms is None:
        return _UNKNOWN
    if match.group(1).lower() == "cuda":  # vLLM's is_cuda() is NVIDIA only; is_cuda_alike() includes ROCm
        # (so is its setup.py's private `_is_cuda()`, beside `_is_hip()`)
        nvidia_only = match.group(2) is None and name.lower().lstrip("_") == "is_cuda"
        platforms = frozenset({"cuda"}) if nvidia_only else _CUDA_BUILDS
    return _atom(platforms)


def _attribute_test(node: ts.Node) -> Test:
    obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
    name = node_text(attr)
    if obj is not None and node_text(obj).rsplit(".", 1)[-1] == "version" and name in _VERSION_FLAGS:
        platforms = _VERSION_FLAGS[name]
        return _atom(platforms)
    return _name_test(name)


def _call_test(node: ts.Node) -> Test:
    function = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if function is None:
        return _UNKNOWN
    parts = node_text(function).replace(" ", "").split(".")
    last = parts[-1]
    if last == "is_available" and len(parts) >= 2:  # torch.cuda / torch.xpu / torch.backends.mps
        # True only on that platform's builds, but false also on such a build with no device visible
        # (a build machine cross-compiling for it): the body of `if not torch.cuda.is_available():`
        # is no path for another platform, and names none it handles.
        platforms = _word(parts[-2])
        return _value_test(platforms) if platforms else _UNKNOWN
    if last == "hasattr" and args is not None and len(args.named_children) == 2:
        owner, attribute = args.named_children
        platforms = _string_platforms(attribute)
        if platforms is not None:  # hasattr(torch, "npu")
            return _value_test(platforms)
        if re.search(r"(^|\.)(ops|_C)(\.|$)", node_text(owner)):
            # hasattr(torch.ops._C, "op"): a compiled op is used only where it was built; the path
            # taken without it is the plain fallback, which handles cpu.
            return Test(PLATFORMS - {"cpu"})
        return _UNKNOWN
    if last == "startswith" and args is not None and args.named_children:
        platforms = _string_platforms(args.named_children[0])
        return _value_test(platforms) if platforms else _UNKNOWN
    return _name_test(last)


def _comparison_test(node: ts.Node) -> Test:
    operands = _parts(node)
    operators = [node_text(child) for child in node.children if not child.is_named]
    if len(operands) != 2 or len(operators) not in (1, 2):
        return _UNKNOWN
    operator = " ".join(operators)
    left, right = operands
    if operator in ("is", "is not") and right.type == "none":
        test = classify(left)
        return test if operator == "is not" else test.negated()
    if operator not in ("==", "!=", "in", "not in"):
        return _UNKNOWN
    platforms = _string_platforms(right) if operator in ("==", "!=") or left.type != "string" else None
    if platforms is None and operator in ("==", "!=", "in", "not in"):
        platforms = _string_platforms(left)
    if platforms is None:
        return _UNKNOWN
    test = _value_test(platforms)
    return test.negated() if operator in ("!=", "not in") else test


def classify(node: ts.Node | None) -> Test:
    """What a condition expression says about the platform it runs on."""
    if node is None:
        return _UNKNOWN
    kind = node.type
    if kind == "parenthesized_expression" and len(_parts(node)) == 1:
        return classify(_parts(node)[0])
    if kind == "not_operator":
        return classify(node.child_by_field_name("argument")).negated()
    if kind == "boolean_operator":
        left, right = classify(node.child_by_field_name("left")), classify(node.child_by_field_name("right"))
        operator = node.child_by_field_name("operator")
        return _both(left, right) if operator is not None and operator.type == "and" else _either(left, right)
    if kind == "comparison_operator":
        return _comparison_test(node)
    if kind == "call":
        return _call_test(node)
    if kind == "attribute":
        return _attribute_test(node)
    if kind == "identifier":
        return _name_test(node_text(node))
    return _UNKNOWN


def is_platform_test(node: ts.Node) -> bool:
    """Does the condition ``node`` say anything about the platform (``torch.cuda.is_available()``,
    ``backend == "nccl"``)?"""
    return classify(node).known


class Dispatch:
    """Per-file reader of the tests around matched nodes (tests are classified once each)."""

    def __init__(self) -> None:
        self._tests: dict[int, Test] = {}
        self._exits: dict[int, list[tuple[int, Test]]] = {}  # block -> (end byte, test) of its early exits
        self._above: dict[int, Test] = {}  # block -> the path into it (the same for all its statements)
        self._siblings: dict[int, Platforms] = {}  # if statement -> what sibling tests of its subject name
        self._later = LaterSetups(self._setup_test)
        self._agnostic: dict[int, ts.Node | None] = {}  # CUDA clause -> its device-agnostic side

    def _test(self, node: ts.Node | None) -> Test:
        if node is None:
            return _UNKNOWN
        test = self._tests.get(node.id)
        if test is None:
            test = self._tests[node.id] = classify(node)
        return test

    def verdict(self, node: ts.Node) -> Verdict:
        """Drop, handled targets, or nothing, for a finding at ``node``."""
        path, check = self._walk(node)
        found = _verdict(path, check)
        if found.drop:
            return found
        found = self._other_paths(node, path, found)
        if check and not found.drop:
            # `x.is_cuda or x.is_xpu`: the test of CUDA is one part of a test that takes XPU too.
            own = _own_test(node)
            also = frozenset(t for t in TARGETS if t in path.named & path.may and t not in own.may) if own.known else None
            if also:
                return replace(found, handled=found.handled | also, named=found.named | also)
        return found

    def _into(self, block: ts.Node) -> Test:
        """The path into a block, from the tests around it (once per block: findings share them)."""
        path = self._above.get(block.id)
        if path is None:
            path = self._above[block.id] = self._walk(block)[0]
        return path

    def _walk(self, node: ts.Node) -> tuple[Test, bool]:
        """Where ``node`` runs (as far as the tests around it say) and whether it is part of a test."""
        path = _UNKNOWN
        check = False
        child, below = node, node
        parent = node.parent
        while parent is not None:
            kind = parent.type
            if kind == "if_statement":
                step, in_test = self._if_step(parent, child, below)
                path, check = _both(path, step), check or in_test
            elif kind == "conditional_expression" and parent.named_child_count == 3:
                value, condition, other = parent.named_children
                test = self._test(condition)
                if child == value:
                    path = _both(path, test)
                elif child == other:
                    path = _both(path, _otherwise(test, condition))
                elif test.known:  # the test itself: where it is true, the value is used
                    path, check = _both(path, test), True
            elif kind == "boolean_operator" and child == parent.child_by_field_name("right"):
                test = self._test(parent.child_by_field_name("left"))
                operator = parent.child_by_field_name("operator")
                path = _both(path, test if operator is not None and operator.type == "and" else test.negated())
            elif kind == "pair" and child == parent.child_by_field_name("value"):
                path = _both(path, _table_entry(parent))
            elif kind in ("function_definition", "class_definition") and child == parent.child_by_field_name("body"):
                path = _both(path, _named_for(parent))
            elif kind in ("block", "module"):
                return _both(_both(path, self._early_exits(parent, child)), self._into(parent)), check
            below, child, parent = child, parent, parent.parent
        return path, check

    def _if_step(self, stmt: ts.Node, child: ts.Node, below: ts.Node) -> tuple[Test, bool]:
        """The path into ``child`` of an if/elif/else chain, and whether it is one of the tests."""
        clauses = [(stmt.child_by_field_name("condition"), stmt.child_by_field_name("consequence"), stmt)]
        otherwise = None
        for alternative in stmt.children_by_field_name("alternative"):
            if alternative.type == "elif_clause":
                clauses.append((alternative.child_by_field_name("condition"),
                                alternative.child_by_field_name("consequence"), alternative))
            else:
                otherwise = alternative
        # A branch that only raises ("only supported on NVIDIA GPUs") handles nothing it names.
        tests = []
        for condition, body, _ in clauses:
            test = self._test(condition)
            tests.append(replace(test, named=frozenset()) if only_raises(body) else test)
        if otherwise is None and len(clauses) > 1 and any(t.known and "cuda" in t.may for t in tests) \
                and names_other_backends([c for c, _, _ in clauses], _string_platforms):
            # `nccl` / `mpi` / `hccl` with no `else` (DeepSpeed's 1-bit optimizers): a name that is
            # no platform is another backend (MPI moves CuPy arrays on the GPU), not a CPU fallback.
            tests = [replace(t, may=t.may | {"cpu"}) if t.known and "cuda" in t.may else t for t in tests]
        named = frozenset().union(*(t.named for t in tests))
        if not any(t.known for t in tests):
            return _UNKNOWN, False
        before = Test(named=named, fallback=not (_raising_else(otherwise) or crashes_without(stmt, is_platform_test)))
        for test, (condition, body, clause) in zip(tests, clauses):
            in_clause = child == clause if clause is not stmt else True
            target = below if clause is not stmt else child
            if in_clause and target in (condition, body) and clause is stmt and _positive(condition):
                later = self._later.after(stmt) - _CUDA_BUILDS if test.may <= _CUDA_BUILDS else frozenset()
                test = replace(test, elsewhere=test.elsewhere | (self._sibling_platforms(stmt) | later) - test.may)
            if in_clause and target == condition:
                return _both(before, test), test.known
            if in_clause and target == body:
                return _both(before, test), False
            before = _both(before, _otherwise(test, condition))
        return (before, False) if child == otherwise else (Test(named=named, fallback=before.fallback), False)

    def _setup_test(self, condition: ts.Node) -> tuple[Platforms, bool]:
        """For `LaterSetups`: the platforms a test's true side is for, and whether it is a plain
        positive test of the platform itself (``torch.xpu.is_available()``, ``is_xpu()``; not a
        comparison such as ``name == "xccl"``, whose subject may be anything)."""
        test = self._test(condition)
        return test.named & test.may, test.known and _positive(condition) and not has_comparison(condition)

    def _other_paths(self, node: ts.Node, path: Test, found: Verdict) -> Verdict:
        """``found`` with the targets that the device-agnostic side of the CUDA branch ``node`` is
        in handles (every one but ROCm, which runs the CUDA branch)."""
        side = agnostic_side_around(node, self.cuda_test, self._agnostic) if path.may <= _CUDA_BUILDS else None
        may = path.may
        if side is None:  # the test itself of a tensor off CUDA whose side returns generic torch code
            side, may = agnostic_side_around(node, _never, self._agnostic, self._not_cuda_test), _CUDA_BUILDS
        if side is None:
            return found
        # ROCm builds take the CUDA branch itself (torch.cuda, "cuda" devices and NCCL work there).
        agnostic = frozenset(t for t in TARGETS if t not in may and t != "rocm")
        return replace(found, agnostic=agnostic, agnostic_line=note_line(side))

    def platforms_of(self, node: ts.Node | None) -> Platforms | None:
        """Where ``node`` is true, when it reads as a platform test (`python_chain_shapes`)."""
        test = self._test(node)
        return test.may if test.known else None

    def cuda_test(self, condition: ts.Node | None) -> bool:
        """For `agnostic_side_around`: is ``condition`` a plain positive test of CUDA (or of a tensor
        on CUDA, flash-attention's ``x.is_cuda and (bias is None or bias.is_cuda)``)? Or an ``and``
        of such a test with a condition that says nothing about the platform (pytorch examples'
        imagenet: ``args.gpu is not None and device.type == 'cuda'``): that branch is CUDA-only
        too, and its ``else`` is where every other target goes."""
        if condition is not None and condition.type == "boolean_operator" and node_text(
                condition.child_by_field_name("operator")) == "and":
            left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
            if any(self.cuda_test(one) and not self._test(other).known
                   for one, other in ((left, right), (right, left))):
                return True
        test = self._test(condition)
        return test.known and test.may <= _CUDA_BUILDS and (
            _positive(condition) or (tensor_device_test(condition) and condition is not None
                                     and condition.type != "not_operator" and "!=" not in node_text(condition)))

    def _not_cuda_test(self, condition: ts.Node | None) -> bool:
        """For `agnostic_side_around`: is ``condition`` a test of a tensor off CUDA (apex's ``... or
        not input.is_cuda``), whose false side runs on CUDA only?"""
        negated = self._test(condition).negated()
        return negated.known and negated.may <= _CUDA_BUILDS and tensor_device_test(condition)

    def _sibling_platforms(self, stmt: ts.Node) -> Platforms:
        """Platforms that the other ``if`` statements of the same block test the same subject for
        (accelerate's ``if self.backend == "nccl" and ...:`` then ``if self.backend == "xccl" and
        ...:``): a dispatch written without ``elif``, whose other branches handle what they name."""
        found = self._siblings.get(stmt.id)
        if found is None:
            subjects = _subjects(stmt.child_by_field_name("condition"))
            others: set[str] = set()
            block = stmt.parent
            for sibling in block.named_children if subjects and block is not None else []:
                if sibling.type == "if_statement" and sibling.id != stmt.id:
                    conditions = [sibling.child_by_field_name("condition")] + [
                        a.child_by_field_name("condition") for a in sibling.children_by_field_name("alternative")
                        if a.type == "elif_clause"]
                    for condition in conditions:
                        for subject, platforms in _subjects(condition).items():
                            others |= platforms if subject in subjects else frozenset()
            found = self._siblings[stmt.id] = frozenset(others)
        return found

    def _early_exits(self, block: ts.Node, child: ts.Node) -> Test:
        """``if not is_cuda(): return`` before ``child`` in the same block: the rest runs only when
        the test is false."""
        exits = self._exits.get(block.id)
        if exits is None:  # once per block: a module may hold many findings
            exits = self._exits[block.id] = []
            for stmt in block.named_children:
                if stmt.type != "if_statement" or stmt.children_by_field_name("alternative"):
                    continue
                body = stmt.child_by_field_name("consequence")
                last = body.named_children[-1] if body is not None and body.named_children else None
                if last is not None and last.type in _EXITS:  # a raise is no fallback: it handles nothing
                    condition = stmt.child_by_field_name("condition")
                    test = self._test(condition)
                    if test.known:
                        exits.append((stmt.end_byte, _otherwise(test, condition)))
        path = _UNKNOWN
        for end, test in exits:
            if end > child.start_byte:
                break
            path = _both(path, test)
        return path


def _never(_: ts.Node | None) -> bool:
    return False


def _subjects(condition: ts.Node | None) -> dict[str, Platforms]:
    """``x == "xpu"`` (alone or in an ``and``): ``{"x": {"xpu"}}``, the value tested per subject."""
    found = {}
    for subject, value in compared_names(condition).items():
        platforms = _string_platforms(value)
        if platforms is not None:
            found[subject] = platforms
    return found


def _table_entry(pair: ts.Node) -> Test:
    """A value in a table keyed by platform (``{"cuda": "nccl", "xpu": "xccl"}.get(device_type)``) is
    that platform's entry, like a branch; only when another key names a platform too."""
    table = pair.parent
    key = _string_platforms(pair.child_by_field_name("key") or pair)
    if key is None or table is None or table.type != "dictionary":
        return _UNKNOWN
    named = set(key)
    for other in table.named_children:
        if other is not pair and other.type == "pair":
            platforms = _string_platforms(other.child_by_field_name("key") or other)
            named |= platforms or frozenset()
    return Test(key, frozenset(), frozenset(named)) if named != key else _UNKNOWN


def _named_for(definition: ts.Node) -> Test:
    """A class or function named for another backend (TGI's ``class FastLinearROCm``, vLLM's
    ``def rocm_unquantized_gemm``, ``def test_amd_fp8``) is that backend's code, as a file so named is
    (`backend_paths`); a name that also says CUDA (``hip_or_cuda``) is not."""
    name = node_text(definition.child_by_field_name("name"))
    tokens = name_tokens(name)
    if not tokens or not BACKEND_TOKENS.keys() & tokens or {"cuda", "nvidia"} & set(tokens):
        return _UNKNOWN
    backend = dedicated_backend(name)
    return _atom(frozenset({backend if backend in TARGETS else "other"})) if backend is not None else _UNKNOWN


def _raising_else(otherwise: ts.Node | None) -> bool:
    """A chain ending in ``else: raise RuntimeError("No GPU found")`` has no fallback: what its tests
    leave out fails there, so the CPU is not handled by it (accelerate's ``bnb.py``)."""
    return otherwise is not None and only_raises(otherwise.child_by_field_name("body"))


def _own_test(node: ts.Node) -> Test:
    """The platform test ``node`` itself is (``torch.cuda.is_available()``, ``x.is_cuda``, ``d ==
    "cuda"``): the node or one of the two expressions around it, the first that reads as one."""
    candidate: ts.Node | None = node
    for _ in range(3):
        if candidate is None:
            break
        test = classify(candidate)
        if test.known:
            return test
        candidate = candidate.parent
    return _UNKNOWN


def _verdict(path: Test, check: bool) -> Verdict:
    if path.may == PLATFORMS and not path.elsewhere:
        return _NONE
    if "cuda" not in path.may and not check and path.may <= path.named:
        return Verdict(drop=True)  # a branch for named platforms only (ROCm, XPU, ...): their code
    if check and path.may and "cuda" not in path.may and path.may <= path.named:
        # A CUDA call inside a test that is true only on other platforms (xformers' `torch.version.hip
        # and (torch.cuda.is_available() or ...)`): it runs nowhere else, so every other target is
        # handled by the dispatch, none by a fallback.
        handled = frozenset(t for t in TARGETS if t not in path.may)
        return Verdict(handled=handled, named=path.named | handled, check=check)
    fallback = {"cpu"} if path.fallback else set()
    handled = frozenset(t for t in TARGETS if (t not in path.may and (t in path.named or t in fallback))
                        or t in path.elsewhere)
    return Verdict(handled=handled, named=path.named, check=check) if handled or check else _NONE


#: How `Finding.handled` names the two ways a dispatch handles a target.
BRANCH = "device/platform branch"
FALLBACK = CPU_FALLBACK
#: The two ways a target is handled without a branch naming it (`python_other_paths`), each
#: followed by where: ``device-agnostic else (train.py:131)``, ``ROCM_HOME beside it (setup.py:22)``.
AGNOSTIC = "device-agnostic else"
ROCM_HOME = "ROCM_HOME beside it"


def apply_dispatch(raw: list[RawMatch], path: str = "") -> list[RawMatch]:
    """``raw`` without the matches in branches for other platforms, the rest with the targets the
    dispatch around them handles (``path``, the file's display path, names the lines of the paths
    that handle a target without a branch naming it)."""
    dispatch = Dispatch()
    kept = []
    for match in raw:
        verdict = dispatch.verdict(match.node)
        if verdict.drop or asserted_absent(match.node):
            continue
        notes = chain_notes(match.node, _notes(verdict, path), path, dispatch.platforms_of, dispatch.cuda_test)
        rocm = rocm_home_beside(match.node, match.symbol)
        if rocm is not None and "rocm" not in notes:
            notes["rocm"] = f"{ROCM_HOME} ({path}:{note_line(rocm)})"
        if notes:
            match = replace(match, handled=match.handled + tuple(sorted(notes.items())))
        kept.append(match)
    return kept


def _notes(verdict: Verdict, path: str) -> dict[str, str]:
    """Target -> how the dispatch around a match handles it: a branch naming it, the plain
    fallback (cpu), or the device-agnostic ``else`` of the CUDA branch (every target a branch does
    not name, cpu included: that ``else`` is no CPU-only fallback)."""
    notes = {t: FALLBACK if t == "cpu" and t not in verdict.named else BRANCH for t in verdict.handled}
    for target in verdict.agnostic:
        if notes.get(target, FALLBACK) == FALLBACK:
            notes[target] = f"{AGNOSTIC} ({path}:{verdict.agnostic_line})"
    return notes
