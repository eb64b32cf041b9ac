"""Follow ``-r``/``-c`` includes of requirements files, as pip does.

Discovery finds requirements files by name (``requirements*.txt``), but an include may name any file
(``-r base.in``, ``-r ../common/deps.txt``): what it lists is installed all the same. So after the
run, every include that the run did not already read as a manifest is read as a requirements file,
and its own includes in turn; an include that does not exist is a warning on the line that names it.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import replace

from ..analyzers import language_of
from ..engine import Engine
from ..model import FileError, FileResult, Reader

def follow_includes(results: list[FileResult], files: dict[str, str], engine: Engine, read: Reader) -> list[FileResult]:
    """``results`` plus a result for each included file the run had not read as a manifest.

    ``files`` maps display paths to paths to open; an included file the run read as something
    else (a ``base.in`` named on the command line reads as Python) is replaced by its manifest reading.
    """
    output = list(results)
    position = {r.path: index for index, r in enumerate(results)}
    manifests = {r.path for r in results if language_of(r.path) == "deps"}
    opened = dict(files)
    queue = [r for r in results if r.facts is not None and r.facts.includes]
    while queue:
        including = queue.pop(0)
        problems = []
        for written, line in including.facts.includes if including.facts is not None else ():
            shown = posixpath.normpath(posixpath.join(posixpath.dirname(including.path), written))
            if shown in manifests:
                continue
            real = os.path.normpath(os.path.join(os.path.dirname(opened[including.path]), written))
            data = read(real)
            if data is None:
                problems.append(FileError(including.path, f"line {line}: cannot read the included requirements "
                                                          f"file {written!r}", partial=True))
                continue
            manifests.add(shown)
            opened[shown] = real
            result = engine.check(shown, data, requirements=True)
            if shown in position:
                output[position[shown]] = result
            else:
                position[shown] = len(output)
                output.append(result)
            if result.facts is not None and result.facts.includes:
                queue.append(result)
        if problems:
            index = position[including.path]
            output[index] = replace(output[index], errors=output[index].errors + tuple(problems))
    return output
