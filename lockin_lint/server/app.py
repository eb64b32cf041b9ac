"""The language server: LSP requests and notifications wired to the CLI's own checking.

pygls 2 and lsprotocol speak the protocol (framing, JSON-RPC, capability negotiation, standard
errors for unknown methods, ``shutdown``/``exit``); this module only decides when to check a buffer
and turns the results into diagnostics, hovers and code actions. Rules are loaded once per process
and compiled once per distinct settings (`api.engine_for`); a change re-checks that one buffer in
memory, after a short quiet time so that a burst of keystrokes costs one check.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from .. import __version__
from ..kb.ruleset import RuleSet
from ..model import Finding
from ..project.baseline import BaselineError
from ..project.config import ConfigError
from ..api import check_bytes
from .actions import FIX_ALL_KIND, FixContext, fix_actions, fix_all_action, suppression_actions
from .checking import DocumentResult, check_document, checked_name, fix_options
from .convert import Lines, hover_markdown, to_diagnostic, unused_diagnostic
from .notebooks import by_cell, notebook_json
from .workspace import Options, Resolved, Resolver, parse_options

CONFIG_NAMES = ("pyproject.toml", "lockin-lint.toml")
log = logging.getLogger("lockin_lint.server")


@dataclass
class Checked:
    """The last check of one open document, kept for hovers and code actions on the same version."""

    version: int | None
    name: str
    resolved: Resolved
    result: DocumentResult
    diagnostics: list[types.Diagnostic] = field(default_factory=list)
    #: A notebook cell's findings are placed in the cell; it is suppressed like Python, not fixed here.
    cell: bool = False


#: Notebooks whose Python cells the client sends one by one (LSP 3.17 notebook sync).
NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions([types.NotebookDocumentFilterWithCells(
    cells=[types.NotebookCellLanguage("python")], notebook="*")])


class LockinServer(LanguageServer):
    """The server's state: the rule set, the configuration resolver and the last check per document."""

    def __init__(self, ruleset: RuleSet) -> None:
        super().__init__("lockin-lint", __version__, notebook_document_sync=NOTEBOOK_SYNC)
        self.ruleset = ruleset
        self.rules = ruleset.by_id()
        self.options = Options()
        self.resolver = Resolver(ruleset, self.options, [])
        self.checked: dict[str, Checked] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.last_change: dict[str, float] = {}
        self.startup_error: str | None = None
        self._shown_errors: set[str] = set()

    # -- checking ------------------------------------------------------------------------------------
    def check(self, uri: str) -> Checked | None:
        """Check the open document (or the notebook it is a cell of) now and publish its diagnostics;
        never raises."""
        self.pending.pop(uri, None)
        if self.workspace.get_notebook_document(notebook_uri=uri) is not None:
            self.check_notebook(uri)
            return None
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            self.check_notebook(notebook.uri)
            return self.checked.get(uri)
        document = self.workspace.get_text_document(uri)
        path = _path(uri)
        name = checked_name(path, document.language_id)
        if name is None:
            return None
        checked = self._run(uri, document.source, path, name, document.version)
        if checked is None:
            return None
        lines = Lines(document)
        checked.diagnostics = [to_diagnostic(f, lines, self.rules, self.options.docs_url)
                               for f in checked.result.findings]
        checked.diagnostics += [unused_diagnostic(u, lines) for u in checked.result.unused_suppressions]
        self.checked[uri] = checked
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, checked.diagnostics,
                                                                              document.version))
        return checked

    def check_notebook(self, uri: str) -> None:
        """Check a notebook document as its ``.ipynb`` file, and publish each cell's findings on the cell."""
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is None:
            return
        self.pending.pop(uri, None)
        for cell in notebook.cells:
            self.pending.pop(cell.document, None)

        def cell_text(cell_uri: str) -> tuple[str, str | None]:
            document = self.workspace.get_text_document(cell_uri)
            return document.source, document.language_id

        text = notebook_json(notebook, cell_text)
        path = _path(uri)
        checked = self._run(uri, text, path, "notebook.ipynb", notebook.version)
        placed = by_cell(text, checked.result.findings) if checked is not None else {}
        for index, cell in enumerate(notebook.cells):
            document = self.workspace.get_text_document(cell.document)
            findings = tuple(placed.get(index, ()))
            lines = Lines(document)
            diagnostics = [to_diagnostic(f, lines, self.rules, self.options.docs_url) for f in findings]
            if checked is not None:
                self.checked[cell.document] = Checked(document.version, "cell.py", checked.resolved,
                                                      DocumentResult(findings), diagnostics, cell=True)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(cell.document, diagnostics))

    def _run(self, uri: str, text: str, path: Path | None, name: str, version: int | None) -> Checked | None:
        """Configuration, check and logging for one text (None when it could not be checked)."""
        try:
            resolved = self.resolver.resolve(path)
        except (ConfigError, BaselineError) as exc:
            self._error_once(str(exc))
            self.checked.pop(uri, None)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, [], version))
            return None
        shown = resolved.shown(path) if path is not None else name
        try:
            result = check_document(text, path, shown, resolved, self.ruleset)
        except Exception:  # a bug must cost one document's diagnostics, not the editor's server
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"lockin-lint: {shown}: internal error\n{traceback.format_exc()}"))
            return None
        before = self.checked.get(uri)
        if before is None or before.result.errors != result.errors:  # once per problem, not per keystroke
            for error in result.errors:
                kind = types.MessageType.Warning if error.partial else types.MessageType.Error
                self.window_log_message(types.LogMessageParams(kind, f"lockin-lint: {error.path}: {error.message}"))
        checked = Checked(version, shown, resolved, result)
        self.checked[uri] = checked
        return checked

    def check_later(self, uri: str) -> None:
        """Check once the edits pause: a change in a burst (less than ``debounce-ms`` after the one
        before) waits ``debounce-ms`` for the next and restarts the wait; a lone change is checked
        as soon as the messages already received are handled, so typing slowly costs no delay."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        loop = asyncio.get_running_loop()
        delay = self.options.debounce_ms / 1000
        previous = self.last_change.get(uri)
        self.last_change[uri] = now = loop.time()
        in_burst = waiting is not None or (previous is not None and now - previous < delay)
        self.pending[uri] = loop.call_later(delay if in_burst else 0, self.check, uri)

    def current(self, uri: str) -> Checked | None:
        """The check of the document's current text (checking it now if a change is still waiting)."""
        document = self.workspace.get_text_document(uri)
        known = self.checked.get(uri)
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        waiting = uri in self.pending or (notebook is not None and notebook.uri in self.pending)
        if known is not None and known.version == document.version and not waiting:
            return known
        return self.check(uri)

    def forget(self, uri: str, publish: bool = True) -> None:
        """A closed document: no check waits for it, nothing is kept, and its diagnostics are cleared."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.checked.pop(uri, None)
        self.last_change.pop(uri, None)
        if publish:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def recheck_all(self) -> None:
        self.resolver.forget()
        self._shown_errors.clear()
        for uri in list(self.workspace.text_documents):
            if self.workspace.get_notebook_document(cell_uri=uri) is None:
                self.check(uri)
        for uri in list(self.workspace.notebook_documents):
            self.check_notebook(uri)

    def _error_once(self, message: str) -> None:
        """A configuration error is shown once (until the configuration changes), and always logged."""
        self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"lockin-lint: {message}"))
        if message not in self._shown_errors:
            self._shown_errors.add(message)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"lockin-lint: {message}"))


def _path(uri: str) -> Path | None:
    """The file behind a ``file:`` URI; None for an unsaved buffer (``untitled:``) and other schemes."""
    if not uri.startswith("file:"):
        return None
    fs_path = to_fs_path(uri)
    return Path(fs_path).resolve() if fs_path else None


def _lines_overlap(finding: Finding, first: int, last: int) -> bool:
    """Whether the finding touches a line from ``first`` to ``last`` (0-based): actions are offered per line."""
    return finding.line - 1 <= last and finding.end_line - 1 >= first


def _contains(finding: Finding, line: int, character: int) -> bool:
    """Whether a 0-based code-point position falls on the finding (its end included, for a cursor after it)."""
    start = (finding.line - 1, finding.column - 1)
    end = (finding.end_line - 1, finding.end_column - 1)
    return start <= (line, character) <= end


def _wanted(kind: str, only: list[str] | None) -> bool:
    """LSP kinds are hierarchical: asking for ``source.fixAll`` includes ``source.fixAll.lockin-lint``."""
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def create_server(ruleset: RuleSet) -> LockinServer:
    server = LockinServer(ruleset)

    @server.feature(types.INITIALIZE)
    def initialize(ls: LockinServer, params: types.InitializeParams) -> None:
        try:
            ls.options = parse_options(params.initialization_options)
        except ConfigError as exc:
            ls.startup_error = str(exc)
        folders = [p for p in (_path(f.uri) for f in params.workspace_folders or []) if p is not None]
        root = _path(params.root_uri) if params.root_uri else None
        ls.resolver = Resolver(ls.ruleset, ls.options, folders or ([root] if root is not None else []))

    @server.feature(types.INITIALIZED)
    def initialized(ls: LockinServer, params: types.InitializedParams) -> None:
        if ls.startup_error is not None:
            ls._error_once(ls.startup_error)
        watch = ls.client_capabilities.workspace
        if watch and watch.did_change_watched_files and watch.did_change_watched_files.dynamic_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES]
            ls.client_register_capability(types.RegistrationParams([types.Registration(
                "lockin-lint-config", types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                types.DidChangeWatchedFilesRegistrationOptions(watchers))]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LockinServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LockinServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.check_later(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LockinServer, params: types.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri.rsplit("/", 1)[-1] in CONFIG_NAMES:
            ls.recheck_all()
        else:
            ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LockinServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: LockinServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.check_notebook(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: LockinServer, params: types.DidChangeNotebookDocumentParams) -> None:
        ls.check_later(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_save(ls: LockinServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.check_notebook(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: LockinServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.forget(params.notebook_document.uri, publish=False)
        for cell in params.cell_text_documents:
            ls.forget(cell.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: LockinServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.rsplit("/", 1)[-1] in CONFIG_NAMES for change in params.changes):
            ls.recheck_all()

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: LockinServer, params: types.HoverParams) -> types.Hover | None:
        checked = ls.current(params.text_document.uri)
        if checked is None:
            return None
        document = ls.workspace.get_text_document(params.text_document.uri)
        at = document.position_codec.position_from_client_units(document.lines, params.position)
        under = [f for f in checked.result.findings if _contains(f, at.line, at.character)]
        if not under:
            return None
        text = hover_markdown(under, ls.rules, checked.resolved, ls.options.docs_url)
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]))
    def code_action(ls: LockinServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        checked = ls.current(uri)
        if checked is None:
            return None
        document: TextDocument = ls.workspace.get_text_document(uri)
        only = [str(k) for k in params.context.only] if params.context.only else None
        actions: list[types.CodeAction] = []
        settings = checked.resolved.settings
        fixing = FixContext(checked.name, ls.rules, fix_options(checked.resolved),
                            lambda source: list(check_bytes("cell.py", source.encode(), ls.ruleset, settings).findings))
        if _wanted(types.CodeActionKind.QuickFix, only):
            first, last = params.range.start.line, params.range.end.line
            pairs = [(f, d) for f, d in zip(checked.result.findings, checked.diagnostics)
                     if _lines_overlap(f, first, last)]
            findings, diagnostics = [f for f, _ in pairs], [d for _, d in pairs]
            if not checked.cell:  # a cell's rewrite depends on the cells before it: fixed as the .ipynb file
                actions += fix_actions(uri, document, findings, diagnostics, fixing)
            actions += suppression_actions(uri, checked.name, document, findings, diagnostics)
        if _wanted(FIX_ALL_KIND, only) and not checked.cell:
            fix_all = fix_all_action(uri, document, checked.result.findings, fixing)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    return server
