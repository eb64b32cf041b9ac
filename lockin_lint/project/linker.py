"""The cross-file pass: link Python calls into the run's own CUDA extensions to the kernels they need.

It runs after every file was checked on its own, and costs nothing unless some Python file builds a
CUDA extension (``CUDAExtension``/``load``) or some C/C++ file registers ops. Then it:

1. resolves each build's source strings against the run's C/C++/CUDA files;
2. parses those files (and the run's ``.cu``/``.cuh`` files) for functions, kernel launches and op
   bindings (``PYBIND11_MODULE``, ``TORCH_LIBRARY``, ``TORCH_LIBRARY_IMPL``);
3. follows each bound op through the functions it calls to the ``__global__`` kernels it launches;
4. re-checks, with that table, the Python files that spell an extension's name and call one of its
   ops (a first walk for op calls alone rules out most of them), so their call sites are reported (rule ``custom-op-call``) pointing at the kernels, through the same suppression,
   fingerprint and notebook handling as every other finding.

Only what the run scanned can be linked: a kernel file outside the given paths is not read.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections import defaultdict
from typing import Callable, Iterable

from ..analyzers import language_of
from ..analyzers.cuda import CUDA_SUFFIXES, code_facts
from ..analyzers.python import calls_extension_ops
from ..engine import Engine
from ..analyzers.cpp_facts import Binding, CodeFacts, Function, may_reach
from ..kb.torch_cpp import CUDA_DISPATCH_KEYS
from ..model import ExtensionBuild, FileResult, Location, Reader
from ..analyzers.op_calls import ExtensionLink, LinkTable
from .translation_units import TranslationUnits

#: Dispatch keys whose kernels run on every device (composites of other ops): such an op is portable.
_PORTABLE_KEYS = frozenset({"CompositeImplicitAutograd", "CompositeExplicitAutograd",
                            "CompositeExplicitAutogradNonFunctional"})
_CUDA_FILES = tuple(sorted(CUDA_SUFFIXES))
#: How the fallback of an extension with no kernel in sight ends: its build call.
_BUILT_HERE = " built here"
#: At most this many files make one build's code (its sources and their includes).
_MAX_CLOSURE = 5000
#: How many calls deep an op is followed to its kernels (binding -> wrapper -> launcher -> kernel).
_MAX_DEPTH = 8

#: The Python files a link table may change: (position in the results, display path, path to open,
#: is a notebook, was skipped by the prefilter).
Relink = tuple[int, str, str, bool, bool]
#: Starts `relink_files` over chunks of the work in the run's process pool (`passes.PassContext.map_later`)
#: and gives what waits for each chunk's answer, in order.
ChunkMap = Callable[[Callable[[Engine, Reader, tuple[LinkTable, list[Relink]]], list[tuple[int, FileResult]]],
                     list[tuple[LinkTable, list[Relink]]]], Callable[[], list[list[tuple[int, FileResult]]]]]
#: Python files handed to one pool task: reading, ruling out and re-checking them is most of the pass.
_RELINK_CHUNK = 200


def link_extensions(results: list[FileResult], files: dict[str, str], engine: Engine, read: Reader,
                    map_chunks: ChunkMap | None = None) -> list[FileResult]:
    """``results`` with the Python files that call the run's extensions re-checked with links.

    ``files`` maps display paths to paths to open; ``read`` returns a file's bytes (None if it
    cannot be read, which leaves that file's first result in place). ``map_chunks`` runs the
    re-checks (`relink_files`) elsewhere, the run's pool workers: they are the files of the run,
    whose content the cache key holds already, so nothing they read needs recording.
    """
    replaced = start_links(results, files, engine, read, map_chunks)()
    return [replaced.get(position, result) for position, result in enumerate(results)] if replaced else results


def start_links(results: list[FileResult], files: dict[str, str], engine: Engine, read: Reader,
                map_chunks: ChunkMap | None = None) -> Callable[[], dict[int, FileResult]]:
    """`link_extensions` in two steps: the link table is built and the re-checks are handed to the pool
    now; the returned function waits for them and gives the re-checked results by position. The
    whole-project passes that never look at Python files run in between (`passes.run_passes`)."""
    builds = [(r.path, b) for r in results if r.facts is not None for b in r.facts.builds]
    registering = [r.path for r in results if r.facts is not None and r.facts.registers_ops]
    if engine.link_rule is None or not (builds or registering):
        return dict
    languages = {path: language_of(path) for path in files}
    code_files = sorted(p for p, language in languages.items() if language == "cuda")
    sources = {id(build): resolve_sources(path, build.sources, code_files) for path, build in builds}
    scanned = _Scanner(files, engine, read, {r.path: r.facts.code for r in results
                                             if r.facts is not None and isinstance(r.facts.code, CodeFacts)})
    scanned.scan(registering)
    # A build's code is its sources and the project headers they include; its ops are followed there only.
    closures = {key: scanned.closure(found, code_files) for key, found in sources.items()}
    claimed = {path for closure in closures.values() for path in closure}
    graph = scanned.complete([p for p in code_files if p.endswith(_CUDA_FILES)], claimed)
    table = LinkTable(*_extensions(builds, closures, scanned.facts, graph),
                      namespaces=_namespaces(scanned.facts, graph))
    if not table:
        return dict
    work: list[Relink] = [(position, r.path, files[r.path], languages[r.path] == "notebook", r.skipped)
                          for position, r in enumerate(results) if languages.get(r.path) in ("python", "notebook")]
    chunks = [(table, work[i : i + _RELINK_CHUNK]) for i in range(0, len(work), _RELINK_CHUNK)]
    if map_chunks is not None and len(chunks) > 1:
        waiting = map_chunks(relink_files, chunks)
        return lambda: {position: result for answer in waiting() for position, result in answer}
    answers = {position: result for chunk in chunks for position, result in relink_files(engine, read, chunk)}
    return lambda: answers


def relink_files(engine: Engine, read: Reader, chunk: tuple[LinkTable, list[Relink]]) -> list[tuple[int, FileResult]]:
    """The Python files of ``chunk`` that call one of the table's ops, checked again with it (by
    position); the others are left out: their first result stands."""
    table, work = chunk
    found = []
    for position, shown, path, notebook, skipped in work:
        data = read(path)
        if data is not None and table.may_reach(shown, data) and (
                notebook or skipped or calls_extension_ops(engine.run, shown, data, table)):
            found.append((position, engine.check(shown, data, prefilter=False, links=table)))
    return found


class _Scanner:
    """The C/C++/CUDA files parsed for the link table, each once."""

    def __init__(self, files: dict[str, str], engine: Engine, read: Reader, known: dict[str, CodeFacts]) -> None:
        self.files, self.engine, self.read = files, engine, read
        #: Facts the files' own checks kept from their parse: used instead of parsing them again.
        self.known = known
        self.facts: dict[str, CodeFacts] = {}

    def scan(self, paths: Iterable[str]) -> None:
        for path in sorted(set(paths) - set(self.facts)):
            if path in self.known:
                self.facts[path] = self.known[path]
                continue
            data = self.read(self.files[path])
            if data is not None:
                self.facts[path] = code_facts(self.engine.run, path, data)

    def closure(self, paths: list[str], code_files: list[str]) -> list[str]:
        """``paths`` and the run's files they include with ``#include "..."``, transitively, scanned.

        An include resolves against the including file's directory, else to any run file whose path
        ends with it (an include directory the build adds)."""
        found: dict[str, None] = {}  # insertion-ordered set
        queue = list(paths)
        while queue and len(found) < _MAX_CLOSURE:
            path = queue.pop(0)
            if path in found:
                continue
            found[path] = None
            self.scan([path])
            for written in self.facts[path].includes if path in self.facts else ():
                joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), written))
                target = joined if joined in self.files else next(
                    (f for f in code_files if f.endswith("/" + written.lstrip("./"))), None)
                if target is not None and target not in found:
                    queue.append(target)
        return list(found)

    def complete(self, candidates: list[str], claimed: set[str]) -> _Graph:
        """The call graph, after parsing the ``candidates`` that spell a name the bindings outside any
        build's code reach but no scanned file defines (a launcher may live in any .cu file), until no
        such name is left."""
        pending = {p: b"" for p in candidates if p not in self.facts}
        words: dict[str, frozenset[bytes]] = {}  # each pending file's words, split once for all rounds
        graph = _Graph(self.facts)
        roots = [b.calls for path, c in self.facts.items() if path not in claimed for b in c.bindings]
        for _ in range(_MAX_DEPTH):
            missing = graph.unresolved(set().union(*roots))
            if not missing or not pending:
                break
            spells = _Spelling(missing)
            hits = []
            for path in sorted(pending):
                pending[path] = pending[path] or self.read(self.files[path]) or b""
                if path not in words:
                    words[path] = frozenset(pending[path].translate(_ASCII_WORD_BYTES).split())
                if spells.found(pending[path], words[path]):
                    hits.append(path)
            if not hits:
                break
            self.scan(hits)
            for path in hits:
                del pending[path]
            graph = _Graph(self.facts)
        return graph


#: ``data.translate(_ASCII_WORD_BYTES).split()``: the maximal runs of what ``\w`` matches in a bytes regex.
_ASCII_WORD_BYTES = bytes(b if chr(b).isascii() and (chr(b).isalnum() or b == ord("_")) else 0x20 for b in range(256))
_ASCII_WORD = re.compile(rb"\w+")


class _Spelling:
    """Does a file spell one of ``names`` as a whole word (``\\b(?:name|...)\\b``)? A name made of
    word characters matches exactly where a maximal run of them equals it, so those are looked up in
    the file's set of such runs (compiling the alternation of hundreds of names took longer than the
    search); any other name keeps the regex."""

    def __init__(self, names: set[str]) -> None:
        encoded = {name.encode() for name in names}
        self.plain = frozenset(name for name in encoded if _ASCII_WORD.fullmatch(name))
        others = sorted(encoded - self.plain)
        self.pattern = re.compile(rb"\b(?:" + b"|".join(map(re.escape, others)) + rb")\b") if others else None

    def found(self, data: bytes, words: frozenset[bytes]) -> bool:
        return not self.plain.isdisjoint(words) or (self.pattern is not None and self.pattern.search(data) is not None)


def resolve_sources(build_path: str, written: tuple[str, ...], code_files: list[str]) -> list[str]:
    """The run's files a build's source strings name, relative to the build file's directory.

    ``os.path.join(here, "csrc", "k.cu")`` leaves only ``"k.cu"`` as a literal, so a string also
    matches any file below the build's directory that ends with it; globs (``"csrc/*.cu"``) match too.
    """
    base = posixpath.dirname(build_path)
    below = [f for f in code_files if not base or f.startswith(base + "/")]
    found: list[str] = []
    for text in written:
        text = text.replace("\\", "/")
        joined = posixpath.normpath(posixpath.join(base, text))
        tail = posixpath.normpath(text).lstrip("./")
        glob = any(c in text for c in "*?[")

        def names(candidate: str) -> bool:
            return candidate == joined or candidate.endswith("/" + tail) or candidate == tail or glob and (
                fnmatch.fnmatchcase(candidate, joined) or fnmatch.fnmatchcase(candidate, "*/" + tail))

        # below the build file first; ``join(here, "..", "csrc", "k.cu")`` reaches a sibling directory
        matched = [c for c in below if names(c)] or [c for c in code_files if names(c)]
        found += [c for c in matched if c not in found]
    return found


class _Graph:
    """Functions of the scanned files (by path) by name, to follow an op's calls down to its kernels."""

    def __init__(self, facts: dict[str, CodeFacts]) -> None:
        self.functions: dict[str, list[Function]] = defaultdict(list)
        self.units = TranslationUnits(facts)
        for code in facts.values():
            for function in code.functions:
                self.functions[function.name].append(function)

    def unresolved(self, names: Iterable[str]) -> set[str]:
        """Names reachable from ``names`` through defined functions that no scanned file defines."""
        missing: set[str] = set()
        frontier, seen = set(names), set[str]()
        for _ in range(_MAX_DEPTH):
            following: set[str] = set()
            for name in frontier - seen:
                seen.add(name)
                defined = self.functions.get(name)
                if not defined:
                    missing.add(name)
                for function in defined or ():
                    if not function.kernel:
                        following |= function.calls
            frontier = following
        return missing

    def defined(self, name: str, near: str | None, caller: Function | None = None) -> list[Function]:
        """The definitions of ``name`` (``caller``'s use of it can mean: `may_reach`); with ``near``,
        only those closest to that file (the longest common directory), so that two projects' ``run``
        in one run are not confused. A caller's own translation unit's definitions come first."""
        found = [f for f in self.functions.get(name, []) if caller is None or may_reach(caller, name, f)]
        found = found if caller is None else self.units.narrow(found, caller)
        if near is None or len(found) < 2:
            return found
        here = near.split("/")[:-1]

        def shared(function: Function) -> int:
            there = function.path.split("/")[:-1]
            size = 0
            while size < min(len(here), len(there)) and here[size] == there[size]:
                size += 1
            return size

        best = max(shared(f) for f in found)
        return [f for f in found if shared(f) == best]

    def needs(self, names: Iterable[str], near: str | None = None) -> tuple[Location, ...]:
        """What calls of ``names`` need ported: the ``__global__`` kernels they reach (breadth first,
        bounded); failing those, the functions that launch a kernel whose definition is out of sight;
        failing those, the host functions they reach in ``.cu`` files (an op built on cuBLAS has CUDA
        code but no kernel). Empty when they reach only plain C++. ``near`` is the binding's file: a
        name defined in several places resolves to the closest."""
        kernels: dict[tuple[str, int], Location] = {}
        launchers: dict[tuple[str, int], Location] = {}
        cuda_code: dict[tuple[str, int], Location] = {}
        # (name, the function whose body uses it: None for the bindings' own names)
        frontier: set[tuple[str, Function | None]] = {(name, None) for name in names}
        seen: set[tuple[str, Function | None]] = set()
        done: set[tuple[tuple[str, int], str]] = set()
        for _ in range(_MAX_DEPTH):
            following: set[tuple[str, Function | None]] = set()
            for name, caller in sorted(frontier - seen, key=_by_name):
                seen.add((name, caller))
                for function in self.defined(name, near, caller):
                    key = (function.path, function.line)
                    if (key, function.name) in done:  # reached by another name or caller before
                        continue
                    done.add((key, function.name))
                    if function.kernel:
                        kernels[key] = _kernel_location(function)
                        continue
                    for target in function.references:  # ``auto kernel = &k<T>; kernel<<<...>>>``
                        for referenced in self.defined(target, near, function):
                            if referenced.kernel:
                                kernels[(referenced.path, referenced.line)] = _kernel_location(referenced)
                            else:  # ``auto launch = &run_bwd; launch(params)`` (flash-attn's mha_bwd)
                                following.add((target, function))
                    if function.launches:
                        launchers[key] = Location(function.path, function.line, function.column,
                                                  f"kernel launch in `{function.name}`")
                    elif function.path.endswith(_CUDA_FILES) and not function.device:  # GPU code is no host code
                        cuda_code[key] = Location(function.path, function.line, function.column,
                                                  f"CUDA host code `{function.name}`")
                    following |= {(call, function) for call in function.calls}
            frontier = following
            if not frontier - seen:
                break
        chosen = kernels or launchers or cuda_code
        return tuple(chosen[key] for key in sorted(chosen))


def _by_name(item: tuple[str, Function | None]) -> tuple[str, str, int]:
    """A stable order for `_Graph.needs`' frontier: name, then where the caller is."""
    name, caller = item
    return (name, caller.path, caller.line) if caller is not None else (name, "", 0)


def _binding_location(binding: Binding) -> Location:
    return Location(binding.path, binding.line, binding.column, f"binding of `{binding.op}`")


def _kernel_location(function: Function) -> Location:
    return Location(function.path, function.line, function.column, f"kernel `{function.name}`")


def _build_location(path: str, build: ExtensionBuild) -> Location:
    return Location(path, build.line, build.column, f"extension `{build.name or build.variable}`{_BUILT_HERE}")


def _pybind_needs(graph: _Graph, binding: Binding) -> tuple[Location, ...]:
    """What a pybind11 op needs: what its code reaches, else (bound in a ``.cu`` file) its binding;
    nothing when it reaches only plain C++."""
    needs = graph.needs(binding.calls, binding.path)
    if not needs and binding.path.endswith(_CUDA_FILES):
        return (_binding_location(binding),)
    return needs


def _extensions(builds: list[tuple[str, ExtensionBuild]], closures: dict[int, list[str]], scanned: dict[str, CodeFacts],
                graph: _Graph) -> tuple[dict[str, ExtensionLink], dict[tuple[str, str], ExtensionLink],
                                        dict[tuple[str, str], ExtensionLink]]:
    """Each build's module (and ``load`` variable) with its ops, followed within the build's own code
    (``closures``: sources and included headers); ``graph`` serves named modules built elsewhere."""
    modules: dict[str, ExtensionLink] = {}
    variables: dict[tuple[str, str], ExtensionLink] = {}
    exported: dict[tuple[str, str], ExtensionLink] = {}
    for path, build in builds:
        if not build.name and not build.variable:
            continue
        files = closures[id(build)]
        own = _Graph({f: scanned[f] for f in files if f in scanned})
        tail = build.name.rsplit(".", 1)[-1]
        binding_files = [f for f in files if f in scanned] + [
            f for f, code in scanned.items() if f not in files and any(
                b.kind == "pybind" and b.scope == tail and tail for b in code.bindings)]
        ops: dict[str, tuple[Location, ...]] = {}
        for file in binding_files:
            for binding in scanned[file].bindings:
                if binding.kind == "pybind":  # an op reaching only plain C++ needs no CUDA port: left out
                    needs = _pybind_needs(own, binding)
                    ops[binding.op] = tuple(sorted(set(ops.get(binding.op, ()) + needs), key=_order))
        fallback = tuple(_kernel_location(f) for file in files if file in scanned
                         for f in scanned[file].functions if f.kernel) or (_build_location(path, build),)
        link = ExtensionLink(build.name or build.variable or "", ops, fallback)
        if build.name:
            modules[build.name] = _merge(modules.get(build.name), link)
        if build.variable:
            variables[(path, build.variable)] = _merge(variables.get((path, build.variable)), link)
            stem = (posixpath.basename(path).rsplit(".", 1)[0], build.variable)
            exported[stem] = _merge(exported.get(stem), link)
    claimed = {b for path, build in builds for b in closures[id(build)]}
    for file, code in scanned.items():  # a named module built outside Python (CMake): its name is the import
        named = [b for b in code.bindings if b.kind == "pybind" and b.scope.isidentifier()
                 and b.scope != "TORCH_EXTENSION_NAME" and b.scope not in modules]
        if file in claimed or not named:
            continue
        ops = {}
        for binding in named:
            ops[binding.op] = _pybind_needs(graph, binding)
        kernels = tuple(_kernel_location(f) for f in code.functions if f.kernel)
        modules[named[0].scope] = ExtensionLink(named[0].scope, ops, kernels)
    return modules, variables, exported


def _merge(known: ExtensionLink | None, other: ExtensionLink) -> ExtensionLink:
    """One module built by several calls (a CUDA build and a ROCm build of the same name): an op needs
    what any build binds it to, and kernels outrank a mere build place as the fallback."""
    if known is None:
        return other
    ops = {op: tuple(sorted(set(known.ops.get(op, ())) | set(other.ops.get(op, ())), key=_order))
           for op in (*known.ops, *other.ops)}
    built = [f for f in (*known.fallback, *other.fallback) if f.message.endswith(_BUILT_HERE)]
    kernels = [f for f in (*known.fallback, *other.fallback) if not f.message.endswith(_BUILT_HERE)]
    return ExtensionLink(known.name, ops, tuple(sorted(set(kernels or built), key=_order)))


def _namespaces(scanned: dict[str, CodeFacts], graph: _Graph) -> dict[str, dict[str, tuple[Location, ...]]]:
    """``torch.ops`` namespaces to their ops that need CUDA code, and what each needs.

    An op needs CUDA when an implementation is registered for a CUDA dispatch key, reaches a kernel,
    or is bound in a ``.cu`` file; a composite implementation makes it portable, so it is left out.
    """
    grouped: dict[tuple[str, str], list[Binding]] = defaultdict(list)
    for code in scanned.values():
        for binding in code.bindings:
            if binding.kind != "pybind" and binding.scope:
                grouped[(binding.scope, binding.op)].append(binding)
    namespaces: dict[str, dict[str, tuple[Location, ...]]] = {}
    for (namespace, op), bindings in sorted(grouped.items()):
        if any(b.key in _PORTABLE_KEYS for b in bindings):
            continue
        kernels = tuple(sorted({place for b in bindings for place in graph.needs(b.calls, b.path)}, key=_order))
        cuda = kernels or any(b.key in CUDA_DISPATCH_KEYS or b.path.endswith(_CUDA_FILES) for b in bindings)
        if cuda:
            shown = [b for b in bindings if b.key in CUDA_DISPATCH_KEYS] or bindings
            namespaces.setdefault(namespace, {})[op] = kernels or tuple(_binding_location(b) for b in shown)
    return namespaces


def _order(location: Location) -> tuple[str, int, int]:
    return (location.path, location.line, location.column)
