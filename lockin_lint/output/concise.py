"""``--format concise``: one ``path:line:col: ID message`` line per finding, nothing else.

What Ruff's ``concise`` is: a list an editor's problem matcher, ``grep`` or a quick look at a big
repository can take in, without the per-target detail that ``--format text`` adds under each finding.
"""

from __future__ import annotations

from ..model import Finding, RunResult
from .context import OutputContext


#: Control characters as escapes (``\\n``, ``\\x1b``): a file name may hold any of them, and one
#: finding must stay one line (and must not drive the terminal).
_CONTROL = {code: repr(chr(code))[1:-1] for code in (*range(32), 127)}


def one_line(path: str) -> str:
    """A path as text output shows it: control characters escaped."""
    return path.translate(_CONTROL)


def finding_line(finding: Finding) -> str:
    """The first line of every text finding: ``path:line:col: ID message`` (and a notebook's cell)."""
    where = f" (cell {finding.cell}, line {finding.cell_line})" if finding.cell is not None else ""
    return f"{one_line(finding.path)}:{finding.line}:{finding.column}: {finding.rule_id} {finding.message}{where}"


def render_concise(run: RunResult, ctx: OutputContext) -> str:
    return "".join(finding_line(f) + "\n" for f in run.findings)
