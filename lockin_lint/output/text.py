"""``--format text``: one ``path:line:col: ID message`` line per finding, then what to write instead."""

from __future__ import annotations

from typing import Mapping

from ..model import Finding, RunResult, TargetInfo
from .concise import finding_line
from .context import OutputContext


def describe_target(info: TargetInfo, with_native_note: bool = False) -> str:
    """``status -> replacement (torch>=X)``: the one spelling of a target fact in every output."""
    if not info.replacement or (info.status == "native" and not with_native_note):
        return info.status
    since = f" (torch>={info.min_torch})" if info.min_torch else ""
    return f"{info.status} -> {info.replacement}{since}"


def target_line(targets: Mapping[str, TargetInfo]) -> str:
    return " | ".join(f"{name}: {describe_target(info)}" for name, info in targets.items())




def format_finding(finding: Finding) -> str:
    lines = [finding_line(finding)]
    lines.append("    " + target_line(finding.targets))
    if finding.portable is not None:
        since = f" (torch>={finding.portable.min_torch})" if finding.portable.min_torch else ""
        lines.append(f"    portable: {finding.portable.replacement}{since}")
    if finding.fix is not None:
        flag = "--fix" if finding.fix.applicability == "safe" else "--fix --unsafe-fixes"
        lines.append(f"    fix ({finding.fix.applicability}, {flag}): {finding.fix.message}")
    return "\n".join(lines)


def render_text(run: RunResult, ctx: OutputContext) -> str:
    return "".join(format_finding(f) + "\n" for f in run.findings)


def summary_line(run: RunResult) -> str:
    """The stderr summary, in the shape of Fixit's and Ruff's, and what the baseline and suppression
    comments hid (a clean run that hides 500 findings should say so)."""
    files = len({f.path for f in run.findings})
    parsed = run.files_scanned - run.files_skipped
    by_baseline = sum(1 for f in run.suppressed if f.suppression == "baseline")
    by_comments = len(run.suppressed) - by_baseline
    hidden = ""
    if run.suppressed:
        parts = [f"{by_baseline} by the baseline"] if by_baseline else []
        parts += [f"{by_comments} by suppression comments"] if by_comments else []
        hidden = f"; {len(run.suppressed)} hidden ({', '.join(parts)})"
    return (
        f"{run.files_scanned} files checked ({parsed} parsed, {run.files_skipped} skipped by prefilter), "
        f"{len(run.findings)} findings in {files} files, {len(run.failures)} errors"
        + (f", {len(run.partial_parses)} partial parses" if run.partial_parses else "") + hidden
    )


def render_statistics(run: RunResult, ctx: OutputContext) -> str:
    """``--statistics``: findings per rule, most frequent first (Ruff's ``--statistics``)."""
    counts: dict[str, int] = {}
    for finding in run.findings:
        counts[finding.rule_id] = counts.get(finding.rule_id, 0) + 1
    rules = ctx.rules or {}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{count:>6}  {rule_id:<7} {rules[rule_id].name if rule_id in rules else ''}\n"
                   for rule_id, count in rows)
