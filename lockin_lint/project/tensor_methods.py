"""Tensor-method findings dropped when a class of the project defines the method.

The operator rule LL904 reports ``x.to_dense()`` on a receiver of unknown type only when the name is
distinctive (`analyzers.python_tensors`): no class of the scanned project defines it. A file checks
its own classes; this pass checks the others', from the names each file recorded while it was
checked (``FileFacts.defined_methods``), so nothing is read or parsed again. DeepSpeed's
``SparseTensor.to_dense`` (``runtime/sparse_tensor.py``) makes ``tensor.to_dense()`` in its engine
the project's method, not torch's.

A class in a test file (a mock tensor in DeepSpeed's ``tests/unit/v1/zero/test_overlap_comm_record_stream.py``
defines ``record_stream``) can reach only test code: product code does not import tests. Its names
drop findings in test files only. A one-file run (``check FILE``, the language server) sees only
that file's classes, as the analyzer does.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import FileResult
from ..score.scopes import ScopeRules

_SCOPES = ScopeRules()


def drop_project_methods(results: list[FileResult]) -> list[FileResult]:
    """``results`` without the unproven tensor-method findings whose method a project class defines."""
    product: set[str] = set()
    tests: set[str] = set()
    for result in results:
        if result.facts is not None and result.facts.defined_methods:
            (tests if _in_tests(result.path) else product).update(result.facts.defined_methods)
    if not product and not tests:
        return results
    output = []
    for result in results:
        places = set(result.facts.unproven_methods) if result.facts is not None else set()
        if not places:  # nothing to drop: skip the path's scope (some 40 globs, once per file)
            output.append(result)
            continue
        defined = product | tests if _in_tests(result.path) else product
        kept = tuple(f for f in result.findings
                     if (f.rule_id, f.line, f.column) not in places or f.symbol.lstrip(".") not in defined)
        output.append(replace(result, findings=kept) if len(kept) != len(result.findings) else result)
    return output


def _in_tests(path: str) -> bool:
    return _SCOPES.scope_of(path) == "tests"
