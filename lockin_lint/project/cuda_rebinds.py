"""``torch.cuda`` names a backend's subclass rebinds for good: handled there in its base class's module.

`analyzers.python_cuda_rebinds` reads vLLM's ``xpu_model_runner.py``: ``XPUModelRunner(GPUModelRunner)``
runs ``_torch_cuda_wrapper()`` in its ``__init__``, which sets ``torch.cuda.stream =
torch.xpu.stream`` (and six more names) and never restores them. From then on every ``torch.cuda.stream``
the process calls is ``torch.xpu.stream``. This pass finds the module the base class is imported
from (``vllm/v1/worker/gpu_model_runner.py``) and handles, for that target only, each finding there
whose CUDA names are all rebound, noted "rebound to torch.xpu.stream by xpu_model_runner.py:55".

The scope is the base class's own module, no wider, and only code inside its functions:
- the module must be a file of the run (found the way `imported_probes` finds a flag's module:
  relative to the importing file, then in each folder above it) and define the base class at its top;
- code at module or class level runs when the module is imported, before any runner exists, and
  stays as it was; code inside a function of the module (the base class's methods, and the helper
  classes it builds, such as ``AsyncGPUModelRunnerOutput``) runs once the runner is built;
- the other modules the runner reaches (its mixins, the attention backends) may run before the patch
  or in processes without it, and a finding a wider scope would reach is not evidently patched, so
  they stay as they were;
- a finding that also names a CUDA name not rebound (a joined construct) stays as it was.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import Callable

import tree_sitter as ts

from ..analyzers.matching import PYTHON_SCOPES, node_text
from ..analyzers.python_cuda_rebinds import top_definitions
from ..model import CudaRebind, FileResult, Finding, Reader, with_handled
from .imported_probes import _folders  # where a module may sit, nearest first


def mark_cuda_rebinds(results: list[FileResult], files: dict[str, str], read: Reader,
                      parser: Callable[[], ts.Parser]) -> list[FileResult]:
    """``results`` with the findings on rebound ``torch.cuda`` names handled in the base classes' modules."""
    rebinds: dict[str, list[tuple[CudaRebind, str]]] = {}  # base module's display path -> rebinds, by whom
    for result in results:
        for rebind in result.facts.cuda_rebinds if result.facts is not None else ():
            where = _run_module(result.path, rebind.module, files)
            if where is not None:
                rebinds.setdefault(where, []).append((rebind, posixpath.basename(result.path)))
    if not rebinds:
        return results
    output = []
    for result in results:
        found = rebinds.get(result.path)
        output.append(_marked(result, found, files, read, parser) if found and result.findings else result)
    return output


def _run_module(shown: str, module: str, files: dict[str, str]) -> str | None:
    """The file of the run (display path) that ``from module import ...`` in ``shown`` names."""
    dots = len(module) - len(module.lstrip("."))
    parts = [part for part in module.lstrip(".").split(".") if part]
    if not parts:
        return None
    for folder in _folders(posixpath.dirname(shown), dots, posixpath.dirname):
        for tail in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
            candidate = posixpath.join(folder, tail)
            if candidate in files:
                return candidate
    return None


def _marked(result: FileResult, rebinds: list[tuple[CudaRebind, str]], files: dict[str, str], read: Reader,
            parser: Callable[[], ts.Parser]) -> FileResult:
    data = read(files[result.path])
    if data is None:
        return result
    root = parser().parse(data).root_node
    defined = {node_text(node.child_by_field_name("name")) for node in top_definitions(root, "class_definition")}
    notes: dict[str, dict[str, str]] = {}  # torch.cuda.<name> -> target -> note
    for rebind, by in rebinds:
        if rebind.base in defined:
            for name, value, line in rebind.names:
                note = f"rebound to {value} by {by}:{line}"
                notes.setdefault(f"torch.cuda.{name}", {}).setdefault(rebind.target, note)
    if not notes:
        return result
    changed = tuple(_handled(finding, notes, root) for finding in result.findings)
    return replace(result, findings=changed) if changed != result.findings else result


def _handled(finding: Finding, notes: dict[str, dict[str, str]], root: ts.Node) -> Finding:
    names = (finding.symbol, *finding.extra_symbols)
    if not all(name in notes for name in names):
        return finding
    shared = {target: note for target, note in notes[finding.symbol].items()
              if all(target in notes[name] for name in names)}
    noted = dict(finding.handled)
    wanted = {target: note for target, note in shared.items()
              if target in finding.targets and target not in noted and finding.targets[target].status != "native"}
    if not wanted or not _in_function(root, finding):
        return finding
    return with_handled(finding, wanted)


def _in_function(root: ts.Node, finding: Finding) -> bool:
    """Is the finding's code inside a function of the module (run later, not at import)?"""
    point = (finding.line - 1, max(finding.column - 1, 0))
    node = root.descendant_for_point_range(point, point)
    while node is not None:
        if node.type in PYTHON_SCOPES and node.type != "class_definition":
            return True
        node = node.parent
    return False
