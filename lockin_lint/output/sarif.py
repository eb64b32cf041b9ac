"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning, IDEs and other SARIF viewers.

GitHub reads a rule's ``shortDescription``, ``fullDescription``, ``help`` and ``properties``
(``tags``, ``precision``, ``problem.severity``) to show an alert, and tracks an alert across
commits by ``partialFingerprints``; our fingerprints are already line-independent, so alerts
survive code moving up or down. Only the rules a result uses are described, which keeps the file
small even though the knowledge base has hundreds of rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from ..kb.titles import help_uri, rule_title
from ..model import FileError, Finding, Rule, RunResult, targets_dict
from .context import OutputContext
from .text import target_line

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "lockin-lint"
INFORMATION_URI = "https://github.com/lockin-lint/lockin-lint"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "lockinFingerprint/v1"
#: Stands in for the results while the rest of the document is indented (see ``_dump``).
_RESULTS_MARK = "\x00results\x00"
_RESULT_INDENT = " " * 8

#: Our severities as SARIF levels (``result.level``, ``defaultConfiguration.level``).
LEVELS: dict[str, str] = {"error": "error", "warning": "warning", "info": "note"}
#: Our severities as GitHub's ``problem.severity`` property.
PROBLEM_SEVERITIES: dict[str, str] = {"error": "error", "warning": "warning", "info": "recommendation"}
#: Catch-all rules match spellings, not known names, so GitHub should rank them lower.
CATCH_ALL_RULES = frozenset({"LC9000"})
#: Suppression reasons that live outside the source (SARIF ``kind: external``); the rest are comments.
EXTERNAL_SUPPRESSIONS = frozenset({"baseline"})
#: What a suppression reason means, for SARIF's ``justification`` (unknown reasons are shown as they are).
JUSTIFICATIONS: dict[str, str] = {
    "inline": "a `lockin: ignore` comment on or above the line",
    "file": "a file-wide `lockin: ignore` comment",
    "baseline": "listed in the baseline file",
}


def target_notes(finding: Finding) -> str:
    """One line with every shown target's status, and what to write instead where it is not native."""
    return target_line(finding.targets)


def detail_lines(finding: Finding) -> list[str]:
    """What follows the message in annotations: the target summary and the portable rewrite."""
    lines = [target_notes(finding)] if finding.targets else []
    if finding.portable is not None:
        since = f" (torch>={finding.portable.min_torch})" if finding.portable.min_torch else ""
        lines.append(f"portable: {finding.portable.replacement}{since}")
    return lines


def render_sarif(run: RunResult, ctx: OutputContext) -> str:
    """The registry entry point: rules come from the context, or from the bundled rule set."""
    rules = getattr(ctx, "rules", None)
    if rules is None:
        from ..kb.ruleset import load_rules

        rules = load_rules()
    return render_sarif_with_rules(run, ctx, rules, root=ctx.root)


def render_sarif_with_rules(run: RunResult, ctx: OutputContext, rules: Mapping[str, Rule] | Any,
                            root: Path | None = None) -> str:
    """SARIF for ``run``; ``rules`` describe the results, ``root`` (default: cwd) anchors relative paths.

    ``rules`` may be a mapping by id, a ``RuleSet`` or any iterable of rules, so the caller can pass
    whatever it already holds.
    """
    by_id = _rules_by_id(rules)
    hidden = list(getattr(run, "suppressed", None) or ())
    findings = sorted([*run.findings, *hidden], key=lambda f: f.sort_key())
    descriptors, index = _descriptors(findings, by_id, getattr(ctx, "docs_url", None))
    sarif_run: dict[str, Any] = {
        "tool": {"driver": {
            "name": TOOL_NAME,
            "version": ctx.version,
            "informationUri": INFORMATION_URI,
            "rules": descriptors,
        }},
        "invocations": [_invocation(run.errors)],
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(root or Path.cwd())}},
        "columnKind": "unicodeCodePoints",
        "results": _RESULTS_MARK,
    }
    document = {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [sarif_run]}
    return _dump(document, [_result(f, index[f.rule_id]) for f in findings])


def _dump(document: dict[str, Any], results: list[dict[str, Any]]) -> str:
    """Indented JSON with one compact line per result.

    ``json.dumps(indent=...)`` runs the pure-Python encoder: 2,000 fully indented results took 0.4 s,
    more than a scan of the demo project. Compact results use the C encoder and still diff line by line.
    """
    skeleton = json.dumps(document, indent=2, ensure_ascii=False)
    lines = ",\n".join(_RESULT_INDENT + json.dumps(r, ensure_ascii=False) for r in results)
    listing = f"[\n{lines}\n{_RESULT_INDENT[:-2]}]" if results else "[]"
    return skeleton.replace(json.dumps(_RESULTS_MARK), listing, 1) + "\n"


def _rules_by_id(rules: Mapping[str, Rule] | Any) -> Mapping[str, Rule]:
    if isinstance(rules, Mapping):  # not copied: a lazy lookup loads the C/C++ rules only if a result needs them
        return rules
    if hasattr(rules, "rules"):  # a RuleSet
        rules = rules.rules
    return {rule.id: rule for rule in rules}


def _descriptors(findings: Iterable[Finding], rules: Mapping[str, Rule],
                 docs_url: str | None = None) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Descriptors of the rules used, in id order, and each id's ``ruleIndex``."""
    used: dict[str, Finding] = {}
    for finding in findings:
        used.setdefault(finding.rule_id, finding)
    ids = sorted(used)
    descriptors = [rule_descriptor(rules[i], docs_url) if i in rules else _fallback_descriptor(used[i]) for i in ids]
    return descriptors, {rule_id: position for position, rule_id in enumerate(ids)}


def rule_descriptor(rule: Rule, docs_url: str | None = None) -> dict[str, Any]:
    """A ``reportingDescriptor`` in the shape GitHub code scanning displays: the title of every alert
    (``shortDescription``, a real title, never a template), the docs, and a link to the rule's section
    of ``docs/rules.md`` (``helpUri``, under ``docs_url`` when the docs live elsewhere)."""
    sections = doc_sections(rule.docs)
    short = rule_title(rule)
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": sections.get("What it does") or _plain(rule.docs) or short},
        "help": {"text": _plain(rule.docs) or short, "markdown": rule.docs.strip() or short},
        "helpUri": help_uri(rule, docs_url),
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": {
            "tags": [rule.category, *rule.languages, "cuda-lock-in"],
            "precision": rule_precision(rule),
            "problem.severity": PROBLEM_SEVERITIES.get(rule.severity, "warning"),
        },
    }


def _fallback_descriptor(finding: Finding) -> dict[str, Any]:
    """For a result whose rule was not handed over (an extra rule file): still a valid descriptor."""
    return {
        "id": finding.rule_id,
        "shortDescription": {"text": finding.message},
        "defaultConfiguration": {"level": LEVELS.get(finding.severity, "warning")},
        "properties": {
            "tags": [finding.category, "cuda-lock-in"],
            "problem.severity": PROBLEM_SEVERITIES.get(finding.severity, "warning"),
        },
    }


def rule_precision(rule: Rule) -> str:
    """``high`` for rules listing exact names; ``medium`` for rules matching by pattern or prefix."""
    if rule.id in CATCH_ALL_RULES or rule.match.patterns or rule.match.prefixes:
        return "medium"
    return "high"


def doc_sections(docs: str) -> dict[str, str]:
    """``## Heading`` -> its text, paragraphs kept, lines within a paragraph joined."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in docs.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return {heading: _paragraphs(lines) for heading, lines in sections.items()}


def _paragraphs(lines: list[str]) -> str:
    paragraphs = " ".join(line.strip() if line.strip() else "\n\n" for line in lines)
    return "\n\n".join(p.strip() for p in paragraphs.split("\n\n") if p.strip())


def _plain(docs: str) -> str:
    """The docs as plain text: Markdown headings become plain lines, the rest reads fine as is."""
    return "\n".join(line[3:] if line.startswith("## ") else line for line in docs.strip().splitlines())


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": "\n".join([_linked_message(finding), *detail_lines(finding)])},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact_location(finding.path),
            "region": {
                "startLine": finding.line,
                "startColumn": finding.column,
                "endLine": finding.end_line,
                "endColumn": finding.end_column,
            },
        }}],
    }
    if finding.depends_on:
        result["relatedLocations"] = [{
            "id": number,
            "physicalLocation": {"artifactLocation": artifact_location(place.path),
                                 "region": {"startLine": place.line, "startColumn": place.column}},
            "message": {"text": place.message},
        } for number, place in enumerate(finding.depends_on, 1)]
    if finding.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    suppressions = _suppressions(finding)
    if suppressions:
        result["suppressions"] = suppressions
    if finding.fix is not None and finding.fix.replacements:
        result["fixes"] = [_fix(finding)]
    result["properties"] = _result_properties(finding)
    return result


def _fix(finding: Finding) -> dict[str, Any]:
    """SARIF 2.1.0 §3.55: the edits of ``check --fix`` for this finding, which viewers can apply."""
    assert finding.fix is not None
    return {
        "description": {"text": f"{finding.fix.applicability} fix: {finding.fix.message}"},
        "artifactChanges": [{
            "artifactLocation": artifact_location(finding.path),
            "replacements": [{
                "deletedRegion": {"startLine": r.line, "startColumn": r.column,
                                  "endLine": r.end_line, "endColumn": r.end_column},
                "insertedContent": {"text": r.text},
            } for r in finding.fix.replacements],
        }],
    }


def _linked_message(finding: Finding) -> str:
    """The message, with each place it depends on as an embedded link to its related location
    (``[kernel `k`](1)``; SARIF 2.1.0 §3.11.6), which GitHub renders as a link to the kernel. Literal
    brackets are escaped, as the spec requires once a message has links."""
    if not finding.depends_on:
        return finding.message
    text = finding.message.replace("[", "\\[").replace("]", "\\]")
    for number, place in enumerate(finding.depends_on, 1):
        plain = place.message.replace("[", "\\[").replace("]", "\\]")
        text = text.replace(f"{plain} ({place.path}:{place.line})", f"[{plain}]({number}) ({place.path}:{place.line})", 1)
    return text


def _result_properties(finding: Finding) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "symbol": finding.symbol,
        "category": finding.category,
        "targets": targets_dict(finding),
    }
    if finding.portable is not None:
        properties["portable"] = {"replacement": finding.portable.replacement,
                                  "min_torch": finding.portable.min_torch}
    if finding.fix is not None:
        properties["fix"] = {"applicability": finding.fix.applicability, "message": finding.fix.message}
    return properties


def _suppressions(finding: Finding) -> list[dict[str, str]]:
    """SARIF keeps suppressed results (GitHub shows them as dismissed) with the reason attached.

    Read with ``getattr`` so this works whether the finding carries a ``suppression`` reason, a
    ``suppressed`` flag, or neither.
    """
    reason = getattr(finding, "suppression", None)
    if reason is None and getattr(finding, "suppressed", False):
        reason = "inline"
    if not reason:
        return []
    kind = "external" if reason in EXTERNAL_SUPPRESSIONS else "inSource"
    return [{"kind": kind, "justification": JUSTIFICATIONS.get(str(reason), str(reason))}]


def artifact_location(path: str) -> dict[str, str]:
    """Relative paths are anchored at ``%SRCROOT%``; absolute ones become ``file:`` URIs."""
    uri, relative = _uri(path)
    return {"uri": uri, "uriBaseId": SRCROOT} if relative else {"uri": uri}


@lru_cache(maxsize=4096)
def _uri(path: str) -> tuple[str, bool]:
    """Cached: a run repeats the same few paths, and pathlib parsing was a third of the render time."""
    for flavour in (PurePosixPath, PureWindowsPath):
        pure = flavour(path)
        if pure.is_absolute():
            return pure.as_uri(), False
    return quote(path, safe="/"), True


def _root_uri(root: Path) -> str:
    uri = root.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


#: The notification id of a file parsed around code the parser could not read.
PARTIAL_PARSE = "partial-parse"


def _invocation(errors: Iterable[FileError]) -> dict[str, Any]:
    """Unreadable files are not results (no rule found them) but tool notifications."""
    notifications = [
        {
            "level": "note" if error.partial else "error",
            "message": {"text": f"partial parse: {error.message}" if error.partial else error.message},
            "locations": [{"physicalLocation": {"artifactLocation": artifact_location(error.path)}}],
        } | ({"descriptor": {"id": PARTIAL_PARSE}} if error.partial else {})
        for error in sorted(errors, key=lambda e: (e.path, e.message))
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
