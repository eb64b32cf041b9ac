"""Shortcuts taken on the Python analyzer's hot paths give the answers of the readings they stand for.

Why: each shortcut skips work the full reading would do (the chain's names of a receiver no import
bound, a whole-file regex tried only where its literal prefix is); the findings must not change, so
each is held to the full reading here on inputs chosen to reach both sides.
"""

from __future__ import annotations

import pytest
import tree_sitter as ts
import tree_sitter_python

from lockin_lint.analyzers.python_cuda_rebinds import _ASSIGNED, _assigns_cuda_name
from lockin_lint.analyzers.python_matcher import _chain_root
from lockin_lint.analyzers.python_strings import chain

_PARSER = ts.Parser(ts.Language(tree_sitter_python.language()))


def _tops(source: bytes) -> list[ts.Node]:
    """Every identifier's outermost attribute chain (what `FileMatcher._identifier` climbs to)."""
    tops = []
    stack = [_PARSER.parse(source).root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type == "identifier":
            top = node
            while top.parent is not None and top.parent.type == "attribute":
                top = top.parent
            tops.append(top)
    return tops


@pytest.mark.parametrize("source", [
    b"torch.cuda.is_available()\n", b"x.cuda()\n", b"f().cuda\n", b"a[0].b.c\n", b"(x).y.z\n",
    b"self.model.to('cuda')\n", b"import torch.cuda as tc\ntc.synchronize()\n", b"torch.\n",
    b"obj.\n", b"'s'.join(x).cuda\n", b"x = y\n",
])
def test_chain_root_is_the_root_chain_gives(source: bytes) -> None:
    tops = _tops(source)
    assert tops
    for top in tops:
        assert _chain_root(top) == chain(top)[0], (source, top)


@pytest.mark.parametrize("source", [
    b"", b"torch.cuda.x = torch.y\n", b"torch.cuda.\n", b"torch.cuda.torch.cuda.f = torch.g\n",
    b"torch.cuda.synchronize()\ntorch.cuda.f  =\ttorch.g\n", b"torch.cuda.f = other\n", b"xtorch.cuda.f=torch.\n",
    b"torch.cuda. f = torch.g\n", b"torch.cuda.f\n= torch.g\n",
])
def test_cuda_name_assignment_search_is_the_regex_search(source: bytes) -> None:
    assert _assigns_cuda_name(source) == (_ASSIGNED.search(source) is not None)
