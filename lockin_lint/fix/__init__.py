"""The fix stage: libcst rewrites of findings into portable PyTorch (or one vendor's names).

``plan`` decides per finding, from the rules and the codemod table (``table``), whether and how it is
fixed; ``codemod`` rewrites one module (``names`` reads its names and imports), ``notebook`` one
notebook's cells, ``apply`` whole files (diffs, atomic writes), and ``cli`` adds ``--fix``,
``--unsafe-fixes``, ``--diff`` and ``--fix-to``.
"""
