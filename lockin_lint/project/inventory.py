"""Several repositories' reports merged into one inventory (``lockin-lint report --merge``).

An organisation runs one ``report --format json`` job per repository on the CI system it already has
(a matrix), then merges the results; no cluster of our own. Merging rebuilds a run from each report's
findings (paths prefixed with the repository's name) and builds the report again, so the inventory
is priced by exactly the same model as each repository, in every report format.

What a report does not carry is not merged: the line counts of files without findings (directory
line totals count the files with findings only), and which paths were git submodules (the config's
``vendored`` globs still apply to the prefixed paths).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

from ..model import FileError, Finding, RunResult
from .result_codec import CodecError, decode


class InventoryError(Exception):
    """A file given to ``--merge`` is not a ``report --format json`` document; names the file."""


_FIELDS = {f.name: f for f in dataclasses.fields(Finding)}
_HINTS = typing.get_type_hints(Finding)


def finding_from_dict(data: dict[str, Any], prefix: str) -> Finding:
    """A finding from its JSON shape (`model.finding_dict`); keys this version does not know are left
    out, so reports written by a newer lockin-lint still merge."""
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in _FIELDS:
            continue
        try:
            values[key] = decode(_HINTS[key], raw)
        except CodecError:
            continue
    values["path"] = prefix + str(values.get("path", ""))
    if "depends_on" in values:
        values["depends_on"] = tuple(dataclasses.replace(d, path=prefix + d.path) for d in values["depends_on"])
    try:
        return Finding(**values)
    except TypeError as exc:
        raise CodecError(f"finding without {exc}") from None


def load_report(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise InventoryError(f"{path}: not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list) \
            or "files_scanned" not in document:
        raise InventoryError(f"{path}: not a `lockin-lint report --format json` document")
    return document


def merged_run(named: list[tuple[str, dict[str, Any]]], source: dict[str, Path]) -> RunResult:
    """One run holding every repository's findings under ``NAME/``."""
    run = RunResult()
    for name, document in named:
        prefix = f"{name}/"
        try:
            run.files_scanned += int(document.get("files_scanned", 0))
            run.lines_scanned += int(document.get("lines_scanned", 0))
            run.findings.extend(finding_from_dict(f, prefix) for f in document["findings"])
            for row in document.get("files", []) or []:
                if isinstance(row, dict) and isinstance(row.get("path"), str):
                    run.file_lines[prefix + row["path"]] = int(row.get("lines", 0))
            run.errors.extend(FileError(prefix + str(e.get("path", "")), str(e.get("message", "")))
                              for e in document.get("errors", []) or [] if isinstance(e, dict))
        except (CodecError, TypeError, ValueError, AttributeError) as exc:
            raise InventoryError(f"{source[name]}: unreadable report: {exc}") from None
    run.findings.sort(key=lambda f: f.sort_key())
    run.errors.sort(key=lambda e: (e.path, e.message))
    return run


def read_inventory(specs: list[str]) -> RunResult:
    """``NAME=PATH`` or ``PATH`` (named after the file, ``vllm.json`` -> ``vllm``) for each report."""
    named: list[tuple[str, dict[str, Any]]] = []
    source: dict[str, Path] = {}
    for spec in specs:
        name, _, raw = spec.rpartition("=") if "=" in spec else ("", "", spec)
        path = Path(raw)
        name = name or path.stem
        if name in source:
            raise InventoryError(f"{spec}: two reports named {name!r} (name them NAME=PATH)")
        source[name] = path
        named.append((name, load_report(path)))
    return merged_run(named, source)
