"""Which of several same-named C/C++ definitions a call means: the one its own translation unit sees.

The extension call graph (`linker._Graph`) resolves names, not symbols: apex's ``amp_C`` defines a
``static __global__ void cleanup`` in both ``multi_tensor_l2norm_kernel.cu`` and
``multi_tensor_l2norm_kernel_mp.cu``, and a launch of ``cleanup`` in the first reached both, so an op
that never calls the ``_mp`` launcher was said to need the ``_mp`` kernel. A call means, first, a
definition its translation unit compiles: the caller's own file and the project headers it includes
(quoted ``#include``, transitively, as the facts carry them). Only when the unit defines no function of
that name can the call mean one linked in from elsewhere, and then every same-named definition stays a
candidate (as before), so nothing a real call reaches is lost.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from typing import Mapping

from ..analyzers.cpp_facts import CodeFacts, Function

#: At most this many files are followed from one file through its includes.
_MAX_UNIT = 2000


class TranslationUnits:
    """The scanned files each scanned file includes, transitively, computed once per file."""

    def __init__(self, facts: Mapping[str, CodeFacts]) -> None:
        self.facts = facts
        self.by_base: dict[str, list[str]] = defaultdict(list)
        for path in sorted(facts):
            self.by_base[posixpath.basename(path)].append(path)
        self.units: dict[str, frozenset[str]] = {}

    def _targets(self, path: str, written: str) -> list[str]:
        """The scanned files ``#include "written"`` in ``path`` may name: the one beside it, else any
        whose path ends with it (an include directory the build adds), as `linker._Scanner.closure`."""
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), written))
        if joined in self.facts:
            return [joined]
        tail = "/" + written.lstrip("./")
        return [f for f in self.by_base.get(posixpath.basename(written), ()) if f.endswith(tail)]

    def unit(self, path: str) -> frozenset[str]:
        """``path`` and the scanned files it includes, transitively."""
        known = self.units.get(path)
        if known is not None:
            return known
        found = {path}
        queue = [path]
        while queue and len(found) < _MAX_UNIT:
            current = queue.pop()
            code = self.facts.get(current)
            for written in code.includes if code is not None else ():
                for target in self._targets(current, written):
                    if target not in found:
                        found.add(target)
                        queue.append(target)
        self.units[path] = frozenset(found)
        return self.units[path]

    def narrow(self, found: list[Function], caller: Function) -> list[Function]:
        """Of ``found`` (definitions of the name ``caller`` uses), those ``caller``'s translation unit
        defines, when there are any, with every dispatch registry entry of the name (mmcv's
        ``REGISTER_DEVICE_IMPL(nms_impl, CUDA, nms_cuda)`` in another file fills the registry that
        ``nms_impl`` dispatches through); else all of them (a function linked in from another file)."""
        if len(found) < 2:
            return found
        unit = self.unit(caller.path)
        if not any(f.path in unit and not f.registered for f in found):
            return found
        return [f for f in found if f.path in unit or f.registered]
