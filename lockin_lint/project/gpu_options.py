"""``if args.gpu: <CUDA> else: <host path>`` credits the CPU when the run declares ``--gpu`` a switch.

`analyzers.python_gpu_options` records, per file, the matches in the body of a plain ``if
<x>.gpu:`` whose ``else`` holds no match. Whether ``args.gpu`` is a switch whose default
takes the ``else`` (DeepSpeed's ``ds_aio_args.py:172``: ``add_argument('--gpu', action='store_true',
help='Use GPU memory')``) or a device index that is falsy for GPU 0 (pytorch/examples' imagenet:
``add_argument('--gpu', default=None, type=int)``) is said by the option's declaration, which is
usually in another file. This pass searches the run's Python files for a ``store_true`` declaration
of the option and, when one exists, notes the CPU of those matches ``fallback path (cpu)``, as the
``else`` of any CPU fallback is. A project that declares the option both ways keeps the findings as
they are (the reading would be a guess). The pass runs only when some file has a candidate, which
few do; files outside the run are not seen, so a script whose option is declared elsewhere keeps
its findings.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..analyzers.findings import CPU_FALLBACK
from ..model import FileResult, Reader, with_open_handled

_PYTHON = (".py", ".ipynb")
#: ``add_argument('--gpu', ...)`` or ``add_argument('-g', '--gpu', ...)``: the option word and the rest
#: of the call up to its first closing parenthesis (a ``help`` with one ends it early: a miss, not a guess).
_DECLARED = re.compile(rb"add_argument\(\s*(?:['\"]-\w['\"]\s*,\s*)?['\"]--(gpu)['\"]([^)]*)\)")
_SWITCH = re.compile(rb"\baction\s*=\s*['\"]store_true['\"]")


def mark_gpu_options(results: list[FileResult], files: dict[str, str], read: Reader) -> list[FileResult]:
    """``results`` with the CPU of matches under ``if args.<option>:`` handled by the ``else`` when the
    run declares ``--<option>`` only as a ``store_true`` switch."""
    wanted = {option for r in results if r.facts is not None for option, _, _ in r.facts.gpu_options}
    if not wanted:
        return results
    switches = _switches(files, read, wanted)
    if not switches:
        return results
    output = []
    for result in results:
        places = {(rule, line) for option, rule, line in result.facts.gpu_options if option in switches} \
            if result.facts is not None else set()
        output.append(replace(result, findings=tuple(
            with_open_handled(f, {"cpu": CPU_FALLBACK}) if (f.rule_id, f.line) in places else f
            for f in result.findings)) if places else result)
    return output


def _switches(files: dict[str, str], read: Reader, wanted: set[str]) -> set[str]:
    """The options of ``wanted`` the run's Python files declare, every time, as ``store_true``."""
    switch: set[str] = set()
    other: set[str] = set()
    for shown, path in files.items():
        if not shown.endswith(_PYTHON):
            continue
        data = read(path)
        if data is None or b"add_argument" not in data:
            continue
        for declared in _DECLARED.finditer(data):
            option = declared.group(1).decode()
            if option in wanted:
                (switch if _SWITCH.search(declared.group(2)) else other).add(option)
    return switch - other
