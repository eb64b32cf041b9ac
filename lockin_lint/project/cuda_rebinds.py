"""``torch.cuda`` names a backend's subclass rebinds for good: handled there in its base class's module.

`analyzers.python_cuda_rebinds` reads vLLM's ``xpu_model_runner.py``: ``XPUModelRunner(GPUModelRunner)``
runs ``_torch_cuda_wrapper()`` in its ``__init__``, which sets ``torch.cuda.stream =
torch.xpu.stream`` (and six more names) and never restores them. From then on every ``torch.cuda.stream``
the process calls is ``torch.xpu.stream``. This pass finds the module the base class is imported
from (``vllm/v1/worker/gpu_model_runner.py``) and handles, for that target only, each finding there
whose CUDA names are all rebound, noted "rebound to torch.xpu.stream by xpu_model_runner.py:55"; a
name rebound only under the backend's capability probe (``if supports_xpu_graph():``) is handled the
same way, its note saying so: "rebound to torch.xpu.graph by xpu_model_runner.py:60 where
supports_xpu_graph() is true (:59)".

The scope is the base class's module and the modules of its package folder it imports, no wider,
and only code inside their functions:
- the module must be a file of the run (found the way `imported_probes` finds a flag's module:
  relative to the importing file, then in each folder above it) and define the base class at its top;
- the modules it imports at its top (``from .x import``, ``from vllm.v1.worker.gpu.x import``,
  ``from vllm.v1.worker.gpu import x``) that sit in its folder or below are its package's own helpers,
  built and called by the runner (vLLM's V2 runner: ``async_utils.py``, ``structured_outputs.py``,
  ``spec_decode/utils.py``, ``cudagraph_utils.py``); one level deep, what those import is not followed;
- a module outside that folder (``vllm/utils/...``, the attention backends) may run before the patch
  or in processes without it, and a finding a wider scope would reach is not evidently patched, so
  it stays as it was;
- code at module or class level runs when the module is imported, before any runner exists, and
  stays as it was; code inside a function of the module (the base class's methods, and the helper
  classes it builds, such as ``AsyncGPUModelRunnerOutput``) runs once the runner is built; the type of
  a class's field (``cudagraph: torch.cuda.CUDAGraph | None = None``, a dataclass's) counts with the
  functions: it names what the methods build, and naming it runs nothing on the device;
- a finding that also names a CUDA name not rebound (a joined construct) stays as it was;
- beyond that scope, a module the target's platform class names as the class to use
  (``XPUPlatform.get_static_graph_wrapper_cls`` returns ``"vllm.compilation.cuda_graph.CUDAGraphWrapper"``,
  `platform_classes`) is reached too, inside its functions, for that target only: on that backend it
  is the code that runs, built by the runner once it exists.
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
from .platform_classes import platform_modules


def mark_cuda_rebinds(results: list[FileResult], files: dict[str, str], read: Reader,
                      parser: Callable[[], ts.Parser]) -> list[FileResult]:
    """``results`` with the findings on rebound ``torch.cuda`` names handled in the base classes' modules
    and in the modules of their package folders they import."""
    rebinds: dict[str, list[tuple[CudaRebind, str]]] = {}  # base module's display path -> rebinds, by whom
    for result in results:
        for rebind in result.facts.cuda_rebinds if result.facts is not None else ():
            where = _run_module(result.path, rebind.module, files)
            if where is not None:
                rebinds.setdefault(where, []).append((rebind, posixpath.basename(result.path)))
    if not rebinds:
        return results
    scopes: dict[str, dict[str, dict[str, str]]] = {}  # display path -> torch.cuda.<name> -> target -> note
    roots: dict[str, ts.Node] = {}
    for where, found in sorted(rebinds.items()):
        data = read(files[where])
        if data is None:
            continue
        roots[where] = root = parser().parse(data).root_node
        notes = _notes(found, root)
        for path in (where, *package_imports(root, where, files)) if notes else ():
            _add(scopes.setdefault(path, {}), notes, None)
        for target in sorted({target for by_target in notes.values() for target in by_target}):
            for path in platform_modules(target, files, read, parser,
                                         lambda shown, module: _run_module(shown, module, files), roots):
                _add(scopes.setdefault(path, {}), notes, target)
    output = []
    for result in results:
        marks = scopes.get(result.path)
        output.append(_marked(result, marks, roots, files, read, parser) if marks and result.findings else result)
    return output


def _add(scope: dict[str, dict[str, str]], notes: dict[str, dict[str, str]], only: str | None) -> None:
    """Add ``notes`` (those of target ``only``, when given) to a module's ``scope``."""
    for name, by_target in notes.items():
        for target, note in by_target.items():
            if only is None or target == only:
                scope.setdefault(name, {}).setdefault(target, note)


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


def package_imports(root: ts.Node, where: str, files: dict[str, str]) -> list[str]:
    """The files of the run in ``where``'s folder or below it that the module imports at its top
    (``from .x import``, ``from pkg.sub.x import``, ``from pkg.sub import x``), one level deep."""
    folder = posixpath.dirname(where)
    found: list[str] = []
    for statement in root.named_children:
        module = statement.child_by_field_name("module_name") if statement.type == "import_from_statement" else None
        if module is None:
            continue
        spelled = node_text(module)
        names = [item.child_by_field_name("name") if item.type == "aliased_import" else item
                 for item in statement.children_by_field_name("name")]
        joined = [spelled + ("" if spelled.endswith(".") else ".") + node_text(name) for name in names if name]
        for candidate in (_run_module(where, written, files) for written in (spelled, *joined)):
            if (candidate is not None and candidate != where and candidate not in found
                    and (not folder or candidate.startswith(folder + "/"))):
                found.append(candidate)
    return found


def _notes(rebinds: list[tuple[CudaRebind, str]], root: ts.Node) -> dict[str, dict[str, str]]:
    """``torch.cuda.<name>`` -> target -> note, for the rebinds whose base class the module defines."""
    defined = {node_text(node.child_by_field_name("name")) for node in top_definitions(root, "class_definition")}
    notes: dict[str, dict[str, str]] = {}
    for rebind, by in rebinds:
        if rebind.base in defined:
            probes = {name: (probe, line) for name, probe, line in rebind.probes}
            for name, value, line in rebind.names:
                note = f"rebound to {value} by {by}:{line}"
                if name in probes:  # only where the backend's capability probe holds: say so
                    note += f" where {probes[name][0]} is true (:{probes[name][1]})"
                notes.setdefault(f"torch.cuda.{name}", {}).setdefault(rebind.target, note)
    return notes


def _marked(result: FileResult, notes: dict[str, dict[str, str]], roots: dict[str, ts.Node],
            files: dict[str, str], read: Reader, parser: Callable[[], ts.Parser]) -> FileResult:
    root = roots.get(result.path)
    if root is None:
        data = read(files[result.path])
        if data is None:
            return result
        root = parser().parse(data).root_node
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
    """Is the finding's code inside a function of the module (run later, not at import), or the type
    of a class's field (``cudagraph: torch.cuda.CUDAGraph | None = None``: it only names what the
    class's methods build; nothing runs on the device at import)?"""
    point = (finding.line - 1, max(finding.column - 1, 0))
    node = root.descendant_for_point_range(point, point)
    while node is not None:
        if node.type in PYTHON_SCOPES and node.type != "class_definition":
            return True
        if _field_type(node):
            return True
        node = node.parent
    return False


def _field_type(node: ts.Node) -> bool:
    """Is ``node`` the annotation of a field, ``name: <node> [= value]``, a statement of a class body?"""
    assignment = node.parent
    if assignment is None or assignment.type != "assignment" or assignment.child_by_field_name("type") != node:
        return False
    left, statement = assignment.child_by_field_name("left"), assignment.parent
    block = statement.parent if statement is not None and statement.type == "expression_statement" else None
    return (left is not None and left.type == "identifier" and block is not None and block.type == "block"
            and block.parent is not None and block.parent.type == "class_definition")
