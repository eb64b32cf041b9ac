"""A project's uses of its own package are not a dependency on a CUDA-only package.

The library and plugin rules (LL4xx, LL5xx) say "this code depends on apex / bitsandbytes / flash_attn /
xformers". Scanning apex itself, every ``from apex.contrib import ...`` inside apex, and every test and
benchmark of it, said that apex depends on apex: hundreds of findings (and their effort) about a
dependency that does not exist. apex's real lock-in is in its own kernels and ``torch.cuda`` calls,
which other rules report. Only the whole run knows which packages are the project's own (a top-level
directory with an ``__init__.py``: its parent has none; a CUDA extension its ``setup.py`` builds; a
module beside a script that imports it), so this is a cross-file pass over the results.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import FileResult, Finding

#: The rule categories that name a third-party package (the others name torch's own APIs, which a
#: scan of torch itself must keep reporting).
_PACKAGE_CATEGORIES = frozenset({"library", "plugin"})


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def own_packages(paths: list[str]) -> frozenset[str]:
    """Top-level packages among ``paths``: folders with an ``__init__.py`` whose parent has none."""
    inits = {_folder(path) for path in paths if path.rsplit("/", 1)[-1] == "__init__.py" and "/" in path}
    return frozenset(folder.rsplit("/", 1)[-1] for folder in inits if _folder(folder) not in inits or "/" not in folder)


def script_modules(paths: list[str]) -> dict[str, frozenset[str]]:
    """Per folder, the modules its scripts import as siblings (flash-attention's ``hopper/`` tests import
    ``flash_attn_interface`` from ``hopper/flash_attn_interface.py``): only in folders that are not
    inside a package (their parent has no ``__init__.py``), where a script's own folder is on the path."""
    inits = {_folder(path) for path in paths if path.rsplit("/", 1)[-1] == "__init__.py"}
    modules: dict[str, set[str]] = {}
    for path in paths:
        folder, name = _folder(path), path.rsplit("/", 1)[-1]
        if name.endswith(".py") and name not in ("__init__.py", "setup.py") and (not folder or _folder(folder) not in inits):
            modules.setdefault(folder, set()).add(name.removesuffix(".py"))
    return {folder: frozenset(names) for folder, names in modules.items()}


def _own(finding: Finding, own: frozenset[str], packages: frozenset[str]) -> bool:
    """A library/plugin finding naming something of the project's own (``own``), or a module named
    after one of its packages (``flash_attn_2_cuda``, the extension ``flash_attn`` builds, where its
    build file is not in the run)."""
    if finding.category not in _PACKAGE_CATEGORIES:
        return False
    root = finding.symbol.lstrip(".").split(".", 1)[0]
    return root in own or any(root.startswith(f"{package}_") for package in packages)


def drop_own_package_uses(results: list[FileResult]) -> list[FileResult]:
    """``results`` without the library/plugin findings whose package is one of the project's own."""
    paths = [result.path for result in results]
    packages = own_packages(paths)
    built = frozenset(build.name.split(".", 1)[0] for result in results if result.facts is not None
                      for build in result.facts.builds)  # apex's amp_C
    siblings = script_modules(paths)
    kept = []
    for result in results:
        own = packages | built | siblings.get(_folder(result.path), frozenset())
        if own and any(_own(f, own, packages) for f in result.findings):
            result = replace(result, findings=tuple(f for f in result.findings if not _own(f, own, packages)))
        kept.append(result)
    return kept
