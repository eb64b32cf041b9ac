"""What a condition says about the platform it runs on: the reading `python_dispatch` builds on.

``torch.version.hip``, ``current_platform.is_rocm()``, ``device.type == "xpu"``, ``backend ==
"nccl"``, ``hasattr(torch, "npu")``, an enum member such as ``DistributedType.MULTI_NPU``: each is read
(never executed) into a `Test`, the platforms where it may be true, those where it surely is, and the
platforms it names. ``and``, ``or`` and ``not`` combine them; a condition this module does not
understand is unknown, so an unknown test never hides or softens a finding. Kept apart from the
walk over the branches around a match (`python_dispatch.Dispatch`) because other readers
(`python_mentions`, `python_callers`) only need to know whether a condition is a platform test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

import tree_sitter as ts

from ..model import TARGETS
from .matching import conjuncts, node_text

#: Every platform a test can name. ``cuda`` is an NVIDIA build; ``other`` is a platform that is none
#: of the targets (TPU, HPU, Neuron, ...), which still makes a branch "not CUDA".
PLATFORMS: frozenset[str] = frozenset({"cuda", *TARGETS, "other"})
Platforms = frozenset[str]
CUDA_BUILDS: Platforms = frozenset({"cuda", "rocm"})  # torch.cuda, "cuda" devices and "nccl" work on both

#: Device, backend and platform words, as strings (``"xpu"``, ``"hccl"``) or inside names (``is_xpu``).
#: ``cuda`` spells a device type that ROCm builds share; HCCL is both Huawei's and Habana's library.
_WORDS: dict[str, Platforms] = {
    "cuda": CUDA_BUILDS, "gpu": CUDA_BUILDS, "nccl": CUDA_BUILDS, "nvidia": frozenset({"cuda"}),
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


def atom(platforms: Platforms) -> Test:
    """A test true exactly on ``platforms`` (``is_rocm()``, ``torch.version.hip``)."""
    return Test(platforms, platforms, platforms)


def _value_test(platforms: Platforms) -> Test:
    """A test of a value naming ``platforms`` (``device.type == "xpu"``, ``backend == "nccl"``): true
    only there, but false says nothing, since a tensor on the CPU or a backend chosen by the user can
    differ from the platform (``elif torch.cuda.is_available():`` after ``if x.device.type == "cuda":``
    still runs on CUDA)."""
    return Test(platforms, frozenset(), platforms)


UNKNOWN = Test()


def conjunction(a: Test, b: Test) -> Test:
    return Test(a.may & b.may, a.must & b.must, a.named | b.named, a.elsewhere | b.elsewhere,
                a.fallback and b.fallback)


def when_false(test: Test, condition: ts.Node | None) -> Test:
    """The path where ``condition`` (whose reading is ``test``) was false: its negation, and the
    platforms it pointed to are handled elsewhere when it is a plain positive test (``x == "xpu"``,
    ``is_xpu()``; not ``!=`` or ``not``, whose true side is for no named platform)."""
    negated = test.negated()
    return replace(negated, elsewhere=test.named & test.may) if is_positive(condition) and test.known else negated


def _parts(node: ts.Node) -> list[ts.Node]:
    """The named children of ``node`` but comments (TGI's ``!= 16384  # TODO`` inside a test)."""
    return [child for child in node.named_children if child.type != "comment"]


def is_positive(node: ts.Node | None) -> bool:
    if node is None:
        return False
    if node.type == "parenthesized_expression" and len(_parts(node)) == 1:
        return is_positive(_parts(node)[0])
    if node.type == "comparison_operator":
        operators = [node_text(child) for child in node.children if not child.is_named]
        return operators in (["=="], ["in"])
    if node.type == "boolean_operator":
        return is_positive(node.child_by_field_name("left")) and is_positive(node.child_by_field_name("right"))
    return node.type in ("call", "attribute", "identifier")


def platform_positive(condition: ts.Node | None, test: Callable[[ts.Node], Test]) -> bool:
    """Is every operand of ``condition``'s ``and`` chain that tests the platform (by ``test``) a
    positive test? An operand that tests no platform says nothing about where the branch runs, so
    accelerate's ``backend != DynamoBackend.NO and device.type == "cuda"`` reads like ``flag and
    device.type == "cuda"`` (judged false: j16A), while ``dev != "cpu" and ...`` stays negated."""
    tested = [operand for operand in conjuncts(condition) if test(operand).known]
    return all(is_positive(operand) for operand in tested) if tested else is_positive(condition)


def _either(a: Test, b: Test) -> Test:
    return Test(a.may | b.may, a.must | b.must, a.named | b.named, fallback=a.fallback and b.fallback)


def _word(word: str) -> Platforms | None:
    return _WORDS.get(word.lower())


def string_platforms(node: ts.Node) -> Platforms | None:
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
            platforms = string_platforms(item)
            if platforms is None:
                return None
            found |= platforms
        return frozenset(found) if found else None
    return None


def _name_test(name: str) -> Test:
    """A predicate's or flag's last name component: ``is_rocm``, ``is_cuda``, ``IS_HIP_EXTENSION``."""
    match = _PREDICATE.match(name)
    if match is None and _CPU_FLAG.match(name):
        return atom(frozenset({"cpu"}))
    if match is None:
        available = _AVAILABLE.match(name)
        platforms = _word(available.group(1)) if available else None
        return atom(platforms) if platforms else UNKNOWN
    platforms = _word(match.group(1))
    if platforms is None:
        return UNKNOWN
    if match.group(1).lower() == "cuda":  # vLLM's is_cuda() is NVIDIA only; is_cuda_alike() includes ROCm
        # (so is its setup.py's private `_is_cuda()`, beside `_is_hip()`)
        nvidia_only = match.group(2) is None and name.lower().lstrip("_") == "is_cuda"
        platforms = frozenset({"cuda"}) if nvidia_only else CUDA_BUILDS
    return atom(platforms)


def _attribute_test(node: ts.Node) -> Test:
    obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
    name = node_text(attr)
    if obj is not None and node_text(obj).rsplit(".", 1)[-1] == "version" and name in _VERSION_FLAGS:
        platforms = _VERSION_FLAGS[name]
        return atom(platforms)
    if name == "is_cuda":  # a tensor's property: may be true on ROCm builds too, unlike vLLM's
        # NVIDIA-only `current_platform.is_cuda()`; it names CUDA alone, as before, so a branch on it
        # claims no ROCm path of its own
        return Test(CUDA_BUILDS, frozenset(), frozenset({"cuda"}))
    return _name_test(name)


def _call_test(node: ts.Node) -> Test:
    function = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if function is None:
        return UNKNOWN
    parts = node_text(function).replace(" ", "").split(".")
    last = parts[-1]
    if last == "is_available" and len(parts) >= 2:  # torch.cuda / torch.xpu / torch.backends.mps
        # True only on that platform's builds, but false also on such a build with no device visible
        # (a build machine cross-compiling for it): the body of `if not torch.cuda.is_available():`
        # is no path for another platform, and names none it handles.
        platforms = _word(parts[-2])
        return _value_test(platforms) if platforms else UNKNOWN
    if last == "hasattr" and args is not None and len(args.named_children) == 2:
        owner, attribute = args.named_children
        platforms = string_platforms(attribute)
        if platforms is not None:  # hasattr(torch, "npu")
            return _value_test(platforms)
        if re.search(r"(^|\.)(ops|_C)(\.|$)", node_text(owner)):
            # hasattr(torch.ops._C, "op"): a compiled op is used only where it was built; the path
            # taken without it is the plain fallback, which handles cpu.
            return Test(PLATFORMS - {"cpu"})
        return UNKNOWN
    if last == "startswith" and args is not None and args.named_children:
        platforms = string_platforms(args.named_children[0])
        return _value_test(platforms) if platforms else UNKNOWN
    return _name_test(last)


def _comparison_test(node: ts.Node, names: Names | None) -> Test:
    operands = _parts(node)
    operators = [node_text(child) for child in node.children if not child.is_named]
    if len(operands) != 2 or len(operators) not in (1, 2):
        return UNKNOWN
    operator = " ".join(operators)
    left, right = operands
    if operator in ("is", "is not") and right.type == "none":
        test = classify(left, names)
        return test if operator == "is not" else test.negated()
    if operator not in ("==", "!=", "in", "not in"):
        return UNKNOWN
    platforms = string_platforms(right) if operator in ("==", "!=") or left.type != "string" else None
    if platforms is None and operator in ("==", "!=", "in", "not in"):
        platforms = string_platforms(left)
    if platforms is None:
        return UNKNOWN
    test = _value_test(platforms)
    return test.negated() if operator in ("!=", "not in") else test


#: What a module's own names say about the platform (`python_cuda_flags`): a name -> `Test` or None.
Names = Callable[[str], "Test | None"]


def classify(node: ts.Node | None, names: Names | None = None) -> Test:
    """What a condition expression says about the platform it runs on (``names`` reads the bare
    names a predicate's spelling leaves unknown)."""
    if node is None:
        return UNKNOWN
    kind = node.type
    if kind == "parenthesized_expression" and len(_parts(node)) == 1:
        return classify(_parts(node)[0], names)
    if kind == "not_operator":
        return classify(node.child_by_field_name("argument"), names).negated()
    if kind == "boolean_operator":
        left = classify(node.child_by_field_name("left"), names)
        right = classify(node.child_by_field_name("right"), names)
        operator = node.child_by_field_name("operator")
        return conjunction(left, right) if operator is not None and operator.type == "and" else _either(left, right)
    if kind == "comparison_operator":
        return _comparison_test(node, names)
    if kind == "call":
        return _call_test(node)
    if kind == "attribute":
        return _attribute_test(node)
    if kind == "identifier":
        test = _name_test(node_text(node))
        return (names(node_text(node)) or test) if names is not None and not test.known else test
    return UNKNOWN


def is_platform_test(node: ts.Node) -> bool:
    """Does the condition ``node`` say anything about the platform (``torch.cuda.is_available()``,
    ``backend == "nccl"``)?"""
    return classify(node).known
