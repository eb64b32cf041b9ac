"""Baselines: record today's findings so CI fails only on *new* lock-in.

Entries are line-independent fingerprints (rule, path, normalised code line, symbol, occurrence
index), so moving code or inserting lines above it keeps it hidden, while one more occurrence of the
same call gets a fresh occurrence index and is reported. The file is sorted, indented JSON so that
updating it gives a readable diff. Entries whose lock-in is gone are reported as stale, and
``--prune-baseline`` drops them without accepting anything new.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..limits import LimitError, load_json, read_regular
from ..model import Finding, RunResult
from .atomic import WriteError, write_atomic

FORMAT = 1
#: A baseline holds ~150 bytes per finding: this is room for about 400,000 of them.
MAX_BASELINE_BYTES = 64 * 1024 * 1024


class BaselineError(Exception):
    """The baseline file is missing or unreadable: one line, exit 2."""


def write_baseline(path: Path, findings: list[Finding]) -> int:
    entries = [{"path": f.path, "rule_id": f.rule_id, "symbol": f.symbol, "fingerprint": f.fingerprint}
               for f in findings]
    return _dump(path, entries)


def _dump(path: Path, entries: list[dict[str, str]]) -> int:
    import json  # only a run with a baseline needs it (a replayed check imports this module for its errors)

    entries = sorted(entries, key=lambda e: (e["path"], e["rule_id"], e["symbol"], e["fingerprint"]))
    document = {"tool": "lockin-lint", "format": FORMAT, "findings": entries}
    try:
        write_atomic(path, json.dumps(document, indent=2) + "\n")
    except WriteError as exc:
        raise BaselineError(f"{path}: cannot write baseline: {exc}") from None
    return len(entries)


def load_baseline(path: Path) -> set[str]:
    return {e["fingerprint"] for e in load_entries(path)}


def load_entries(path: Path) -> list[dict[str, str]]:
    """The baseline's entries (``path``, ``rule_id``, ``symbol``, ``fingerprint``)."""
    import json

    try:
        document = load_json(read_regular(path, MAX_BASELINE_BYTES).decode("utf-8"), "baseline JSON")
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, LimitError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}:{exc.lineno}: invalid baseline JSON: {exc.msg}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(
        document.get("findings"), list
    ):
        raise BaselineError(f"{path}: not a lockin-lint baseline (format {FORMAT})")
    return [{key: str(e.get(key, "")) for key in ("path", "rule_id", "symbol", "fingerprint")}
            for e in document["findings"] if isinstance(e, dict) and isinstance(e.get("fingerprint"), str)]


def apply_baseline(run: RunResult, entries: list[dict[str, str]]) -> list[dict[str, str]]:
    """Move the run's findings the baseline lists to ``run.suppressed``; return its stale entries.

    An entry is stale when its file was checked in this run and no finding (reported or hidden by a
    comment) has its fingerprint any more: the lock-in was removed, and the entry would otherwise
    silently accept it again if it came back. Entries of files outside the run (pre-commit checks
    only the staged files) are not judged.
    """
    known = {e["fingerprint"] for e in entries}
    kept = []
    for finding in run.findings:
        if finding.fingerprint in known:
            run.suppressed.append(replace(finding, suppression="baseline"))
        else:
            kept.append(finding)
    run.findings = kept
    run.suppressed.sort(key=lambda f: f.sort_key())
    present = {f.fingerprint for f in run.suppressed}
    return [e for e in entries if e["path"] in run.file_lines and e["fingerprint"] not in present]


def prune_baseline(path: Path, entries: list[dict[str, str]], stale: list[dict[str, str]]) -> int:
    """Rewrite the baseline without its stale entries (new findings are not added); the count kept."""
    gone = {id(e) for e in stale}
    return _dump(path, [e for e in entries if id(e) not in gone])
