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


class LockinServer(LanguageServer):
    """The server's state: the rule set, the configuration resolver and the last check per document."""

    def __init__(self, ruleset: RuleSet) -> None:
        super().__init__("lockin-lint", __version__)
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
        """Check the open document now and publish its diagnostics; never raises."""
        self.pending.pop(uri, None)
        document = self.workspace.get_text_document(uri)
        path = _path(uri)
        name = checked_name(path, document.language_id)
        if name is None:
            return None
        try:
            resolved = self.resolver.resolve(path)
        except (ConfigError, BaselineError) as exc:
            self._error_once(str(exc))
            self.checked.pop(uri, None)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, [], document.version))
            return None
        shown = resolved.shown(path) if path is not None else name
        try:
            result = check_document(document.source, path, shown, resolved, self.ruleset)
        except Exception:  # a bug must cost one document's diagnostics, not the editor's server
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"lockin-lint: {shown}: internal error\n{traceback.format_exc()}"))
            return None
        before = self.checked.get(uri)
        if before is None or before.result.errors != result.errors:  # once per problem, not per keystroke
            for error in result.errors:
                kind = types.MessageType.Warning if error.partial else types.MessageType.Error
                self.window_log_message(types.LogMessageParams(kind, f"lockin-lint: {error.path}: {error.message}"))
        lines = Lines(document)
        diagnostics = [to_diagnostic(f, lines, self.rules, self.options.docs_url) for f in result.findings]
        diagnostics += [unused_diagnostic(u, lines) for u in result.unused_suppressions]
        checked = Checked(document.version, shown, resolved, result, diagnostics)
        self.checked[uri] = checked
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics, document.version))
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
        if known is not None and known.version == document.version and uri not in self.pending:
            return known
        return self.check(uri)

    def recheck_all(self) -> None:
        self.resolver.forget()
        self._shown_errors.clear()
        for uri in list(self.workspace.text_documents):
            self.check(uri)

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
        uri = params.text_document.uri
        waiting = ls.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        ls.checked.pop(uri, None)
        ls.last_change.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

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
            actions += fix_actions(uri, document, findings, diagnostics, fixing)
            actions += suppression_actions(uri, checked.name, document, findings, diagnostics)
        if _wanted(FIX_ALL_KIND, only):
            fix_all = fix_all_action(uri, document, checked.result.findings, fixing)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    return server
