"""``--format github``: GitHub Actions workflow commands, shown as annotations on a pull request's diff.

The annotation is the lightweight alternative to SARIF upload: no permissions, no upload step, just
stdout of a job. Workflow commands are parsed line by line, so every newline, ``%`` and (in property
values) ``:`` and ``,`` must be escaped or the annotation is cut short or lands on the wrong line.
"""

from __future__ import annotations

from ..model import FileError, Finding, RunResult
from .context import OutputContext
from .sarif import detail_lines

#: Our severities as workflow commands.
COMMANDS: dict[str, str] = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message, as the Actions toolkit's ``escapeData`` does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value, as the Actions toolkit's ``escapeProperty`` does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {props}::{escape_data(message)}"


def format_finding(finding: Finding) -> str:
    """One annotation: the message, then the per-target summary on the next (escaped) line."""
    properties = {
        "file": finding.path,
        "line": finding.line,
        "col": finding.column,
        "endLine": finding.end_line,
        "endColumn": finding.end_column,
        "title": finding.rule_id,
    }
    message = "\n".join([finding.message, *detail_lines(finding)])
    return _command(COMMANDS.get(finding.severity, "warning"), properties, message)


def format_error(error: FileError) -> str:
    """A file that could not be read fails the run (error); one parsed around code the parser could not
    read is a partial parse (a notice)."""
    if error.partial:
        return _command("notice", {"file": error.path, "title": "partial parse"}, error.message)
    return _command("error", {"file": error.path}, error.message)


def _is_suppressed(finding: Finding) -> bool:
    """Suppressed findings are kept for SARIF (as dismissed alerts) but never annotated."""
    return bool(getattr(finding, "suppression", None) or getattr(finding, "suppressed", False))


def render_github(run: RunResult, ctx: OutputContext) -> str:
    lines = [format_error(e) for e in sorted(run.errors, key=lambda e: (e.path, e.message))]
    lines += [format_finding(f) for f in sorted(run.findings, key=lambda f: f.sort_key()) if not _is_suppressed(f)]
    return "".join(line + "\n" for line in lines)
