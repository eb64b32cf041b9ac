"""Which of a project's sources its CMake builds for CUDA only, read from the CMake files.

vLLM builds one ``_C`` extension for CUDA and for ROCm from one source list, but appends Marlin,
Machete, CUTLASS scaled_mm, AWQ, AllSpark, ... to it only under ``if(VLLM_GPU_LANG STREQUAL "CUDA")``:
the ROCm build leaves those features out. This module follows the CMake files of a run the way CMake
would, without running anything: ``set``/``unset``, ``list(APPEND|PREPEND|INSERT)``, ``file(GLOB
[_RECURSE])`` (matched against the run's own files), ``foreach`` (its variable holds every item, the
body is read once), ``${X}`` (nested too), ``include()`` and ``add_subdirectory()`` of files in the run,
and ``if()/elseif()/else()/endif()`` evaluated as a ROCm and as a CUDA build (`cmake_conditions`).
Bodies of ``function``/``macro`` are skipped; a call of one, like any command that is not a variable
or property manipulation, *uses* its arguments.

Every list item remembers whether it was added on a path a ROCm build never takes (and where), or a
CUDA build never takes. A source is left out of the ROCm build when every use of it (any command
naming it, directly or through variables) is on a path a ROCm build never takes, and at least one is
on a path a CUDA build may take. A ``set`` on a conditional path keeps the old value beside the new
one (either may hold afterwards), so the model only ever over-counts uses: an unknown condition can
make a source look built for ROCm, never the reverse.

Not modelled (each makes a source look built, never left out): ``list(REMOVE_ITEM|FILTER)``, string
manipulation, generator expressions, values from the environment or the cache, ``return()``.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field

from ..analyzers.file_kinds import C_CPP_SUFFIXES, CUDA_SUFFIXES
from ..model import Reader
from .cmake_conditions import WORLDS, Tri, evaluate, tri_and, tri_not, tri_or
from .cmake_lists import Arg, Command, parse_commands

SOURCE_SUFFIXES = CUDA_SUFFIXES | C_CPP_SUFFIXES
#: Commands whose arguments do not put a file into a build: they set variables, properties or flags,
#: print, install or look things up.
_NOT_USES = frozenset({
    "set", "unset", "list", "string", "math", "file", "message", "option", "get_filename_component", "cmake_path",
    "set_source_files_properties", "set_property", "get_property", "get_source_file_property", "source_group",
    "install", "configure_file", "include_directories", "target_include_directories", "target_compile_options",
    "target_compile_definitions", "add_compile_definitions", "add_compile_options", "find_package", "find_library",
    "find_path", "find_program", "find_file", "cmake_parse_arguments", "return", "include", "add_subdirectory",
    "if", "elseif", "else", "endif", "foreach", "endforeach", "while", "endwhile", "break", "continue",
    "function", "endfunction", "macro", "endmacro", "cmake_minimum_required", "project", "enable_language",
    "separate_arguments", "execute_process", "fetchcontent_declare", "mark_as_advanced", "set_target_properties",
})
_ROCM_PROJECT_COMMANDS = frozenset({"hip_add_library", "hip_add_executable"})
_VARIABLE = re.compile(r"\$\{([^${}]*)\}")
_OTHER_REFERENCE = re.compile(r"\$(?:ENV|CACHE)\{[^${}]*\}")
MAX_INCLUDE_DEPTH = 16
MAX_EXPANSIONS = 64
#: Bounds on one value, far above any real build's, so a hostile file cannot grow one without end.
MAX_TEXT = 1 << 16
MAX_ITEMS = 1 << 16
_DIR_VARIABLES = ("CMAKE_CURRENT_SOURCE_DIR", "CMAKE_CURRENT_LIST_DIR")
#: What the directory variables expand to, before the folder as the run shows it: CMake's are absolute,
#: so ``${CMAKE_CURRENT_SOURCE_DIR}/csrc/x.cu`` must not be joined to the source directory again.
_ROOTED = "@project@/"
_ROOT_VARIABLES = ("CMAKE_SOURCE_DIR", "PROJECT_SOURCE_DIR")


@dataclass(frozen=True, slots=True)
class Item:
    """One list element and the paths it came by: ``not_rocm`` names the branch (``CMakeLists.txt:308``)
    that keeps a ROCm build from ever adding it; ``not_cuda`` that a CUDA build never does."""

    text: str
    not_rocm: str | None = None
    not_cuda: bool = False


@dataclass
class BuildFacts:
    """What the CMake files say: where the project builds for ROCm, and per source its uses."""

    rocm_path: str | None = None
    uses: dict[str, list[Item]] = field(default_factory=dict)

    def left_out_of_rocm(self) -> dict[str, str]:
        """Sources every use of which a ROCm build skips, and one a CUDA build may take (source ->
        the branch that leaves it out); empty when the project never builds for ROCm."""
        if self.rocm_path is None:
            return {}
        left = {}
        for path, uses in self.uses.items():
            if all(u.not_rocm for u in uses) and any(not u.not_cuda for u in uses):
                left[path] = min((u.not_rocm for u in uses if u.not_rocm), key=ref_order)
        return left


def _joined(folder: str, written: str) -> str:
    """A path as the run shows it: ``written`` relative to ``folder``, unless rooted by a directory variable."""
    if written.startswith(_ROOTED):
        return posixpath.normpath(written[len(_ROOTED):])
    return posixpath.normpath(posixpath.join(folder, written))


def ref_order(ref: str) -> tuple[str, int]:
    path, _, line = ref.rpartition(":")
    return path, int(line) if line.isdigit() else 0


@dataclass
class _Branch:
    """One open ``if`` chain: what each world took so far, and the current branch's truth."""

    taken: dict[str, Tri]
    now: dict[str, Tri]
    ref: str
    #: The current branch's own condition names a ROCm build (``elseif(HIP_FOUND)``). The ``else`` of
    #: ``if(BUILD_CUDA)`` and ``if(NOT BUILD_CUDA)`` are no ROCm build path: they may be a CPU fallback.
    names_rocm: bool = False


def _names_rocm(command: Command, truth: dict[str, Tri]) -> bool:
    """A condition that holds in a ROCm build only: false in a CUDA build, and false in a build of neither
    (``NOT GPU_LANG STREQUAL "CUDA"`` holds in a CPU build too, so it names no ROCm path)."""
    return truth["rocm"] is True and truth["cuda"] is False and evaluate(command.args, "other") is False


class _Interpreter:
    def __init__(self, files: set[str], ordered: list[str], read: Reader, facts: BuildFacts,
                 visited: set[str]) -> None:
        self.files = files
        self.ordered = ordered  # the same files, sorted: what a glob lists
        self.read = read
        self.facts = facts
        self.visited = visited
        self.branches: list[_Branch] = []
        self.skipping = 0  # depth inside function/macro bodies

    # -- context -------------------------------------------------------------------------------------
    def context(self) -> Item:
        """The current path as an item's flags: the first branch no ROCm build takes, and whether a CUDA
        build never gets here."""
        not_rocm = next((b.ref for b in self.branches if b.now["rocm"] is False), None)
        return Item("", not_rocm, any(b.now["cuda"] is False for b in self.branches))

    def certain(self) -> bool:
        """Whether every enclosing branch is taken in both builds (a ``set`` here replaces the value)."""
        return all(b.now[w] is True for b in self.branches for w in WORLDS)

    def rocm_only(self) -> bool:
        """Whether the current path is one only a ROCm build takes."""
        return any(b.names_rocm and b.now["rocm"] is True for b in self.branches) and self.context().not_rocm is None

    def branch(self, command: Command, ref: str) -> None:
        name = command.name
        if name == "if":
            now = {w: evaluate(command.args, w) for w in WORLDS}
            self.branches.append(_Branch(dict(now), now, ref, _names_rocm(command, now)))
        elif name in ("elseif", "else") and self.branches:
            top = self.branches[-1]
            tests = {w: evaluate(command.args, w) if name == "elseif" else True for w in WORLDS}
            for w in WORLDS:
                top.now[w] = tri_and([tri_not(top.taken[w]), tests[w]])
                top.taken[w] = tri_or([top.taken[w], tests[w]])
            top.ref = ref
            top.names_rocm = name == "elseif" and _names_rocm(command, tests)
        elif name == "endif" and self.branches:
            self.branches.pop()

    # -- values --------------------------------------------------------------------------------------
    def expand(self, scope: dict[str, list[Item]], arg: Arg) -> list[Item]:
        """An argument's items, the flags of the path here joined to those of the items it names.

        An argument that is exactly ``${X}`` keeps each item's own flags; in one that builds text
        around a variable (``${DIR}/x.cu``) the pieces start afresh, which can only make a source look
        built for ROCm, never the reverse."""
        here = self.context()
        text = _OTHER_REFERENCE.sub("", arg.text)
        whole = _VARIABLE.fullmatch(text)
        if whole is not None:
            pieces = scope.get(whole.group(1), [])
        else:
            for _ in range(MAX_EXPANSIONS):
                match = _VARIABLE.search(text)
                if match is None:
                    break
                value = ";".join(v.text for v in scope.get(match.group(1), []))
                if len(text) + len(value) > MAX_TEXT:  # set(X "${X}${X}") forty times: no value, no source
                    return []
                text = text[:match.start()] + value + text[match.end():]
            pieces = [Item(t) for t in text.split(";") if t]
        return [Item(p.text, here.not_rocm or p.not_rocm, here.not_cuda or p.not_cuda) for p in pieces]

    def assign(self, scope: dict[str, list[Item]], name: str, items: list[Item], append: bool = False) -> None:
        old = scope.get(name, [])
        if append or not self.certain():
            seen = set(old)
            items = old + [i for i in items if i not in seen]
        scope[name] = items[:MAX_ITEMS]

    # -- commands ------------------------------------------------------------------------------------
    def run_file(self, path: str, scope: dict[str, list[Item]], source_dir: str, depth: int) -> None:
        if depth > MAX_INCLUDE_DEPTH or path in self.visited:
            return
        data = self.read(path)
        if data is None:
            return
        self.visited.add(path)
        list_dir = posixpath.dirname(path) or "."
        outer = {name: scope.get(name, []) for name in _DIR_VARIABLES}
        for name in _DIR_VARIABLES:
            scope[name] = [Item(_ROOTED + (source_dir if name == "CMAKE_CURRENT_SOURCE_DIR" else list_dir))]
        opened = len(self.branches)
        for command in parse_commands(data):
            self.command(command, scope, source_dir, depth, f"{path}:{command.line}")
        del self.branches[opened:]  # an if left open by a truncated file ends with it
        scope.update(outer)

    def command(self, command: Command, scope: dict[str, list[Item]], source_dir: str, depth: int, ref: str) -> None:
        name = command.name
        if name in ("function", "macro"):
            self.skipping += 1
            return
        if name in ("endfunction", "endmacro"):
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping:
            return
        if name in ("if", "elseif", "else", "endif"):
            self.branch(command, ref)
            return
        items = [i for arg in command.args for i in self.expand(scope, arg)]
        words = [i.text for i in items]
        if name == "set" and words:
            values = items[1:]
            for stop in ("CACHE", "PARENT_SCOPE"):
                values = values[:next((k for k, v in enumerate(values) if v.text == stop), len(values))]
            self.assign(scope, words[0], values)
        elif name == "unset" and words and self.certain():
            scope.pop(words[0], None)
        elif name == "list" and len(words) >= 2 and words[0] in ("APPEND", "PREPEND", "INSERT"):
            self.assign(scope, words[1], items[3:] if words[0] == "INSERT" else items[2:], append=True)
        elif name == "file" and len(words) >= 2 and words[0] in ("GLOB", "GLOB_RECURSE"):
            self.assign(scope, words[1], self.glob(items[2:], source_dir, words[0] == "GLOB_RECURSE"))
        elif name == "foreach" and len(words) >= 2:
            values = [i for i in items[1:] if i.text not in ("IN", "ITEMS", "LISTS", "ZIP_LISTS")]
            if "LISTS" in words:
                values = [v for i in values for v in scope.get(i.text, [])]
            self.assign(scope, words[0], values)
        elif name == "include" and words:
            target = self.cmake_file(words[0], source_dir, scope)
            if target is not None:
                self.run_file(target, scope, source_dir, depth + 1)
        elif name == "add_subdirectory" and words:
            folder = _joined(source_dir, words[0])
            target = posixpath.join(folder, "CMakeLists.txt") if folder != "." else "CMakeLists.txt"
            if target in self.files:
                self.run_file(target, dict(scope), folder, depth + 1)
        if self.facts.rocm_path is None and name not in ("message", "return") and (self.rocm_only() or (
                name in _ROCM_PROJECT_COMMANDS or name in ("enable_language", "project") and "HIP" in words)
                and self.context().not_rocm is None):
            self.facts.rocm_path = ref
        if name not in _NOT_USES:
            for item in items:
                self.use(item, source_dir)

    def cmake_file(self, written: str, source_dir: str, scope: dict[str, list[Item]]) -> str | None:
        """What ``include(written)`` reads: a file, or a module searched in ``CMAKE_MODULE_PATH`` (CMake's
        own modules, ``FetchContent``, are not in the run and are skipped)."""
        candidates = [written] if written.endswith(".cmake") or "/" in written else [
            f"{item.text}/{written}.cmake" for item in scope.get("CMAKE_MODULE_PATH", [])]
        for candidate in candidates:
            resolved = self.resolve(candidate, source_dir)
            if resolved is not None:
                return resolved
        return None

    def resolve(self, written: str, source_dir: str) -> str | None:
        """The run's file an item names, relative to the current source directory or as the run shows it."""
        if not written or "$" in written or written.startswith("/"):
            return None
        candidate = _joined(source_dir, written)
        return candidate if candidate in self.files else None

    def glob(self, items: list[Item], source_dir: str, recurse: bool) -> list[Item]:
        found = []
        skip_next = False
        for item in items:
            if skip_next or item.text in ("CONFIGURE_DEPENDS", "FOLLOW_SYMLINKS"):
                skip_next = False
                continue
            if item.text in ("LIST_DIRECTORIES", "RELATIVE"):
                skip_next = True
                continue
            pattern = _joined(source_dir, item.text)
            folder, _, name = pattern.rpartition("/")
            for path in self.ordered:
                parent, _, base = path.rpartition("/")
                inside = parent == folder or recurse and (parent + "/").startswith(folder + "/" if folder else "")
                if inside and fnmatch.fnmatchcase(base, name):
                    found.append(Item(_ROOTED + path, item.not_rocm, item.not_cuda))
        return found

    def use(self, item: Item, source_dir: str) -> None:
        if not item.text.endswith(tuple(SOURCE_SUFFIXES)):
            return
        path = self.resolve(item.text, source_dir)
        if path is not None:
            self.facts.uses.setdefault(path, []).append(item)


def read_build(cmake_files: list[str], files: set[str], read: Reader) -> tuple[dict[str, str], set[str]]:
    """Sources the run's CMake builds for CUDA but never for ROCm (source -> the branch that leaves it
    out, ``CMakeLists.txt:308``), and the sources it may build for ROCm.

    Every ``CMakeLists.txt`` not reached by ``add_subdirectory``/``include`` from another is a project of
    its own, outermost first; each needs its own ROCm build path, and a source some project may build
    for ROCm is not left out."""
    visited: set[str] = set()
    ordered = sorted(files)
    left: dict[str, str] = {}
    built: set[str] = set()
    for path in sorted(cmake_files, key=lambda p: (p.count("/"), p)):
        if path in visited or posixpath.basename(path) != "CMakeLists.txt":
            continue
        facts = BuildFacts()
        interpreter = _Interpreter(files, ordered, read, facts, visited)
        folder = posixpath.dirname(path) or "."
        interpreter.run_file(path, {name: [Item(_ROOTED + folder)] for name in _ROOT_VARIABLES}, folder, 0)
        project_left = facts.left_out_of_rocm()
        left.update(project_left)
        built.update(p for p, uses in facts.uses.items() if any(u.not_rocm is None for u in uses))
    return {path: ref for path, ref in left.items() if path not in built}, built
