"""The HTML report's stylesheet, colours and table-sorting script.

Kept apart from `html_report` (which builds the page) because they are static text: the page embeds
them inline and its Content-Security-Policy allows exactly these, by hash.
"""

from __future__ import annotations

BAND_COLOURS: dict[str, str] = {"good": "#2e9e5b", "fair": "#e0a100", "poor": "#d64545"}

STATUS_COLOURS: dict[str, str] = {
    "native": "#2e9e5b",
    "rename": "#7cc48f",
    "equivalent": "#f0c24b",
    "missing": "#d64545",
    "unknown": "#9aa3ad",
}

_STATUS_CSS = "".join(f".st-{name}{{background:{colour}33;border-left:3px solid {colour}}}"
                      for name, colour in STATUS_COLOURS.items())
_BAND_CSS = "".join(f".chip.{band}{{background:{colour}}}" for band, colour in BAND_COLOURS.items())

CSS = """
:root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--accent:#3b5bdb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
 font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:20px 16px}
header h1{margin:0 0 4px;font-size:26px}
.meta{margin:0 0 14px;color:var(--muted)}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 18px;min-width:140px}
.card .value{font-size:22px;font-weight:600}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
nav{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;gap:4px 16px;margin:18px 0 0;padding:8px 12px;
 background:#fff;border:1px solid var(--line);border-radius:8px}
nav a{color:var(--accent);text-decoration:none;font-weight:500}
nav a:hover{text-decoration:underline}
section{background:#fff;border:1px solid var(--line);border-radius:8px;margin:16px 0;padding:14px 14px}
h2{margin:0 0 10px;font-size:18px}
h3{margin:6px 0;font-size:14px}
svg.chart{display:block;max-width:100%;height:auto;font-size:13px}
svg.chart .track{fill:#eef1f4}
svg.chart .grid{stroke:#d9dee3;stroke-dasharray:2 3}
svg.chart .tick{fill:var(--muted);font-size:11px}
svg.chart .target{font-weight:600;fill:var(--fg)}
svg.chart .score{fill:var(--fg);font-variant-numeric:tabular-nums}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:8px 0 4px;font-size:13px}
.legend.chart-legend{margin-left:90px}
.legend.small{font-size:12px;color:var(--muted)}
.swatch{display:inline-flex;align-items:center;gap:5px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:#f0f2f5;position:sticky;top:0;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{background:#e4e8ee}
th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
tbody tr:hover td{background-color:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{font-weight:600}
td.path{overflow-wrap:break-word;min-width:140px}
td.path a{color:var(--accent);text-decoration:none}
td.path a:hover{text-decoration:underline}
td.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere;
 min-width:100px;max-width:220px}
td.message{min-width:180px;overflow-wrap:anywhere}
td.category{white-space:nowrap}
td.message code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px;color:#3d4b5c}
td.status{font-size:11px;white-space:nowrap;width:1%;padding:5px 4px}
.sub{display:block;color:var(--muted);font-size:11px}
td.num .sub{display:inline}
.chip{display:inline-block;min-width:42px;padding:1px 6px;border-radius:10px;color:#fff;font-weight:600;
 text-align:center}
.chip.fair{color:#1f2933}
.findings td,.blockers td{font-size:12.5px}
.findings td.status,.blockers td.status{font-size:11px}
.hint,.empty{color:var(--muted);margin:4px 0 8px}
details summary{cursor:pointer;color:var(--accent);margin:8px 0}
.model-table{display:inline-block;vertical-align:top;margin:0 24px 8px 0}
.model-table table{width:auto}
""" + _STATUS_CSS + _BAND_CSS + "\n"

SORT_SCRIPT = """
(function () {
  "use strict";
  function key(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return a.localeCompare(b, undefined, {numeric: true});
  }
  function sortBy(table, th, index) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r, s) {
      var order = compare(key(r, index), key(s, index));
      return ascending ? order : -order;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th, index); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, th, index); }
      });
    });
  });
})();
"""
