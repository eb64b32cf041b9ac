"""Fixing files: group a run's findings by file, rewrite each file once, check the result parses, then
either show a unified diff or write it atomically (temporary file in the same directory, then
``os.replace``, permissions kept), so an interrupted run never leaves half a file behind.

Only files with at least one wanted fix are read again and parsed by libcst.
"""

from __future__ import annotations

import difflib
import re
import os
import stat
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping

import libcst as cst

from ..model import FileError, Finding, Replacement, Rule
from .codemod import FixError, Planned, Span, fix_module
from .notebook import NotebookFixError, fix_notebook, hide_magics, restore_magics
from .plan import PLUGIN_IMPORTS, FixOptions, choose, wanted
from .table import Entry


@dataclass
class FileFix:
    """One file's outcome: its text before and after, and the findings the rewrite removed."""

    path: str
    before: str
    after: str
    fixed: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class FixRun:
    files: list[FileFix] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return sum(len(f.fixed) for f in self.files if f.changed)


def _span(finding: Finding) -> Span:
    return (finding.line, finding.column - 1, finding.end_line, finding.end_column - 1)


def planned_fixes(findings: Iterable[Finding], rules: Mapping[str, Rule],
                  options: FixOptions) -> dict[str, list[tuple[Finding, Entry]]]:
    """Per file, the findings that get a rewrite under these options."""
    by_file: dict[str, list[tuple[Finding, Entry]]] = {}
    for finding in findings:
        entry = choose(finding, rules.get(finding.rule_id), options)
        if entry is not None and wanted(entry, options):
            by_file.setdefault(finding.path, []).append((finding, entry))
    return by_file


#: Checks Python source on its own (a notebook cell): the findings a cell's fixes are planned from.
Recheck = Callable[[str], list[Finding]]


def fix_text(path: str, text: str, fixes: list[tuple[Finding, Entry]], options: FixOptions,
             rules: Mapping[str, Rule], recheck: Recheck | None = None) -> FileFix:
    """The fixed text of one file; raises FixError. A notebook's code cells are checked again one by
    one (``recheck``) and fixed on their own; a cell libcst cannot parse (a magic) is left as it is."""
    plugin = PLUGIN_IMPORTS.get(options.target or "")
    if not path.endswith(".ipynb"):
        plan = Planned({_span(f): e for f, e in fixes}, plugin)
        after = fix_module(text, plan)
        _reparse(after)
        return FileFix(path, text, after, [f for f, _ in fixes if _span(f) in plan.applied])
    if recheck is None:
        raise FixError("notebooks are fixed only through the command line")
    applied: set[tuple[int, int, str]] = set()
    shared = Planned({}, plugin, taken=frozenset(re.findall(r"[A-Za-z_]\w*", text)))
    imports: list[str] = []

    def fix_cell(number: int, source: str) -> str:
        parsable = hide_magics(source)
        if parsable is None:
            return source
        code, magics = parsable
        # Cells share one namespace: names imported by earlier cells resolve here too.
        prelude = "".join(imports)
        shift = prelude.count("\n")
        found = [replace(f, line=f.line - shift, end_line=f.end_line - shift)
                 for f in recheck(prelude + code) if f.line > shift]
        imports.extend(line + "\n" for line in _IMPORT_LINE.findall(code))
        cell_fixes = [pair for pairs in planned_fixes(found, rules, options).values() for pair in pairs]
        plan = Planned({_span(f): e for f, e in cell_fixes}, plugin, torch=shared.torch, device=shared.device,
                       taken=shared.taken)
        if not plan.fixes:
            shared.torch = shared.torch or _torch_alias(code)
            return source
        try:
            fixed = fix_module(code, plan)
            _reparse(fixed)
        except FixError:
            return source
        shared.torch, shared.device = plan.torch, plan.device
        applied.update((number, f.line, f.rule_id) for f, _ in cell_fixes if _span(f) in plan.applied)
        return restore_magics(fixed, magics)

    try:
        after = fix_notebook(text, fix_cell)
    except NotebookFixError as exc:
        raise FixError(str(exc)) from None
    return FileFix(path, text, after, [f for f, _ in fixes if (f.cell, f.cell_line, f.rule_id) in applied])


_IMPORT_LINE = re.compile(r"^((?:import|from)\s[^\n()\\\\]*)$", re.M)


def _torch_alias(code: str) -> str | None:
    """The name a cell imports torch as (later cells use it), by a plain look at its import lines."""
    found = re.search(r"^import torch(?: as (\w+))?\s*$", code, re.M)
    return (found.group(1) or "torch") if found else None


def _reparse(text: str) -> None:
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise FixError(f"the fixed code would not parse (line {exc.raw_line}: {exc.message}); nothing written") \
            from None


def fix_files(findings: Iterable[Finding], rules: Mapping[str, Rule], options: FixOptions,
              root: Path, recheck: Recheck | None = None) -> FixRun:
    """Compute every file's fix (nothing is written here); ``root`` resolves display paths."""
    run = FixRun()
    for path, fixes in sorted(planned_fixes(findings, rules, options).items()):
        try:
            data = (root / path).read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            run.errors.append(FileError(path, f"not fixed: {getattr(exc, 'strerror', None) or exc}"))
            continue
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        try:
            fix = fix_text(path, text[len(bom):], fixes, options, rules, recheck)
            run.files.append(FileFix(path, text, bom + fix.after, fix.fixed))
        except (FixError, RecursionError) as exc:
            run.errors.append(FileError(path, f"not fixed: {exc}"))
        except Exception as exc:  # noqa: BLE001 - one file's unforeseen case must not stop the run
            run.errors.append(FileError(path, f"not fixed: internal error ({type(exc).__name__}: {exc}); "
                                              "please report it"))
    return run


def unified_diff(fix: FileFix) -> str:
    return "".join(difflib.unified_diff(fix.before.splitlines(keepends=True), fix.after.splitlines(keepends=True),
                                        f"a/{fix.path}", f"b/{fix.path}"))


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` in one step, keeping its permission bits."""
    mode = stat.S_IMODE(path.stat().st_mode)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".lockin-fix")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def with_edits(findings: list[Finding], run: FixRun) -> list[Finding]:
    """Findings whose fix was computed get its edits (SARIF ``fixes``): each changed hunk of a file goes
    to the fixed finding on its lines, a hunk on no finding's line (an import, the device variable) to
    the file's first fixed finding, so applying all of a file's fixes gives exactly the fixed file."""
    owners: dict[tuple[str, int, int, str], list[Replacement]] = {}
    for fix in run.files:
        if not fix.changed or not fix.fixed or fix.path.endswith(".ipynb"):
            continue
        keys = [(f.path, f.line, f.column, f.rule_id) for f in fix.fixed]
        for hunk_first, hunk_last, replacement in _hunks(fix):
            owner = next((k for k in keys if hunk_first <= k[1] <= hunk_last), keys[0])
            owners.setdefault(owner, []).append(replacement)
    result = []
    for finding in findings:
        edits = owners.get((finding.path, finding.line, finding.column, finding.rule_id))
        if edits and finding.fix is not None:
            finding = replace(finding, fix=replace(finding.fix, replacements=tuple(edits)))
        result.append(finding)
    return result


def _hunks(fix: FileFix) -> list[tuple[int, int, Replacement]]:
    before = fix.before.splitlines(keepends=True)
    after = fix.after.splitlines(keepends=True)
    hunks = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        text = "".join(after[j1:j2])
        hunks.append((i1 + 1, max(i2, i1 + 1), Replacement(i1 + 1, 1, i2 + 1, 1, text)))
    return hunks
