"""Findings in a type checker's test input (a pyre stub test file): kept, but reported apart.

xformers' ``stubs/torch_stub_tests.py`` holds "type-level unit tests" of its torch stubs: functions
such as ``def test_new_ones(): x: torch.Tensor[...]; y = x.new_ones(..., device="cuda")`` that pyre
checks (``# pyre-fixme[9]: Expected error.`` marks the lines that must fail to type-check) and that
nothing ever runs: ``x`` is only annotated, so a run would raise ``NameError``; pytest does not
collect the file (its name matches neither ``test_*.py`` nor ``*_test.py``); ``.pyre_configuration``
lists ``stubs`` as a search path while mypy, coverage and pre-commit exclude the folder. Its
``device="cuda"`` and ``torch.cuda.reset_peak_memory_stats()`` port nothing (v3's lead, judged false
like its LL121 ``:1644`` in the seventh session's fourth round). The file is still CUDA-shaped text
someone may copy, so the findings stay, set apart as `python_skipped_tests` sets an always-skipped
test's (`model.reported_apart`: ``info``, every open target handled) with the note ``type-checker
input, never run``.

The criterion is narrow on purpose: a ``.py`` file in a folder named ``stubs`` (anywhere in its path)
whose module level imports ``pyre_extensions`` (the pyre-only typing helpers: ``TypeVarTuple``,
``Unpack``). A ``stubs/`` module without that import, or a module importing ``pyre_extensions``
elsewhere (a library using pyre's variadic generics at run time), keeps its findings as they are.
"""

from __future__ import annotations

import tree_sitter as ts

from ..model import Finding, reported_apart
from .matching import node_text

_NOTE = "type-checker input, never run"
_PACKAGE = "pyre_extensions"


def mark_type_checker_inputs(findings: tuple[Finding, ...], source: bytes, root: ts.Node,
                             path: str) -> tuple[Finding, ...]:
    """``findings`` reported apart when ``path`` is a pyre stub test file (module docstring)."""
    if not findings or _PACKAGE.encode() not in source or not _in_stubs_folder(path) \
            or not _imports_pyre_extensions(root):
        return findings
    return tuple(reported_apart(f, _NOTE) for f in findings)


def _in_stubs_folder(path: str) -> bool:
    folders = path.replace("\\", "/").split("/")[:-1]
    return path.endswith(".py") and "stubs" in folders


def _imports_pyre_extensions(root: ts.Node) -> bool:
    """Does a module-level ``import pyre_extensions`` / ``from pyre_extensions import ...`` exist?"""
    for node in root.named_children:
        if node.type == "import_from_statement":
            module = node.child_by_field_name("module_name")
            if module is not None and node_text(module).split(".")[0] == _PACKAGE:
                return True
        elif node.type == "import_statement":
            if any(node_text(name.child_by_field_name("name") or name).split(".")[0] == _PACKAGE
                   for name in node.children_by_field_name("name")):
                return True
    return False
