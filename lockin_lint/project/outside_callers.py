"""Calls of a candidate function from the project's other files, read rather than only spelled.

`project.rocm_callers` credits a function whose every call in its own file is kept off a target only
when no other file of the run spells its name. DeepSpeed's ``CUDAOpBuilder.compute_capability_args()``
(``op_builder/builder.py``, reading and writing ``TORCH_CUDA_ARCH_LIST``) missed that reading round
after round (judged debatable, #11): its own file calls it under ``if self.is_rocm_pytorch(): ...
else:``, and the subclasses ``fused_adam.py``, ``fused_lamb.py`` and ``fused_lion.py`` call
``self.compute_capability_args()`` only under ``if not self.is_rocm_pytorch():`` (or its ``else``),
but those files spell the name, and so does ``tests/unit/ops/test_op_builder.py``, which calls it
with no guard inside tests that fake torch.cuda's probes.

Here each other file that spells the name is parsed and read as its own file would be
(`analyzers.python_callers.calls_kept_off`): it does not stop the crediting when every spelling of
the name there is a call whose own dispatch keeps it off the target, or when it is a test module
that fakes torch.cuda's probes (`analyzers.python_faked_cuda_tests.fakes_torch_cuda`: such a test runs
CUDA-only build code on no device, and its own findings are already reported apart). Anything else
keeps the findings as they are: a definition of the same name (an override), an import, a call with
no guard, an ordinary test calling it, a call kept off only by a flag of that file, a file that
cannot be read. Names are not resolved (``x.f()`` is a call of ``f`` whatever ``x`` is), which errs
the safe way only because every such call must be guarded too. More than `_MOST` other files spelling
the name keep the findings without parsing them (a common method name is not worth the parse).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import tree_sitter as ts

from ..analyzers.python_callers import calls_kept_off
from ..analyzers.python_faked_cuda_tests import fakes_torch_cuda
from ..model import Reader

#: The most other files spelling a name that are parsed to read their calls.
_MOST = 12


class Outside(NamedTuple):
    """The other files' calls kept off the target (``fused_adam.py:36``, sorted) and the test modules
    faking torch.cuda whose calls were set aside."""

    calls: tuple[str, ...]
    faked: tuple[str, ...]


def outside_calls(name: str, target: str, others: set[str], files: dict[str, str], read: Reader,
                  parser: Callable[[], ts.Parser]) -> Outside | None:
    """How the files ``others`` (display paths) call ``name``, when none of them may run it on
    ``target``; None when one may, or cannot be read (module docstring)."""
    if len(others) > _MOST:
        return None
    calls: list[str] = []
    faked: list[str] = []
    for shown in sorted(others):
        path = files.get(shown)
        data = read(path) if path is not None and shown.endswith(".py") else None
        if data is None:
            return None
        root = parser().parse(data).root_node
        short = shown.rsplit("/", 1)[-1]
        if fakes_torch_cuda(data, root, shown):
            faked.append(short)
            continue
        lines = calls_kept_off(data, root, name, target)
        if lines is None:
            return None
        calls.extend(f"{short}:{line}" for line in lines)
    return Outside(tuple(calls), tuple(faked))
