"""``lockin-lint server`` driven end to end by a real LSP client (pytest-lsp) over stdio.

One server process serves the module's tests (starting one costs the rule load); each test opens its
own documents in its own folder of one temporary workspace, so the tests do not see each other's files.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.workspace import TextDocument
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "lockin_lint", "server"]
PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
LOCKED = "import torch\n\ntorch.cuda.synchronize()\n"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, workspace: Path):  # type: ignore[no-untyped-def]
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(client: LanguageClient, params: types.RegistrationParams) -> None:  # it asks to watch configs
        client.registrations = params.registrations  # type: ignore[attr-defined]

    capabilities = pytest_lsp.client_capabilities("visual-studio-code")
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities,
        workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), "workspace")],
        initialization_options={"debounce-ms": 20},
    ))
    yield
    await lsp_client.shutdown_session()


async def _published(client: LanguageClient, uri: str, send: Callable[[], None]) -> Sequence[types.Diagnostic]:
    """Send a notification and wait for the diagnostics it makes the server publish for ``uri``."""
    client.diagnostics.pop(uri, None)
    send()
    while uri not in client.diagnostics:
        await asyncio.wait_for(client.wait_for_notification(PUBLISH), 30)
    return list(client.diagnostics[uri])


def _file(workspace: Path, relative: str, text: str) -> str:
    path = workspace / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.as_uri()


async def _open(client: LanguageClient, uri: str, text: str, language: str = "python") -> Sequence[types.Diagnostic]:
    item = types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
    return await _published(client, uri, lambda: client.text_document_did_open(
        types.DidOpenTextDocumentParams(item)))


async def _change(client: LanguageClient, uri: str, version: int, text: str) -> Sequence[types.Diagnostic]:
    change = types.TextDocumentContentChangeWholeDocument(text=text)
    return await _published(client, uri, lambda: client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version), [change])))


def _codes(diagnostics: Sequence[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diagnostics]


def _applied(text: str, uri: str, edit: types.WorkspaceEdit | None) -> str:
    """The document after a code action's edit (edits applied from the last, so offsets stay valid)."""
    assert edit is not None and edit.changes is not None
    document = TextDocument(uri, text)
    for change in sorted(edit.changes[uri], key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start = document.offset_at_position(change.range.start)
        end = document.offset_at_position(change.range.end)
        text = text[:start] + change.new_text + text[end:]
        document = TextDocument(uri, text)
    return text


async def test_diagnostics_on_open_then_after_changes_then_none(client: LanguageClient, workspace: Path) -> None:
    uri = _file(workspace, "open/train.py", LOCKED)
    diagnostic, = await _open(client, uri, LOCKED)
    assert diagnostic.code == "LL101" and diagnostic.source == "lockin-lint"
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.range == types.Range(types.Position(2, 0), types.Position(2, 22))
    assert diagnostic.code_description is not None and diagnostic.code_description.href.endswith("docs/rules.md#ll101-torch-cuda-device")
    changed = LOCKED + "x = torch.zeros(2, device='cuda')\n"
    assert _codes(await _change(client, uri, 2, changed)) == ["LL101", "LL200"]
    assert await _change(client, uri, 3, "import torch\n\ntorch.accelerator.synchronize()\n") == []


async def test_hover_shows_the_target_table(client: LanguageClient, workspace: Path) -> None:
    uri = _file(workspace, "hover/train.py", LOCKED)
    await _open(client, uri, LOCKED)
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(2, 12)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    text = hover.contents.value
    assert "**LL101**" in text and "| target | status | replacement |" in text
    assert "| ascend | rename | `torch_npu.npu.synchronize` |" in text
    assert "**Portable:** `torch.accelerator.synchronize()`" in text
    nothing = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(0, 2)))
    assert nothing is None
    closed = await _published(client, uri, lambda: client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))))
    assert closed == []  # an editor clears what a closed file showed


async def _actions(client: LanguageClient, uri: str, line: int,
                   only: list[str] | None = None) -> list[types.CodeAction]:
    span = types.Range(types.Position(line, 0), types.Position(line, 0))
    result = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), span, types.CodeActionContext(diagnostics=[], only=only)))
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


@pytest.mark.parametrize(("name", "text", "language", "comment"), [
    ("train.py", LOCKED, "python", "# lockin: ignore[LL101]"),
    ("kernel.cu", "void f() {\n  float* p;\n  cudaMalloc(&p, 4);\n}\n", "cuda-cpp", "// lockin: ignore[LC1011]"),
])
async def test_suppression_actions(client: LanguageClient, workspace: Path, name: str, text: str, language: str,
                                   comment: str) -> None:
    uri = _file(workspace, f"suppress/{name}", text)
    assert await _open(client, uri, text, language)
    line_action, file_action = [a for a in await _actions(client, uri, 2) if a.title.startswith("Suppress")]
    assert line_action.kind == file_action.kind == types.CodeActionKind.QuickFix
    on_line = _applied(text, uri, line_action.edit)
    assert on_line.splitlines()[2].endswith("  " + comment)
    assert await _change(client, uri, 2, on_line) == []
    in_file = _applied(text, uri, file_action.edit)
    assert in_file.startswith(comment.split(" ")[0] + " lockin: ignore-file\n")
    assert await _change(client, uri, 3, in_file) == []
    assert await _actions(client, uri, 2, only=[types.CodeActionKind.QuickFix]) == []


FIXABLE = "import torch\n\ntorch.cuda.synchronize()\ntorch.cuda.manual_seed(0)\n"


async def test_a_quick_fix_removes_the_finding(client: LanguageClient, workspace: Path) -> None:
    uri = _file(workspace, "quickfix/train.py", FIXABLE)
    assert _codes(await _open(client, uri, FIXABLE)) == ["LL101", "LL104"]
    fix, *rest = await _actions(client, uri, 2)
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert fix.title.startswith("Fix LL101: torch.accelerator.synchronize(")
    assert [a.title.split(" ")[0] for a in rest] == ["Suppress", "Suppress", "Fix"]
    assert rest[-1].kind == "source.fixAll.lockin-lint"  # asked for every kind, the source action comes too
    fixed = _applied(FIXABLE, uri, fix.edit)
    assert "torch.cuda.synchronize" not in fixed
    assert _codes(await _change(client, uri, 2, fixed)) == ["LL104"]
    unsafe, *_ = await _actions(client, uri, fixed.splitlines().index("torch.cuda.manual_seed(0)"))
    assert unsafe.title.endswith("(unsafe)") and not unsafe.is_preferred
    assert await _change(client, uri, 3, _applied(fixed, uri, unsafe.edit)) == []


async def test_fix_all_applies_the_safe_fixes(client: LanguageClient, workspace: Path) -> None:
    uri = _file(workspace, "fixall/train.py", FIXABLE)
    await _open(client, uri, FIXABLE)
    fix_all, = await _actions(client, uri, 0, only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.lockin-lint"
    assert _codes(await _change(client, uri, 2, _applied(FIXABLE, uri, fix_all.edit))) == ["LL104"]  # unsafe stays
    assert await _actions(client, uri, 0, only=["source.fixAll"]) == []


async def test_configuration_from_the_workspace_pyproject(client: LanguageClient, workspace: Path) -> None:
    config = workspace / "configured" / "pyproject.toml"
    config.parent.mkdir()
    config.write_text("[tool.lockin-lint]\ntargets = ['xpu']\nignore = ['device-string']\n", encoding="utf-8")
    text = LOCKED + "x = torch.zeros(2, device='cuda')\n"
    uri = _file(workspace, "configured/src/train.py", text)
    assert _codes(await _open(client, uri, text)) == ["LL101"]
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(2, 3)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "| xpu | rename |" in hover.contents.value and "| ascend |" not in hover.contents.value
    assert "configuration: pyproject.toml" in hover.contents.value
    config.write_text("[tool.lockin-lint]\nignore = ['LL101']\n", encoding="utf-8")
    event = types.FileEvent(config.as_uri(), types.FileChangeType.Changed)
    reloaded = await _published(client, uri, lambda: client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams([event])))
    assert "LL200" in _codes(reloaded) and "LL101" not in _codes(reloaded)


async def test_a_notebook_sent_cell_by_cell(client: LanguageClient, workspace: Path) -> None:
    """VS Code's notebook editor sends cells as documents; findings land on their cell, in its own lines."""
    notebook = (workspace / "notebook" / "explore.ipynb")
    notebook.parent.mkdir()
    cells = [("import torch as t\n", "python"), ("# Moving the model\n", "markdown"),
             ("model = t.nn.Linear(2, 2)\nmodel.to('cuda')\nt.cuda.synchronize()\n", "python")]
    uris = [f"vscode-notebook-cell:{notebook.as_posix()}#cell{i}" for i in range(len(cells))]
    document = types.NotebookDocument(uri=notebook.as_uri(), notebook_type="jupyter-notebook", version=1, cells=[
        types.NotebookCell(types.NotebookCellKind.Code if language == "python" else types.NotebookCellKind.Markup, uri)
        for uri, (_, language) in zip(uris, cells)])
    items = [types.TextDocumentItem(uri, language, 1, text) for uri, (text, language) in zip(uris, cells)]
    last = await _published(client, uris[2], lambda: client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(document, items)))
    assert [(str(d.code), d.range.start.line, d.range.start.character) for d in last] == [("LL200", 1, 9),
                                                                                       ("LL101", 2, 0)]
    assert list(client.diagnostics[uris[0]]) == list(client.diagnostics[uris[1]]) == []
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uris[2]), types.Position(2, 4)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "**LL101**" in hover.contents.value
    suppress, *_ = await _actions(client, uris[2], 2)
    assert suppress.title.startswith("Suppress LL101")
    fixed = _applied(cells[2][0], uris[2], suppress.edit)
    change = types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
        types.NotebookDocumentCellContentChanges(types.VersionedTextDocumentIdentifier(uri=uris[2], version=2),
                                                 [types.TextDocumentContentChangeWholeDocument(fixed)])]))
    after = await _published(client, uris[2], lambda: client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(types.VersionedNotebookDocumentIdentifier(version=2, uri=notebook.as_uri()),
                                              change)))
    assert _codes(after) == ["LL200"]


async def test_a_bad_configuration_is_shown_once_and_checks_nothing(client: LanguageClient, workspace: Path) -> None:
    config = workspace / "misconfigured" / "lockin-lint.toml"
    config.parent.mkdir()
    config.write_text("targets = ['rocm']\ncolour = 'red'\n", encoding="utf-8")
    before = len(client.messages)
    for name in ("a.py", "b.py"):
        assert await _open(client, _file(workspace, f"misconfigured/{name}", LOCKED), LOCKED) == []
    shown = [m.message for m in client.messages[before:]]
    assert len(shown) == 1 and "lockin-lint.toml:2: unknown key 'colour'" in shown[0], shown


async def test_a_broken_file_gives_partial_diagnostics_and_a_log_message(client: LanguageClient,
                                                                         workspace: Path) -> None:
    text = "import torch\ndef broken(:\n    torch.cuda.synchronize()\n"
    uri = _file(workspace, "broken/train.py", text)
    before = len(client.log_messages)
    assert _codes(await _open(client, uri, text)) == ["LL101"]
    logged = [m.message for m in client.log_messages[before:]]
    assert any("broken/train.py" in m and "syntax error" in m for m in logged), logged


async def test_a_binary_buffer_is_logged_not_fatal(client: LanguageClient, workspace: Path) -> None:
    uri = _file(workspace, "binary/blob.py", "x")
    assert await _open(client, uri, "\x00\x01\x02 torch.cuda") == []
    assert await _open(client, _file(workspace, "binary/after.py", LOCKED), LOCKED)  # still serving


async def test_unknown_requests_get_the_standard_error(client: LanguageClient) -> None:
    with pytest.raises(JsonRpcMethodNotFound):
        await client.protocol.send_request_async("lockin/unknownRequest", {})


async def test_initialization_options_and_a_clean_exit(tmp_path: Path) -> None:
    """Options override the configuration; a bad option is shown, not fatal; shutdown/exit end with 0."""
    for options, targets_shown in (({"targets": ["mps"]}, "| mps |"), ({"colour": 1}, "| rocm |")):
        client = await ClientServerConfig(server_command=SERVER).start()
        assert isinstance(client, LanguageClient)
        await client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=tmp_path.as_uri(), initialization_options=options))
        uri = _file(tmp_path, "train.py", LOCKED)
        await _open(client, uri, LOCKED)
        hover = await client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(2, 3)))
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert targets_shown in hover.contents.value
        if "colour" in options:
            assert any("unknown key 'colour'" in m.message for m in client.messages)
        await client.shutdown_session()
        assert client._server is not None and client._server.returncode == 0
        await client.stop()
