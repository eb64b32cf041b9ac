"""Device tests through an accelerator method that is never called: always false, so no test at all.

DeepSpeed's ``runtime/constants.py`` picks a default with ``if get_accelerator().device_name ==
'cuda' and ...:``. ``device_name`` is a method of every DeepSpeed accelerator (``def
device_name(self, device_index=None)``), and it is not called there: the bound method never equals
``'cuda'``, on CUDA or anywhere else, so the ``"cuda"`` decides no path and LL201 has nothing to
report (judged false by h3, docs/validation.md, #11, eighth session). Narrow on purpose: only the
accessor methods DeepSpeed's accelerator interface defines (``device_name``,
``current_device_name``), only read straight off a ``get_accelerator()`` call, and only when the
attribute is not itself called; ``get_accelerator().device_name() == 'cuda'`` is a real device test
and keeps its finding. Knowing which attributes a project defines only as methods in general would
need its class definitions in the run, which one file's analysis does not have.
"""

from __future__ import annotations

import tree_sitter as ts

from .matching import node_text

#: Methods of DeepSpeed's ``DeepSpeedAccelerator`` that name the device (never properties).
_ACCESSOR_METHODS = frozenset({"device_name", "current_device_name"})


def uncalled_accessor(operand: ts.Node) -> bool:
    """Is ``operand`` (one side of a comparison) ``get_accelerator().device_name`` read as an
    attribute and not called, a bound method that equals no device string?"""
    if operand.type != "attribute":
        return False
    attribute, receiver = operand.child_by_field_name("attribute"), operand.child_by_field_name("object")
    if attribute is None or receiver is None or node_text(attribute) not in _ACCESSOR_METHODS \
            or receiver.type != "call":
        return False
    function = receiver.child_by_field_name("function")
    return function is not None and node_text(function).rsplit(".", 1)[-1] == "get_accelerator"
