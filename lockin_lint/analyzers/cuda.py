"""C, C++ and CUDA sources, parsed with the CUDA grammar (a superset of C++), matched by
`cuda_matcher`; also the functions, kernels and op bindings the cross-file pass links."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from ..kb.cuda_index import CONSTRUCT_LITERALS, CudaIndex, passes_prefilter
from ..model import FileFacts, FileResult, Finding, with_handled
from .backend_paths import dedicated_backend
from .context import FileContext, RunContext
from .cuda_matcher import CudaFileMatcher
from .cpp_facts import CodeFacts, quoted_includes, scan_code
from .cpp_gate import file_words, may_find, relevant_words
from .cpp_prepass import prepare
from .file_kinds import CUDA_SUFFIXES
from .findings import NO_FACTS, skipped, tree_result, with_facts
from .hip_sources import written_for_hip
from .matching import RawMatch
from .preprocessor import NOT_ON_ROCM, ROCM_ONLY, line_states, never_compiled
from .source import decode_utf8

CUDA_SOURCE_SUFFIXES = tuple(sorted(CUDA_SUFFIXES))
#: A binding block of a C/C++ file: the macro at the start of a line (not its ``#define``, not a doc
#: comment's example). The cross-file pass parses such files.
_IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_REGISTRATION = re.compile(rb"^[ \t]*(?:PYBIND11_MODULE|(?:STABLE_)?TORCH_LIBRARY\w*)[ \t]*\(|RegisterOperators\(\)",
                           re.MULTILINE)

#: The facts of a file that registers operators, before its parse (frozen: shared, not built per file).
_REGISTERS_OPS = FileFacts(registers_ops=True)


class CudaAnalyzer:
    language = "cuda"

    def check(self, path: str, data: bytes, ctx: FileContext) -> FileResult:
        run = ctx.run
        index = run.cuda
        cuda_source = path.endswith(CUDA_SOURCE_SUFFIXES)  # device code throughout: always parsed
        facts = _REGISTERS_OPS if (b"PYBIND11_MODULE" in data or b"TORCH_LIBRARY" in data or b"RegisterOperators" in data) \
            and _REGISTRATION.search(data) is not None else NO_FACTS
        relevant = None
        if ctx.prefilter and not cuda_source:
            words = file_words(data)  # the word gate first: it rejects more files, and faster
            if (not facts.registers_ops and not may_find(index, data, words)) or not passes_prefilter(index, data):
                return with_facts(skipped(run, path, data, ctx.lines, run.cuda_parser), facts)
            relevant = relevant_words(index, words)
        decoded = decode_utf8(data)
        prepared = prepare(decoded.data, _guard(index))
        tree = run.cuda_parser.parse(prepared)
        raw = CudaFileMatcher(index, prepared, tree.root_node, cuda_source, relevant).run()
        if dedicated_backend(path) is not None or (raw and written_for_hip(decoded.data)):
            raw = []  # another backend's file (``csrc/rocm/``, ``*_hip.cu``, HIP includes): no CUDA lock-in
        states = line_states(decoded.data) if raw else None
        if states is not None:
            raw = [m for m in raw if states[_row(m, decoded.data)] != ROCM_ONLY]
        dead = never_compiled(decoded.data) if raw else None
        if dead is not None:
            raw = [m for m in raw if not dead[_row(m, decoded.data)]]  # ``#if 0``: no build's lock-in
        result = tree_result(run, path, decoded, tree, raw, ctx.lines)
        if states is not None:
            result = replace(result, findings=_handled(result.findings, states),
                             suppressed=_handled(result.suppressed, states))
        if any(f.rule_id in index.catch_all_ids for f in result.findings):
            facts = replace(facts, headers=tuple(quoted_includes(tree.root_node)))
        if cuda_source or facts.registers_ops:  # what the cross-file pass reads first: see `code_facts`
            facts = replace(facts, code=scan_code(path, tree.root_node))
        return with_facts(result, facts)


def _row(match: RawMatch, source: bytes) -> int:
    """The 0-based line a match starts on."""
    return match.node.start_point.row if match.span is None else source.count(b"\n", 0, match.span[0])


def _guard(index: CudaIndex) -> Callable[[bytes], bool]:
    """Could these bytes hold a finding? The pre-pass never blanks code for which it might."""

    def might_match(text: bytes) -> bool:
        words = set(_IDENTIFIER.findall(text))
        if words & index.hit_words or any(literal in text for literal in CONSTRUCT_LITERALS):
            return True
        return index.catch_all is not None and any(index.catch_all.fullmatch(w) for w in words)

    return might_match


def _handled(findings: tuple[Finding, ...], states: list[int]) -> tuple[Finding, ...]:
    """Findings in code a ROCm build leaves out (the CUDA side of a ROCm branch) are ported for rocm."""
    return tuple(with_handled(f, {"rocm": "preprocessor branch"}) if states[f.line - 1] == NOT_ON_ROCM else f
                 for f in findings)


def code_facts(run: RunContext, path: str, data: bytes) -> CodeFacts:
    """Functions, kernels and op bindings of one C/C++/CUDA file, for the cross-file pass.

    `CudaAnalyzer.check` already keeps them for the files the pass reads first (those that register
    ops and the ``.cu``/``.cuh`` files where it looks for launchers: 140 of the 146 it read on vLLM),
    from the parse it makes anyway; this parses the others (headers a build includes, cached results).
    """
    return scan_code(path, run.cuda_parser.parse(prepare(decode_utf8(data).data, _guard(run.cuda))).root_node)
