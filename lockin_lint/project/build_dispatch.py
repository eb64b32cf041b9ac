"""CUDA-only features a project's ROCm build leaves out: handled for ROCm, and said so.

vLLM runs on ROCm, yet its Marlin, Machete, CUTLASS, AWQ and AllSpark kernels are CUDA lock-in in
every file: its CMakeLists.txt builds them only under ``if(VLLM_GPU_LANG STREQUAL "CUDA")``. A ROCm
build of vLLM does not port them, it goes without them (other kernels or Triton take their place).
Pricing them as a ROCm port would estimate work the project never needed to reach ROCm.

After the run, when the run holds CMake files, `cmake_build.read_build` names the sources the CMake
builds for CUDA only while the same project also builds for ROCm; the headers only those sources
include (directly or through other such headers; a header also included by any other file of the
run is kept) join them. Their findings get ``handled: {rocm: "not built for ROCm (CMakeLists.txt:308)"}``,
which the effort model prices at zero (`score.hooks.is_handled`), while their status stays what a
port would need: the report shows them apart, with what porting them would cost
(`score.hooks.left_out_of_build`, docs/scoring.md).

DeepSpeed builds its ops with Python builders instead: a source only builders that refuse ROCm name
(`op_builders`, ``op_builder/gds.py``'s ``is_compatible``) gets the same note, its headers too.

Reads: every ``CMakeLists.txt`` and ``*.cmake`` file of the run, the ``op_builder/`` Python files and,
when some source is left out, the run's C/C++/CUDA files (for their ``#include`` lines). No project
without a ROCm build path in its CMake, or a builder refusing ROCm, gets anything handled.
"""

from __future__ import annotations

import posixpath
import re

from ..model import FileResult, Finding, Reader, evolve
from ..score.hooks import LEFT_OUT_OF_BUILD
from .cmake_build import SOURCE_SUFFIXES, read_build, ref_order
from .line_search import findall_on_lines
from .op_builders import is_op_builder, left_out_by_builders

_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx", ".cuh", ".inl", ".inc")
_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.MULTILINE)


def _is_cmake(path: str) -> bool:
    name = posixpath.basename(path)
    return name == "CMakeLists.txt" or name.endswith(".cmake")


def _resolve(including: str, written: str, files: dict[str, str]) -> str | None:
    """The run's file an ``#include`` names: beside the including file, then in each folder above it
    (projects add their source roots to the include path: ``#include "core/registration.h"``)."""
    folder = posixpath.dirname(including)
    while True:
        candidate = posixpath.normpath(posixpath.join(folder, written))
        if candidate in files:
            return candidate
        if not folder or folder in (".", "/"):
            return None
        folder = posixpath.dirname(folder)


def _includers(files: dict[str, str], read: Reader) -> dict[str, set[str]]:
    """Per file of the run, the run's C/C++/CUDA files that ``#include`` it."""
    included: dict[str, set[str]] = {}
    for shown, real in files.items():
        if not shown.endswith(tuple(SOURCE_SUFFIXES)):
            continue
        data = read(real)
        if not data or b"#" not in data:
            continue
        for written in findall_on_lines(_INCLUDE, data, b"include"):
            target = _resolve(shown, written.decode("utf-8", "replace").strip(), files)
            if target is not None and target != shown:
                included.setdefault(target, set()).add(shown)
    return included


def _orphans(files: dict[str, str], sources: dict[str, str], built: set[str],
             includers: dict[str, set[str]]) -> dict[str, str]:
    """Headers no file of the run includes, in a folder whose CMake-built sources are all left out.

    vLLM's ``marlin_template.h`` is included only by sources a CUDA build generates
    (``sm80_kernel_*.cu``, globbed under the CUDA branch), never in a checkout; its folder's other
    sources are all CUDA-only, so it is part of the same CUDA-only feature."""
    left_folders: dict[str, str] = {}
    for path, ref in sorted(sources.items()):
        left_folders.setdefault(posixpath.dirname(path), ref)
    for path in built:
        left_folders.pop(posixpath.dirname(path), None)
    return {shown: left_folders[posixpath.dirname(shown)] for shown in files
            if shown.endswith(_HEADER_SUFFIXES) and shown not in includers and shown not in sources
            and posixpath.dirname(shown) in left_folders}


def left_out_files(files: dict[str, str], read: Reader) -> dict[str, str]:
    """Files of the run a ROCm build of the project never compiles (path -> how), sources and headers."""
    cmake_files = [shown for shown in files if _is_cmake(shown)]
    sources, built = read_build(cmake_files, set(files), lambda shown: read(files[shown])) if cmake_files else ({}, set())
    by_builders = left_out_by_builders(files, read)
    if not sources and not by_builders:
        return {}
    refs = {**by_builders, **sources}
    left = {path: f"{LEFT_OUT_OF_BUILD} ({ref})" for path, ref in refs.items()}
    includers = _includers(files, read)
    for header, ref in _orphans(files, sources, built, includers).items():
        refs[header] = ref
        left[header] = f"{LEFT_OUT_OF_BUILD}: no file includes it, beside sources only CUDA builds compile ({ref})"
    includes: dict[str, set[str]] = {}
    for header, by in includers.items():
        for including in by:
            includes.setdefault(including, set()).add(header)
    waiting = sorted(refs)
    while waiting:  # a header joins once every file including it is left out
        for header in sorted(includes.get(waiting.pop(), ())):
            by = includers[header]
            if header not in refs and all(f in refs for f in by):
                refs[header] = min((refs[f] for f in by), key=ref_order)
                left[header] = f"{LEFT_OUT_OF_BUILD}: only sources it leaves out include it ({refs[header]})"
                waiting.append(header)
    return left


def _mark(finding: Finding, how: str) -> Finding:
    """The ROCm handled note without touching the status: the status still says what a port of this
    CUDA-only feature would take, which the report prices apart."""
    target = finding.targets.get("rocm")
    if target is None or target.status == "native" or any(t == "rocm" for t, _ in finding.handled):
        return finding
    return evolve(finding, handled=tuple(sorted((*finding.handled, ("rocm", how)))))


def mark_build_dispatch(results: list[FileResult], files: dict[str, str], read: Reader) -> list[FileResult]:
    """``results`` with the findings in files the project's ROCm build leaves out handled for ROCm."""
    if not any(_is_cmake(shown) or is_op_builder(shown) for shown in files) or not any(r.findings for r in results):
        return results
    left = left_out_files(files, read)
    if not left:
        return results
    return [evolve(r, findings=tuple(_mark(f, left[r.path]) for f in r.findings)) if r.path in left and r.findings
            else r for r in results]
