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

The tests themselves are read by `python_platform_tests`; this module walks the branches around a
match. A test that is not understood tells nothing (the code may run anywhere), so an unknown
condition never hides or softens a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import tree_sitter as ts

from ..model import TARGETS
from .backend_paths import BACKEND_TOKENS, dedicated_backend, name_tokens
from .findings import CPU_FALLBACK, PLATFORM_BRANCH
from .matching import RawMatch, node_text
from .python_chain_shapes import chain_notes, crashes_without
from .python_collection_tests import off_cuda_tensor_test
from .python_cuda_branches import multi_device_test
from .python_cuda_exits import cuda_exit_before
from .python_cuda_flags import CudaFlags
from .python_fall_through import fall_through_notes
from .python_later_branches import later_branch_notes
from .python_mentions import only_raises
from .python_name_translations import translated_name
from .python_negated_guards import cpu_branch_line
from .python_other_paths import (LaterSetups, agnostic_side_around, asserted_absent, tensor_device_test,
                                 compared_names, has_comparison, names_other_backends, note_line)
from .python_platform_tests import (CUDA_BUILDS, PLATFORMS, UNKNOWN, Platforms, Test, atom, classify, conjunction,
                                    is_platform_test, is_positive, platform_positive, string_platforms, when_false)
from .python_refusals import no_fallback, platform_refusal, refused_operand, script_refusal
from .python_toolkit_none import ROCM_HOME, rocm_toolkit_note  # ROCM_HOME: `Finding.handled`'s label
from .python_unbound_names import never_bound

_EXITS = frozenset({"return_statement", "continue_statement", "break_statement"})


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


class Dispatch:
    """Per-file reader of the tests around matched nodes (tests are classified once each)."""

    def __init__(self) -> None:
        self._tests: dict[int, Test] = {}
        self._exits: dict[int, list[tuple[int, Test]]] = {}  # block -> (end byte, test) of its early exits
        self._above: dict[int, Test] = {}  # block -> the path into it (the same for all its statements)
        self._siblings: dict[int, Platforms] = {}  # if statement -> what sibling tests of its subject name
        self._later = LaterSetups(self._setup_test)
        self._agnostic: dict[int, ts.Node | None] = {}  # CUDA clause -> its device-agnostic side
        self._flags = CudaFlags()  # the module's CUDA-only flags, read on first use

    def _test(self, node: ts.Node | None) -> Test:
        if node is None:
            return UNKNOWN
        test = self._tests.get(node.id)
        if test is None:
            test = self._tests[node.id] = classify(node, self._flags.of(node))
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
        path = UNKNOWN
        check = False
        child, below = node, node
        parent = node.parent
        while parent is not None:
            kind = parent.type
            if kind == "if_statement":
                step, in_test = self._if_step(parent, child, below)
                path, check = conjunction(path, step), check or in_test
            elif kind == "conditional_expression" and parent.named_child_count == 3:
                value, condition, other = parent.named_children
                test = self._test(condition)
                if child == value:
                    path = conjunction(path, test)
                elif child == other:
                    path = conjunction(path, when_false(test, condition))
                elif test.known:  # the test itself: where it is true, the value is used
                    path, check = conjunction(path, test), True
            elif kind == "boolean_operator" and child == parent.child_by_field_name("right") \
                    and not refused_operand(parent):  # `if not (a and b): raise`: b reads as a does
                test = self._test(parent.child_by_field_name("left"))
                operator = parent.child_by_field_name("operator")
                path = conjunction(path, test if operator is not None and operator.type == "and" else test.negated())
            elif kind == "pair" and child == parent.child_by_field_name("value"):
                path = conjunction(path, _table_entry(parent))
            elif kind in ("function_definition", "class_definition") and child == parent.child_by_field_name("body"):
                path = conjunction(path, _named_for(parent))
            elif kind in ("block", "module"):
                return conjunction(conjunction(path, self._early_exits(parent, child)), self._into(parent)), check
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
                and names_other_backends([c for c, _, _ in clauses], string_platforms):
            # `nccl` / `mpi` / `hccl` with no `else` (DeepSpeed's 1-bit optimizers): a name that is
            # no platform is another backend (MPI moves CuPy arrays on the GPU), not a CPU fallback.
            tests = [replace(t, may=t.may | {"cpu"}) if t.known and "cuda" in t.may else t for t in tests]
        named = frozenset().union(*(t.named for t in tests))
        if not any(t.known for t in tests):
            return UNKNOWN, False
        before = Test(named=named, fallback=not (_raising_else(otherwise) or crashes_without(stmt, is_platform_test)
                                                 or no_fallback(stmt, self._test)))
        for test, (condition, body, clause) in zip(tests, clauses):
            in_clause = child == clause if clause is not stmt else True
            target = below if clause is not stmt else child
            if in_clause and target in (condition, body) and clause is stmt and platform_positive(condition, self._test):
                later = self._later.after(stmt) - CUDA_BUILDS if test.may <= CUDA_BUILDS else frozenset()
                test = replace(test, elsewhere=test.elsewhere | (self._sibling_platforms(stmt) | later) - test.may)
            if in_clause and target == condition:
                return conjunction(before, test), test.known
            if in_clause and target == body:
                return conjunction(before, test), False
            before = conjunction(before, when_false(test, condition))
        return (before, False) if child == otherwise else (Test(named=named, fallback=before.fallback), False)

    def _setup_test(self, condition: ts.Node) -> tuple[Platforms, bool]:
        """For `LaterSetups`: the platforms a test's true side is for, and whether it is a plain
        positive test of the platform itself (``torch.xpu.is_available()``, ``is_xpu()``; not a
        comparison such as ``name == "xccl"``, whose subject may be anything)."""
        test = self._test(condition)
        return test.named & test.may, test.known and is_positive(condition) and not has_comparison(condition)

    def _other_paths(self, node: ts.Node, path: Test, found: Verdict) -> Verdict:
        """``found`` with the targets that the device-agnostic side of the CUDA branch ``node`` is
        in handles (every one but ROCm, which runs the CUDA branch)."""
        # `(x.is_cuda or x.is_xpu) and ...` too: a branch for CUDA and named platforms (`python_cuda_branches`).
        side = agnostic_side_around(node, self._branch_test, self._agnostic) \
            if path.may <= CUDA_BUILDS or ("cuda" in path.may and path.may <= CUDA_BUILDS | path.named) else None
        may = path.may
        if side is None:  # the test itself of a tensor off CUDA whose side returns generic torch code
            side, may = agnostic_side_around(node, lambda _: False, self._agnostic, self._not_cuda_test), CUDA_BUILDS
        if side is None and path.may <= CUDA_BUILDS:  # code after a guard sending the rest to a plain exit
            side = cuda_exit_before(node, self._test)
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
        return test.known and test.may <= CUDA_BUILDS and (
            is_positive(condition) or (tensor_device_test(condition) and condition is not None
                                     and condition.type != "not_operator" and "!=" not in node_text(condition)))

    def _branch_test(self, condition: ts.Node | None) -> bool:
        return self.cuda_test(condition) or multi_device_test(condition, self.cuda_test, self.platforms_of)

    def _not_cuda_test(self, condition: ts.Node | None) -> bool:
        """For `agnostic_side_around`: a test of tensors off CUDA (`python_collection_tests`)."""
        return off_cuda_tensor_test(condition, self._test)

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
                    if test.known and platform_refusal(stmt, test.may, is_positive(condition)):
                        continue  # `if is_rocm(): warn(...); return False` handles ROCm no more than a raise
                    rest = when_false(test, condition) if test.known else None
                    if rest is not None and rest.may <= CUDA_BUILDS and script_refusal(stmt):
                        rest = replace(rest, fallback=False)  # a script that stops without CUDA
                    if rest is not None:
                        exits.append((stmt.end_byte, rest))
        path = UNKNOWN
        for end, test in exits:
            if end > child.start_byte:
                break
            path = conjunction(path, test)
        return path


def _subjects(condition: ts.Node | None) -> dict[str, Platforms]:
    """``x == "xpu"`` (alone or in an ``and``): ``{"x": {"xpu"}}``, the value tested per subject."""
    found = {}
    for subject, value in compared_names(condition).items():
        platforms = string_platforms(value)
        if platforms is not None:
            found[subject] = platforms
    return found


def _table_entry(pair: ts.Node) -> Test:
    """A value in a table keyed by platform (``{"cuda": "nccl", "xpu": "xccl"}.get(device_type)``) is
    that platform's entry, like a branch; only when another key names a platform too."""
    table = pair.parent
    key = string_platforms(pair.child_by_field_name("key") or pair)
    if key is None or table is None or table.type != "dictionary":
        return UNKNOWN
    named = set(key)
    for other in table.named_children:
        if other is not pair and other.type == "pair":
            platforms = string_platforms(other.child_by_field_name("key") or other)
            named |= platforms or frozenset()
    return Test(key, frozenset(), frozenset(named)) if named != key else UNKNOWN


def _named_for(definition: ts.Node) -> Test:
    """A class or function named for another backend (TGI's ``class FastLinearROCm``, vLLM's
    ``def rocm_unquantized_gemm``, ``def test_amd_fp8``) is that backend's code, as a file so named is
    (`backend_paths`); a name that also says CUDA (``hip_or_cuda``) is not."""
    name = node_text(definition.child_by_field_name("name"))
    tokens = name_tokens(name)
    if not tokens or not BACKEND_TOKENS.keys() & tokens or {"cuda", "nvidia"} & set(tokens):
        return UNKNOWN
    backend = dedicated_backend(name)
    return atom(frozenset({backend if backend in TARGETS else "other"})) if backend is not None else UNKNOWN


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
    return UNKNOWN


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
BRANCH = PLATFORM_BRANCH
FALLBACK = CPU_FALLBACK
#: The two ways a target is handled without a branch naming it (`python_other_paths`), each
#: followed by where: ``device-agnostic else (train.py:131)``, ``ROCM_HOME beside it (setup.py:22)``.
AGNOSTIC = "device-agnostic else"


def apply_dispatch(raw: list[RawMatch], path: str = "") -> list[RawMatch]:
    """``raw`` without the matches in branches for other platforms, the rest with the targets the
    dispatch around them handles (``path``, the file's display path, names the lines of the paths
    that handle a target without a branch naming it)."""
    dispatch = Dispatch()
    kept = []
    for match in raw:
        verdict = dispatch.verdict(match.node)
        if verdict.drop or asserted_absent(match.node) or translated_name(match.node) or never_bound(match.node):
            continue
        notes = chain_notes(match.node, _notes(verdict, path), path, dispatch.platforms_of, dispatch.cuda_test)
        notes = later_branch_notes(match.node, notes, path, dispatch.platforms_of)
        if "cpu" not in notes and cpu_branch_line(match.node, dispatch.cuda_test, dispatch.platforms_of):
            notes["cpu"] = FALLBACK  # `elif x and (not torch.cuda.is_available() or y):` does the CPU's work
        notes, cpu_run = fall_through_notes(match.node, notes, dispatch.platforms_of)
        rocm = rocm_toolkit_note(match.node, match.symbol, path)
        if rocm is not None and "rocm" not in notes:
            notes["rocm"] = rocm
        if notes:
            match = replace(match, handled=match.handled + tuple(sorted(notes.items())), cpu_run=cpu_run)
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
