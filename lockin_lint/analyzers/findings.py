"""From raw matches to a file's result: findings with positions, per-target facts and fingerprints,
then inline suppressions.

Every analyzer ends here, so a finding looks the same whatever language it came from, and the
suppression, fingerprint and unused-comment rules are written once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Callable, Mapping

import tree_sitter as ts

from ..model import (STATUSES, FileError, FileFacts, FileResult, Finding, Location, Portable, Rule, TargetInfo,
                     UnusedSuppression, with_handled)
from .context import RunContext
from .matching import LineMatch, RawMatch
from .source import Decoded, text_lines
from .suppress import Suppressions, code_hits, suppressions

_SPACES = re.compile(r"\s+")
_UNKNOWN = TargetInfo("unknown")
#: How far a status is from portable, to keep the worst of a construct's joined matches.
_RANK = {status: rank for rank, status in enumerate(STATUSES)}
#: How many of the places a finding depends on its message names.
_SHOWN_DEPENDENCIES = 3


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _supported(min_torch: str | None, torch_version: str | None) -> bool:
    return min_torch is None or torch_version is None or version_tuple(min_torch) <= version_tuple(torch_version)


def choose_portable(options: tuple[Portable, ...], torch_version: str | None) -> Portable | None:
    """The best device-agnostic rewrite the configured torch version supports."""
    return next((p for p in options if _supported(p.min_torch, torch_version)), None)


def tree_result(run: RunContext, path: str, decoded: Decoded, tree: ts.Tree, raw: list[RawMatch], lines: int,
                problems: list[FileError] | None = None) -> FileResult:
    """The result of a parsed file: decoding problems and syntax errors are partial-parse notes."""
    errors = [FileError(path, decoded.problem, partial=True)] if decoded.problem else []
    errors += problems or []
    if tree.root_node.has_error:
        errors.append(FileError(path, syntax_error(tree.root_node), partial=True))
    return finish(run, path, decoded.data, node_findings(run, path, decoded.data, raw), errors, lines, tree=tree)


def finish(run: RunContext, path: str, source: bytes, found: list[Finding], errors: list[FileError], lines: int,
           relocate: Callable[[Finding], Finding] | None = None, tree: ts.Tree | None = None,
           line_map: Callable[[int], int] | None = None) -> FileResult:
    """Fingerprints, then inline suppressions (judged on ``source``'s lines, markers in ``tree``'s
    comments only when it is given), then ``relocate`` (and ``line_map`` for unused comments)."""
    found.sort(key=Finding.sort_key)
    table = suppressions(source, comment_checker(tree) if tree is not None else None)
    reported: list[Finding] = []
    hidden: list[Finding] = []
    for finding in _with_fingerprints(found):
        rule = run.rules_by_id.get(finding.rule_id)
        comment = table.match(finding.line, finding.rule_id, (rule.name, rule.category) if rule else ())
        if comment is None:
            reported.append(finding)
        else:
            hidden.append(replace(finding, suppression="file" if comment is table.whole_file else "inline"))
    if relocate is not None:
        reported, hidden = [relocate(f) for f in reported], [relocate(f) for f in hidden]
    return FileResult(path, tuple(reported), tuple(errors), lines=lines, suppressed=tuple(hidden),
                      unused_suppressions=unused(run, path, table, line_map))


def skipped(run: RunContext, path: str, data: bytes, lines: int, parser: ts.Parser,
            line_map: Callable[[int], int] | None = None) -> FileResult:
    """A file no rule can match: any ``lockin: ignore`` comment in it hides nothing (parsed only
    when it has one, to tell comments from strings). Most dismissed files have no marker at all (9,096
    of the torch package's headers): their result is the bare one, built at once."""
    if b"lockin:" not in data and b"noqa:" not in data:  # the markers `suppressions` reads
        return FileResult(path, skipped=True, lines=lines)
    table = suppressions(data, comment_checker(parser.parse(data)) if b"lockin:" in data else None)
    return FileResult(path, skipped=True, lines=lines, unused_suppressions=unused(run, path, table, line_map))


def node_findings(run: RunContext, path: str, source: bytes, raw: list[RawMatch]) -> list[Finding]:
    found = []
    for match in raw:
        node = match.node
        if match.span is None:
            start, end, row, end_row = node.start_byte, node.end_byte, node.start_point.row, node.end_point.row
            line_start, end_line_start = start - node.start_point.column, end - node.end_point.column
        else:
            (start, end), row = match.span, source.count(b"\n", 0, match.span[0])
            end_row = row + source.count(b"\n", start, end)
            line_start, end_line_start = source.rfind(b"\n", 0, start) + 1, source.rfind(b"\n", 0, end) + 1
        line_end = source.find(b"\n", line_start)
        code = source[line_start : line_end if line_end >= 0 else len(source)].decode("utf-8", "replace")
        column = len(source[line_start : start].decode("utf-8", "replace")) + 1
        end_column = len(source[end_line_start : end].decode("utf-8", "replace")) + 1
        finding = make_finding(run, path, match.rule, match.symbol, (row + 1, column, end_row + 1, end_column), code,
                               match.depends_on)
        if match.joined:
            finding = _with_joined(run, finding, match.joined)
        if match.joined_lines:
            finding = _lines_noted(finding, match.joined_lines)
        if match.handled:
            finding = _fallback_noted(with_handled(finding, dict(match.handled)), match.cpu_run)
        if match.swallowed is not None:
            finding = _swallowed_noted(finding, *match.swallowed)
        if finding.category == "operator" and not any(i.status == "missing" for i in finding.targets.values()):
            continue  # an operator is reported only where a source says a configured target lacks it
        found.append(finding)
    return found


#: How a dispatch notes the path taken when its tests are false (`python_dispatch.FALLBACK`).
CPU_FALLBACK = "fallback path (cpu)"
#: How a dispatch notes a target a branch's test names (`python_dispatch.BRANCH`).
PLATFORM_BRANCH = "device/platform branch"


def _fallback_noted(finding: Finding, cpu_run: bool = True) -> Finding:
    """A plain CPU fallback handles ``cpu`` only: on an accelerator the tests do not name (Ascend
    behind ``if torch.cuda.is_available(): ... else: "cpu"``) the code takes the path meant for
    the CPU, which is still lock-in there; the message says so, naming those targets. "May": the
    fallback can be generic code that works on them too (``model.to(device)``), which no test shows.
    Where that path runs nothing on the CPU (``cpu_run`` false: a skipped warm-up, a probe's falsy
    side), it says only that no test names them."""
    if dict(finding.handled).get("cpu") != CPU_FALLBACK:
        return finding
    left = [t for t, info in finding.targets.items() if t not in ("cpu", "rocm") and info.status != "native"]
    if not left:
        return finding
    if not cpu_run:
        return replace(finding, message=f"{finding.message}; without CUDA it takes a path no test names "
                                        f"{', '.join(left)} in")
    return replace(finding, message=f"{finding.message}; without CUDA it takes a fallback no test names "
                                    f"{', '.join(left)} in, so there it may silently run on the CPU")


def _swallowed_noted(finding: Finding, line: int, outcome: str) -> Finding:
    """An ``except`` swallows the match's error (`python_swallowed`): the targets still open get no
    error there, only a silent outcome, which the message names (no target is credited for it)."""
    left = [t for t, info in finding.targets.items() if info.status != "native"]
    if not left:
        return finding
    return replace(finding, message=f"{finding.message}; the `except` at line {line} swallows its error, so on "
                                    f"{', '.join(left)} this silently {outcome}")


def _with_joined(run: RunContext, finding: Finding, joined: tuple[tuple[Rule, str], ...]) -> Finding:
    """One finding for a construct: the joined names listed, each target at the worst joined status
    the knowledge base states.

    A joined name ``unknown`` on a target has no data there, which is no evidence that the construct
    fares worse than its other parts say: it never overrides a known status. DeepSpeed's ``__global__
    void fused_bias_residual_layer_norm(__half* ...)`` is a kernel to rewrite in SYCL on XPU
    (``equivalent``) and missing on the CPU whatever no table says of ``__half`` there. llm.c passes
    its own macro ``CUBLAS_LOWP`` (a name only a catch-all pattern matches, LC9xxx) to
    ``cublasGemmStridedBatchedEx``, whose ports are known; ``ncclAllReduce(..., ncclFloat, ncclSum,
    ...)`` renames to HCCL on Ascend although no table lists HCCL's spellings of the data type and the
    reduction. The names are still listed; alone, each is still reported as unknown. Among known
    statuses the worse wins, and a construct whose own name is ``unknown`` stays so: a joined
    argument's port says nothing about the call's."""
    targets = dict(finding.targets)
    symbols: list[str] = []
    for rule, symbol in joined:
        if symbol != finding.symbol and symbol not in symbols:
            symbols.append(symbol)
        for name, info in _targets(run, rule.info_for(symbol.lstrip(".")).targets).items():
            if info.status != "unknown" and _RANK[info.status] > _RANK[targets[name].status]:
                targets[name] = info
    if not symbols:
        return replace(finding, targets=targets)
    also = ", ".join(f"`{s}`" for s in symbols)
    return replace(finding, targets=targets, extra_symbols=tuple(symbols), message=f"{finding.message} (with {also})")


def _lines_noted(finding: Finding, lines: tuple[int, ...]) -> Finding:
    """Name the lines of a setting's joined reads and restores, so a reader sees they were counted."""
    where = f"line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}"
    return replace(finding, message=f"{finding.message} (one setting, also at {where})")


def line_findings(run: RunContext, path: str, text: str, matches: list[LineMatch]) -> list[Finding]:
    lines = text_lines(text)
    return [make_finding(run, path, m.rule, m.symbol, (m.line, m.column, m.line, m.end_column), lines[m.line - 1])
            for m in matches]


def make_finding(run: RunContext, path: str, rule: Rule, symbol: str, span: tuple[int, int, int, int], code: str,
                 depends_on: tuple[Location, ...] = ()) -> Finding:
    info = rule.info_for(symbol.lstrip("."))
    line, column, end_line, end_column = span
    return Finding(
        rule_id=rule.id,
        category=rule.category,
        severity=rule.severity,
        path=path,
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        symbol=symbol,
        message=rule.message.replace("{symbol}", symbol) + _dependencies(depends_on),
        targets=_targets(run, info.targets),
        portable=choose_portable(info.portable, run.settings.torch_version),
        code=_SPACES.sub(" ", code.strip()),
        depends_on=depends_on,
    )


def unused(run: RunContext, path: str, table: Suppressions,
           line_map: Callable[[int], int] | None) -> tuple[UnusedSuppression, ...]:
    """Comments that hid nothing, at their line in the file (``line_map``: a notebook's .ipynb line).

    A comment naming only rules this run does not select (``--select LL710``, an ``ignore`` list)
    is not reported: it may well hide something in a full run. Codes that name no rule still are.
    """
    found = table.unused()
    if not found:
        return ()
    rules = run.rules_by_id.values()

    def reportable(code: str) -> bool:
        named = [r for r in rules if code_hits(code, r.id, (r.name, r.category))]
        return not named or any(run.selected(r) for r in named)

    return tuple(UnusedSuppression(path, line_map(c.line) if line_map else c.line, tuple(sorted(c.codes)), c.marker)
                 for c in found if any(reportable(code) for code in c.codes))


def _targets(run: RunContext, targets: Mapping[str, TargetInfo]) -> dict[str, TargetInfo]:
    version = run.settings.torch_version
    return {name: targets.get(name, _UNKNOWN).for_torch(version) for name in run.settings.targets}


def with_facts(result: FileResult, facts: FileFacts) -> FileResult:
    """Attach what the cross-file pass needs, when there is anything (most files have nothing)."""
    return replace(result, facts=facts) if facts != NO_FACTS or facts.code is not None else result


#: The facts of a file that has none for the cross-file passes (frozen: shared, not built per file).
NO_FACTS = FileFacts()


def _dependencies(depends_on: tuple[Location, ...]) -> str:
    """``"; it needs kernel `k` (csrc/k.cu:12)"``: the places a user has to follow, in the message."""
    if not depends_on:
        return ""
    shown = ", ".join(f"{d.message} ({d.path}:{d.line})" for d in depends_on[:_SHOWN_DEPENDENCIES])
    more = len(depends_on) - _SHOWN_DEPENDENCIES
    return f"; it needs {shown}" + (f" and {more} more" if more > 0 else "")


def comment_checker(tree: ts.Tree) -> Callable[[int], bool]:
    root = tree.root_node

    def comment_at(offset: int) -> bool:
        node = root.descendant_for_byte_range(offset, offset + 1)
        return node is not None and node.type == "comment"

    return comment_at


def _with_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Line-independent fingerprints: rule + path + normalised code + occurrence index."""
    seen: dict[tuple[str, str, str], int] = {}
    result = []
    for f in findings:
        key = (f.rule_id, f.path, f.code)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        digest = hashlib.sha1(f"{f.rule_id}\0{f.path}\0{f.code}\0{f.symbol}\0{occurrence}".encode()).hexdigest()
        result.append(replace(f, fingerprint=digest[:20]))
    return result


def syntax_error(root: ts.Node) -> str:
    """Name the first place the parser gave up on; everything else was still matched."""
    node = root
    while True:
        for child in node.children:
            if child.is_error or child.is_missing:
                point = child.start_point
                what = f"missing {child.type!r}" if child.is_missing else "unexpected code"
                return f"line {point.row + 1}:{point.column + 1}: syntax error ({what}); the rest of the file was still checked"
            if child.has_error:
                node = child
                break
        else:
            point = node.start_point
            return f"line {point.row + 1}:{point.column + 1}: syntax error; the rest of the file was still checked"
