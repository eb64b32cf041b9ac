"""What a fix needs to know about a module's names: how it spells torch and its submodules, every
name it uses (so a new device variable never clashes), and which imports a fix may have left unused.
"""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node


class Names(cst.CSTVisitor):
    """Every name the file spells, and the module-level name(s) of ``torch``."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.torch: str | None = None
        #: ``import torch.distributed as dist``: submodule -> the name it is bound to at module level.
        self.modules: dict[str, str] = {}
        self.depth = 0

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self.depth -= 1

    def visit_Import(self, node: cst.Import) -> None:
        if self.depth:
            return
        for alias in node.names:
            dotted = get_full_name_for_node(alias.name) or ""
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            if bound is None and dotted.split(".")[0] == "torch":
                self.torch = self.torch or "torch"
            elif dotted == "torch" and bound:
                self.torch = self.torch or bound
            elif dotted.startswith("torch.") and bound:
                self.modules.setdefault(dotted, bound)


class _Uses(cst.CSTVisitor):
    """Names spelled outside import statements (a cheap first look before LibCST's scope analysis)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # `x.amp` uses x, not a name `amp`
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def used_names(module: cst.Module) -> set[str]:
    uses = _Uses()
    module.visit(uses)
    return uses.names


def mentions(module: cst.Module, name: str) -> bool:
    names = Names()
    module.visit(names)
    return name in names.names


def imports_binding(module: cst.Module, roots: set[str]) -> list[tuple[str, str | None, str | None]]:
    """The module-level imports that bound a name a fix replaced: removed if nothing uses them now."""
    found: list[tuple[str, str | None, str | None]] = []
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar) and small.module:
                base = "." * len(small.relative) + (get_full_name_for_node(small.module) or "")
                for alias in small.names:
                    bound = alias.evaluated_alias or alias.evaluated_name
                    if bound in roots:
                        found.append((base, alias.evaluated_name, alias.evaluated_alias))
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if alias.evaluated_alias in roots:
                        found.append((alias.evaluated_name, None, alias.evaluated_alias))
    return found
