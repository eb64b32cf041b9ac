"""Baselines: record today's findings so CI fails only on *new* lock-in.

Entries are line-independent fingerprints (rule, path, normalised code line, symbol, occurrence
index), so moving code or inserting lines above it keeps it hidden, while one more occurrence of the
same call gets a fresh occurrence index and is reported. The file is sorted, indented JSON so that
updating it gives a readable diff.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..model import Finding

FORMAT = 1


class BaselineError(Exception):
    """The baseline file is missing or unreadable: one line, exit 2."""


def write_baseline(path: Path, findings: list[Finding]) -> int:
    entries = sorted(
        ({"path": f.path, "rule_id": f.rule_id, "symbol": f.symbol, "fingerprint": f.fingerprint} for f in findings),
        key=lambda e: (e["path"], e["rule_id"], e["symbol"], e["fingerprint"]),
    )
    document = {"tool": "lockin-lint", "format": FORMAT, "findings": entries}
    try:
        temp = path.with_name(path.name + ".tmp")
        temp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        temp.replace(path)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write baseline: {exc.strerror}") from None
    return len(entries)


def load_baseline(path: Path) -> set[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}:{exc.lineno}: invalid baseline JSON: {exc.msg}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(
        document.get("findings"), list
    ):
        raise BaselineError(f"{path}: not a lockin-lint baseline (format {FORMAT})")
    return {e["fingerprint"] for e in document["findings"] if isinstance(e, dict) and "fingerprint" in e}
