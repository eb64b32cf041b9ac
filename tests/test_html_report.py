"""The self-contained HTML migration report (``lockin-lint report --format html``).

Why these checks: the page is opened offline from untrusted checkouts, so it must load nothing from
the network and must render every path, symbol and message from scanned code as text, never as
markup; and it is read by people deciding on a migration, so every section, every finding and every
target's score must be there.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from lockin_lint.output.html_report import render_html
from lockin_lint.kb.ruleset import RuleSet

from .conftest import REPO, load_script

SCRIPT = REPO / "scripts" / "render_report_screenshot.py"
CHROMIUM = Path("/usr/bin/chromium")

HOSTILE_PATH = "ops/<script>alert(1)</script>.py"
HOSTILE_MESSAGE = "<img src=x onerror=alert(1)> see https://evil.example/pwn.js"
HOSTILE_SYMBOL = '"><svg onload=alert(2)>'
#: Targets in a non-canonical order: the page must follow the document, not ``model.TARGETS``.
TARGETS = ("xpu", "rocm", "cpu")
HEADINGS = ["What to do first", "Score by target", "Targets", "Product, tests and vendored code",
            "Effort by category", "Top blockers", "Directories", "Dependencies", "Custom CUDA code", "Operators",
            "Findings",
            "Errors", "Scoring model"]


def _finding(path: str, line: int, rule_id: str, symbol: str, message: str,
             statuses: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "rule_id": rule_id, "category": "device-api", "severity": "warning", "path": path, "line": line,
        "column": 5, "end_line": line, "end_column": 20, "symbol": symbol, "message": message,
        "fingerprint": f"{rule_id}-{line}",
        "targets": {t: {"status": s, "replacement": f"{t}.{symbol}" if s == "rename" else None}
                    for t, s in zip(TARGETS, statuses, strict=True)},
    }


def sample_report() -> dict[str, Any]:
    """A report with hostile strings where scanned code can put them: paths, symbols, messages."""
    findings = [
        _finding("train.py", 42, "LL101", "torch.cuda.manual_seed_all", "`torch.cuda.manual_seed_all` is CUDA-only",
                 ("rename", "native", "missing")),
        _finding(HOSTILE_PATH, 7, "LL120", HOSTILE_SYMBOL, HOSTILE_MESSAGE, ("equivalent", "native", "unknown")),
        _finding("javascript:alert(1)", 3, "LL200", "cuda", "device string `cuda`", ("rename", "native", "rename")),
        _finding("//evil.example/x.py", 1, "LL800", "CUDA_VISIBLE_DEVICES", "env var", ("rename", "native", "missing")),
    ]
    findings[0]["portable"] = {"replacement": "torch.manual_seed(seed)", "min_torch": None}
    per_target = {
        "xpu": (87.3, 12.5, 1.6, 0, {"device-api": 10.0, "kernel": 2.5}),
        "rocm": (100.0, 0.0, 0.0, 0, {}),
        "cpu": (42.0, 30.0, 3.8, 3, {"device-api": 22.0, "env": 8.0}),
    }
    return {
        "version": "0.1.0", "files_scanned": 7, "lines_scanned": 430,
        "model": {"status_hours": {"native": 0, "rename": 0.25, "equivalent": 2, "missing": 8, "unknown": 4},
                  "category_factor": {"device-api": 1, "kernel": 4}, "lines_per_hour": 20,
                  "formula": "score = 100 * C / (C + E)"},
        "targets": {
            t: {"score": score, "effort_hours": hours, "effort_days": days, "blockers": blockers,
                "statuses": {"native": 1, "rename": 2, "equivalent": 1, "missing": blockers, "unknown": 0},
                "effort_by_category": spread}
            for t, (score, hours, days, blockers, spread) in per_target.items()
        },
        "top_blockers": [{
            "rule_id": "LL120", "category": "device-api", "symbol": HOSTILE_SYMBOL, "path": HOSTILE_PATH, "line": 7,
            "column": 5, "message": HOSTILE_MESSAGE,
            "statuses": dict(zip(TARGETS, ("equivalent", "native", "unknown"), strict=True)),
            "effort_hours": {"xpu": 2.0, "rocm": 0.0, "cpu": 4.0},
        }],
        "directories": [{"path": "ops", "files": 3, "lines": 120, "findings": 1,
                         "targets": {t: {"score": 80.0, "effort_hours": 10.0, "blockers": 1} for t in TARGETS}}],
        "files": [{"path": HOSTILE_PATH, "files": 1, "lines": 40, "findings": 1,
                   "targets": {t: {"score": 50.0, "effort_hours": 4.0, "blockers": 1} for t in TARGETS}}],
        "dependencies": [{"name": "flash_attn", "rule_id": "LL510", "category": "plugin", "count": 2,
                          "files": ["model.py", HOSTILE_PATH]}],
        "custom_code": [{"path": HOSTILE_PATH, "line": 3, "column": 1, "what": HOSTILE_MESSAGE,
                         "ops": [HOSTILE_SYMBOL], "calls": 2, "callers": ["model.py", HOSTILE_PATH]}],
        "findings": findings,
        "errors": [{"path": HOSTILE_PATH, "message": "cannot read: <b>denied</b>"}],
    }


class Page(HTMLParser):
    """Every start tag with its attributes, the ``<h2>`` texts and the row count of each table."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[str] = []
        self.rows: dict[str, int] = {}
        self._in_h2 = False
        self._table: str | None = None
        self._in_body = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append((tag, values))
        if tag == "h2":
            self._in_h2 = True
            self.headings.append("")
        elif tag == "table":
            self._table = (values.get("class") or "plain").split()[-1]
            self.rows[self._table] = 0
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table:
            self.rows[self._table] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings[-1] += data

    def attribute_values(self, *names: str) -> list[str]:
        return [value or "" for _, attrs in self.tags for key, value in attrs.items() if key in names]


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample_report())


@pytest.fixture(scope="module")
def parsed(page: str) -> Page:
    return Page(page)


def test_is_one_complete_document(page: str, parsed: Page) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<!DOCTYPE") == 1
    assert [tag for tag, _ in parsed.tags].count("html") == 1
    assert [tag for tag, _ in parsed.tags].count("body") == 1


def test_references_nothing_on_the_network(page: str, parsed: Page) -> None:
    """No external resources at all: no tag that fetches, no network URL in any link, no CSS import."""
    fetching = {"link", "img", "iframe", "object", "embed", "audio", "video", "source", "base", "form"}
    assert not [tag for tag, _ in parsed.tags if tag in fetching]
    assert all(attrs.get("src") is None for tag, attrs in parsed.tags)
    for url in parsed.attribute_values("href", "src", "action", "xlink:href", "srcset"):
        parts = urlsplit(url)
        assert parts.scheme == "" and parts.netloc == "", url
    assert "@import" not in page and "url(" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)


def test_content_security_policy_forbids_fetches_and_pins_the_script(page: str, parsed: Page) -> None:
    """The CSP is the second line of defence; it must also match the script, or sorting would be blocked."""
    policy = next(attrs["content"] for tag, attrs in parsed.tags
                  if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    assert policy is not None and "default-src 'none'" in policy
    for tag in ("script", "style"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
        assert body is not None
        digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_every_section_heading_is_present_in_order(parsed: Page) -> None:
    assert parsed.headings == HEADINGS


def test_header_shows_version_and_size(page: str) -> None:
    assert "lockin-lint 0.1.0" in page
    assert "7 files, 430 lines scanned" in page


def test_every_finding_has_a_row(page: str, parsed: Page) -> None:
    report = sample_report()
    assert parsed.rows["findings"] == len(report["findings"])
    assert parsed.rows["blockers"] == 1 and parsed.rows["dependencies"] == 1 and parsed.rows["errors"] == 1
    assert "older lockin-lint" in page  # a version-1 document (no summary, no scopes) still renders
    assert parsed.rows["custom"] == 1
    for finding in report["findings"][:1]:
        assert f'href="{finding["path"]}#L{finding["line"]}"' in page
        assert finding["message"] in page


def test_findings_have_a_status_cell_per_target(page: str) -> None:
    findings = page[page.index('<table class="sortable findings">'):]
    findings = findings[:findings.index("</table>")]
    assert len(re.findall(r'<td class="status st-', findings)) == len(TARGETS) * len(sample_report()["findings"])
    assert 'title="rename → xpu.torch.cuda.manual_seed_all"' in findings
    assert "portable: <code>torch.manual_seed(seed)</code>" in findings


def test_hostile_strings_are_escaped(page: str, parsed: Page) -> None:
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<svg onload" not in page and "<b>denied</b>" not in page
    assert [tag for tag, _ in parsed.tags].count("script") == 1
    handlers = [key for _, attrs in parsed.tags for key in attrs if key.startswith("on")]
    assert handlers == []


def test_links_from_scanned_paths_stay_relative(parsed: Page) -> None:
    """A path like ``javascript:...`` or ``//host/...`` must not turn into a script or network link."""
    links = [href for href in parsed.attribute_values("href") if not href.startswith("#")]
    assert len(links) == len(sample_report()["findings"]) + 1  # findings and the blocker
    assert "javascript%3Aalert%281%29#L3" in links
    assert ".//evil.example/x.py#L1" in links


def test_score_chart_has_one_bar_per_target_with_its_score(page: str) -> None:
    chart = page[page.index('<section id="scores">'):page.index('<section id="targets">')]
    rows = re.findall(r'<g class="score-row" data-target="([^"]+)">(.*?)</g>', chart)
    assert [name for name, _ in rows] == list(TARGETS)
    expected = {"xpu": "87.3 (good) · 1.6 d", "rocm": "100.0 (good) · 0.0 d", "cpu": "42.0 (poor) · 3.8 d"}
    for name, body in rows:
        assert body.count('<rect class="bar"') == 1
        assert "<text class=\"score\"" in body and f">{expected[name]}</text>" in body
    assert chart.count('<rect class="bar"') == len(TARGETS)


def test_bars_are_coloured_by_score_band(page: str) -> None:
    chart = page[page.index('<section id="scores">'):page.index('<section id="targets">')]
    fills = dict(re.findall(r'data-target="(\w+)">.*?<rect class="bar"[^>]*fill="(#\w+)"', chart))
    assert fills["rocm"] != fills["cpu"] and fills["xpu"] == fills["rocm"]


def test_effort_chart_stacks_categories_and_has_a_legend(page: str) -> None:
    chart = page[page.index('<section id="effort">'):page.index('<section id="blockers">')]
    assert len(re.findall(r'<g class="effort-row"', chart)) == len(TARGETS)
    assert "12.5 h</text>" in chart and "30.0 h</text>" in chart
    for category in ("device-api", "kernel", "env"):
        assert f"</svg>{category}</span>" in chart


def test_tables_are_sortable(page: str) -> None:
    assert 'addEventListener("click"' in page and "table.sortable" in page
    assert page.count('<table class="sortable') >= 6


def test_empty_report_renders_placeholders() -> None:
    report = sample_report() | {"top_blockers": [], "directories": [], "files": [], "dependencies": [],
                                "custom_code": [], "findings": [], "errors": []}
    parsed = Page(text := render_html(report))
    assert parsed.headings == [h for h in HEADINGS if h != "Errors"]
    assert "No findings: nothing ties this code to CUDA." in text
    assert "No Python call into this repository&#x27;s own CUDA code was found." in text or \
        "No Python call into this repository's own CUDA code was found." in text
    assert "findings" not in parsed.rows


def test_demo_report_renders(ruleset: RuleSet) -> None:
    """The screenshot script's report of the demo project (the real pipeline) fits the renderer."""
    report = load_script(SCRIPT).demo_report(ruleset)
    page = render_html(report)
    parsed = Page(page)
    assert parsed.rows["findings"] == len(report["findings"]) > 0
    assert parsed.rows["scopes"] == 3 and parsed.rows["blockers"] == len(report["top_blockers"])
    summary = page[page.index('<section id="summary">'):page.index('<section id="scores">')]
    assert "lockin-lint check --fix" in summary and "Kernels and device code to port" in summary
    assert all(f"<li>{a}</li>" in page.replace("&#x27;", "'") for a in report["model"]["assumptions"]
               if "<" not in a and "&" not in a and '"' not in a)


def test_a_large_report_stays_small_with_the_default_finding_limit() -> None:
    """vLLM has ~8,000 findings: the page lists the first few hundred and stays under 2 MB."""
    report = sample_report()
    many = [dict(report["findings"][0], line=i, fingerprint=str(i)) for i in range(8000)]
    files = [dict(report["files"][0], path=f"pkg/m{i}.py") for i in range(2000)]
    big = report | {"findings": many, "files": files}
    assert len(render_html(big, findings_limit=500).encode()) < 2_000_000
    assert len(render_html(big).encode()) > 2 * len(render_html(big, findings_limit=500).encode())


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.slow
@pytest.mark.parametrize("which", ["sample", "demo"])
def test_renders_in_headless_chromium(tmp_path: Path, which: str, ruleset: RuleSet) -> None:
    """A real browser draws a full-width page, and runs the sorting script under the page's own CSP: a
    version-1 document and the demo project's report from the real pipeline."""
    if not CHROMIUM.is_file():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium); CI installs Python only")
    script = load_script(SCRIPT)
    html_file = tmp_path / "report.html"
    report = sample_report() if which == "sample" else script.demo_report(ruleset)
    html_file.write_text(render_html(report), encoding="utf-8")
    png = tmp_path / "report.png"
    script.render_png(html_file, png, 1600, str(CHROMIUM))
    data = png.read_bytes()
    assert len(data) > 10_000
    assert _png_size(data)[0] == 1280
    dom = subprocess.run(
        [str(CHROMIUM), *script.CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         html_file.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    assert '<th scope="col" tabindex="0">' in dom  # set by the script: the CSP hash let it run


def test_partial_parses_have_their_own_section_not_the_errors_one() -> None:
    report = sample_report() | {"errors": [], "partial_parses": [{"path": "csrc/k.cu", "message": "line 3:1: syntax error"}]}
    parsed = Page(text := render_html(report))
    assert "Partial parses" in parsed.headings and "Errors" not in parsed.headings
    assert parsed.rows["partial"] == 1
    assert '<a href="#partial">' in text and '<a href="#errors">' not in text
