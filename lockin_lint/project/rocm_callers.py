"""The ROCm path one call up, confirmed across the project.

`analyzers.python_callers` finds, in one file, a function whose every use there is a call kept off
ROCm (``if not self.is_rocm_pytorch(): assert_no_cuda_mismatch(self.name)``). Its findings are
handled on ROCm only if nothing else calls it: another file of the run that spells the name (an
import, a call with no guard, a test calling it directly) keeps them as they are. Spelling is the
test, not a parse: a whole-word search of the run's other Python files is cheap and errs on the safe
side (a comment or an unrelated method of the same name also keeps the findings). The pass runs
only when some file has such a candidate, which few do.

Names in files outside the run cannot be seen: a library whose users call the function from their
own code would be wrongly handled, which is why only the run's spelling counts and a name the file
exports by ``__all__`` (a string there) never becomes a candidate.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..model import FileResult, Finding, Reader, RocmCallers, with_handled

_PYTHON = (".py", ".pyi", ".ipynb")
_SHOWN_CALLS = 3


def mark_rocm_callers(results: list[FileResult], files: dict[str, str], read: Reader) -> list[FileResult]:
    """``results`` with the findings of functions called only off ROCm handled for ROCm."""
    wanted = {(r.path, c.name): c for r in results if r.facts is not None for c in r.facts.rocm_callers}
    if not wanted:
        return results
    names = {name for _, name in wanted}
    pattern = re.compile(rb"\b(" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")\b")
    spelled: dict[str, set[str]] = {}  # name -> the Python files spelling it
    for shown, path in files.items():
        if not shown.endswith(_PYTHON):
            continue
        data = read(path)
        for hit in set(pattern.findall(data)) if data is not None else {n.encode() for n in names}:
            spelled.setdefault(hit.decode(), set()).add(shown)
    output = []
    for result in results:
        found = [c for c in result.facts.rocm_callers if spelled.get(c.name, set()) <= {result.path}] \
            if result.facts is not None and result.facts.rocm_callers else []
        output.append(_mark(result, found) if found else result)
    return output


def _mark(result: FileResult, callers: list[RocmCallers]) -> FileResult:
    notes: dict[tuple[str, int], str] = {}
    name = result.path.rsplit("/", 1)[-1]
    for caller in callers:
        shown = ", ".join(str(line) for line in caller.calls[:_SHOWN_CALLS])
        more = ", ..." if len(caller.calls) > _SHOWN_CALLS else ""
        note = f"callers run it only off ROCm ({name}:{shown}{more})"
        notes.update({place: note for place in caller.places})
    return replace(result, findings=tuple(_handled(f, notes) for f in result.findings))


def _handled(finding: Finding, notes: dict[tuple[str, int], str]) -> Finding:
    note = notes.get((finding.rule_id, finding.line))
    rocm = finding.targets.get("rocm")
    if note is None or rocm is None or rocm.status == "native" or "rocm" in dict(finding.handled):
        return finding
    return with_handled(finding, {"rocm": note})
