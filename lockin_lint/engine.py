"""The pure core: (path, bytes, rules, settings) in, findings out. No file system, no processes.

Everything else (discovery, the process pool, the CLI, editors) wraps `Engine.check`, so the same
function is tested directly and used everywhere (Fixit's ``fixit_bytes`` is the model). The engine
only dispatches: each kind of file has an analyzer (`analyzers/`), found through the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .analyzers import analyzer_for
from .analyzers.context import FileContext, RunContext
from .analyzers.source import BINARY_FILE, is_binary, normalize_bytes
from .kb.python_index import PythonIndex
from .kb.ruleset import RuleSet
from .limits import MAX_FILE_BYTES, LimitError, too_big
from .model import FileError, FileResult, Rule, Settings

if TYPE_CHECKING:
    from .analyzers.op_calls import LinkTable


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


class Engine:
    """Rules compiled for one run's settings, and the parsers; reusable for any number of files."""

    def __init__(self, ruleset: RuleSet, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.run = RunContext(ruleset, self.settings)

    def check(self, path: str, data: bytes, prefilter: bool = True, links: LinkTable | None = None,
              requirements: bool = False) -> FileResult:
        """Findings for one file. ``prefilter=False`` parses even files the prefilter would skip,
        which is how the tests prove the prefilter never hides a finding. ``links`` (from the
        cross-file pass, `linker`) adds calls into the run's own CUDA extensions; ``requirements``
        reads the file as a pip requirements file whatever its name (a ``-r`` include)."""
        if len(data) > MAX_FILE_BYTES:
            return FileResult(path, errors=(FileError(path, too_big(len(data)), partial=True),), skipped=True)
        data = normalize_bytes(data)
        lines = line_count(data)
        if is_binary(data):
            return FileResult(path, errors=(FileError(path, BINARY_FILE),), lines=lines)
        kind = "requirements.txt" if requirements else path
        try:
            return analyzer_for(kind).check(path, data, FileContext(self.run, lines, prefilter, links, kind))
        except (RecursionError, LimitError) as exc:
            message = "nested too deeply to analyse" if isinstance(exc, RecursionError) else str(exc)
            return FileResult(path, errors=(FileError(path, message),), lines=lines)
        except Exception as exc:  # noqa: BLE001 - one odd file must not stop the run (docs/reliability.md)
            return FileResult(path, errors=(FileError(path, f"internal error, please report: "
                                                           f"{type(exc).__name__}: {exc}"),), lines=lines)

    def prepare(self, paths: list[str]) -> None:
        """Compile now what checking ``paths`` will need (the C/C++ index when there is C/C++ code).

        Called before the process pool forks, so that its workers inherit the compiled indexes
        instead of each building them again (0.4 s of CPU per worker for the C/C++ index)."""
        if any(analyzer_for(path).language == "cuda" for path in paths):
            self.run.cuda.compile()
            _ = self.run.cuda_parser

    @property
    def python(self) -> PythonIndex:
        return self.run.python

    @property
    def link_rule(self) -> Rule | None:
        """The selected rule that reports Python calls into the run's own CUDA extensions."""
        return self.run.link_rule
