"""Entries of an environment-variable registry that no code of the run reads.

vLLM's ``vllm/envs.py`` declares every setting as an entry of one dict, read by the rest of the
project as an attribute of the module (``envs.VLLM_TARGET_DEVICE``, through the module's
``__getattr__``)::

    environment_variables: dict[str, Callable[[], Any]] = {
        ...
        "CUDA_HOME": lambda: os.environ.get("CUDA_HOME", None),
        ...
        "CUDA_VISIBLE_DEVICES": lambda: os.environ.get("CUDA_VISIBLE_DEVICES", None),

``CUDA_VISIBLE_DEVICES`` is read elsewhere (the custom all-reduce, ``cuda_device_count_stateless``) and
its finding is lock-in. Nothing reads ``envs.CUDA_HOME`` (``setup.py`` uses torch's own
``CUDA_HOME``): the getter runs only when every entry is cached or hashed, so the entry is declared
surface with no dependency behind it, and rocm ``rename`` or cpu ``missing`` there described no port
work (j15B, debatable, docs/validation.md, #11, sixth session). Such a finding is kept (the setting
is still declared and documented) at ``info`` severity, its targets handled, noted ``env registry
entry no code reads (envs.py:582)``, as `backend_modules` notes a CUDA backend module.

Narrow on purpose: the finding is of the environment family (``category: env``), its line is a
registry entry ``"NAME": lambda ...`` whose key is the finding's own variable, the registry's file
spells the key nowhere else, and no other Python file of the run that spells the registry module's
name (its stem, ``envs``) reads the key from it: as an attribute (``envs.CUDA_HOME``, any receiver),
in quotes (``getattr(envs, "CUDA_HOME")``), or imported (``from vllm.envs import CUDA_HOME``). Files
outside the run are not seen, as for `unused_imports` and `rocm_callers`: a run on the registry file
alone finds no reader.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..model import FileResult, Reader, reported_apart
from .pass_background import FILES_PER_TASK, Early, MapLater, early_answers, start_search
from .unused_imports import import_stem

_PYTHON = (".py", ".pyi", ".ipynb")
#: Python files handed to one pool task when the search starts early.
_CHUNK = FILES_PER_TASK
_ENV = "env"
#: A registry entry: ``"NAME": lambda`` at the start of its line.
_ENTRY = re.compile(rb"""^\s*(["'])([A-Za-z_][A-Za-z0-9_]*)\1\s*:\s*lambda\b""")
_NOTE = "env registry entry no code reads"
_STAR = re.compile(rb"import\s+\*")


def has_env_findings(results: list[FileResult]) -> bool:
    """Only a Python file with an environment finding can hold such an entry (the pass's test)."""
    return any(r.path.endswith(".py") and any(f.category == _ENV for f in r.findings) for r in results)


def mark_unread_entries(results: list[FileResult], files: dict[str, str], read: Reader,
                        early: Early | None = None) -> list[FileResult]:
    """``results`` with the findings of registry entries no other file reads handled, at ``info``
    (``early``: the search of the other files, started by `start_reading_keys`; used when it was for
    the same entries)."""
    entries = _registry_entries(results, files, read)
    if not entries:
        return results
    wanted = _wanted(entries)
    answers = early_answers(early, wanted)
    read_keys = set().union(*answers) if answers is not None else _keys_read_in(None, read, (wanted, list(files.items())))
    output = []
    for result in results:
        unread = {line: key for line, key in entries.get(result.path, {}).items() if (result.path, key) not in read_keys}
        output.append(_mark(result, unread) if unread else result)
    return output


def start_reading_keys(results: list[FileResult], files: dict[str, str], read: Reader,
                       map_later: MapLater) -> Early | None:
    """The search of the run's Python files for the registry's keys, started in the pool (``map_later``),
    and what it looks for; None when there is nothing to look for, or one pool task's worth of files."""
    wanted = _wanted(_registry_entries(results, files, read))
    return start_search(wanted, files, _PYTHON, _CHUNK, _keys_read_in, map_later)


def _registry_entries(results: list[FileResult], files: dict[str, str], read: Reader) -> dict[str, dict[int, str]]:
    """Registry file -> line -> key, of the entries that may be unread."""
    entries: dict[str, dict[int, str]] = {}
    for result in results:
        if has_env_findings([result]):
            found = _entries(result, files, read)
            if found:
                entries[result.path] = found
    return entries


def _entries(result: FileResult, files: dict[str, str], read: Reader) -> dict[int, str]:
    """Line -> key of the file's environment findings that sit on a registry entry of their own
    variable, whose key the file spells nowhere else."""
    data = read(files.get(result.path, result.path))
    if data is None:
        return {}
    lines = data.splitlines()
    found = {}
    for finding in result.findings:
        if finding.category != _ENV or not 0 < finding.line <= len(lines):
            continue
        entry = _ENTRY.match(lines[finding.line - 1])
        key = entry.group(2) if entry is not None else b""
        if key and key.decode() == finding.symbol and not any(
                i != finding.line - 1 and re.search(rb"\b" + key + rb"\b", line) for i, line in enumerate(lines)):
            found[finding.line] = key.decode()
    return found


def _wanted(entries: dict[str, dict[int, str]]) -> frozenset[tuple[str, str, str]]:
    """(registry file, the module name it is imported by, key) of every entry."""
    return frozenset((path, import_stem(path), key) for path, keys in entries.items() for key in keys.values())


def _keys_read_in(engine: Any, read: Reader, task: tuple[frozenset[tuple[str, str, str]], list[tuple[str, str]]]
                  ) -> set[tuple[str, str]]:
    """(registry file, key) pairs some other Python file of ``task``'s may read (a file of the run, in
    the pool or not: the answers of several such tasks add up to the answer for all their files)."""
    wanted, work = task
    found: set[tuple[str, str]] = set()
    for shown, path in work:
        if not shown.endswith(_PYTHON) or all((owner, key) in found for owner, _, key in wanted):
            continue
        data = read(path)
        for owner, stem, key in wanted:
            if owner != shown and (data is None or _reads(data, stem.encode(), key.encode())):
                found.add((owner, key))
    return found


def _reads(data: bytes, stem: bytes, key: bytes) -> bool:
    """May ``data`` read ``key`` from the module ``stem``? (Plain searches first: most files spell neither.)"""
    if stem not in data or (key not in data and not _STAR.search(data)) \
            or not re.search(rb"\b" + re.escape(stem) + rb"\b", data):
        return False
    imports = re.findall(rb"from\s+[\w.]*\b" + re.escape(stem) + rb"\s+import\s+(\([^)]*\)|[^\n]*)", data)
    if any(names.strip() == b"*" for names in imports):
        return True
    if key not in data:
        return False
    word = re.escape(key) + rb"\b"
    if re.search(rb"\." + word, data) or any(quote + key + quote in data for quote in (b'"', b"'")):
        return True
    return any(re.search(rb"(?<![\w.])" + word, names) for names in imports)


def _mark(result: FileResult, unread: dict[int, str]) -> FileResult:
    name = result.path.rsplit("/", 1)[-1]
    return replace(result, findings=tuple(reported_apart(f, f"{_NOTE} ({name}:{f.line})")
                                          if f.category == _ENV and unread.get(f.line) == f.symbol else f
                                          for f in result.findings))
