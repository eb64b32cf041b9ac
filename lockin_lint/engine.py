"""The pure core: (path, bytes, rules, settings) in, findings out. No file system, no processes.

Everything else (discovery, the process pool, the CLI, editors) wraps `Engine.check`, so the same
function is tested directly and used everywhere (Fixit's ``fixit_bytes`` is the model).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from functools import cached_property
from typing import Callable, Mapping

import tree_sitter as ts
import tree_sitter_cuda
import tree_sitter_python
from packaging.requirements import InvalidRequirement

from .cuda_analyzer import CudaFileMatcher
from .cuda_index import CudaIndex, build_cuda_index, passes_prefilter
from .discover import language_of
from .index import PythonIndex, build_python_index
from .extensions import BUILDERS, CodeFacts, extension_builds, scan_code, setup_requirements
from .model import (FileError, FileFacts, FileResult, Finding, Location, Portable, Rule, Settings, TargetInfo,
                    UnusedSuppression)
from .prefilter import is_candidate, present_triggers
from .config_analyzer import LineRule, compile_line_rules, match_lines
from .deps_analyzer import (ManifestError, PackageRule, compile_package_rules, dependencies, manifest_includes,
                            match_dependencies, match_package, parse_requirement)
from .index import selected
from .matching import LineMatch, RawMatch
from .notebook import CellLine, NotebookError, read_notebook
from .op_calls import LinkTable, OpCallMatcher
from .python_analyzer import FileMatcher
from .ruleset import RuleSet
from .source import BINARY_FILE, Decoded, decode_python, decode_utf8, is_binary
from .suppress import ALL, Suppressions, suppressions

_PY_LANGUAGE = ts.Language(tree_sitter_python.language())
_SPACES = re.compile(r"\s+")
CUDA_SOURCE_SUFFIXES = (".cu", ".cuh")
_UNKNOWN = TargetInfo("unknown")
#: A binding block of a C/C++ file: the macro at the start of a line (not its ``#define``, not a doc
#: comment's example). The cross-file pass parses such files.
_REGISTRATION = re.compile(rb"^[ \t]*(?:PYBIND11_MODULE|(?:STABLE_)?TORCH_LIBRARY\w*)[ \t]*\(|RegisterOperators\(\)",
                           re.MULTILINE)
#: How many of the places a finding depends on its message names.
_SHOWN_DEPENDENCIES = 3


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _supported(min_torch: str | None, torch_version: str | None) -> bool:
    return min_torch is None or torch_version is None or version_tuple(min_torch) <= version_tuple(torch_version)


def choose_portable(options: tuple[Portable, ...], torch_version: str | None) -> Portable | None:
    """The best device-agnostic rewrite the configured torch version supports."""
    return next((p for p in options if _supported(p.min_torch, torch_version)), None)


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


class Engine:
    """Rules compiled for one run's settings, and a parser; reusable for any number of files."""

    def __init__(self, ruleset: RuleSet, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._ruleset = ruleset
        #: Rules matched only so that the extension builds LL710 needs are seen, not reported.
        self._unreported = frozenset(r.id for r in self._builder_rules() if not self._selected(r))
        self.python: PythonIndex = build_python_index(ruleset, self.settings.select, self.settings.ignore,
                                                      self._unreported)
        self._parser = ts.Parser(_PY_LANGUAGE)
        self._cuda: CudaIndex | None = None
        self._cuda_parser: ts.Parser | None = None
        self._line_rules: dict[str, list[LineRule] | None] = {}
        self._package_rules: dict[str, list[PackageRule]] = {}

    def check(self, path: str, data: bytes, prefilter: bool = True, links: LinkTable | None = None,
              requirements: bool = False) -> FileResult:
        """Findings for one file. ``prefilter=False`` parses even files the prefilter would skip,
        which is how the tests prove the prefilter never hides a finding. ``links`` (from the
        cross-file pass, `linker`) adds calls into the run's own CUDA extensions; ``requirements``
        reads the file as a pip requirements file whatever its name (a ``-r`` include)."""
        lines = line_count(data)
        if is_binary(data):
            return FileResult(path, errors=(FileError(path, BINARY_FILE),), lines=lines)
        language = "deps" if requirements else language_of(path)
        if language == "cuda":
            return self._check_cuda(path, data, lines, prefilter)
        if language in ("deps", "config"):
            return self._check_text(path, data, lines, language, "requirements.txt" if requirements else path)
        if language == "notebook":
            return self._check_notebook(path, data, lines, prefilter, links)
        present = present_triggers(self.python, data)
        setup_py = path.rsplit("/", 1)[-1] == "setup.py"  # its requirements need no Python trigger
        if prefilter and not setup_py and not is_candidate(self.python, data, present):
            return self._skipped(path, data, lines, self._parser)
        decoded = decode_python(data)
        tree = self._parser.parse(decoded.data)
        raw = self._python_matches(path, decoded.data, tree, present, links)
        problems: list[FileError] = []
        if setup_py:
            raw += self._setup_requirements(path, tree, problems)
        result = self._result(path, decoded, tree, self._reported(raw), lines, problems)
        return _with_facts(result, FileFacts(builds=extension_builds(raw)))

    def _setup_requirements(self, path: str, tree: ts.Tree, problems: list[FileError]) -> list[RawMatch]:
        """``setup(install_requires=[...])`` strings, judged by the dependency rules."""
        rules = self._package_rules_for("deps")
        found = []
        for spec, node in setup_requirements(tree.root_node):
            try:
                dependency = parse_requirement(spec, node.start_point.row + 1, node.start_point.column + 1)
            except InvalidRequirement as exc:
                problems.append(FileError(path, f"line {node.start_point.row + 1}: invalid requirement {spec!r} "
                                                f"in setup(): {exc}", partial=True))
                continue
            matched = match_package(dependency, rules)
            if matched is not None:
                found.append(RawMatch(matched[0], matched[1], node))
        return found

    def _python_matches(self, path: str, source: bytes, tree: ts.Tree, present: list[bytes],
                        links: LinkTable | None) -> list[RawMatch]:
        """The file's matches, builds included; `_reported` drops the rules matched only for builds."""
        raw = FileMatcher(self.python, source, tree.root_node).run(present)
        if links and self.link_rule is not None:
            raw += OpCallMatcher(links, self.link_rule, path, source, tree.root_node).run()
        return raw

    def _reported(self, raw: list[RawMatch]) -> list[RawMatch]:
        return [m for m in raw if m.rule.id not in self._unreported] if self._unreported else raw

    def _selected(self, rule: Rule) -> bool:
        return selected(rule, self.settings.select, self.settings.ignore)

    def _builder_rules(self) -> list[Rule]:
        """The Python rules that see extension builds, when the rule for calls into them is selected."""
        if self.link_rule is None:
            return []
        return [r for r in self._ruleset.rules if "python" in r.languages and BUILDERS & set(r.match.qualified)]

    @cached_property
    def link_rule(self) -> Rule | None:
        """The selected rule that reports Python calls into the run's own CUDA extensions."""
        return next((r for r in self._rules_for("python") if "custom-op-call" in r.match.constructs), None)

    def scan_code(self, path: str, data: bytes) -> CodeFacts:
        """Functions, kernels and op bindings of one C/C++/CUDA file, for the cross-file pass."""
        return scan_code(path, self._cuda_tree(decode_utf8(data).data).root_node)

    def _cuda_tree(self, source: bytes) -> ts.Tree:
        return self._cuda_parser_().parse(source)

    def _cuda_parser_(self) -> ts.Parser:
        if self._cuda_parser is None:
            self._cuda_parser = ts.Parser(ts.Language(tree_sitter_cuda.language()))
        return self._cuda_parser

    def _skipped(self, path: str, data: bytes, lines: int, parser: ts.Parser,
                 line_map: Callable[[int], int] | None = None) -> FileResult:
        """A file no rule can match: any ``lockin: ignore`` comment in it hides nothing (parsed only
        when it has one, to tell comments from strings)."""
        table = suppressions(data, _comment_checker(parser.parse(data)) if b"lockin:" in data else None)
        return FileResult(path, skipped=True, lines=lines, unused_suppressions=self._unused(path, table, line_map))

    def _check_cuda(self, path: str, data: bytes, lines: int, prefilter: bool) -> FileResult:
        index = self.cuda
        cuda_source = path.endswith(CUDA_SOURCE_SUFFIXES)  # device code throughout: always parsed
        facts = FileFacts(registers_ops=(b"PYBIND11_MODULE" in data or b"TORCH_LIBRARY" in data
                                         or b"RegisterOperators" in data) and _REGISTRATION.search(data) is not None)
        if prefilter and not cuda_source and not passes_prefilter(index, data):
            return _with_facts(self._skipped(path, data, lines, self._cuda_parser_()), facts)
        decoded = decode_utf8(data)
        tree = self._cuda_tree(decoded.data)
        raw = CudaFileMatcher(index, decoded.data, tree.root_node, cuda_source).run()
        return _with_facts(self._result(path, decoded, tree, raw, lines), facts)

    @property
    def cuda(self) -> CudaIndex:
        """Built on first use: a Python-only scan never pays for the C/C++ knowledge base."""
        if self._cuda is None:
            self._cuda = build_cuda_index(self._ruleset, self.settings.select, self.settings.ignore)
        return self._cuda

    def _result(self, path: str, decoded: Decoded, tree: ts.Tree, raw: list[RawMatch], lines: int,
                problems: list[FileError] | None = None) -> FileResult:
        errors = [FileError(path, decoded.problem, partial=True)] if decoded.problem else []
        errors += problems or []
        if tree.root_node.has_error:
            errors.append(FileError(path, _syntax_error(tree.root_node), partial=True))
        return self._finish(path, decoded.data, self._node_findings(path, decoded.data, raw), errors, lines,
                            tree=tree)

    def _finish(self, path: str, source: bytes, found: list[Finding], errors: list[FileError], lines: int,
                relocate: Callable[[Finding], Finding] | None = None, tree: ts.Tree | None = None,
                line_map: Callable[[int], int] | None = None) -> FileResult:
        """Fingerprints, then inline suppressions (judged on ``source``'s lines, markers in ``tree``'s
        comments only when it is given), then ``relocate`` (and ``line_map`` for unused comments)."""
        found.sort(key=Finding.sort_key)
        table = suppressions(source, _comment_checker(tree) if tree is not None else None)
        reported: list[Finding] = []
        hidden: list[Finding] = []
        for finding in _with_fingerprints(found):
            comment = table.match(finding.line, finding.rule_id)
            if comment is None:
                reported.append(finding)
            else:
                hidden.append(replace(finding, suppression="file" if comment is table.whole_file else "inline"))
        if relocate is not None:
            reported, hidden = [relocate(f) for f in reported], [relocate(f) for f in hidden]
        return FileResult(path, tuple(reported), tuple(errors), lines=lines, suppressed=tuple(hidden),
                          unused_suppressions=self._unused(path, table, line_map))

    def _node_findings(self, path: str, source: bytes, raw: list[RawMatch]) -> list[Finding]:
        found = []
        for match in raw:
            node = match.node
            line_start = node.start_byte - node.start_point.column
            end_line_start = node.end_byte - node.end_point.column
            line_end = source.find(b"\n", line_start)
            code = source[line_start : line_end if line_end >= 0 else len(source)].decode("utf-8", "replace")
            column = len(source[line_start : node.start_byte].decode("utf-8", "replace")) + 1
            end_column = len(source[end_line_start : node.end_byte].decode("utf-8", "replace")) + 1
            found.append(self._finding(path, match.rule, match.symbol, (node.start_point.row + 1, column,
                                       node.end_point.row + 1, end_column), code, match.depends_on))
        return found

    def _line_findings(self, path: str, text: str, matches: list[LineMatch]) -> list[Finding]:
        lines = text.splitlines()
        return [self._finding(path, m.rule, m.symbol, (m.line, m.column, m.line, m.end_column), lines[m.line - 1])
                for m in matches]

    def _finding(self, path: str, rule: Rule, symbol: str, span: tuple[int, int, int, int], code: str,
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
            targets=self._targets(info.targets),
            portable=choose_portable(info.portable, self.settings.torch_version),
            code=_SPACES.sub(" ", code.strip()),
            depends_on=depends_on,
        )

    # -- manifests, build/container files, notebooks --------------------------------------------
    def _rules_for(self, language: str) -> list[Rule]:
        return [r for r in self._ruleset.rules if language in r.languages and self._selected(r)]

    def _package_rules_for(self, language: str) -> list[PackageRule]:
        if language not in self._package_rules:
            self._package_rules[language] = compile_package_rules(self._rules_for(language))
        return self._package_rules[language]

    def _check_text(self, path: str, data: bytes, lines: int, language: str, kind: str) -> FileResult:
        """A manifest or build file; ``kind`` is the name that decides its format and rules."""
        decoded = decode_utf8(data)
        text = decoded.data.decode("utf-8", "replace")
        errors = [FileError(path, decoded.problem, partial=True)] if decoded.problem else []
        line_rules = self._line_rules.get(language)
        if line_rules is None:
            line_rules = self._line_rules[language] = compile_line_rules(self._rules_for(language))
        matches = match_lines(kind, text, line_rules)
        facts = FileFacts()
        if language == "deps":
            problems: list[str] = []
            facts = FileFacts(includes=manifest_includes(kind, text))
            try:
                found = dependencies(kind, text, problems)
            except ManifestError as exc:
                errors.append(FileError(path, str(exc)))
                found = []
            errors += [FileError(path, problem, partial=True) for problem in problems]
            matches += match_dependencies(found, self._package_rules_for(language))
        result = self._finish(path, decoded.data, self._line_findings(path, text, matches), errors, lines)
        return _with_facts(result, facts)

    def _check_notebook(self, path: str, data: bytes, lines: int, prefilter: bool,
                        links: LinkTable | None) -> FileResult:
        try:
            notebook = read_notebook(data.decode("utf-8", "replace"))
        except NotebookError as exc:
            return FileResult(path, errors=(FileError(path, str(exc)),), lines=lines)
        source = notebook.source.encode("utf-8")
        present = present_triggers(self.python, source)

        def place(line: int) -> CellLine:
            """Where a line of the joined cell source sits in the .ipynb."""
            return notebook.lines[min(line, len(notebook.lines)) - 1]

        def json_line(line: int) -> int:
            return place(line).json_line

        if prefilter and not is_candidate(self.python, source, present):
            return self._skipped(path, source, lines, self._parser, json_line)
        tree = self._parser.parse(source)
        raw = self._python_matches(path, source, tree, present, links)
        errors = [FileError(path, _syntax_error(tree.root_node), partial=True)] if tree.root_node.has_error else []

        def relocate(finding: Finding) -> Finding:
            at = place(finding.line)
            shift = at.json_column - 1
            return replace(finding, line=at.json_line, end_line=at.json_line, column=finding.column + shift,
                           end_column=finding.end_column + shift, cell=at.cell, cell_line=at.line)

        builds = tuple(replace(b, line=place(b.line).json_line, column=b.column + place(b.line).json_column - 1)
                       for b in extension_builds(raw))
        result = self._finish(path, source, self._node_findings(path, source, self._reported(raw)), errors, lines,
                              relocate, tree, json_line)
        return _with_facts(result, FileFacts(builds=builds))

    def _unused(self, path: str, table: Suppressions,
                line_map: Callable[[int], int] | None) -> tuple[UnusedSuppression, ...]:
        """Comments that hid nothing, at their line in the file (``line_map``: a notebook's .ipynb line).

        A comment naming only rules this run does not select (``--select LL710``, an ``ignore`` list)
        is not reported: it may well hide something in a full run. Unknown codes still are.
        """
        unused = table.unused()
        if not unused:
            return ()
        rules = self._rules_by_id

        def reportable(codes: frozenset[str]) -> bool:
            return ALL in codes or any(code not in rules or self._selected(rules[code]) for code in codes)

        return tuple(UnusedSuppression(path, line_map(c.line) if line_map else c.line, tuple(sorted(c.codes)))
                     for c in unused if reportable(c.codes))

    @cached_property
    def _rules_by_id(self) -> dict[str, Rule]:
        return self._ruleset.by_id()

    def _targets(self, targets: Mapping[str, TargetInfo]) -> dict[str, TargetInfo]:
        return {name: targets.get(name, _UNKNOWN) for name in self.settings.targets}


def _with_facts(result: FileResult, facts: FileFacts) -> FileResult:
    """Attach what the cross-file pass needs, when there is anything (most files have nothing)."""
    return replace(result, facts=facts) if facts != FileFacts() else result


def _dependencies(depends_on: tuple[Location, ...]) -> str:
    """``"; it needs kernel `k` (csrc/k.cu:12)"``: the places a user has to follow, in the message."""
    if not depends_on:
        return ""
    shown = ", ".join(f"{d.message} ({d.path}:{d.line})" for d in depends_on[:_SHOWN_DEPENDENCIES])
    more = len(depends_on) - _SHOWN_DEPENDENCIES
    return f"; it needs {shown}" + (f" and {more} more" if more > 0 else "")


def _comment_checker(tree: ts.Tree) -> Callable[[int], bool]:
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


def _syntax_error(root: ts.Node) -> str:
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

