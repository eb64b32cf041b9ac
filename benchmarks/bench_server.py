"""Language-server latency: how long after a change do an editor's diagnostics arrive?

Starts ``lockin-lint server`` as an editor would (a subprocess speaking LSP over stdio, driven by
pygls's own client), opens a document, then sends edits one at a time and times each from the
``didChange`` notification to the ``publishDiagnostics`` for that version, debounce included. Each
edit replaces one line in the middle of the file with a comment (an incremental change, as editors
send them), so every check sees new text.
It also reports CPU times, which a shared machine's load inflates far less than wall times: the
server process's CPU per change (everything it does for one edit, read from ``/proc``), and the
same check and conversion to diagnostics done in this process ("check CPU").

Documents: by default a 2,000-line Python file and a 2,000-line ``.cu`` file built from the
repository's fixtures (so the benchmark runs anywhere, offline); ``--file PATH`` times real files
instead (longer ones are cut to ``--lines``). Targets (issue 16): Python under 200 ms, CUDA under 500 ms.

Usage: ``python benchmarks/bench_server.py [--edits 30] [--debounce-ms 25] [--file PATH ...]``.
Prints a Markdown table for ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parent.parent
LANGUAGES = {".py": "python", ".cu": "cuda-cpp", ".cuh": "cuda-cpp", ".cpp": "cpp", ".c": "c"}


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def synthetic(suffix: str, lines: int) -> str:
    """The fixtures of one language, repeated to ``lines`` lines (lock-in on roughly every tenth line)."""
    folder = REPO / "fixtures" / ("python" if suffix == ".py" else "cuda")
    sources = [p.read_text(encoding="utf-8") for p in sorted(folder.glob(f"*{suffix}"))]
    body: list[str] = []
    while len(body) < lines:
        for source in sources:
            body.extend(source.splitlines())
    return "\n".join(body[:lines]) + "\n"


class Timer:
    """Matches each published version to the moment its change was sent."""

    def __init__(self) -> None:
        self.sent: dict[int, float] = {}
        self.latencies: list[float] = []
        self.counts: list[int] = []
        self.arrived = asyncio.Event()

    def published(self, params: types.PublishDiagnosticsParams) -> None:
        if params.version in self.sent:
            self.latencies.append(time.perf_counter() - self.sent.pop(params.version))
            self.counts.append(len(params.diagnostics))
        self.arrived.set()


async def measure(path: Path, text: str, edits: int, debounce_ms: int) -> tuple[list[float], int, float, float]:
    """Latencies of ``edits`` changes, the diagnostics count, the time to the first diagnostics, and
    the server process's CPU seconds per change (parsing the message, checking, sending diagnostics)."""
    timer = Timer()
    client = LanguageClient("lockin-lint-bench", "1")

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(_: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        timer.published(params)

    await client.start_io(sys.executable, "-m", "lockin_lint", "server")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=path.parent.as_uri(),
        initialization_options={"debounce-ms": debounce_ms}))
    client.initialized(types.InitializedParams())
    uri = path.as_uri()
    language = LANGUAGES.get(path.suffix, "python")
    timer.sent[1] = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text)))
    await asyncio.wait_for(timer.arrived.wait(), 60)
    first = timer.latencies.pop()
    timer.counts.clear()
    middle = text.count("\n") // 2
    comment = "#" if language == "python" else "//"
    pid = client._server.pid if client._server is not None else 0
    cpu_before = process_cpu(pid)
    for version in range(2, edits + 2):
        timer.arrived.clear()
        line = types.Range(types.Position(middle, 0), types.Position(middle + 1, 0))
        timer.sent[version] = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(  # as editors send it: one range
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(range=line, text=f"{comment} edit {version}\n")]))
        await asyncio.wait_for(timer.arrived.wait(), 60)
        await asyncio.sleep(0.05)  # a typing pause: each edit is timed on its own
    server_cpu = (process_cpu(pid) - cpu_before) / edits
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return timer.latencies, (timer.counts[-1] if timer.counts else 0), first, server_cpu


def check_cpu(path: Path, text: str, runs: int = 5) -> float:
    """The server's work for one change, in this process: check the buffer and build its diagnostics.

    CPU seconds (median), which other processes on a shared machine inflate far less than wall time.
    """
    from pygls.workspace import TextDocument

    from lockin_lint.kb.ruleset import load_rules
    from lockin_lint.server.checking import check_document
    from lockin_lint.server.convert import Lines, to_diagnostic
    from lockin_lint.server.workspace import Options, Resolver

    ruleset = load_rules()
    rules = ruleset.by_id()
    resolved = Resolver(ruleset, Options(), [path.parent]).resolve(path)
    times = []
    for _ in range(runs + 1):
        started = time.process_time()
        result = check_document(text, path, path.name, resolved, ruleset)
        lines = Lines(TextDocument(path.as_uri(), text))
        [to_diagnostic(f, lines, rules, "") for f in result.findings]
        times.append(time.process_time() - started)
    return statistics.median(times[1:])  # the first run compiles the rules for these settings


def row(name: str, lines: int, latencies: list[float], findings: int, first: float, cpu: float,
        server_cpu: float, budget_ms: int) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    verdict = "yes" if p90 <= budget_ms else "NO"
    return (f"| {name} | {lines} | {findings} | {first * 1000:.0f} | {statistics.median(ms):.0f} | {p90:.0f} | "
            f"{ms[-1]:.0f} | {cpu * 1000:.0f} | {server_cpu * 1000:.0f} | {budget_ms} | {verdict} |")


async def main_async(args: argparse.Namespace) -> None:
    documents: list[tuple[str, str, str]] = []  # (name, suffix, text)
    if args.file:
        for name in args.file:
            path = Path(name)
            kept = path.read_text(encoding="utf-8", errors="replace").splitlines()[: args.lines]
            documents.append((path.name, path.suffix, "\n".join(kept) + "\n"))
    else:
        documents = [(f"fixtures x{args.lines} lines{suffix}", suffix, synthetic(suffix, args.lines))
                     for suffix in (".py", ".cu")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"debounce {args.debounce_ms} ms, {args.edits} edits per document, {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at the start\n")
    print("| document | lines | findings | open ms | median ms | p90 ms | max ms | check CPU ms | server CPU ms "
          "| budget ms | p90 within |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name, suffix, text in documents:
            path = Path(folder) / f"bench{suffix}"
            path.write_text(text, encoding="utf-8")
            latencies, findings, first, server_cpu = await measure(path, text, args.edits, args.debounce_ms)
            budget = 200 if suffix == ".py" else 500
            cpu = check_cpu(path, text)
            print(row(name, text.count("\n"), latencies, findings, first, cpu, server_cpu, budget), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--debounce-ms", type=int, default=25)
    parser.add_argument("--file", action="append", help="time this file instead of the fixtures (repeatable)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
