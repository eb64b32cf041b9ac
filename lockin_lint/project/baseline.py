"""Baselines: record today's findings so CI fails only on *new* lock-in.

Entries are line-independent fingerprints (rule, path, normalised code line, symbol, occurrence
index), so moving code or inserting lines above it keeps it hidden, while one more occurrence of the
same call gets a fresh occurrence index and is reported. The file is sorted, indented JSON so that
updating it gives a readable diff.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..limits import LimitError, load_json, read_regular
from ..model import Finding
from .atomic import WriteError, write_atomic

FORMAT = 1
#: A baseline holds ~150 bytes per finding: this is room for about 400,000 of them.
MAX_BASELINE_BYTES = 64 * 1024 * 1024


class BaselineError(Exception):
    """The baseline file is missing or unreadable: one line, exit 2."""


def write_baseline(path: Path, findings: list[Finding]) -> int:
    entries = sorted(
        ({"path": f.path, "rule_id": f.rule_id, "symbol": f.symbol, "fingerprint": f.fingerprint} for f in findings),
        key=lambda e: (e["path"], e["rule_id"], e["symbol"], e["fingerprint"]),
    )
    document = {"tool": "lockin-lint", "format": FORMAT, "findings": entries}
    try:
        write_atomic(path, json.dumps(document, indent=2) + "\n")
    except WriteError as exc:
        raise BaselineError(f"{path}: cannot write baseline: {exc}") from None
    return len(entries)


def load_baseline(path: Path) -> set[str]:
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
    entries = document["findings"]
    return {e["fingerprint"] for e in entries if isinstance(e, dict) and isinstance(e.get("fingerprint"), str)}
