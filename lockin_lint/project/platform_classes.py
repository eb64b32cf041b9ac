"""Modules a backend's platform class names as the class to use: run on that backend as written.

vLLM picks per-platform implementations by a dotted string its platform class returns::

    class XPUPlatform(Platform):                       # vllm/platforms/xpu.py
        @classmethod
        def get_static_graph_wrapper_cls(cls) -> str:
            return "vllm.compilation.cuda_graph.CUDAGraphWrapper"

So on XPU, ``vllm/compilation/cuda_graph.py``'s wrapper is the one that captures graphs, in the process
whose XPU runner has rebound ``torch.cuda.CUDAGraph``/``graph`` to ``torch.xpu``'s
(`project.cuda_rebinds`): that pass asks this module for such modules and handles the rebound names in
their functions too, as it does in the runner's base module.

What counts, each doubt leaving the module out:
- the platform file is dedicated to the rebinding's target by its path (``platforms/xpu.py`` for
  ``xpu``, `analyzers.backend_paths`) and is a file of the run;
- a module-level class there has a ``@classmethod`` named ``get_<something>_cls`` whose whole body
  is ``return "<package>.<module>.<Class>"`` (one string, no other statement: vLLM's
  ``get_device_communicator_cls`` first probes ``supports_xccl()`` and may warn, so it does not count);
- the string names a module of the run (found as `cuda_rebinds` finds the base module) that defines
  ``<Class>`` at its top.
"""

from __future__ import annotations

import re
from typing import Callable

import tree_sitter as ts

from ..analyzers.backend_paths import dedicated_target
from ..analyzers.matching import node_text
from ..analyzers.python_cuda_rebinds import top_definitions
from ..analyzers.python_strings import string_value
from ..model import Reader

#: What a platform file must spell for a class getter to be possible (most files: not even once).
_GETTER = re.compile(rb"def\s+get_\w+_cls\s*\(")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def platform_modules(target: str, files: dict[str, str], read: Reader, parser: Callable[[], ts.Parser],
                     find: Callable[[str, str], str | None], roots: dict[str, ts.Node] | None = None) -> list[str]:
    """The files of the run (display paths) that ``target``'s platform classes name in a ``get_*_cls``
    classmethod; ``find(shown, module)`` is the file of the run ``module`` names from ``shown``.
    ``roots``: the trees of the run's files parsed so far, by display path, which this adds to (the
    caller parses the modules it finds again, and asks for several targets)."""
    roots = {} if roots is None else roots
    found: list[str] = []
    for path in sorted(files):
        if not path.endswith(".py") or dedicated_target(path) != target:
            continue
        data = read(files[path])
        if data is None or _GETTER.search(data) is None:
            continue
        for dotted in _named(_root(path, data, roots, parser)):
            module, _, name = dotted.rpartition(".")
            where = find(path, module)
            if where is not None and where != path and where not in found and _defines(where, name, files,
                                                                                        read, parser, roots):
                found.append(where)
    return found


def _root(path: str, data: bytes, roots: dict[str, ts.Node], parser: Callable[[], ts.Parser]) -> ts.Node:
    root = roots.get(path)
    if root is None:
        root = roots[path] = parser().parse(data).root_node
    return root


def _named(root: ts.Node) -> list[str]:
    """The dotted strings the module's classes return from a ``@classmethod get_*_cls`` that does
    nothing else."""
    named = []
    for cls in top_definitions(root, "class_definition"):
        body = cls.child_by_field_name("body")
        for statement in body.named_children if body is not None else []:
            dotted = _returned(statement)
            if dotted is not None and _DOTTED.match(dotted):
                named.append(dotted)
    return named


def _returned(statement: ts.Node) -> str | None:
    """The string a ``@classmethod def get_*_cls(cls): return "<string>"`` returns, else None."""
    method = statement.child_by_field_name("definition") if statement.type == "decorated_definition" else None
    if method is None:
        return None
    decorators = [node_text(d).strip() for d in statement.named_children if d.type == "decorator"]
    name = method.child_by_field_name("name")
    if name is None or decorators != ["@classmethod"] or not re.fullmatch(r"get_\w+_cls", node_text(name)):
        return None
    block = method.child_by_field_name("body")
    lines = list(block.named_children) if block is not None else []
    if len(lines) != 1 or lines[0].type != "return_statement" or lines[0].named_child_count != 1:
        return None
    value = lines[0].named_children[0]
    if value.type != "string" or any(child.type == "interpolation" for child in value.children):
        return None
    return string_value(value)


def _defines(path: str, name: str, files: dict[str, str], read: Reader, parser: Callable[[], ts.Parser],
             roots: dict[str, ts.Node]) -> bool:
    data = read(files[path]) if path not in roots else b""
    if data is None:
        return False
    root = _root(path, data, roots, parser)
    return any(node_text(cls.child_by_field_name("name")) == name for cls in top_definitions(root, "class_definition"))
