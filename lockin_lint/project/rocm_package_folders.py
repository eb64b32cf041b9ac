"""Folders built on a ROCm-only Python package: their modules are ROCm's code, not CUDA lock-in.

vLLM's MoRIIO KV connector lives in ``kv_connector/v1/moriio/``; ``moriio_connector.py`` and
``moriio_engine.py`` import ``mori.io`` (AMD's ROCm-only communication library, `kb.rocm_packages`)
at module level, inside a ``try``, and ``moriio_common.py`` holds the dataclasses they share
(``event: torch.cuda.Event``). On ROCm ``torch.cuda.Event`` is HIP's event and no other platform
reaches the folder, so its CUDA spellings are ROCm's, like the code of a folder named ``rocm/``
(`analyzers.backend_paths`). An independent judge called them false (docs/validation.md, #11).

Both conditions are needed: a folder whose name starts with the package's name (``moriio/``,
``mori_ep/``, ``aiter/``) and a Python module in it that imports the package at module level (at
column 0, or in the body of a top-level ``try``). An import alone proves nothing: vLLM imports
``aiter`` from modules that also run on CUDA, behind ``is_rocm()`` tests. A name alone proves nothing
either. Only the run's files are read, so this is a cross-file pass over the results: the Python
findings under such a folder are dropped.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from ..analyzers.backend_paths import name_tokens
from ..kb.rocm_packages import ROCM_ONLY_PACKAGES
from ..model import FileResult

_TOP_TRY = re.compile(rb"try[ \t]*:")


def package_folders(path: str) -> list[tuple[str, str]]:
    """The folders above ``path`` named for a ROCm-only package, as (folder path, package)."""
    parts = path.split("/")[:-1]
    found = []
    for index, part in enumerate(parts):
        tokens = name_tokens(part)
        package = next((name for name in ROCM_ONLY_PACKAGES if tokens and tokens[0].startswith(name)), None)
        if package is not None:
            found.append(("/".join(parts[:index + 1]), package))
    return found


def imports_at_module_level(data: bytes, package: str) -> bool:
    """Does the module import ``package`` (or one of its submodules) at module level: at column 0,
    or in the body of a top-level ``try``? An import inside a function or an ``if`` does not count."""
    statement = re.compile(rb"[ \t]*(?:import|from)[ \t]+" + re.escape(package.encode()) + rb"(?:[.,\s]|$)")
    in_try = False
    for line in data.split(b"\n"):
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        if line[:1] not in (b" ", b"\t"):  # a top-level statement
            in_try = _TOP_TRY.match(line) is not None  # the ``try`` body only, not its handlers
            if statement.match(line):
                return True
        elif in_try and statement.match(line):
            return True
    return False


def drop_rocm_package_folders(results: list[FileResult], files: dict[str, str],
                              read: Callable[[str], bytes | None]) -> list[FileResult]:
    """``results`` without the Python findings under folders built on a ROCm-only package."""
    candidates: dict[str, str] = {}
    for result in results:
        if result.findings and result.path.endswith(".py"):
            candidates.update(package_folders(result.path))
    confirmed = [folder for folder, package in sorted(candidates.items())
                 if any(_imports(files, read, shown, package)
                        for shown in sorted(files) if shown.startswith(folder + "/") and shown.endswith(".py"))]
    if not confirmed:
        return results
    return [replace(result, findings=()) if result.findings and result.path.endswith(".py")
            and any(result.path.startswith(folder + "/") for folder in confirmed) else result
            for result in results]


def _imports(files: dict[str, str], read: Callable[[str], bytes | None], shown: str, package: str) -> bool:
    data = read(files[shown])
    return data is not None and imports_at_module_level(data, package)


def wanted(results: list[FileResult]) -> bool:
    """Only a run with Python findings under a folder named for a ROCm-only package needs the pass."""
    return any(result.findings and result.path.endswith(".py") and package_folders(result.path)
               for result in results)
