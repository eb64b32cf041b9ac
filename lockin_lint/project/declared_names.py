"""Names spelled like unknown CUDA APIs that the project declares in its own headers.

LC9000 reports ``cudaCheck(...)`` only when nothing declares it; the file itself is judged while it is
checked (`analyzers.declarations`), but llm.c declares ``cudaCheck`` in ``llmc/cuda_common.h`` and
uses it in every ``.cu`` file. After the run, each file with such findings has its quoted includes
followed (relative to the file, then to its parent folders, a few levels deep) and a finding whose
name a header declares is dropped. A header is judged with the headers beside it as well: ``zero.cuh``
uses ``cudaCheck`` from its sibling ``cuda_common.h``, which the ``.cu`` files that include both
include first.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import replace

import tree_sitter as ts

from ..analyzers.cpp_facts import quoted_includes
from ..analyzers.declarations import declares
from ..engine import Engine
from ..model import FileResult, Reader

_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx", ".cuh", ".inl", ".inc")
#: Include nesting followed from the checked file, and parent folders tried for an include's root.
_MAX_DEPTH = 4
_PARENT_LEVELS = 4


_Header = tuple[bytes, ts.Node, list[str]]


class _Headers:
    """Headers read and parsed once per run, whoever includes them."""

    def __init__(self, engine: Engine, read: Reader) -> None:
        self.engine = engine
        self.read = read
        self.parsed: dict[str, _Header | None] = {}

    def resolve(self, including: str, written: str) -> str | None:
        folder = os.path.dirname(including)
        for _ in range(_PARENT_LEVELS + 1):
            candidate = os.path.normpath(os.path.join(folder, written))
            if self.load(candidate) is not None:
                return candidate
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        return None

    def load(self, path: str) -> _Header | None:
        if path not in self.parsed:
            data = self.read(path)
            if data is None:
                self.parsed[path] = None
            else:
                root = self.engine.run.cuda_parser.parse(data).root_node
                self.parsed[path] = (data, root, quoted_includes(root))
        return self.parsed[path]

    def declared(self, path: str, headers: tuple[str, ...], names: set[str]) -> set[str]:
        """Which of ``names`` the headers of ``path`` (transitively) declare."""
        found: set[str] = set()
        seen: set[str] = set()
        frontier = [(path, written) for written in headers]
        for _ in range(_MAX_DEPTH):
            following = []
            for including, written in frontier:
                header = self.resolve(including, written)
                if header is None or header in seen:
                    continue
                seen.add(header)
                loaded = self.parsed[header]
                if loaded is None:
                    continue
                data, root, nested = loaded
                found.update(n for n in names - found if n.encode() in data and declares(root, data, n))
                if found == names:
                    return found
                following += [(header, w) for w in nested]
            frontier = following
        return found


def drop_declared_unknowns(results: list[FileResult], files: dict[str, str], engine: Engine,
                           read: Reader) -> list[FileResult]:
    """``results`` without the unknown-CUDA-name findings whose names the project's headers declare."""
    catch_all = engine.run.cuda.catch_all_ids
    headers = _Headers(engine, read)
    siblings: dict[str, list[str]] = {}
    for shown in files:
        if shown.endswith(_HEADER_SUFFIXES):
            siblings.setdefault(posixpath.dirname(shown), []).append(posixpath.basename(shown))
    output = []
    for result in results:
        names = {f.symbol for f in result.findings if f.rule_id in catch_all}
        if not names or result.path not in files:
            output.append(result)
            continue
        included = result.facts.headers if result.facts is not None else ()
        if result.path.endswith(_HEADER_SUFFIXES):
            own = posixpath.basename(result.path)
            included += tuple(h for h in siblings.get(posixpath.dirname(result.path), ()) if h != own)
        declared = headers.declared(files[result.path], included, names)
        if declared:
            result = replace(result, findings=tuple(f for f in result.findings
                                                    if not (f.rule_id in catch_all and f.symbol in declared)))
        output.append(result)
    return output
