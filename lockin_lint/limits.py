"""What one input may cost: size caps, nesting caps, and parsers that turn "too much" into an error.

A linter runs unattended on every commit of every repository, so a 10 MB one-line list, a notebook
nested 100,000 levels deep or a YAML "billion laughs" must cost a bounded amount of time and memory
and end as one clear message, never as a traceback, a hang or an exhausted machine. Every stage
reads its untrusted structured data (notebook and baseline JSON, TOML manifests and configs, YAML
manifests and rule files) through the helpers here, so the bounds are written once. This module
imports nothing from the package: every stage may use it (see docs/reliability.md).
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Any, Callable

#: Bytes one scanned file may have. Dense code costs about 200x its size in parse-tree memory, so a
#: bigger file is skipped with a warning rather than risking the machine (generated tables, vendored
#: amalgamations; real hand-written sources stay far below).
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Nesting levels a YAML document may have; real manifests and rule files stay under 20 (JSON and
#: TOML are bounded by their parsers' recursion limits, turned into the same error).
MAX_NESTING = 200
#: Nodes a YAML document may expand to once its aliases are followed (the "billion laughs" bound).
MAX_YAML_NODES = 2_000_000
#: Characters of one requirement line handed to ``packaging`` (pip's own lines are far shorter).
MAX_REQUIREMENT_CHARS = 10_000


class LimitError(ValueError):
    """An input over one of the bounds above; the message says which bound, for one line of output."""


def too_big(size: int, limit: int = MAX_FILE_BYTES) -> str:
    """The reason a file over ``limit`` is skipped, in the words every output uses."""
    return f"skipped: {size / 1e6:.1f} MB is over the {limit / 1e6:.1f} MB limit for one file"


def read_regular(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    A FIFO would block forever and ``/dev/zero`` would never end, so anything but a regular file is
    refused before it is read; the size is checked on the open handle (no race with a swap) and the
    read itself is bounded. Raises OSError (with ``strerror``) or LimitError.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except ValueError:  # a NUL byte in the name (a configured path can hold one): no such file
        raise OSError(errno.EINVAL, "invalid file name (it holds a NUL byte)") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise LimitError("not a regular file")
        if info.st_size > limit:
            raise LimitError(too_big(info.st_size, limit))
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise LimitError(too_big(len(data), limit))
    return data


def _nested(what: str) -> LimitError:
    return LimitError(f"{what} is nested too deeply")


def load_json(text: str, what: str = "JSON") -> Any:
    """``json.loads`` with a nesting bound (the C decoder's recursion limit, ~1,000 levels, which it
    reports as RecursionError); raises json.JSONDecodeError or LimitError."""
    import json  # every stage imports this module; a run that reads no JSON (a replayed check) never needs it

    try:
        return json.loads(text)
    except RecursionError:
        raise _nested(what) from None


def load_toml(loads: Callable[[str], dict[str, Any]], text: str, what: str = "TOML") -> dict[str, Any]:
    """A TOML parser's ``loads`` with the nesting bound (tomllib recurses once per level)."""
    try:
        return loads(text)
    except RecursionError:
        raise _nested(what) from None


def load_yaml(text: str, loader_class: type, what: str = "YAML") -> Any:
    """One YAML document through ``loader_class`` (a safe loader), with the nesting bound and the
    bound on the size it expands to through aliases, checked on the composed node graph before any
    object is built."""
    loader = loader_class(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise _nested(what) from None
        if node is None:
            return None
        _check_yaml_graph(node, what)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_yaml_graph(root: Any, what: str) -> None:
    """Depth and expanded size of a composed YAML graph, each node measured once (aliases share
    nodes, so the memo keeps this linear in the document even when the expansion is exponential)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if depth > MAX_NESTING:
            raise _nested(what)
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            sizes[key] = min(1 + sum(sizes.get(id(c), 0) for c in children), MAX_YAML_NODES + 1)
            if sizes[key] > MAX_YAML_NODES:
                raise LimitError(f"{what} expands to more than {MAX_YAML_NODES:,} nodes through its aliases")
            continue
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def _children(node: Any) -> list[Any]:
    value = node.value
    if not isinstance(value, list):
        return []
    children: list[Any] = []
    for item in value:
        children.extend(item if isinstance(item, tuple) else (item,))  # mapping items are (key, value)
    return children
