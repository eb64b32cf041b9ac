"""What other subsystems may say about a finding, read defensively.

Dispatch awareness (a finding in code already ported for a target, or in a project's own
accelerator-backend module) and ``--fix`` (whether a finding has a safe rewrite) add attributes to
findings in their own branches. The effort model reads them here, through ``getattr`` with defaults,
so it works before and after they land and there is one place to change if their shape differs.
The model's own `Finding` and `TargetInfo` (slotted, without those attributes) are read directly:
the effort model asks about every finding and target several times, and a ``getattr`` that misses
raises internally, which cost more than the whole rest of the scoring on a large tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..model import Finding, TargetInfo

#: Files ``check --fix`` rewrites (libcst: Python only).
FIXABLE_SUFFIXES = (".py", ".pyi")
#: Categories whose ``portable`` suggestion is a call-for-call rewrite; a plugin's or a kernel's
#: suggestion (``flash_attn`` -> ``scaled_dot_product_attention``) changes code around it too.
PORTABLE_FIX_CATEGORIES = frozenset({"device-api", "device-string", "distributed", "env"})


def is_dispatch(finding: Finding) -> bool:
    """A finding inside the project's own accelerator-dispatch code (kept out of effort everywhere)."""
    return bool(getattr(finding, "dispatch", False))


def is_handled(finding: Finding, target: str) -> bool:
    """The code already has a path for ``target`` (a ROCm branch, a backend module), so it costs nothing.

    Accepted shapes: ``finding.handled`` as a mapping or a collection of targets, or ``True``; or a
    truthy ``handled`` on the target's own ``TargetInfo``. A bare string on the finding is a note
    (the status already says which targets are native), not a claim about every target.
    """
    if type(finding) is Finding:  # the model's own type: no ``dispatch``, ``handled`` a tuple of pairs
        info = finding.targets.get(target)
        if info is not None and type(info) is not TargetInfo and getattr(info, "handled", None):
            return True
        for mark in finding.handled:
            if (mark[0] if isinstance(mark, tuple) else mark) == target:
                return True
        return False
    if is_dispatch(finding):
        return True
    info = finding.targets.get(target)
    if info is not None and getattr(info, "handled", None):
        return True
    marks = getattr(finding, "handled", None)
    if not marks or isinstance(marks, str):
        return False
    if isinstance(marks, bool):
        return marks
    if isinstance(marks, Mapping):
        return bool(marks.get(target))
    if isinstance(marks, Iterable):  # targets, or (target, how) pairs as `model.Finding.handled` holds them
        return any((mark[0] if isinstance(mark, tuple) else mark) == target for mark in marks)
    return False


#: How `project.build_dispatch` begins its ``handled`` note on a finding in a file the project's ROCm build
#: leaves out (a CUDA-only feature): free on ROCm, yet shown apart with what porting it would cost.
LEFT_OUT_OF_BUILD = "not built for ROCm"


def left_out_of_build(finding: Finding, target: str) -> bool:
    """The project's build for ``target`` leaves this finding's file out (`project.build_dispatch`)."""
    marks = getattr(finding, "handled", None)
    if isinstance(marks, Mapping):
        marks = tuple(marks.items())
    if not isinstance(marks, tuple):
        return False
    return any(isinstance(mark, tuple) and len(mark) == 2 and mark[0] == target and isinstance(mark[1], str)
               and mark[1].startswith(LEFT_OUT_OF_BUILD) for mark in marks)


def is_fixable(finding: Finding, target: str) -> bool:
    """``check --fix`` rewrites this finding for ``target`` with a safe fix.

    Reads ``finding.fixable`` when the fix subsystem sets it (``True``/``"safe"``, or a per-target
    mapping of those); until then, the rule data decides: a Python finding with a device-agnostic
    ``portable`` rewrite (in a category where that is a call-for-call rewrite), or one whose status on
    ``target`` is ``rename`` with a replacement.
    """
    if type(finding) is not Finding:  # the model's own type has no such field
        flag = getattr(finding, "fixable", None)
        if isinstance(flag, Mapping):
            flag = flag.get(target)
        if flag is not None:
            return flag is True or flag == "safe"
    if not finding.path.endswith(FIXABLE_SUFFIXES):
        return False
    info = finding.targets[target]
    portable = finding.portable is not None and finding.category in PORTABLE_FIX_CATEGORIES
    return portable or (info.status == "rename" and bool(info.replacement))


def is_ready(finding: Finding, target: str) -> bool:
    """Costs no work on ``target``: native, handled, or rewritten by ``--fix``.

    Asked about every finding and target many times by a report (the score, each unit's cost, each
    breakdown row: 360,000 calls on vLLM), so the answer is kept per finding object; findings are
    immutable, and the entry holds the finding, so its ``id`` is not reused while the entry lives."""
    entry = _READY.get(id(finding))
    if entry is None or entry[0] is not finding:
        if len(_READY) >= _READY_LIMIT:
            _READY.clear()
        entry = _READY[id(finding)] = (finding, {})
    answer = entry[1].get(target)
    if answer is None:
        answer = entry[1][target] = readiness(finding, target)
    return answer


def readiness(finding: Finding, target: str) -> bool:
    """`is_ready`'s answer, worked out afresh: for a caller that asks once per finding and target (a
    summary's table of statuses), where keeping the answer would cost more than it saves."""
    return finding.targets[target].status == "native" or is_handled(finding, target) or is_fixable(finding, target)


#: `is_ready`'s answers: id(finding) -> (finding, {target: ready}); emptied when it grows past a few
#: large runs (a language server keeps one process for hours).
_READY: dict[int, tuple[Finding, dict[str, bool]]] = {}
_READY_LIMIT = 200_000


def is_mechanical(finding: Finding, target: str) -> bool:
    """Portable without thought on ``target``: ready, or a rename a tool applies (HIPIFY, ``--fix``).

    This is what the score counts; a rename outside ``--fix``'s reach still costs its minutes.
    """
    return is_ready(finding, target) or finding.targets[target].status == "rename"
