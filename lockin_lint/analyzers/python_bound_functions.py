"""A module function that the file only binds, never calls, in the CUDA branches of a platform chain.

TGI's ``utils/import_utils.py`` defines one function per platform and picks one at import time::

    def get_cuda_free_memory(device, memory_fraction):
        total_free_memory, _ = torch.cuda.mem_get_info(device)
        ...
    if torch.version.hip is not None:
        get_free_memory = get_cuda_free_memory
    elif torch.version.cuda is not None and torch.cuda.is_available():
        get_free_memory = get_cuda_free_memory
    elif hasattr(torch, "xpu") and torch.xpu.is_available():
        get_free_memory = get_xpu_free_memory
    else:
        get_free_memory = get_cpu_free_memory

The ``torch.cuda`` calls inside ``get_cuda_free_memory`` run only where a branch binds it: the xpu and
cpu branches bind their own function. Reporting them with xpu ``rename`` and cpu ``missing`` and no
note was judged false (docs/validation.md, #11, eighth session, t23A). So a match inside such a
function takes the notes the dispatch gives the binding line in the CUDA branch (the chain's own
``torch.cuda.empty_cache`` lines already get them), located there: ``device/platform branch
(import_utils.py:52)``; a target whose branch also binds the function (rocm through the HIP branch)
is not handled.

Narrow on purpose: the function is defined at module level; every other mention of its name in the
file is the value of a plain ``name = function`` assignment inside the branches of one module-level
``if`` chain; at least one binding gets notes from the dispatch. A function also called in the file,
bound to an attribute (TGI's ``self.attn_fn = flash_attn_fn``, an attention-implementation switch),
or bound outside a chain keeps its reading. The analyzer sees one file: a call of the function from
another module is not looked for (the note names the binding line so a reader can check).
"""

from __future__ import annotations

import re
from dataclasses import replace

import tree_sitter as ts

from ..model import TARGETS
from .findings import PLATFORM_BRANCH
from .matching import RawMatch, descendants, enclosing_function, node_text
from .python_dispatch import Dispatch, apply_dispatch


def apply_bound_functions(raw: list[RawMatch], path: str, root: ts.Node) -> list[RawMatch]:
    """``raw`` with the chain's notes on matches inside a module function that the file only binds
    in a platform chain's branches (see the module's docstring)."""
    sites: dict[str, list[ts.Node] | None] = {}  # function name -> its binding values, or None
    mentions: dict[str, list[ts.Node]] | None = None  # identifier text -> its nodes, read on first need
    bound_names: frozenset[bytes] | None = None  # names some line ends binding, read on first need
    kept = []
    for match in raw:
        definition = _module_function(match.node)
        name = definition.child_by_field_name("name") if definition is not None else None
        if name is not None and definition is not None:
            key = node_text(name)
            if key not in sites:
                if bound_names is None:
                    bound_names = _bound_names(root)
                if key.encode() not in bound_names:
                    sites[key] = None  # no line binds it as a plain value: the file is not walked
            if key not in sites:
                if mentions is None:
                    mentions = {}
                    for node in descendants(root):
                        if node.type == "identifier":
                            mentions.setdefault(node_text(node), []).append(node)
                sites[key] = _bindings(mentions.get(key, []), name)
            bound = sites[key]
            notes = _chain_notes(match, bound, path) if bound else {}
            if notes:
                merged = dict(match.handled)
                merged.update({t: how for t, how in notes.items() if t not in merged})
                match = replace(match, handled=tuple(sorted(merged.items())))
        kept.append(match)
    return kept


#: A line that ends binding a plain name (``x = name``, maybe before a comment).
_LINE_BINDING = re.compile(rb"=[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t\r]*(?:#[^\n]*)?$", re.M)


def _bound_names(root: ts.Node) -> frozenset[bytes]:
    """The names some line of the file ends binding (``= name``): a cheap byte scan, once per file,
    so that a file no line of which binds a function as a value is never walked (``Node.text``
    copies the whole source, so it is read once, not once per match)."""
    return frozenset(_LINE_BINDING.findall(root.text or b""))


def _module_function(node: ts.Node) -> ts.Node | None:
    """The function definition at module level whose body holds ``node`` (not a nested one)."""
    function, holder = enclosing_function(node)
    return function if holder is not None and holder.type == "module" else None


def _bindings(mentions: list[ts.Node], own: ts.Node) -> list[ts.Node] | None:
    """The values of ``x = name`` that are every other mention (``mentions``) of the function's name
    in the file, all in the branches of one module-level ``if`` chain; None when any mention is
    something else."""
    found: list[ts.Node] = []
    chains: set[int] = set()
    for node in mentions:
        if node == own:
            continue
        assignment = node.parent
        if assignment is None or assignment.type != "assignment" or assignment.child_by_field_name("right") != node:
            return None
        left = assignment.child_by_field_name("left")
        chain = _top_chain(assignment)
        if left is None or left.type != "identifier" or chain is None:
            return None
        chains.add(chain.id)
        found.append(node)
    return found if len(chains) == 1 else None


def _top_chain(node: ts.Node) -> ts.Node | None:
    """The module-level ``if`` statement whose branches hold ``node``, if any."""
    chain = None
    parent = node.parent
    while parent is not None and parent.type != "module":
        if parent.type in ("function_definition", "class_definition", "lambda"):
            return None
        if parent.type == "if_statement":
            chain = parent
        parent = parent.parent
    return chain if chain is not None and chain.parent is not None and chain.parent.type == "module" else None


def _chain_notes(match: RawMatch, bound: list[ts.Node], path: str) -> dict[str, str]:
    """Target -> note for the targets every binding that runs on CUDA handles and no other binding's
    branch names (the HIP branch binds it too: rocm runs it)."""
    dispatch = Dispatch()
    notes: dict[str, str] | None = None
    taken: set[str] = set()  # targets a branch for other platforms binds the function on
    for site in bound:
        seen = apply_dispatch([replace(match, node=site, handled=())], path)
        if not seen:
            taken |= _branch_platforms(site, dispatch)
            continue
        line = site.start_point.row + 1
        here = {t: f"{how} ({path}:{line})" if how == PLATFORM_BRANCH else how for t, how in seen[0].handled}
        notes = here if notes is None else {t: how for t, how in notes.items() if t in here}
    return {t: how for t, how in (notes or {}).items() if t in TARGETS and t not in taken}


def _branch_platforms(site: ts.Node, dispatch: Dispatch) -> set[str]:
    """The platforms the test of the branch around ``site`` may be true on (every target when it is
    not read)."""
    parent = site.parent
    while parent is not None and parent.type not in ("if_statement", "elif_clause", "else_clause", "module"):
        parent = parent.parent
    if parent is None or parent.type == "else_clause":
        return set(TARGETS)
    condition = parent.child_by_field_name("condition") if parent is not None and parent.type != "module" else None
    may = dispatch.platforms_of(condition)
    return set(TARGETS) if may is None else set(may)
