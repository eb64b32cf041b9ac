"""``--format json``: the machine contract of DESIGN.md, deterministic so runs can be diffed."""

from __future__ import annotations

import json
from typing import Any

from ..model import Finding, RunResult, finding_parts, targets_dict
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
        "findings": run.findings,  # encoded by `finding_lines`
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
    return _dump(document, {"findings": finding_lines(run.findings)})


def finding_lines(findings: list[Finding]) -> list[str]:
    """``json.dumps(finding_dict(f), ensure_ascii=False)`` of each finding, character for character.

    Half of that encoding was the findings' tables of targets, of which a run has few distinct ones
    (287 for vLLM's 7,482 findings): each is encoded once, per distinct set of `TargetInfo` objects
    (alive as long as the findings, so their ``id``s are not reused meanwhile), and put between the
    keys before it and those after it (`model.finding_parts`), as the encoder itself joins a dict's
    items: ``", "`` between them, ``": "`` after a key.
    """
    encode = _ENCODER.encode
    tables: dict[tuple[tuple[str, ...], tuple[int, ...]], str] = {}
    lines = []
    for finding in findings:
        key = (tuple(finding.targets), tuple(map(id, finding.targets.values())))
        table = tables.get(key)
        if table is None:
            table = tables[key] = encode(targets_dict(finding))
        head, tail = finding_parts(finding)
        lines.append(f"{encode(head)[:-1]}, \"targets\": {table}{', ' + encode(tail)[1:] if tail else '}'}")
    return lines


#: What ``json.dumps(value, ensure_ascii=False)`` builds on each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _dump(document: dict[str, Any], encoded: dict[str, list[str]] | None = None) -> str:
    """Indented at the top, one compact line per list item (``encoded``: a list's items already encoded).

    ``json.dumps(indent=...)`` falls back to the pure-Python encoder, which took longer than the whole
    matcher on large trees; compact items use the C encoder and still diff line by line.
    """
    parts = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            lines = encoded[key] if encoded and key in encoded else [json.dumps(item, ensure_ascii=False)
                                                                     for item in value]
            items = ",\n".join("    " + line for line in lines)
            parts.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        else:
            parts.append(f"  {json.dumps(key)}: " + json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  "))
    return "{\n" + ",\n".join(parts) + "\n}\n"
