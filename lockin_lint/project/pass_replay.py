"""Reusing the whole-project passes' cached output: valid only for the very tree and outside files.

`passes.run_passes` stores the passes' combined output under the tree digest together with every file
outside the run that a pass read or looked for. Whether that output may be used again is decided here,
apart from running the passes, because the command line asks the same question (`outside_unchanged`)
when it replays a whole run from the cache without starting the passes at all.
"""

from __future__ import annotations

import os

from ..limits import LimitError, read_regular
from ..model import FileResult
from .result_cache import digest


def reuse(stored: object, tree: str, results: list[FileResult], inputs_seen: dict[str, str]) -> list[FileResult] | None:
    """The stored output of the passes, if it was computed on this very tree and outside input; the
    outside inputs it recorded are added to ``inputs_seen`` (the run's `PassContext.inputs`), so that
    the output stored after this run records them again."""
    if not isinstance(stored, tuple) or len(stored) != 3 or stored[0] != tree:
        return None
    _, inputs, final = stored
    if not isinstance(inputs, dict) or not isinstance(final, list) or not outside_unchanged(inputs):
        return None
    first = {result.path: result for result in results}
    output = []
    for item in final:
        if not isinstance(item, tuple) or len(item) != 2:
            return None
        shown, replaced = item
        result = replaced if isinstance(replaced, FileResult) else first.get(shown)
        if result is None:
            return None
        output.append(result)
    inputs_seen.update(inputs)
    return output


def outside_unchanged(inputs: dict[str, str]) -> bool:
    """Whether every file outside the run that the passes read or looked for is as they saw it."""
    for key, seen in inputs.items():
        kind, _, path = key.partition(":")
        if kind == "read":
            try:
                data: bytes | None = read_regular(path)
            except (OSError, LimitError):
                data = None
            if (digest(data) if data is not None else "") != seen:
                return False
        elif kind != "isfile" or ("file" if os.path.isfile(path) else "none") != seen:
            return False
    return True
