"""The ROCm path (or another target's) one call up, confirmed across the project.

`analyzers.python_callers` finds, in one file, a function whose every use there is a call kept off
ROCm (``if not self.is_rocm_pytorch(): assert_no_cuda_mismatch(self.name)``), or off another target
(``if not self.build_for_cpu: self.get_cuda_lib64_path()``: off the CPU, and off every target but
ROCm when the file sets the flag True only where CUDA is absent, unless another file of the run
assigns it). Its findings are
handled on that target only if nothing else calls it: another file of the run that spells the name (an
import, a call with no guard, a test calling it directly) keeps them as they are, unless its every
spelling of the name is a call kept off that target too, or it is a test faking torch.cuda's probes
(`outside_callers`: DeepSpeed's subclass builders calling ``self.compute_capability_args()``). Spelling is the
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
from typing import Any, Callable, Iterable

import tree_sitter as ts

from ..model import FileResult, Finding, Reader, RocmCallers, with_open_handled
from .outside_callers import Outside, outside_calls
from .pass_background import FILES_PER_TASK, Early, MapLater, early_answers, file_chunks, start_search

_PYTHON = (".py", ".pyi", ".ipynb")
_SHOWN_CALLS = 3


#: Runs `spelled_in` over chunks of the work, in the run's process pool when it has one
#: (`passes.PassContext.map`), and gives each chunk's answer in order.
ChunkMap = Callable[[Callable[[Any, Reader, tuple[tuple[bytes, ...], list[tuple[str, str]]]], list[tuple[str, set[bytes]]]],
                     list[tuple[tuple[bytes, ...], list[tuple[str, str]]]]], list[list[tuple[str, set[bytes]]]]]
#: Python files handed to one pool task (reading them is most of the pass).
_CHUNK = FILES_PER_TASK


def mark_rocm_callers(results: list[FileResult], files: dict[str, str], read: Reader,
                      map_chunks: ChunkMap | None = None,
                      parser: Callable[[], ts.Parser] | None = None,
                      early: Early | None = None) -> list[FileResult]:
    """``results`` with the findings of functions called only off ROCm handled for ROCm.

    ``map_chunks`` reads and searches the run's Python files elsewhere (the run's pool workers): they
    are the files of the run, whose content the cache key holds already. With ``parser``, other files
    spelling the name are read for their calls (`outside_callers`) instead of keeping the findings.
    ``early``: that search, started before by `start_spelling`; used when it was for the same names."""
    names = spelling_names(results)
    if not names:
        return results
    answers = early_answers(early, names)
    spelled = _spelled(answers) if answers is not None else spelling_files(names, files, read, map_chunks)
    output = []
    for result in results:
        found: list[tuple[RocmCallers, Outside | None]] = []
        for c in result.facts.rocm_callers if result.facts is not None else ():
            if c.flag and not spelled.get(_WRITE.decode() + c.flag, set()) <= {result.path}:
                continue
            others = spelled.get(c.name, set()) - {result.path}
            outside = outside_calls(c.name, c.target, others, files, read, parser) \
                if others and parser is not None else None
            if not others or outside is not None:
                found.append((c, outside))
        output.append(_mark(result, found) if found else result)
    return output


def spelling_names(results: list[FileResult]) -> tuple[bytes, ...]:
    """What `spelled_in` looks for: the candidates' names, and their flags as ``=flag`` (none: no
    candidate, the pass has nothing to do)."""
    candidates = [c for r in results if r.facts is not None for c in r.facts.rocm_callers]
    return tuple(sorted({c.name.encode() for c in candidates} | {_WRITE + c.flag.encode() for c in candidates
                                                                 if c.flag}))


def start_spelling(results: list[FileResult], files: dict[str, str], map_later: MapLater) -> Early | None:
    """`spelling_files`' search for ``results``' names started in the pool (``map_later``), and those
    names; None when the search would not go to the pool (no names, one chunk of files)."""
    return start_search(spelling_names(results), files, _PYTHON, _CHUNK, spelled_in, map_later)


def _chunks(names: tuple[bytes, ...], files: dict[str, str]) -> list[tuple[tuple[bytes, ...], list[tuple[str, str]]]]:
    return file_chunks(names, files, _PYTHON, _CHUNK)


def spelling_files(names: tuple[bytes, ...], files: dict[str, str], read: Reader,
                   map_chunks: ChunkMap | None = None) -> dict[str, set[str]]:
    """Name -> the run's Python files that spell it (`spelled_in`), searched in the pool when there is
    one and the run has more than one chunk of files."""
    chunks = _chunks(names, files)
    answers = map_chunks(spelled_in, chunks) if map_chunks is not None and len(chunks) > 1 else \
        [spelled_in(None, read, chunk) for chunk in chunks]
    return _spelled(answers)


def _spelled(answers: Iterable[list[tuple[str, set[bytes]]]]) -> dict[str, set[str]]:
    spelled: dict[str, set[str]] = {}
    for answer in answers:
        for shown, hits in answer:
            for hit in hits:
                spelled.setdefault(hit.decode(), set()).add(shown)
    return spelled


def spelled_in(engine: Any, read: Reader, chunk: tuple[tuple[bytes, ...], list[tuple[str, str]]]
               ) -> list[tuple[str, set[bytes]]]:
    """The files of ``chunk`` that spell some of its names as whole words, with those names (a file
    that cannot be read spells them all: it keeps the findings). A name written ``=flag`` is an
    attribute the file assigns (``x.flag = ...``), not one it only reads."""
    names, work = chunk
    words = [n for n in names if not n.startswith(_WRITE)]
    flags = [n[len(_WRITE):] for n in names if n.startswith(_WRITE)]
    pattern = re.compile(rb"\b(" + b"|".join(re.escape(n) for n in words) + rb")\b") if words else None
    writes = re.compile(rb"\.(" + b"|".join(re.escape(n) for n in flags) + rb")\s*=(?!=)") if flags else None
    found = []
    for shown, path in work:
        data = read(path)
        if data is None:
            found.append((shown, set(names)))
            continue
        hits: set[bytes] = set()
        if pattern is not None and any(n in data for n in words):  # a substring search first: the
            hits.update(pattern.findall(data))  # regex has no literal prefix
        if writes is not None and any(n in data for n in flags):
            hits.update(_WRITE + n for n in writes.findall(data))
        if hits:
            found.append((shown, hits))
    return found


#: How `spelled_in` is asked whether a file assigns an attribute (a no-CUDA flag another file may set).
_WRITE = b"="


#: How a note names each target (the ROCm note is the one this pass always wrote).
_SHOWN_TARGET = {"rocm": "ROCm", "cpu": "CPU", "xpu": "XPU", "mps": "MPS", "ascend": "Ascend", "mlu": "MLU",
                 "musa": "MUSA"}


def _mark(result: FileResult, callers: list[tuple[RocmCallers, Outside | None]]) -> FileResult:
    notes: dict[tuple[str, int], dict[str, str]] = {}
    name = result.path.rsplit("/", 1)[-1]
    for caller, outside in callers:
        lines = [str(line) for line in caller.calls]
        if outside is not None:  # the other files' calls after the file's own (`outside_callers`)
            lines += outside.calls
        shown = ", ".join(lines[:_SHOWN_CALLS])
        more = ", ..." if len(lines) > _SHOWN_CALLS else ""
        if outside is not None and outside.faked:
            more += f"; tests faking torch.cuda's probes aside: {', '.join(outside.faked)}"
        why = f"; {caller.why}" if caller.why else ""
        where = "where CUDA is present" if caller.flag else f"off {_SHOWN_TARGET.get(caller.target, caller.target)}"
        if caller.agnostic:  # every other device left first, down generic code (`python_cuda_exits`)
            where, why = "on CUDA", f"{why}; other devices take the device-agnostic path at line {caller.agnostic}"
        note = f"callers run it only {where} ({name}:{shown}{more}{why})"
        for place in caller.places:
            notes.setdefault(place, {})[caller.target] = note
    return replace(result, findings=tuple(_handled(f, notes) for f in result.findings))


def _handled(finding: Finding, notes: dict[tuple[str, int], dict[str, str]]) -> Finding:
    return with_open_handled(finding, notes.get((finding.rule_id, finding.line), {}))
