"""Shared, immutable types: the one place every stage of the pipeline agrees on.

Keeping every table (targets, statuses, categories) here means the schema, the
formatters and the scoring code cannot drift apart: they all import from this module.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Iterator, Mapping, TypeVar

_T = TypeVar("_T")

#: Every target lockin-lint judges code against, in display order.
TARGETS: tuple[str, ...] = ("rocm", "ascend", "mlu", "musa", "xpu", "mps", "cpu")

#: Statuses of DESIGN.md, from most to least portable.
STATUSES: tuple[str, ...] = ("native", "rename", "equivalent", "missing", "unknown")

#: Rule categories; the hundreds digit of a Python rule id follows this order.
CATEGORIES: tuple[str, ...] = (
    "device-api",
    "device-string",
    "distributed",
    "library",
    "plugin",
    "build",
    "kernel",
    "env",
    "operator",
)

#: How the cross-file passes read a file they need again: its bytes, or None when it cannot be read.
Reader = Callable[[str], bytes | None]

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

LANGUAGES: tuple[str, ...] = ("python", "cuda", "deps", "config")


@dataclass(frozen=True, slots=True)
class TargetInfo:
    """What a finding means on one target: how portable it is and what to write instead."""

    status: str
    replacement: str | None = None
    min_torch: str | None = None
    #: Facts for older torch releases where the source differs (Ascend's lists per torch version):
    #: (version, status, replacement), each valid from that version up to the next one listed; the
    #: entry itself is the newest fact. `--torch-version` picks one (`for_torch`).
    versions: tuple[tuple[str, str, str | None], ...] = ()

    @classmethod
    def from_raw(cls, entry: Mapping[str, Any]) -> TargetInfo:
        """From a rule file's target entry (validated by the schema)."""
        versions = entry.get("versions") or {}
        return cls(entry["status"], entry.get("replacement"), entry.get("min_torch"),
                   tuple(sorted(((v, f["status"], f.get("replacement")) for v, f in versions.items()),
                                key=lambda item: _version_key(item[0]))))

    def for_torch(self, torch_version: str | None) -> TargetInfo:
        """The fact for that torch release: the newest listed version at or below it (the oldest one
        for a release older than every list); this entry's own fact when no version is configured or
        the release is newer than every listed one."""
        if not self.versions or torch_version is None:
            return self
        wanted = _version_key(torch_version)
        if wanted > _version_key(self.versions[-1][0]):
            return TargetInfo(self.status, self.replacement, self.min_torch)
        chosen = [item for item in self.versions if _version_key(item[0]) <= wanted] or [self.versions[0]]
        _, status, replacement = chosen[-1]
        return TargetInfo(status, replacement, self.min_torch)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


@dataclass(frozen=True, slots=True)
class Portable:
    """A device-agnostic rewrite, valid from ``min_torch`` on (None: any version)."""

    replacement: str
    min_torch: str | None = None


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """Per-symbol knowledge: the merged target table of a rule and its symbol override."""

    targets: Mapping[str, TargetInfo]
    portable: tuple[Portable, ...] = ()


class SymbolTable(Mapping[str, SymbolInfo]):
    """Per-symbol overrides of a rule, merged with its defaults only when a symbol is looked up.

    The generated packs carry ~14,000 overrides and a scan touches a few hundred; keeping the raw,
    already-validated YAML values until then makes the cached rule set cheap to unpickle (plain
    dicts load at C speed, dataclass instances do not).
    """

    __slots__ = ("_raw", "_default", "_built")

    def __init__(self, raw: Mapping[str, Mapping[str, object]], default: SymbolInfo) -> None:
        self._raw = raw
        self._default = default
        self._built: dict[str, SymbolInfo] = {}

    def __getitem__(self, symbol: str) -> SymbolInfo:
        info = self._built.get(symbol)
        if info is None:
            info = self._built[symbol] = self._merge(self._raw[symbol])
        return info

    def _merge(self, override: Mapping[str, object]) -> SymbolInfo:
        targets = dict(self._default.targets)
        for name, entry in (override.get("targets") or {}).items():  # type: ignore[attr-defined]
            targets[name] = TargetInfo.from_raw(entry)
        if "portable" in override:
            portable = tuple(Portable(p["replacement"], p.get("min_torch")) for p in override["portable"])  # type: ignore[attr-defined]
        else:
            portable = self._default.portable
        return SymbolInfo(targets, portable)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SymbolTable) and (self._raw, self._default) == (other._raw, other._default)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type[SymbolTable], tuple[Mapping[str, Mapping[str, object]], SymbolInfo]]:
        return (SymbolTable, (self._raw, self._default))


@dataclass(frozen=True, slots=True)
class StringContext:
    """Where a string literal counts as a value of some kind (a device, a backend, an env var).

    Exactly one of ``call``/``method``/``subscript``/``contains`` names the place, or none of
    them with ``keyword`` set, meaning "this keyword argument of any call". ``named`` alone is a
    regex for the name the value is given: an assignment target, a parameter with that default, a
    dict key, the other side of ``==``/``!=``/``in``, or the option a call's default is for
    (``add_argument("--device", default=...)``, ``getattr(args, "device", ...)``).
    """

    call: str | None = None
    method: str | None = None
    position: int | None = None
    keyword: str | None = None
    subscript: str | None = None
    contains: str | None = None
    named: str | None = None


@dataclass(frozen=True, slots=True)
class CallCondition:
    """Extra argument conditions a qualified call must meet (e.g. ``load`` with ``.cu`` sources)."""

    any_string: str | None = None
    keywords: tuple[str, ...] = ()
    true_keywords: tuple[str, ...] = ()
    #: ``call: true``: the use must be a call; with no other condition any call qualifies.
    call: bool = False
    #: The name is called (``cp.zeros(3)``), not only read (``cp.float32``); alone, that is the whole condition.
    calls: bool = False
    #: The value is used (compared, parsed, printed), not only tested (``if x:``, ``x is None``).
    value_used: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    """The ``match`` section of a rule, normalised."""

    qualified: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    string_pattern: str | None = None
    string_contexts: tuple[StringContext, ...] = ()
    when: CallCondition | None = None
    triggers: tuple[str, ...] = ()
    # C/C++/CUDA
    identifiers: tuple[str, ...] = ()
    scoped: tuple[str, ...] = ()
    scoped_prefixes: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    constructs: tuple[str, ...] = ()
    asm: str | None = None
    # dependency manifests and build/container/CI files
    files: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    local_versions: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the knowledge base, as loaded from YAML and validated."""

    id: str
    name: str
    category: str
    languages: tuple[str, ...]
    severity: str
    message: str
    match: Match
    default: SymbolInfo
    symbols: SymbolTable
    docs: str
    source: str
    min_torch: str | None = None
    #: What SARIF viewers show as the alert's title; empty: derived from the message (`kb.titles`).
    title: str = ""

    def info_for(self, symbol: str) -> SymbolInfo:
        """The target table for ``symbol``: its override when the rule has one."""
        return self.symbols[symbol] if symbol in self.symbols else self.default


@dataclass(frozen=True, slots=True)
class Location:
    """A place in another file that a finding points to (a SARIF related location)."""

    path: str
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class Replacement:
    """One text edit of a fix: the region (1-based, end exclusive) and what replaces it (SARIF)."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


@dataclass(frozen=True, slots=True)
class FixMark:
    """That ``check --fix`` can rewrite a finding: how safely, into what, and (when computed) the edits.

    ``safe`` fixes keep behaviour wherever the original code ran (a CUDA machine); ``unsafe`` ones may
    change it (a reseeded CPU generator, a receiver that might not be a tensor, a 0 returned instead
    of an exception) and need ``--unsafe-fixes``.
    """

    applicability: str  # "safe" | "unsafe"
    message: str
    replacements: tuple[Replacement, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """One place where scanned code depends on CUDA."""

    rule_id: str
    category: str
    severity: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    symbol: str
    message: str
    targets: Mapping[str, TargetInfo]
    portable: Portable | None = None
    fingerprint: str = ""
    code: str = ""
    #: Why the finding is hidden ("inline", "file", "baseline"); None for a reported finding.
    suppression: str | None = None
    #: In a notebook: the cell (1-based, as Jupyter counts) and the line in it; line/column are the
    #: position in the .ipynb file.
    cell: int | None = None
    cell_line: int | None = None
    #: The findings elsewhere whose porting this one waits for (a Python call into a custom CUDA
    #: extension points at its kernels). Such a finding costs nothing itself: its kernels carry the
    #: effort, once each, however many call sites reach them.
    depends_on: tuple[Location, ...] = ()
    #: Targets the scanned code already has a path for, and how (``(("rocm", "preprocessor
    #: branch"),)``): their status is ``native`` because the project ported this construct itself.
    handled: tuple[tuple[str, str], ...] = ()
    #: Other CUDA-only names of the same construct that joined this finding instead of making their
    #: own (``cudaMemcpyHostToDevice`` in a ``cudaMemcpy`` call): one construct, one finding.
    extra_symbols: tuple[str, ...] = ()
    #: Set by the fix stage when ``check --fix`` (or ``--unsafe-fixes``) can rewrite this finding.
    fix: FixMark | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule_id, self.symbol)


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be scanned, or only partly (``partial``): reported, never fatal.

    A partial scan (a syntax error the parser recovered from, invalid UTF-8) still yields findings for
    what parsed, so it does not fail a run by itself; a file that could not be read at all does.
    """

    path: str
    message: str
    partial: bool = False


@dataclass(frozen=True, slots=True)
class UnusedSuppression:
    """A ``lockin: ignore`` comment that hid nothing (Ruff's RUF100)."""

    path: str
    line: int
    codes: tuple[str, ...]
    #: As written: ``lockin: ignore`` or ``noqa`` (messages quote the comment the user wrote).
    marker: str = "lockin: ignore"


@dataclass(frozen=True, slots=True)
class ExtensionBuild:
    """A CUDA extension a Python file builds: ``CUDAExtension(...)`` or ``load(...)`` of CUDA sources.

    ``sources`` are the source-file strings as written (resolved later against the run's files);
    ``variable`` is the name ``ext = load(...)`` binds the loaded module to.
    """

    name: str
    sources: tuple[str, ...]
    variable: str | None
    line: int
    column: int


#: Metadata key of a dataclass field that only lives in memory: the result cache does not store it.
TRANSIENT = "transient"


@dataclass(frozen=True, slots=True)
class RocmCallers:
    """A Python function whose every call in its file is kept off a target, ROCm first of all
    (`analyzers.python_callers`): its name, the (rule, line) of its matches not handled on that
    target, the lines of those calls, the target, and the no-CUDA flag that keeps it off, if one does."""

    name: str
    places: tuple[tuple[str, int], ...]
    calls: tuple[int, ...]
    target: str = "rocm"
    #: What keeps the calls off the target when no platform test does: a module flag the ROCm build
    #: sets True (``SKIP_CUDA_BUILD set True for the ROCm build at line 49``, `python_rocm_skip_flags`).
    why: str = ""
    #: The instance flag, set True only where CUDA is absent, whose false side keeps some call off
    #: the target (`analyzers.python_no_cuda_flags`); "" when each call's own dispatch does.
    flag: str = ""
    #: The line of the device-agnostic path every call's CUDA test sends this target down first
    #: (``if not x.is_cuda: return F.layer_norm(x)``, `analyzers.python_cuda_exits`); 0 when none does.
    agnostic: int = 0


@dataclass(frozen=True, slots=True)
class FlagImport:
    """Imports behind a flag another module of the project computes (`analyzers.python_imported_flags`):
    ``if TYPE_CHECKING or HAS_TRITON: import triton ... else: <placeholders>``, with ``HAS_TRITON``
    imported ``from module`` (as written, ``.importing`` relative to the file), the one package the
    body imports, and the (rule, line) of its matches not yet handled everywhere."""

    flag: str
    module: str
    package: str
    places: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class UnusedImport:
    """A module-level optional import of public names that the module sets to ``None`` when the import
    fails and reads nowhere (`analyzers.python_fallback_imports`): the names, the (rule, line) of its
    matches and the line of its ``try``; unused if no other file of the project imports them."""

    names: tuple[str, ...]
    places: tuple[tuple[str, int], ...]
    line: int


@dataclass(frozen=True, slots=True)
class CudaRebind:
    """``torch.cuda`` names a Python file's function rebinds for good to another backend's
    (vLLM's ``torch.cuda.stream = torch.xpu.stream``), a function the ``__init__`` of a class derived
    from ``base`` (imported ``from module``) runs (`analyzers.python_cuda_rebinds`): the target, and
    per name (``stream``) what it is bound to (``torch.xpu.stream``) and the line; for a name rebound
    only under that backend's capability probe (``if supports_xpu_graph():``), the probe as written
    and its line, per name."""

    module: str
    base: str
    target: str
    names: tuple[tuple[str, str, int], ...]
    probes: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What one file tells the cross-file pass (`linker`), gathered while it is checked anyway."""

    builds: tuple[ExtensionBuild, ...] = ()
    #: A C/C++/CUDA file spelling ``PYBIND11_MODULE`` or ``TORCH_LIBRARY``: it may bind ops to Python.
    registers_ops: bool = False
    #: ``-r``/``-c`` files a requirements file includes: (path as written, line).
    includes: tuple[tuple[str, int], ...] = ()
    #: A C/C++/CUDA file with names spelled like unknown CUDA APIs: its ``#include "..."`` headers, where
    #: the project may declare those names itself (`project.declared_names` looks).
    headers: tuple[str, ...] = ()
    #: A Python file's functions called only off ROCm (or off another target) in the file: that
    #: target's path one call up, when no other file spells the name (`project.rocm_callers` looks).
    rocm_callers: tuple[RocmCallers, ...] = ()
    #: A Python file's tensor-method findings (LL904) on receivers of unknown type, as (rule, line,
    #: column), and the tensor-method names its classes define: a finding is dropped when a class of
    #: the project defines its method (`project.tensor_methods` looks).
    unproven_methods: tuple[tuple[str, int, int], ...] = ()
    defined_methods: tuple[str, ...] = ()
    #: A Python file's imports behind a flag imported from another module: handled when that module's
    #: probe reading accepts the flag (`project.imported_probes` looks).
    flag_imports: tuple[FlagImport, ...] = ()
    #: A Python file's matches in branches on a capability of the project's accelerator object, as
    #: (rule, line, receiver, method, the method's value for which the branch runs): handled for the
    #: targets whose backend class answers otherwise (`project.accelerator_capabilities` looks).
    capability_tests: tuple[tuple[str, int, str, str, bool], ...] = ()
    #: A Python file's optional imports of public names it never reads: handled as unused when no
    #: other file of the project imports those names (`project.unused_imports` looks).
    unused_imports: tuple[UnusedImport, ...] = ()
    #: A Python file's matches in the body of ``if args.gpu:`` (or ``cuda``) with an ``else`` holding no
    #: match, as (option, rule, line): the CPU is handled by the ``else`` when the run declares
    #: ``--<option>`` a ``store_true`` switch (`project.gpu_options` looks).
    gpu_options: tuple[tuple[str, str, int], ...] = ()
    #: A Python file's rebinding of ``torch.cuda`` names to another backend's, run by a subclass's
    #: ``__init__``: handled for that target in the base class's module (`project.cuda_rebinds` looks).
    cuda_rebinds: tuple[CudaRebind, ...] = ()
    #: A Python file's module-level names its ROCm build sets True, with the line that does, and its
    #: matches on the false side of such a name imported from another module, as (name, module as
    #: written, (rule, line) places): handled for rocm when that module binds the name so
    #: (`project.imported_rocm_flags` looks).
    rocm_flags: tuple[tuple[str, int], ...] = ()
    rocm_flag_uses: tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...] = ()
    #: A Python file's module-level names bound to a skip mark whose test runs only on ROCm, with the
    #: line, and its matches in definitions decorated by a bare name it binds or imports, as (name,
    #: module as written or "" for the file itself, (rule, line) places): handled off ROCm when the
    #: name is such a mark (`project.rocm_only_marks` looks).
    rocm_only_marks: tuple[tuple[str, int], ...] = ()
    rocm_only_mark_uses: tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...] = ()
    #: A parsed C/C++/CUDA file's functions, kernels and op bindings (`analyzers.cpp_facts.CodeFacts`),
    #: taken from the parse the file's check made anyway, so the cross-file pass does not parse it
    #: again. Kept in memory only (`TRANSIENT`): a result from the result cache has none, and the pass
    #: then parses the file itself.
    code: Any = field(default=None, compare=False, metadata={TRANSIENT: True})


@dataclass(frozen=True, slots=True)
class FileResult:
    """What the pure core returns for one file."""

    path: str
    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    skipped: bool = False
    lines: int = 0
    suppressed: tuple[Finding, ...] = ()
    unused_suppressions: tuple[UnusedSuppression, ...] = ()
    facts: FileFacts | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Run-wide choices that change what is reported, not how files are parsed."""

    targets: tuple[str, ...] = TARGETS
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    torch_version: str | None = None
    jobs: int = 0
    extend_exclude: tuple[str, ...] = ()
    #: Replaces the default directory excludes when set (config ``exclude``).
    exclude: tuple[str, ...] | None = None
    #: (glob, rule codes) pairs: findings in matching files are dropped for those rules.
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Apply excludes to files named explicitly too (pre-commit passes every staged file).
    force_exclude: bool = False
    respect_gitignore: bool = True


@dataclass(slots=True)
class RunResult:
    """Everything a formatter needs about one run."""

    files_scanned: int = 0
    files_skipped: int = 0
    lines_scanned: int = 0
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    #: Findings hidden by an inline comment or the baseline (SARIF lists them as suppressed).
    suppressed: list[Finding] = field(default_factory=list)
    unused_suppressions: list[UnusedSuppression] = field(default_factory=list)
    #: Lines per scanned file (display path), for per-file and per-directory scores.
    file_lines: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> list[FileError]:
        """Files that could not be scanned at all: errors proper."""
        return [e for e in self.errors if not e.partial]

    @property
    def partial_parses(self) -> list[FileError]:
        """Files scanned around code the parser could not read (macros it does not know, invalid
        UTF-8): a notice, not an error; their findings are kept."""
        return [e for e in self.errors if e.partial]


def with_handled(finding: Finding, handled: Mapping[str, str]) -> Finding:
    """``finding`` with the targets in ``handled`` (target -> how) made ``native`` and noted.

    Targets the run does not show are ignored; a finding every shown target handles is still
    returned (callers decide whether to drop it).
    """
    shown = {t: how for t, how in handled.items() if t in finding.targets}
    if not shown:
        return finding
    targets = dict(finding.targets)
    for target in shown:
        targets[target] = TargetInfo("native")
    notes = dict(finding.handled) | shown
    return evolve(finding, targets=targets, handled=tuple(sorted(notes.items())))


def with_open_handled(finding: Finding, handled: Mapping[str, str]) -> Finding:
    """`with_handled` for the targets still open: shown, not ``native``, and not noted by an earlier
    reading (a later pass never replaces an earlier pass's note). The whole-project passes that credit
    targets each wrote this filter themselves."""
    noted = dict(finding.handled)
    open_ = {target: how for target, how in handled.items()
             if target in finding.targets and finding.targets[target].status != "native" and target not in noted}
    return with_handled(finding, open_) if open_ else finding


def reported_apart(finding: Finding, note: str) -> Finding:
    """``finding`` kept but set apart: every open target handled with ``note`` and ``info`` severity,
    which keeps it out of the effort estimate and the default gates (an env registry entry no code
    reads, a test that is always skipped)."""
    return evolve(with_open_handled(finding, dict.fromkeys(finding.targets, note)), severity="info")


# -- the JSON shape of a finding (JSON output, SARIF properties and the report embed it) -------------
def targets_dict(finding: Finding) -> dict[str, dict[str, Any]]:
    """``{target: {status, replacement[, min_torch]}}``, as JSON, SARIF and the report print it."""
    return {
        name: {"status": info.status, "replacement": info.replacement}
        | ({"min_torch": info.min_torch} if info.min_torch else {})
        for name, info in finding.targets.items()
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    head, tail = finding_parts(finding)
    return {**head, "targets": targets_dict(finding), **tail}


def finding_parts(finding: Finding) -> tuple[dict[str, Any], dict[str, Any]]:
    """`finding_dict` without its ``targets``: the keys before them, and those after. ``--format json``
    encodes each distinct table of targets once (a few hundred for thousands of findings) and the rest
    of each finding around it (`output.json_format`)."""
    head: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "category": finding.category,
        "severity": finding.severity,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "symbol": finding.symbol,
        "message": finding.message,
        "fingerprint": finding.fingerprint,
    }
    tail: dict[str, Any] = {}
    if finding.cell is not None:
        tail["cell"], tail["cell_line"] = finding.cell, finding.cell_line
    if finding.portable is not None:
        tail["portable"] = {"replacement": finding.portable.replacement, "min_torch": finding.portable.min_torch}
    if finding.handled:
        tail["handled"] = dict(finding.handled)
    if finding.extra_symbols:
        tail["extra_symbols"] = list(finding.extra_symbols)
    if finding.fix is not None:
        tail["fix"] = {"applicability": finding.fix.applicability, "message": finding.fix.message}
    if finding.depends_on:
        tail["depends_on"] = [{"path": d.path, "line": d.line, "column": d.column, "message": d.message}
                              for d in finding.depends_on]
    return head, tail


def _quick_state(cls: type) -> None:
    """Give a slotted dataclass a faster ``__getstate__``/``__setstate__`` holding the same state.

    Results cross process boundaries (pool workers to the parent) and are written to the result cache
    as pickles, and the compiled rules are read back from one at every start: the methods
    ``dataclass(slots=True)`` generates call ``fields()`` for each object and set each field through
    ``object.__setattr__`` (a third of a second per 30,000 findings and results on the torch
    package). These read the fields with one ``attrgetter`` and set them through the slots'
    descriptors; the state is the same sequence of field values, so a pickle either wrote loads in
    either. A subclass keeps the generated methods, which know its own fields.
    """
    names = tuple(f.name for f in fields(cls))
    setters = tuple(cls.__dict__[name].__set__ for name in names)
    values = operator.attrgetter(*names)
    generated_get, generated_set = cls.__getstate__, cls.__setstate__  # type: ignore[attr-defined]
    single = len(names) == 1

    def __getstate__(self: Any) -> Any:
        if type(self) is not cls:
            return generated_get(self)
        return (values(self),) if single else values(self)

    def __setstate__(self: Any, state: Any) -> None:
        if type(self) is not cls:
            generated_set(self, state)
            return
        for setter, value in zip(setters, state):
            setter(self, value)

    setattr(cls, "__getstate__", __getstate__)
    setattr(cls, "__setstate__", __setstate__)
    _QUICK[cls] = ({name: position for position, name in enumerate(names)}, setters,
                   (lambda self: [values(self)]) if single else (lambda self: list(values(self))))


#: Per class `_quick_state` was given: each field's position, the slots' setters, and what reads the
#: fields in that order (`evolve`).
_QUICK: dict[type, tuple[dict[str, int], tuple[Callable[[Any, Any], None], ...], Callable[[Any], list[Any]]]] = {}


def evolve(obj: _T, **changes: Any) -> _T:
    """``dataclasses.replace(obj, **changes)``, for the model's slotted classes without its walk of
    ``fields()`` and its keyword call of ``__init__`` (none of them has an ``__init__`` that does more
    than set the fields): the whole-project passes replace thousands of findings and results in the
    parent after the pool is done (a third of the time of `replace` itself). Another class, or a name
    the class does not have, goes to `replace`, which gives its own answer or error."""
    quick = _QUICK.get(type(obj))
    if quick is None or not changes.keys() <= quick[0].keys():
        return replace(obj, **changes)  # type: ignore[type-var]  # every caller passes a dataclass
    positions, setters, read = quick
    state = read(obj)
    for name, value in changes.items():
        state[positions[name]] = value
    new = object.__new__(type(obj))
    for setter, value in zip(setters, state):
        setter(new, value)
    return new


for _slotted in (TargetInfo, Portable, SymbolInfo, StringContext, CallCondition, Match, Rule, Location, Replacement,
                 FixMark, Finding, FileError, UnusedSuppression, ExtensionBuild, RocmCallers, FileFacts, FileResult,
                 Settings):
    _quick_state(_slotted)
del _slotted
