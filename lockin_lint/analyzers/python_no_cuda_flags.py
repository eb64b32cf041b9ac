"""An instance flag only "CUDA is absent" can set True: its false side runs only where CUDA is present.

DeepSpeed's ``op_builder/builder.py`` calls ``get_cuda_lib64_path()`` (which reads ``CUDA_HOME``)
only under ``if not self.build_for_cpu:``. `python_platform_tests` reads the flag's name as a CPU
build, so the CPU alone was credited and MPS, Ascend, MLU, MUSA and XPU stayed gaps (judged
debatable three times: seeds 10101, 16161 and j19B). Yet the file sets the flag True only as
``self.build_for_cpu = not torch.cuda.is_available()`` (:578) and in ``except MissingCUDAException:``
(:805): every machine without CUDA sets it, so no build without CUDA reaches the calls, as vLLM's
``setup.py`` keeps ``get_nvcc_cuda_version()`` under ``_is_cuda()`` (f18b).

Narrow on purpose: every write of the attribute in the file is ``self.<attr> = <value>``
(`python_instance_flags.attribute_writes`: no tuple target, ``del`` or ``setattr``), each value is
``False``/``None``, ``not <x>.cuda.is_available()``, or ``True`` directly in an ``except`` clause of an
exception whose name says CUDA is missing (``MissingCUDAException``, ``CUDANotFoundError``), and at
least one sets it True. A flag a parameter, an option, an environment variable or a plain ``True``
can set keeps today's reading. Another file's write is looked for by `project.rocm_callers`, which
credits these targets only when no other file of the run assigns the attribute.
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import PYTHON_SCOPES, conjuncts, node_text, unparenthesized
from .python_instance_flags import attribute_writes

#: Exception classes named for CUDA being absent, lower case without ``_`` and without an
#: ``exception``/``error`` suffix: ``MissingCUDAException``, ``CUDANotFoundError``, ``NoCUDAError`` (not
#: ``CUDAError`` or ``MissingCudaKernelError``: CUDA present and failing). Plain strings, no regex:
#: this module is imported by every Python check.
_MISSING_CUDA = frozenset({"missingcuda", "nocuda", "cudanotfound", "cudamissing", "cudaunavailable"})


def _missing_cuda(name: str) -> bool:
    word = name.lower().replace("_", "")
    for suffix in ("exception", "error"):
        word = word.removesuffix(suffix)
    return word in _MISSING_CUDA


def no_cuda_flag(call: ts.Node, known: dict[str, bool]) -> str | None:
    """The no-CUDA instance flag whose false side holds ``call``: ``if not self.<flag>:`` (or an
    operand of that ``if``'s ``and``) around it in its function, with ``<flag>`` set True only where
    CUDA is absent. ``known`` remembers each attribute's answer for the file."""
    child, parent = call, call.parent
    while parent is not None and parent.type not in PYTHON_SCOPES:
        if parent.type == "if_statement" and child == parent.child_by_field_name("consequence"):
            for attribute in _negated_self_flags(parent.child_by_field_name("condition")):
                if attribute not in known:
                    known[attribute] = _only_without_cuda(call, attribute)
                if known[attribute]:
                    return attribute
        child, parent = parent, parent.parent
    return None


def _negated_self_flags(condition: ts.Node | None) -> list[str]:
    """The ``self.<attr>`` that ``condition`` requires to be false: ``not self.<attr>``, alone or in an ``and``."""
    names = []
    for operand in conjuncts(condition):
        argument = operand.child_by_field_name("argument") if operand.type == "not_operator" else None
        receiver = argument.child_by_field_name("object") if argument is not None and argument.type == "attribute" \
            else None
        if argument is not None and receiver is not None and receiver.type == "identifier" \
                and node_text(receiver) == "self":
            names.append(node_text(argument.child_by_field_name("attribute")))
    return names


def _only_without_cuda(node: ts.Node, attribute: str) -> bool:
    root = node
    while root.parent is not None:
        root = root.parent
    writes = attribute_writes(root, attribute)
    if not writes:
        return False
    values = [_written(write) for write in writes]
    return all(value is not None for value in values) and any(values)


def _written(assignment: ts.Node) -> bool | None:
    """For ``self.<attr> = value``: False for ``False``/``None``, True for a no-CUDA value, None for
    anything else (another receiver, a parameter, a plain ``True`` outside a missing-CUDA ``except``)."""
    target = assignment.child_by_field_name("left")
    receiver = target.child_by_field_name("object") if target is not None else None
    if receiver is None or receiver.type != "identifier" or node_text(receiver) != "self":
        return None
    value = unparenthesized(assignment.child_by_field_name("right"))
    if value is None:
        return None
    if value.type in ("false", "none"):
        return False
    if value.type == "not_operator":
        argument = value.child_by_field_name("argument")
        function = argument.child_by_field_name("function") if argument is not None and argument.type == "call" \
            else None
        arguments = argument.child_by_field_name("arguments") if argument is not None else None
        plain = arguments is not None and arguments.named_child_count == 0
        called = node_text(function).replace(" ", "") if function is not None else ""
        return True if plain and (called == "cuda.is_available" or called.endswith(".cuda.is_available")) else None
    if value.type == "true":
        return True if _in_missing_cuda_except(assignment) else None
    return None


def _in_missing_cuda_except(assignment: ts.Node) -> bool:
    """Is ``assignment`` a statement of an ``except`` clause (not nested deeper) whose exception
    types are all named for CUDA being absent?"""
    statement = assignment.parent
    block = statement.parent if statement is not None and statement.type == "expression_statement" else None
    clause = block.parent if block is not None and block.type == "block" else None
    if clause is None or clause.type != "except_clause":
        return False
    kinds = [c for c in clause.named_children if c.type != "block" and c.type != "comment"]
    if len(kinds) != 1:
        return False
    kind = kinds[0]
    if kind.type == "as_pattern":
        kind = kind.named_children[0]
    names = kind.named_children if kind.type == "tuple" else [kind]
    return bool(names) and all(n.type in ("identifier", "attribute")
                               and _missing_cuda(node_text(n).rsplit(".", 1)[-1]) for n in names)
