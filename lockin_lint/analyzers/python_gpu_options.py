"""Matches in ``if args.gpu: <CUDA> else: <host path>``: the CPU's path is the ``else``, when ``--gpu`` is a switch.

DeepSpeed's NVMe benchmarks (``csrc/aio/py_test/torch_io.py:48``, ``torch_fastio_engine.py:63``,
``ds_aio_handle.py:86`` and their ``deepspeed/nvme`` twins) say::

    if args.gpu:
        buffer = torch.randint(..., device=f'cuda:{device_id}')
    else:
        buffer = create_page_locked_tensor(args.io_size, ...)

and ``ds_aio_args.py:172`` declares ``parser.add_argument('--gpu', action='store_true', ...)``: the
default run takes the ``else``, host page-locked memory, so the CPU is handled by it, the note a plain
CPU fallback gets (judged false in the fourth session and again by j19A). The name ``gpu`` alone says
nothing certain: in imagenet-style scripts ``args.gpu`` is a device *index* (``--gpu 0``, falsy for
the first GPU), so the reading needs the project's declaration of a ``--gpu`` option
that is a switch (``action='store_true'``), which another file usually holds: this file records the
candidates (`FileFacts.gpu_options`) and `project.gpu_options` credits the CPU when the run declares
such an option. Only a plain truth test of a name or attribute spelled exactly ``gpu`` counts (not ``args.gpu is not None``, ``not args.gpu`` or an ``and``), with an ``else`` (no ``elif``)
that holds no match of its own; the other targets keep their statuses (the ``--gpu`` path spells CUDA).
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import PYTHON_SCOPES, RawMatch, node_text, unparenthesized

#: The option words read this way, as the attribute or name a truth test spells. Only ``gpu``: the
#: file's word set (`kb.prefilter.file_words`, made anyway) rules it out of most files for free, while
#: the word ``cuda`` is in nearly every file, and a search of each file's bytes for ``args.cuda:``
#: cost 2% of a cold vLLM scan for a shape none of the eleven projects has.
OPTIONS = frozenset({"gpu"})


def gpu_option_branches(words: set[bytes], kept: list[RawMatch]) -> tuple[tuple[str, str, int], ...]:
    """(option, rule, line) of each match, not yet handled on the CPU, in the body of ``if
    <x>.<option>:`` whose ``else`` holds no match (candidates for `project.gpu_options`); ``words``
    are the file's distinct words."""
    if not kept or b"gpu" not in words:
        return ()
    found: set[tuple[str, str, int]] = set()
    for match in kept:
        if "cpu" in dict(match.handled):
            continue
        branch = _option_branch(match.node)
        if branch is not None:
            statement, option = branch
            alternative = statement.child_by_field_name("alternative")
            if alternative is not None and not any(_inside(other.node, alternative) for other in kept):
                found.add((option, match.rule.id, match.node.start_point.row + 1))
    return tuple(sorted(found))


def _option_branch(node: ts.Node) -> tuple[ts.Node, str] | None:
    """The ``if`` whose body holds ``node`` (within its function) and whose whole test is a plain
    ``<x>.gpu`` / ``gpu``, with one ``else`` and no ``elif``; and the option word."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type == "if_statement" and child == parent.child_by_field_name("consequence"):
            option = _option(parent.child_by_field_name("condition"))
            alternatives = parent.children_by_field_name("alternative")
            if option is not None and len(alternatives) == 1 and alternatives[0].type == "else_clause":
                return parent, option
        child, parent = parent, parent.parent
    return None


def _option(condition: ts.Node | None) -> str | None:
    condition = unparenthesized(condition)
    if condition is None:
        return None
    if condition.type == "attribute":
        condition = condition.child_by_field_name("attribute")
    elif condition.type != "identifier":
        return None
    word = node_text(condition)
    return word if word in OPTIONS else None


def _inside(node: ts.Node, outer: ts.Node) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte
