"""Findings as LSP diagnostics and hover Markdown.

Findings count columns in characters (code points), 1-based, end exclusive; LSP counts in the
encoding negotiated with the client (UTF-16 unless it offers another), 0-based. pygls's position
codec does that conversion from the document's own lines, so a finding after an ``é`` or an emoji
still underlines exactly its symbol.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from lsprotocol import types
from pygls.workspace import TextDocument

from ..model import Finding, Rule, TargetInfo, UnusedSuppression
from .workspace import Resolved

SOURCE = "lockin-lint"
UNUSED_SUPPRESSION = "unused-suppression"

#: Rule severities as LSP severities (SARIF's ``note`` is LSP's ``Information``).
SEVERITIES: dict[str, types.DiagnosticSeverity] = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
_MARKER = re.compile(r"(?:#|//)\s*lockin:\s*ignore(?:-file)?(?:\[[^\]]*\])?")


def rule_anchor(rule: Rule) -> str:
    """The heading anchor of ``## ID name`` in ``docs/rules.md`` (a test reads the page's headings)."""
    return f"{rule.id}-{rule.name}".lower()


def docs_href(rule_id: str, rules: Mapping[str, Rule], base: str) -> str:
    rule = rules.get(rule_id)
    return f"{base}#{rule_anchor(rule)}" if rule is not None else base


class Lines:
    """A document's lines, split once per check (``TextDocument.lines`` splits the text on every call,
    which cost more than the check itself for a file with hundreds of findings)."""

    def __init__(self, document: TextDocument) -> None:
        self.lines = document.lines
        self.codec = document.position_codec

    def position(self, line: int, character: int) -> types.Position:
        """A 0-based code-point position in the client's units (the same number on an ASCII line)."""
        if line < len(self.lines) and self.lines[line].isascii():
            return types.Position(line, character)
        return self.codec.position_to_client_units(self.lines, types.Position(line, character))


def finding_range(finding: Finding, lines: Lines) -> types.Range:
    """The finding's span in the client's position encoding."""
    return types.Range(lines.position(finding.line - 1, finding.column - 1),
                       lines.position(finding.end_line - 1, finding.end_column - 1))


def to_diagnostic(finding: Finding, lines: Lines, rules: Mapping[str, Rule], docs_url: str) -> types.Diagnostic:
    where = f" (cell {finding.cell}, line {finding.cell_line})" if finding.cell is not None else ""
    return types.Diagnostic(
        range=finding_range(finding, lines),
        message=finding.message + where,
        severity=SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.rule_id,
        code_description=types.CodeDescription(href=docs_href(finding.rule_id, rules, docs_url)),
        source=SOURCE,
        data={"fingerprint": finding.fingerprint, "symbol": finding.symbol},
    )


def unused_diagnostic(unused: UnusedSuppression, lines: Lines) -> types.Diagnostic:
    """A stale ``lockin: ignore`` greyed out (Ruff's RUF100 shows the same way)."""
    index = unused.line - 1
    text = lines.lines[index] if index < len(lines.lines) else ""
    marker = _MARKER.search(text)
    start, end = (marker.start(), marker.end()) if marker else (0, len(text.rstrip("\r\n")))
    codes = "" if unused.codes == ("*",) else f"[{','.join(unused.codes)}]"
    return types.Diagnostic(
        range=types.Range(lines.position(index, start), lines.position(index, end)),
        message=f"unused suppression `lockin: ignore{codes}`: it hides no finding",
        severity=types.DiagnosticSeverity.Hint,
        code=UNUSED_SUPPRESSION,
        source=SOURCE,
        tags=[types.DiagnosticTag.Unnecessary],
    )


def _cell(text: str | None) -> str:
    return f"`{text}`".replace("|", "\\|") if text else ""


def _status_row(target: str, info: TargetInfo) -> str:
    since = f" (torch>={info.min_torch})" if info.min_torch else ""
    replacement = _cell(info.replacement) + since if info.replacement else ""
    return f"| {target} | {info.status} | {replacement} |"


def hover_markdown(findings: Sequence[Finding], rules: Mapping[str, Rule], resolved: Resolved, docs_url: str) -> str:
    """The message, the per-target table and the portable rewrite of each finding under the cursor,
    with the settings they were computed for (targets and torch version, as the CLI would use them)."""
    parts = []
    for finding in findings:
        lines = [f"**{finding.rule_id}** {finding.message}", "",
                 "| target | status | replacement |", "|---|---|---|"]
        lines.extend(_status_row(target, info) for target, info in finding.targets.items())
        if finding.portable is not None:
            since = f" (torch>={finding.portable.min_torch})" if finding.portable.min_torch else ""
            lines += ["", f"**Portable:** `{finding.portable.replacement}`{since}"]
        for needed in finding.depends_on:
            lines += ["", f"Needs {needed.message} (`{needed.path}:{needed.line}`)"]
        lines += ["", f"[{finding.rule_id} documentation]({docs_href(finding.rule_id, rules, docs_url)})"]
        parts.append("\n".join(lines))
    settings = resolved.settings
    config = resolved.config.path.name if resolved.config.path is not None else "defaults"
    footer = (f"_targets: {', '.join(settings.targets)} · torch-version: {settings.torch_version or 'any'} · "
              f"configuration: {config}_")
    return "\n\n---\n\n".join(parts) + "\n\n" + footer
