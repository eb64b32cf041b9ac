"""The ROCm path one call up: a function every caller runs only off ROCm (or off another target).

DeepSpeed's ``op_builder/builder.py`` reads ``CUDA_HOME`` in ``assert_no_cuda_mismatch()``, and both
calls of it sit under ``if not self.is_rocm_pytorch():``. The function has no test of its own, so its
findings read as unhandled on ROCm, yet the project's ROCm path is right there, one call up. Here the
file's own reading finds such functions: every occurrence of the name in the file is the function's
definition or a call (``f(...)``, ``self.f(...)``) whose dispatch (`python_dispatch.Dispatch`) leaves
ROCm out: it handles ROCm there, or the call sits in the body of an NVIDIA-only test (vLLM's
``setup.py``: ``get_nvcc_cuda_version()`` is called only under ``if _is_cuda():``, which ROCm builds
never enter and which names no ROCm path, `python_nvidia_fall_through.nvidia_only_if`; a test true
on NVIDIA builds only, as ``_is_cuda()`` is, keeps the call off every other target as well: no XPU,
MUSA or MPS build runs it either, j17B). A name
used any other way (passed as a value, imported, in a string) keeps the findings unchanged, and so
does a function with no call.

The same holds for every other target, read from the dispatch alone: DeepSpeed's
``get_cuda_lib64_path()`` is called only under ``if not self.build_for_cpu:``, which a CPU build never
enters and whose dispatch handles the CPU (and nothing else: an MPS machine is no CPU build), so
its ``CUDA_HOME`` is a gap on no CPU path; a target is credited only when every call's own
dispatch handles it. The flag is more than a CPU build, though: the file sets it True only where
CUDA is absent (`python_no_cuda_flags`), so every target but ROCm is kept off the calls too, noted
"callers run it only where CUDA is present" (j19B). A call reached only after a guard that sends
every other device down a device-agnostic path (apex's ``if ... or not input.is_cuda: return
F.layer_norm(...)``, `python_cuda_exits`) is kept off every target but ROCm, noted "callers run it
only on CUDA" with that path's line.

A file cannot see the rest of the project, where the name may be called with no guard (DeepSpeed's
``installed_cuda_version()`` is called by twelve op builders and the tests), so what it finds is a
candidate, carried in `FileFacts.rocm_callers`; the whole-project pass `project.rocm_callers` turns
it into ``handled: {<target>: ...}`` only when no other file of the run spells the name.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, NamedTuple

import tree_sitter as ts

from ..model import TARGETS, RocmCallers
from .matching import PYTHON_SCOPES, RawMatch
from .matching import node_text as _text
from .python_dispatch import Dispatch
from .python_hip_ternary import off_rocm_ternary
from .python_no_cuda_flags import no_cuda_flag
from .python_nvidia_fall_through import nvidia_only_if
from .python_platform_tests import CUDA_BUILDS, classify
from .python_receivers import enclosing
from .python_rocm_skip_flags import RocmSkipFlags, rocm_skip_flag


def _function_of(node: ts.Node) -> ts.Node | None:
    """The innermost function around ``node``, when it is a module-level function or a method of a
    module-level class (a nested function's name is local: its calls are all in the file anyway,
    but a closure handed out as a value is not worth following)."""
    parent = enclosing(node, "function_definition")
    if parent is None:
        return None
    holder = parent.parent.parent if parent.parent is not None and parent.parent.type == "decorated_definition" \
        else parent.parent
    if holder is not None and holder.type == "module":
        return parent
    klass = holder.parent if holder is not None and holder.type == "block" else None
    top = klass.parent if klass is not None and klass.type == "class_definition" else None
    top = top.parent if top is not None and top.type == "decorated_definition" else top
    return parent if top is not None and top.type == "module" else None


def _name(function: ts.Node) -> str:
    name = function.child_by_field_name("name")
    return _text(name) if name is not None else ""


def _is_call_of(node: ts.Node, name: str) -> ts.Node | None:
    """The call ``node`` (an identifier spelling ``name``) is the callee of: ``f(...)``, ``x.f(...)``."""
    parent = node.parent
    if parent is None:
        return None
    callee = node
    if parent.type == "attribute" and parent.child_by_field_name("attribute") == node:
        callee, parent = parent, parent.parent
    if parent is not None and parent.type == "call" and parent.child_by_field_name("function") == callee:
        return parent
    return None


class _Call(NamedTuple):
    """A call of a candidate function: its line, the targets kept off it, what keeps it off ROCm when
    no test does, the no-CUDA flag whose false side holds it, and the targets only the device-agnostic
    path of the CUDA test around or before it takes (``if not x.is_cuda: return F.layer_norm(x)``),
    with that path's line."""

    line: int
    off: frozenset[str]
    why: str
    flag: str | None
    agnostic: frozenset[str]
    agnostic_line: int


def _calls(root: ts.Node, function: ts.Node | None, name: str, hits: Iterable[tuple[int, int]],
           dispatch: Dispatch, skips: RocmSkipFlags,
           flags: dict[str, bool]) -> list[_Call] | None:
    """The line of each call of ``name`` with the targets the dispatch around it keeps it off (and,
    when it is the body of ``if not FLAG:`` the ROCm build sets, what keeps it off ROCm), and the
    no-CUDA flag whose false side holds it (`python_no_cuda_flags`), when every occurrence of the
    name in the file (``hits``) is ``function``'s own name or a call; None otherwise."""
    own = function.child_by_field_name("name") if function is not None else None
    calls: list[_Call] = []
    for span in hits:
        node = root.descendant_for_byte_range(*span)
        if node is None or node.type != "identifier" or (node.start_byte, node.end_byte) != span:
            return None  # in a string, a comment, or part of something else
        if own is not None and node == own:
            continue
        call = _is_call_of(node, name)
        if call is None:
            return None
        verdict = dispatch.verdict(call)
        # the targets a device-agnostic path takes before the call (`python_cuda_exits`), not a branch naming them
        agnostic = verdict.agnostic - verdict.named
        off = verdict.handled | agnostic
        nvidia = _nvidia_test(call)
        if nvidia is not None:
            off |= _ROCM | frozenset(TARGETS) - classify(nvidia).may
        why = ""
        if "rocm" not in off:
            skip = rocm_skip_flag(call, skips)
            if skip is not None:
                off |= _ROCM
                why = f"{skip[0]} set True for the ROCm build at line {skip[1]}"
            elif off_rocm_ternary(call):  # `None if hip_version else f()`
                off |= _ROCM
        flag = no_cuda_flag(call, flags)
        calls.append(_Call(call.start_point.row + 1, off, why, flag, agnostic, verdict.agnostic_line))
        if not off and flag is None:
            return None  # a call that may run anywhere: no target is left out
    return calls or None


def _spelled(source: bytes, name: str) -> Iterator[tuple[int, int]]:
    """Where ``name`` is spelled as a whole word in ``source``, in order (a plain search: far quicker
    than a regex over files of thousands of lines, for every function holding a finding). Found as
    `_calls` asks: it stops at the first spelling that is no call, and the rest of the file is then
    not searched."""
    word = name.encode()
    start = source.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or source[start - 1:start] not in _WORD) and source[end:end + 1] not in _WORD:
            yield start, end
        start = source.find(word, end)


#: The bytes a whole word cannot touch (as ``\b`` reads them; past either end of the source, none).
_WORD = frozenset(bytes([c]) for c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


_ROCM = frozenset({"rocm"})


def _nvidia_test(call: ts.Node) -> ts.Node | None:
    """The NVIDIA-only test whose body holds ``call``: the ``if`` `nvidia_only_if` finds, or an
    ``elif`` with such a test (vLLM's version chain ``if _no_device(): ... elif _is_cuda(): ...``),
    with only tests that say nothing of the platform in between. Every target its test is never
    true on is kept off the call: all of them for ``_is_cuda()`` or ``current_platform.is_cuda()``
    (true on NVIDIA builds only), only ROCm for ``not torch.version.hip``."""
    found = nvidia_only_if(call)
    if found is not None:
        return found.child_by_field_name("condition")
    child, parent = call, call.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type == "else_clause":  # of an `if` none of whose tests names a platform: passed
            stmt = parent.parent
            tests = [c.child_by_field_name("condition") for c in (stmt, *stmt.children_by_field_name("alternative"))
                     if c.type != "else_clause"] if stmt is not None else [None]
            if stmt is None or any(t is None or classify(t).known for t in tests):
                return None
            child, parent = stmt, stmt.parent
            continue
        if parent.type in ("if_statement", "elif_clause"):
            condition = parent.child_by_field_name("condition")
            test = classify(condition)
            if test.known:
                nvidia = "cuda" in test.may and "rocm" not in test.may
                inside = child == parent.child_by_field_name("consequence")
                return condition if parent.type == "elif_clause" and nvidia and inside else None
        child, parent = parent, parent.parent
    return None


def _gaps(match: RawMatch) -> frozenset[str]:
    """The targets that are a gap of ``match``: neither native nor handled yet."""
    targets = match.rule.info_for(match.symbol.lstrip(".")).targets
    handled = {target for target, _ in match.handled}
    return frozenset(t for t, info in targets.items() if info.status != "native" and t not in handled)


def rocm_only_callers(source: bytes, root: ts.Node, matches: list[RawMatch]) -> tuple[RocmCallers, ...]:
    """Per target, the functions of this file holding matches not yet handled there whose every use in
    the file is a call kept off that target, with those matches and calls (candidates for
    `project.rocm_callers`)."""
    functions: dict[int, tuple[ts.Node, list[tuple[RawMatch, frozenset[str]]]]] = {}
    for match in matches:
        gaps = _gaps(match)
        function = _function_of(match.node) if gaps else None
        if function is not None:
            functions.setdefault(function.id, (function, []))[1].append((match, gaps))
    found: list[RocmCallers] = []
    named = [(function, inside, _name(function)) for function, inside in functions.values()]
    named = [(function, inside, name) for function, inside, name in named
             if name and not name.startswith("__")]  # a dunder is called by Python itself
    dispatch = Dispatch()
    skips = RocmSkipFlags()
    flags: dict[str, bool] = {}
    for function, inside, name in named:
        calls = _calls(root, function, name, _spelled(source, name), dispatch, skips, flags)
        if calls is None:
            continue
        lines = tuple(call.line for call in calls)
        for target in TARGETS:
            flag = _kept_off(calls, target)
            if flag is None:
                continue
            places = tuple(sorted({(m.rule.id, m.node.start_point.row + 1) for m, gaps in inside if target in gaps}))
            why = "; ".join(sorted({call.why for call in calls if call.why})) if target == "rocm" else ""
            # every call on CUDA only, this target gone down the device-agnostic path first: that path's line
            agnostic = calls[0].agnostic_line if all(target in call.agnostic for call in calls) else 0
            if places:
                found.append(RocmCallers(name, places, lines, target, why, flag, agnostic))
    return tuple(found)


def _kept_off(calls: list[_Call], target: str) -> str | None:
    """Whether every call is kept off ``target``: "" when each one's dispatch does, the no-CUDA flag's
    name when some call is kept off only by a flag set True wherever CUDA is absent (never ROCm,
    where CUDA builds run as well), None when some call may run there."""
    flag = ""
    for call in calls:
        if target in call.off:
            continue
        if call.flag is None or target in CUDA_BUILDS:
            return None
        flag = flag or call.flag
    return flag


def calls_kept_off(source: bytes, root: ts.Node, name: str, target: str) -> tuple[int, ...] | None:
    """The lines of the calls of ``name`` in another file of the project (one that does not define
    it: DeepSpeed's ``op_builder/fused_adam.py`` calling the base builder's
    ``self.compute_capability_args()`` under ``if not self.is_rocm_pytorch():``), when every spelling
    of the name there is a call whose own dispatch keeps it off ``target``; None otherwise (a
    definition, an override, an import, a call that may run there, a call kept off only by a flag
    of that file: `project.rocm_callers` keeps the findings)."""
    calls = _calls(root, None, name, _spelled(source, name), Dispatch(), RocmSkipFlags(), {})
    if calls is None or any(target not in call.off for call in calls):
        return None
    return tuple(call.line for call in calls)
