"""Code actions: the rewrites of ``check --fix``, and suppressing a finding on its line or in its file.

Fixes come from the fix stage itself (`fix.apply.fix_text` on the buffer), so the editor applies
exactly what ``check --fix`` would write; safe ones are preferred, unsafe ones say so.

Suppressions are written in the project's own syntax (`analyzers.suppress` reads them back):
``# lockin: ignore[ID]`` in Python and every shell-like file (manifests, CMake, Makefiles,
Dockerfiles, YAML), ``// lockin: ignore[ID]`` in C, C++ and CUDA, ``lockin: ignore-file`` for a whole
file. A notebook is JSON on disk, where a comment cannot go, so it gets no suppression actions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from lsprotocol import types
from pygls.workspace import TextDocument

from ..analyzers import language_of
from ..fix.apply import FixRun, Recheck, fix_text, planned_fixes, with_edits
from ..fix.codemod import FixError
from ..fix.plan import FixOptions
from ..fix.table import Entry
from ..model import Finding, Rule
from .convert import Lines

SUPPRESS_KIND = types.CodeActionKind.QuickFix
FIX_ALL_KIND = "source.fixAll.lockin-lint"
_LINE_MARKER = re.compile(r"((?:#|//)\s*lockin:\s*ignore)(\[([^\]]*)\])?(?!-file)")
_FILE_MARKER = re.compile(r"(?:#|//)\s*lockin:\s*ignore-file")
#: First lines that must stay first: a shebang, a Python encoding declaration, Dockerfile parser directives.
_KEEP_FIRST = re.compile(r"^(#!|#.*coding[:=]|#\s*(syntax|escape|check)\s*=)")


def comment_prefix(name: str) -> str | None:
    """How a comment starts in this kind of file, or None where comments cannot be written."""
    language = language_of(name)
    if language == "notebook":
        return None
    return "//" if language == "cuda" else "#"


def _position(document: TextDocument, line: int, character: int) -> types.Position:
    """A code-point position in the client's encoding."""
    return document.position_codec.position_to_client_units(document.lines, types.Position(line, character))


def _edit(uri: str, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(changes={uri: edits})


def suppress_line_edit(document: TextDocument, finding: Finding, prefix: str) -> types.TextEdit:
    """Add the rule to the line's ``lockin: ignore[...]``, or write one.

    A trailing comment covers only its own line; on a line continued with a backslash (where a
    trailing comment would break the code) a comment alone on the line above is written instead.
    """
    index = finding.line - 1
    text = document.lines[index].rstrip("\r\n") if index < len(document.lines) else ""
    marker = _LINE_MARKER.search(text)
    if marker is not None and marker.group(2) is not None:
        codes = [c.strip() for c in marker.group(3).split(",") if c.strip()]
        replacement = f"{marker.group(1)}[{','.join([*codes, finding.rule_id])}]"
        span = types.Range(_position(document, index, marker.start()), _position(document, index, marker.end()))
        return types.TextEdit(span, replacement)
    comment = f"{prefix} lockin: ignore[{finding.rule_id}]"
    if text.rstrip().endswith("\\"):
        indent = text[: len(text) - len(text.lstrip())]
        start = _position(document, index, 0)
        return types.TextEdit(types.Range(start, start), f"{indent}{comment}\n")
    end = _position(document, index, len(text))
    return types.TextEdit(types.Range(end, end), f"  {comment}")


def suppress_file_edit(document: TextDocument, prefix: str) -> types.TextEdit | None:
    """``lockin: ignore-file`` at the top, below a shebang or encoding line; None if already there."""
    if any(_FILE_MARKER.search(line) for line in document.lines):
        return None
    line = 0
    while line < len(document.lines) and line < 2 and _KEEP_FIRST.match(document.lines[line]):
        line += 1
    start = types.Position(line, 0)
    return types.TextEdit(types.Range(start, start), f"{prefix} lockin: ignore-file\n")


def suppression_actions(uri: str, name: str, document: TextDocument, findings: Sequence[Finding],
                        diagnostics: Sequence[types.Diagnostic]) -> list[types.CodeAction]:
    """One "suppress on this line" per finding, and one "suppress in this file" for all of them."""
    prefix = comment_prefix(name)
    if prefix is None or not findings:
        return []
    actions = []
    for finding, diagnostic in zip(findings, diagnostics):
        actions.append(types.CodeAction(
            title=f"Suppress {finding.rule_id} on this line (lockin: ignore[{finding.rule_id}])",
            kind=SUPPRESS_KIND,
            diagnostics=[diagnostic],
            edit=_edit(uri, [suppress_line_edit(document, finding, prefix)]),
        ))
    whole = suppress_file_edit(document, prefix)
    if whole is not None:
        actions.append(types.CodeAction(
            title="Suppress lockin-lint in this file (lockin: ignore-file)",
            kind=SUPPRESS_KIND,
            diagnostics=list(diagnostics),
            edit=_edit(uri, [whole]),
        ))
    return actions


@dataclass(frozen=True)
class FixContext:
    """What the fix stage needs besides the buffer: its display path, the rules, the configured torch
    version, and how to check a notebook cell on its own (as ``check --fix`` does)."""

    shown: str
    rules: Mapping[str, Rule]
    options: FixOptions
    recheck: Recheck


def _fix_edits(document: TextDocument, fixes: list[tuple[Finding, Entry]], options: FixOptions,
               ctx: FixContext) -> list[types.TextEdit]:
    """The edits that turn the buffer into ``check --fix``'s result for these fixes (none if it fails).

    Each changed hunk is one edit; a notebook (whose cells are rewritten inside JSON) is replaced whole.
    """
    try:
        fixed = fix_text(ctx.shown, document.source, fixes, options, ctx.rules, ctx.recheck)
    except (FixError, RecursionError):
        return []
    if not fixed.changed:
        return []
    lines = Lines(document)
    replacements = [r for f in with_edits(fixed.fixed, FixRun([fixed])) if f.fix is not None
                    for r in f.fix.replacements]
    if not replacements:
        end = types.Position(len(lines.lines), 0)
        return [types.TextEdit(types.Range(types.Position(0, 0), end), fixed.after)]
    return [types.TextEdit(types.Range(lines.position(r.line - 1, r.column - 1),
                                       lines.position(r.end_line - 1, r.end_column - 1)), r.text)
            for r in replacements]


def fix_actions(uri: str, document: TextDocument, findings: Sequence[Finding],
                diagnostics: Sequence[types.Diagnostic], ctx: FixContext) -> list[types.CodeAction]:
    """The ``quickfix`` rewrite of ``--fix`` for each fixable finding: safe ones first and preferred,
    unsafe ones (``--unsafe-fixes``) marked in the title and never preferred."""
    actions = []
    every = replace(ctx.options, unsafe=True)
    for finding, diagnostic in zip(findings, diagnostics):
        if finding.fix is None:
            continue
        fixes = planned_fixes([finding], ctx.rules, every).get(finding.path, [])
        edits = _fix_edits(document, fixes, every, ctx) if fixes else []
        if not edits:
            continue
        safe = finding.fix.applicability == "safe"
        actions.append(types.CodeAction(
            title=f"Fix {finding.rule_id}: {finding.fix.message}" + ("" if safe else " (unsafe)"),
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=_edit(uri, edits),
            is_preferred=safe,
        ))
    return sorted(actions, key=lambda a: not a.is_preferred)


def fix_all_action(uri: str, document: TextDocument, findings: Sequence[Finding],
                   ctx: FixContext) -> types.CodeAction | None:
    """``source.fixAll.lockin-lint``: every safe fix of the file in one edit (None: nothing to fix)."""
    fixes = [pair for pairs in planned_fixes(findings, ctx.rules, ctx.options).values() for pair in pairs]
    edits = _fix_edits(document, fixes, ctx.options, ctx) if fixes else []
    if not edits:
        return None
    return types.CodeAction(title=f"Fix all safe lock-in fixes in this file ({len(fixes)})", kind=FIX_ALL_KIND,
                            edit=_edit(uri, edits))
