"""A project's uses of its own package are not a dependency on a CUDA-only package.

The library and plugin rules (LL4xx, LL5xx) say "this code depends on apex / bitsandbytes / flash_attn /
xformers". Scanning apex itself, every ``from apex.contrib import ...`` inside apex, and every test and
benchmark of it, said that apex depends on apex: hundreds of findings (and their effort) about a
dependency that does not exist. apex's real lock-in is in its own kernels and ``torch.cuda`` calls,
which other rules report. Only the whole run knows which packages are the project's own (a top-level
directory with an ``__init__.py``: its parent has none; a module at the top; a CUDA extension its
``setup.py`` builds), so this is a cross-file pass over the results.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import FileResult, Finding

#: The rule categories that name a third-party package (the others name torch's own APIs, which a
#: scan of torch itself must keep reporting).
_PACKAGE_CATEGORIES = frozenset({"library", "plugin"})


def own_packages(paths: list[str]) -> frozenset[str]:
    """Top-level packages among ``paths``: folders with an ``__init__.py`` whose parent has none; and
    modules at the top of the run or of a top-level folder (flash-attention's
    ``hopper/flash_attn_interface.py``, imported as ``flash_attn_interface`` by the scripts beside it)."""
    packages = {path.rsplit("/", 1)[0] for path in paths if path.rsplit("/", 1)[-1] == "__init__.py" and "/" in path}
    found = {folder.rsplit("/", 1)[-1] for folder in packages if folder.rsplit("/", 1)[0] not in packages or "/" not in folder}
    found |= {path.rsplit("/", 1)[-1].removesuffix(".py") for path in paths
              if path.endswith(".py") and path.count("/") <= 1 and not path.startswith(("/", "."))}
    return frozenset(found - {"__init__", "setup"})


def _own(finding: Finding, packages: frozenset[str]) -> bool:
    """A library/plugin finding naming an own package, or a module named after one
    (``flash_attn_2_cuda``, the extension ``flash_attn`` builds, where its build file is not in the run)."""
    if finding.category not in _PACKAGE_CATEGORIES:
        return False
    root = finding.symbol.lstrip(".").split(".", 1)[0]
    return root in packages or any(root.startswith(f"{package}_") for package in packages)


def drop_own_package_uses(results: list[FileResult]) -> list[FileResult]:
    """``results`` without the library/plugin findings whose package is one of the project's own."""
    built = {build.name.split(".", 1)[0] for result in results if result.facts is not None for build in result.facts.builds}
    packages = own_packages([result.path for result in results]) | built  # apex's amp_C, flash_attn_2_cuda
    if not packages:
        return results
    kept = []
    for result in results:
        if any(_own(f, packages) for f in result.findings):
            result = replace(result, findings=tuple(f for f in result.findings if not _own(f, packages)))
        kept.append(result)
    return kept
