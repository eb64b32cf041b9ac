"""Render the HTML migration report of the bundled demo project to ``docs/report.png``.

Why a script: ``docs/report.png`` shows what ``lockin-lint report --format html`` looks like, and a
picture made by hand drifts from the page the code renders. This builds the report of ``fixtures/demo`` with
the real pipeline, renders it with ``lockin_lint.output.html_report.render_html`` and photographs it
with headless Chromium (Debian's ``chromium``; ``apt-get install -y chromium``).

    python scripts/render_report_screenshot.py [--output docs/report.png] [--height 2400] [--html FILE]

Chromium runs with a throwaway profile and every background network feature off, so the screenshot
also shows that the page needs nothing beyond itself.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lockin_lint.api import check_paths
from lockin_lint.model import STATUSES, Settings
from lockin_lint.output.html_report import render_html
from lockin_lint.kb.ruleset import RuleSet, load_rules

DEMO = "fixtures/demo"
CHROMIUM = "/usr/bin/chromium"
WIDTH = 1280
BLOCKER_KEYS = ("rule_id", "category", "symbol", "path", "line", "column", "message")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)


def demo_report(ruleset: RuleSet | None = None) -> dict[str, Any]:
    """The report of the demo project, from the same code path as ``lockin-lint report``."""
    try:
        from lockin_lint.score.report import build_report
    except ImportError:  # a checkout from before the report API: show the page with sample data
        return sample_report()
    settings = Settings(jobs=1)
    run = check_paths([DEMO], ruleset or load_rules(), settings, cwd=REPO)
    return build_report(run, settings)


def sample_report() -> dict[str, Any]:
    """A small hand-written report, for checkouts without ``lockin_lint.score.report`` (and as a test helper)."""
    statuses = {"rocm": "equivalent", "ascend": "missing", "xpu": "rename", "cpu": "missing"}
    hours = {"rocm": 8.0, "ascend": 32.0, "xpu": 0.25, "cpu": 32.0}
    finding = {
        "rule_id": "LC7000", "category": "kernel", "severity": "warning", "path": "ops/fused_kernel.cu",
        "line": 13, "column": 1, "end_line": 13, "end_column": 40, "symbol": "__global__ bias_gelu_kernel",
        "message": "custom CUDA kernel `__global__ bias_gelu_kernel` must be ported by hand or by a translator",
        "fingerprint": "0" * 20,
        "targets": {t: {"status": s, "replacement": None} for t, s in statuses.items()},
    }
    return {
        "version": "0.1.0", "files_scanned": 3, "lines_scanned": 120,
        "model": {"status_hours": {"native": 0, "rename": 0.25, "equivalent": 2, "missing": 8, "unknown": 4},
                  "category_factor": {"kernel": 4}, "lines_per_hour": 10, "formula": "score = 100 * C / (C + E)"},
        "targets": {
            t: {"score": score, "effort_hours": hours[t], "effort_days": round(hours[t] / 8, 1),
                "blockers": int(statuses[t] == "missing"),
                "statuses": {s: int(s == statuses[t]) for s in STATUSES},
                "effort_by_category": {"kernel": hours[t]}}
            for t, score in (("rocm", 60.0), ("ascend", 27.3), ("xpu", 98.0), ("cpu", 27.3))
        },
        "top_blockers": [{key: finding[key] for key in BLOCKER_KEYS} | {"statuses": statuses, "effort_hours": hours}],
        "directories": [{"path": "ops", "files": 1, "lines": 40, "findings": 1,
                         "targets": {t: {"score": 50.0, "effort_hours": hours[t], "blockers": 1} for t in statuses}}],
        "files": [],
        "dependencies": [],
        "findings": [finding],
        "errors": [],
    }


def render_png(html_file: Path, png_file: Path, height: int, chromium: str = CHROMIUM) -> None:
    """Photograph ``html_file`` at ``WIDTH`` x ``height`` with headless Chromium and a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="lockin-chromium-") as profile:
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}",
                   f"--screenshot={png_file}", html_file.resolve().as_uri()]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    if not png_file.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {png_file}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "report.png")
    parser.add_argument("--height", type=int, default=2400, help="viewport height in pixels")
    parser.add_argument("--html", type=Path, help="also keep the rendered HTML here")
    parser.add_argument("--chromium", default=shutil.which("chromium") or CHROMIUM)
    args = parser.parse_args(argv)
    if not Path(args.chromium).is_file():
        parser.error(f"{args.chromium} not found; install it with `apt-get install -y chromium`")
    page = render_html(demo_report())
    with tempfile.TemporaryDirectory(prefix="lockin-report-") as tmp:
        html_file = Path(tmp) / "report.html"
        html_file.write_text(page, encoding="utf-8")
        if args.html:
            args.html.write_text(page, encoding="utf-8")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        render_png(html_file, args.output, args.height, args.chromium)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
