"""``--format json``: the machine contract of DESIGN.md, deterministic so runs can be diffed."""

from __future__ import annotations

import json
from typing import Any

from ..model import RunResult, finding_dict
from ..score.effort import summarize
from .context import OutputContext


def render_json(run: RunResult, ctx: OutputContext) -> str:
    targets = ctx.settings.targets
    by_rule: dict[str, int] = {}
    for finding in run.findings:
        by_rule[finding.rule_id] = by_rule.get(finding.rule_id, 0) + 1
    summary = summarize(run.findings, targets, run.lines_scanned, ctx.effort)
    document = {
        "version": ctx.version,
        "files_scanned": run.files_scanned,
        "errors": [{"path": e.path, "message": e.message} for e in run.failures],
        "findings": [finding_dict(f) for f in run.findings],
        "summary": {
            "findings": len(run.findings),
            "files_with_findings": len({f.path for f in run.findings}),
            "files_skipped_by_prefilter": run.files_skipped,
            "lines_scanned": run.lines_scanned,
            "partial_parses": [{"path": e.path, "message": e.message} for e in run.partial_parses],
            "by_rule": dict(sorted(by_rule.items())),
            "suppressed": {kind: sum(f.suppression == kind for f in run.suppressed)
                           for kind in ("inline", "file", "baseline")},
            "unused_suppressions": [{"path": u.path, "line": u.line, "codes": list(u.codes)}
                                    for u in run.unused_suppressions],
            "targets": {
                t: {"score": s.score, "effort_hours": s.effort_hours, "blockers": s.blockers}
                for t, s in summary.items()
            },
        },
    }
    return _dump(document)


def _dump(document: dict[str, Any]) -> str:
    """Indented at the top, one compact line per list item.

    ``json.dumps(indent=...)`` falls back to the pure-Python encoder, which took longer than the whole
    matcher on large trees; compact items use the C encoder and still diff line by line.
    """
    parts = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in value)
            parts.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        else:
            parts.append(f"  {json.dumps(key)}: " + json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  "))
    return "{\n" + ",\n".join(parts) + "\n}\n"
