"""The names a vendor's C header declares, for `gen_cuda_rules.py`.

SYCLomatic's NCCL table lists NCCL's functions only (``ncclAllReduce``, ``ncclGetUniqueId``), so the
types, enumerators and macros every NCCL program also spells (``ncclComm_t``, ``ncclUniqueId``,
``ncclFloat16``, ``ncclSum``, ``ncclSuccess``, ``NCCL_VERSION_CODE``) were unknown names (LC9000) with
``unknown`` on every target. NVIDIA's own ``nccl.h.in`` declares them all; RCCL's ``nccl.h.in`` says
which of them a ROCm build has under the same name. Nothing is compiled or imported: the header's
text (comments and string literals blanked) is searched for the names of the library's spelling.
"""

from __future__ import annotations

import re

_NOISE = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.DOTALL)
_GUARD = re.compile(r"^[ \t]*#[ \t]*ifndef[ \t]+(\w+)[ \t]*\n[ \t]*#[ \t]*define[ \t]+\1\b", re.MULTILINE)
#: ``struct ncclComm`` is a tag the typedef ``ncclComm_t`` hides; code spells the typedef.
_TAG = re.compile(r"\bstruct[ \t]+(\w+)")


def declared_names(text: str, spelling: str) -> list[str]:
    """The names matching the regex ``spelling`` that the header ``text`` spells, in first-seen order;
    its include guard and the struct tags its typedefs hide are left out."""
    code = _NOISE.sub(" ", text)
    guard = _GUARD.search(code)
    tags = set(_TAG.findall(code))
    names: dict[str, None] = {}
    for match in re.finditer(rf"\b(?:{spelling})\b", code):
        name = match.group()
        if (guard is None or name != guard.group(1)) and name not in tags:
            names[name] = None
    return list(names)
