"""Does a C/C++ file declare a name itself? The test that keeps LC9000 to real, unknown CUDA APIs.

A name spelled like a CUDA API (``cudaCheck``, ``cusparseHandle``, ``cuGet<T>``) is the project's own
when the project declares it: a variable, parameter, field, typedef, enumerator, macro, function or
type. The test looks at every occurrence of the name and asks the syntax tree whether it is in a
declaring position, so it works the same on the file being checked and on the headers it includes
(`project.declared_names` asks it for those).
"""

from __future__ import annotations

import tree_sitter as ts

from ..kb.prefilter import word_occurrences

#: Node kinds that declare the child in one of their fields (``declarator`` or ``name``).
_DECLARING_FIELDS: dict[str, str] = {
    "function_declarator": "declarator", "init_declarator": "declarator", "pointer_declarator": "declarator",
    "array_declarator": "declarator", "parenthesized_declarator": "declarator",
    "parameter_declaration": "declarator", "optional_parameter_declaration": "declarator",
    "declaration": "declarator", "field_declaration": "declarator", "type_definition": "declarator",
    "for_range_loop": "declarator", "struct_specifier": "name", "class_specifier": "name",
    "union_specifier": "name", "enum_specifier": "name", "enumerator": "name", "alias_declaration": "name",
    "preproc_def": "name", "preproc_function_def": "name", "namespace_definition": "name",
    "concept_definition": "name",
}
#: Node kinds all of whose name children are declared (a reference declarator has no field; template
#: and macro parameters are plain lists).
_DECLARING_ALL = frozenset({"reference_declarator", "type_parameter_declaration", "preproc_params",
                            "variadic_parameter_declaration", "optional_type_parameter_declaration"})


def is_declaration(node: ts.Node) -> bool:
    """``node`` (a name) is the thing a declaration declares, not a use of it."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type in _DECLARING_ALL:
        return True
    field = _DECLARING_FIELDS.get(parent.type)
    if field is None:
        return False
    # several fields may hold declarators (``int a, b;``): any of them, not only the first
    return any(child == node for child in parent.children_by_field_name(field))


def declares(root: ts.Node, source: bytes, name: str) -> bool:
    """The file (``root`` parsed from ``source``) declares ``name`` somewhere."""
    word = name.encode()
    for start in word_occurrences(source, word):
        node = root.descendant_for_byte_range(start, start + len(word))
        if node is not None and node.type in ("identifier", "type_identifier", "field_identifier",
                                              "namespace_identifier") and is_declaration(node):
            return True
    return False
