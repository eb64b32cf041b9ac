"""A module-level name bound to a ROCm-only package on ROCm and to the CUDA extension elsewhere.

flash-attention's ``hopper/flash_attn_interface.py`` picks its kernels once, at import::

    USE_TRITON_ROCM = os.getenv("FLASH_ATTENTION_TRITON_AMD_ENABLE", "FALSE") == "TRUE"
    if not USE_TRITON_ROCM and getattr(torch.version, 'hip', None) is not None:
        try:
            import flash_attn_3._C
        except ImportError:
            USE_TRITON_ROCM = True

    if USE_TRITON_ROCM:
        from aiter.ops.triton._triton_kernels.flash_attn_triton_amd import flash_attn_3 as flash_attn_3_gpu
    else:
        import flash_attn_3._C
        flash_attn_3_gpu = torch.ops.flash_attn_3

and calls ``flash_attn_3_gpu.fwd_combine(...)`` in its functions. The call was read as its CUDA
binding, ``torch.ops.flash_attn_3.fwd_combine``, rocm ``equivalent`` ("HIP kernel, hipify it"), but
ROCm already runs it: through AMD's own kernels when the switch is on (set by the environment, or
forced when the HIP build of the extension is missing), through that HIP build otherwise. So rocm is
handled, noted "ROCm binding of flash_attn_3_gpu (flash_attn_interface.py:20)"; every other target
keeps its status (only the CUDA binding exists there). Judged debatable twice (LL710, #11).

Narrow on purpose: the ``if`` is a statement of the module (not inside a function, loop or ``try``)
with exactly one ``else`` and no ``elif``; its test is a ROCm test (``torch.version.hip``,
``is_rocm()``, negated or not) or a switch named for ROCm (``USE_TRITON_ROCM``, ``IS_HIP``: a ROCm,
HIP or AMD word in a bare name, or ``not`` it); the branch its test takes on ROCm imports the name
from a package that exists only for ROCm (`kb.rocm_packages`: ``aiter``, ``mori``), and the other
branch binds the same name too (an import or an assignment). Only matches reached through that name
change (the name is the root of the matched expression), and not where a function rebinds it
locally (a parameter or an assignment of the same name).
"""

from __future__ import annotations

from dataclasses import replace

import tree_sitter as ts

from ..kb.rocm_packages import ROCM_ONLY_PACKAGES
from .backend_paths import name_tokens
from .matching import PYTHON_SCOPES, RawMatch, descendants, node_text
from .python_fallback_imports import _bound  # the names an import statement binds
from .python_platform_tests import classify

_IMPORTS = ("import_statement", "import_from_statement")
#: Words that make a bare switch a ROCm one (``USE_TRITON_ROCM``, ``IS_HIP``, ``use_amd_kernels``).
_ROCM_WORDS = frozenset({"rocm", "hip", "amd"})
_PACKAGE_NEEDLES = tuple(package.encode() for package in ROCM_ONLY_PACKAGES)
_LOCAL_BINDERS = frozenset({"assignment", "augmented_assignment", "for_statement"})


def apply_rocm_bindings(raw: list[RawMatch], path: str, source: bytes, root: ts.Node) -> list[RawMatch]:
    """``raw`` with rocm handled on each match reached through a name the module binds to a ROCm-only
    package on ROCm (and to the CUDA code elsewhere); ``root`` is the module's tree."""
    if not raw or not any(needle in source for needle in _PACKAGE_NEEDLES):
        return raw
    bindings = rocm_bindings(root)
    if not bindings:
        return raw
    name = path.rsplit("/", 1)[-1]
    kept = []
    for match in raw:
        bound = _reached_through(match.node)
        if bound is not None and bound.parent is not None and node_text(bound) in bindings \
                and "rocm" not in {target for target, _ in match.handled} and not _rebound_locally(bound):
            note = f"ROCm binding of {node_text(bound)} ({name}:{bindings[node_text(bound)]})"
            match = replace(match, handled=match.handled + (("rocm", note),))
        kept.append(match)
    return kept


def rocm_bindings(root: ts.Node) -> dict[str, int]:
    """The module's names bound to a ROCm-only package on ROCm and to something else otherwise:
    name -> line of the ROCm import."""
    found: dict[str, int] = {}
    for statement in root.named_children:
        if statement.type != "if_statement":
            continue
        alternatives = statement.children_by_field_name("alternative")
        consequence = statement.child_by_field_name("consequence")
        if len(alternatives) != 1 or alternatives[0].type != "else_clause" or consequence is None:
            continue
        otherwise = alternatives[0].child_by_field_name("body")
        on_rocm = _rocm_side(statement.child_by_field_name("condition"))
        if otherwise is None or on_rocm is None:
            continue
        rocm_branch, other_branch = (consequence, otherwise) if on_rocm else (otherwise, consequence)
        elsewhere = _bound_names(other_branch)
        for name, line in _rocm_imports(rocm_branch).items():
            if name in elsewhere:
                found.setdefault(name, line)
    return found


def _rocm_side(condition: ts.Node | None) -> bool | None:
    """True when ``condition`` is true exactly on ROCm, False when it is false exactly there (``not
    is_rocm()``), None when it is no ROCm test."""
    if condition is None:
        return None
    if condition.type == "parenthesized_expression" and condition.named_child_count == 1:
        return _rocm_side(condition.named_children[0])
    if condition.type == "not_operator":
        inner = _rocm_side(condition.child_by_field_name("argument"))
        return None if inner is None else not inner
    if condition.type == "identifier" and _ROCM_WORDS & set(name_tokens(node_text(condition))):
        return True
    test = classify(condition)
    if test.may == frozenset({"rocm"}):
        return True
    if test.negated().may == frozenset({"rocm"}):
        return False
    return None


def _rocm_imports(block: ts.Node) -> dict[str, int]:
    """Names ``block`` imports from a ROCm-only package, with the import's line."""
    found: dict[str, int] = {}
    for statement in block.named_children:
        if statement.type == "import_from_statement":
            module = statement.child_by_field_name("module_name")
            packages = [node_text(module)] if module is not None else []
        elif statement.type == "import_statement":
            packages = [node_text(item.child_by_field_name("name") if item.type == "aliased_import" else item)
                        for item in statement.children_by_field_name("name")]
        else:
            continue
        if packages and all(package.split(".")[0] in ROCM_ONLY_PACKAGES for package in packages):
            for name in _bound(statement):
                if name:
                    found.setdefault(name, statement.start_point.row + 1)
    return found


def _bound_names(block: ts.Node) -> set[str]:
    """Names ``block``'s own statements bind: by an import or a plain ``name = ...``."""
    names: set[str] = set()
    for statement in block.named_children:
        if statement.type in _IMPORTS:
            names.update(name for name in _bound(statement) if name)
        elif statement.type == "expression_statement" and statement.named_child_count == 1:
            assignment = statement.named_children[0]
            left = assignment.child_by_field_name("left") if assignment.type == "assignment" else None
            if left is not None and left.type == "identifier":
                names.add(node_text(left))
    return names


def _reached_through(node: ts.Node) -> ts.Node | None:
    """The identifier at the root of the matched expression (``flash_attn_3_gpu`` of
    ``flash_attn_3_gpu.fwd_combine``), or None when it is no attribute chain or name."""
    while node.type == "attribute":
        obj = node.child_by_field_name("object")
        if obj is None:
            return None
        node = obj
    return node if node.type == "identifier" else None


def _rebound_locally(identifier: ts.Node) -> bool:
    """Does a function around ``identifier`` bind the same name itself (a parameter, an assignment,
    a loop variable)? Then the module's binding may not be what it reads."""
    name = node_text(identifier)
    scope = identifier.parent
    while scope is not None:
        if scope.type in PYTHON_SCOPES:
            parameters = scope.child_by_field_name("parameters")
            if parameters is not None and name in (_parameter_name(p) for p in parameters.named_children):
                return True
            body = scope.child_by_field_name("body")
            if body is not None and any(node.type in _LOCAL_BINDERS and _assigns(node, name)
                                        for node in descendants(body, PYTHON_SCOPES)):
                return True
        scope = scope.parent
    return False


def _parameter_name(parameter: ts.Node) -> str:
    """The name a parameter binds (``x`` of ``x``, ``x: int``, ``x=1``, ``*x``)."""
    if parameter.type == "identifier":
        return node_text(parameter)
    named = parameter.child_by_field_name("name")
    if named is None:
        named = next((child for child in parameter.named_children if child.type == "identifier"), None)
    return node_text(named)


def _assigns(node: ts.Node, name: str) -> bool:
    target = node.child_by_field_name("left")
    return target is not None and any(part.type == "identifier" and node_text(part) == name
                                      and part.parent is not None and part.parent.type != "attribute"
                                      for part in descendants(target))
