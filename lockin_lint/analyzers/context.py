"""What every analyzer of one run shares: the settings, the selected rules compiled into indexes, and
the parsers.

Built once per `Engine` (so once per worker process) and handed to each analyzer through its
`FileContext`; the C/C++ index and parser are built on first use, so a Python-only scan never pays
for the C/C++ knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Mapping

import tree_sitter as ts
import tree_sitter_python

from ..kb.python_index import PythonIndex, selected
from ..kb.ruleset import RuleSet
from ..model import Rule, Settings
from .extensions import BUILDERS
from .op_calls import LinkTable

if TYPE_CHECKING:  # imported on first use: a run on Python files never reads C/C++, a manifest or a build file
    from ..kb.cuda_index import CudaIndex
    from .build_rules import LineRule
    from .manifest_reader import PackageRule  # `packaging` alone took 20-35 ms to import

_PY_LANGUAGE = ts.Language(tree_sitter_python.language())


class RunContext:
    """Rules compiled for one run's settings, and the parsers; reusable for any number of files."""

    def __init__(self, ruleset: RuleSet, settings: Settings) -> None:
        self.settings = settings
        self.ruleset = ruleset
        #: Rules matched only so that the extension builds LL710 needs are seen, not reported.
        self.unreported = frozenset(r.id for r in self._builder_rules() if not self.selected(r))
        self.python: PythonIndex = ruleset.python_index(settings.select, settings.ignore, self.unreported)
        self.python_parser = ts.Parser(_PY_LANGUAGE)
        self._cuda: CudaIndex | None = None
        self._cuda_parser: ts.Parser | None = None
        self._line_rules: dict[str, list[LineRule]] = {}
        self._package_rules: dict[str, list[PackageRule]] = {}

    def selected(self, rule: Rule) -> bool:
        return selected(rule, self.settings.select, self.settings.ignore)

    def rules_for(self, language: str) -> list[Rule]:
        return [r for r in self.ruleset.for_language(language) if self.selected(r)]

    def _builder_rules(self) -> list[Rule]:
        """The Python rules that see extension builds, when the rule for calls into them is selected."""
        if self.link_rule is None:
            return []
        return [r for r in self.ruleset.for_language("python") if BUILDERS & set(r.match.qualified)]

    @cached_property
    def link_rule(self) -> Rule | None:
        """The selected rule that reports Python calls into the run's own CUDA extensions."""
        return next((r for r in self.rules_for("python") if "custom-op-call" in r.match.constructs), None)

    @cached_property
    def rules_by_id(self) -> Mapping[str, Rule]:
        return self.ruleset.lookup()

    @property
    def cuda(self) -> CudaIndex:
        """Built on first use: a Python-only scan never pays for the C/C++ knowledge base."""
        if self._cuda is None:
            self._cuda = self.ruleset.cuda_index(self.settings.select, self.settings.ignore)
        return self._cuda

    @property
    def cuda_parser(self) -> ts.Parser:
        if self._cuda_parser is None:
            import tree_sitter_cuda  # a run on Python files never loads the C/C++ grammar

            self._cuda_parser = ts.Parser(ts.Language(tree_sitter_cuda.language()))
        return self._cuda_parser

    def package_rules(self, language: str) -> list[PackageRule]:
        if language not in self._package_rules:
            from .manifest_reader import compile_package_rules

            self._package_rules[language] = compile_package_rules(self.rules_for(language))
        return self._package_rules[language]

    def line_rules(self, language: str) -> list[LineRule]:
        if language not in self._line_rules:
            from .build_rules import compile_line_rules

            self._line_rules[language] = compile_line_rules(self.rules_for(language))
        return self._line_rules[language]


@dataclass(frozen=True)
class FileContext:
    """One file's request: the run's shared state and what this call asks for."""

    run: RunContext
    #: The file's line count (for scores), counted once by the engine.
    lines: int
    #: ``False`` parses even files the prefilter would skip (how tests prove it never hides a finding).
    prefilter: bool = True
    #: Calls into the run's own CUDA extensions, from the cross-file pass (`project.linker`).
    links: LinkTable | None = None
    #: The name that decides the file's format: its path, or ``requirements.txt`` for a ``-r`` include.
    kind: str = ""
