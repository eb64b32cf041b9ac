"""The language server's pieces without a client: results equal to the CLI's, configuration per
document, ranges in the client's encoding, hover text and suppression edits that really suppress.

The protocol itself (a real client over stdio) is tested in ``test_server_e2e.py``.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument

from lockin_lint.cli import main
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import finding_dict
from lockin_lint.server.actions import comment_prefix, suppress_file_edit, suppress_line_edit, suppression_actions
from lockin_lint.server.checking import check_document, checked_name
from lockin_lint.server.convert import SEVERITIES, Lines, docs_href, hover_markdown, rule_anchor, to_diagnostic
from lockin_lint.server.workspace import ConfigError, Options, Resolver, parse_options

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
#: One file of every kind the CLI checks (Python, CUDA, C++, manifests, build, container and CI
#: files, notebooks), including a requirements file with a ``-r`` include and a Python call into an
#: extension the same folder builds.
KINDS = ["repo/fused_ops/jit.py", "repo/csrc/fused_add.cu", "repo/csrc/bindings.cpp", "repo/requirements.txt",
         "repo/setup.py", "repo/notebooks/explore.ipynb", "repo/docker/Dockerfile", "repo/CMakeLists.txt",
         "config/Makefile", "config/.github/workflows/train.yml", "config/docker-compose.yml",
         "deps/pyproject.toml", "deps/setup.cfg", "deps/environment.yml", "python/device_strings.py"]


def _server_findings(ruleset: RuleSet, path: Path, options: Options | None = None,
                     folder: Path | None = None) -> list[dict[str, object]]:
    resolved = Resolver(ruleset, options or Options(), [folder or path.parent]).resolve(path)
    result = check_document(path.read_text(encoding="utf-8"), path, resolved.shown(path), resolved, ruleset)
    return [finding_dict(f) for f in result.findings]


def _cli_findings(root: Path, relative: str, monkeypatch: pytest.MonkeyPatch, *flags: str) -> list[dict[str, object]]:
    monkeypatch.chdir(root)
    out = io.StringIO()
    main(["check", "--format", "json", *flags, relative], out=out, err=io.StringIO())
    return json.loads(out.getvalue())["findings"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("relative", KINDS)
def test_results_equal_the_cli_on_every_kind_of_file(ruleset: RuleSet, relative: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = FIXTURES / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not in this checkout")
    folder, inside = relative.split("/", 1)  # the workspace folder, and the file's path in it
    reported = _cli_findings(FIXTURES / folder, inside, monkeypatch)
    expected = [f for f in reported if f["path"] == inside]  # an included requirements file has its own
    assert expected, f"{relative} should have findings for this comparison to mean anything"
    assert _server_findings(ruleset, path, folder=FIXTURES / folder) == expected


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.lockin-lint]\n{table}\n", encoding="utf-8")
    source = tmp_path / "pkg" / "train.py"
    source.parent.mkdir()
    source.write_text("import torch\nx = torch.zeros(3, device='cuda')\ntorch.cuda.synchronize()\n"
                      "torch.backends.cudnn.benchmark = True\n", encoding="utf-8")
    return source


def test_results_equal_the_cli_under_a_project_configuration(ruleset: RuleSet, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    source = _project(tmp_path, 'targets = ["ascend", "xpu"]\ntorch-version = "2.4"\nignore = ["device-string"]\n'
                                'per-file-ignores = {"pkg/*" = ["LL111"]}')
    expected = _cli_findings(tmp_path, "pkg/train.py", monkeypatch)
    assert [f["rule_id"] for f in expected] == ["LL101"]
    assert _server_findings(ruleset, source) == expected


def test_a_baseline_hides_what_it_lists(ruleset: RuleSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _project(tmp_path, 'baseline = "baseline.json"')
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--write-baseline", "baseline.json", "pkg/train.py"], out=io.StringIO(),
                err=io.StringIO()) == 0
    assert _server_findings(ruleset, source) == _cli_findings(tmp_path, "pkg/train.py", monkeypatch) == []
    source.write_text(source.read_text(encoding="utf-8") + "torch.cuda.empty_cache()\n", encoding="utf-8")
    assert [f["symbol"] for f in _server_findings(ruleset, source)] == ["torch.cuda.empty_cache"]


def test_initialization_options_override_the_file(ruleset: RuleSet, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    source = _project(tmp_path, 'targets = ["ascend"]\nignore = ["LL101"]')
    options = parse_options({"targets": ["xpu"], "ignore": ["LL111"], "torch-version": "2.6"})
    expected = _cli_findings(tmp_path, "pkg/train.py", monkeypatch, "--targets", "xpu", "--ignore", "LL111",
                             "--torch-version", "2.6")
    assert "LL101" in {f["rule_id"] for f in expected} and "LL111" not in {f["rule_id"] for f in expected}
    assert _server_findings(ruleset, source, options) == expected


def test_a_changed_configuration_is_read_again(ruleset: RuleSet, tmp_path: Path) -> None:
    source = _project(tmp_path, 'targets = ["ascend"]')
    resolver = Resolver(ruleset, Options(), [tmp_path])
    assert resolver.resolve(source).settings.targets == ("ascend",)
    (tmp_path / "pyproject.toml").write_text("[tool.lockin-lint]\ntargets = ['rocm', 'xpu']\n", encoding="utf-8")
    assert resolver.resolve(source).settings.targets == ("rocm", "xpu")


@pytest.mark.parametrize(("raw", "message"), [
    ({"targets": ["cuda"]}, "'targets' must be a list of targets"),
    ({"colour": True}, "unknown key 'colour'"),
    ({"debounce-ms": -1}, "'debounce-ms' must be a whole number"),
    ("yes", "must be an object"),
])
def test_bad_initialization_options_are_named(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_options(raw)


def test_a_bad_configuration_is_one_line_naming_the_file(ruleset: RuleSet, tmp_path: Path) -> None:
    source = _project(tmp_path, "colour = true")
    with pytest.raises(ConfigError, match=r"pyproject\.toml:\d+: unknown key 'colour'"):
        Resolver(ruleset, Options(), [tmp_path]).resolve(source)
    _project_file = tmp_path / "pyproject.toml"
    _project_file.write_text("[tool.lockin-lint]\nignore = ['LL999']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'LL999' matches no rule"):
        Resolver(ruleset, Options(), [tmp_path]).resolve(source)


def test_which_buffers_are_checked() -> None:
    assert checked_name(Path("/p/a.py"), "python") == "/p/a.py"
    assert checked_name(Path("/p/k.cu"), "cuda-cpp") == "/p/k.cu"
    assert checked_name(Path("/p/README.md"), "markdown") is None
    assert checked_name(Path("/p/script"), "python") == "/p/script"
    assert checked_name(None, "cuda-cpp") == "untitled.cu"
    assert checked_name(None, "plaintext") is None


def test_rule_anchors_are_the_headings_of_the_rules_page(ruleset: RuleSet) -> None:
    page = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    headings = {f"{rule_id}-{name}".lower() for rule_id, name in re.findall(r"^## (\S+) (\S+)$", page, re.M)}
    assert {rule_anchor(rule) for rule in ruleset.rules} <= headings
    assert docs_href("LL101", ruleset.by_id(), "https://x/rules.md").startswith("https://x/rules.md#ll101-")


def _document(text: str, uri: str = "file:///w/a.py", encoding: str = types.PositionEncodingKind.Utf16) -> TextDocument:
    return TextDocument(uri, text, position_codec=PositionCodec(encoding))


def _check_text(ruleset: RuleSet, text: str, name: str = "a.py") -> list:  # type: ignore[type-arg]
    resolved = Resolver(ruleset, Options(), []).resolve(None)
    return list(check_document(text, None, name, resolved, ruleset).findings)


@pytest.mark.parametrize(("encoding", "start", "end"), [
    (types.PositionEncodingKind.Utf16, 10, 32),  # the emoji is two UTF-16 units
    (types.PositionEncodingKind.Utf32, 9, 31),
    (types.PositionEncodingKind.Utf8, 12, 34),  # four UTF-8 bytes
])
def test_ranges_are_in_the_client_encoding(ruleset: RuleSet, encoding: str, start: int, end: int) -> None:
    text = "import torch\nx = '😀'; torch.cuda.synchronize()\n"
    finding, = _check_text(ruleset, text)
    diagnostic = to_diagnostic(finding, Lines(_document(text, encoding=encoding)), ruleset.by_id(), "https://d")
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (1, start)
    assert (diagnostic.range.end.line, diagnostic.range.end.character) == (1, end)
    assert diagnostic.code == "LL101" and diagnostic.source == "lockin-lint"
    assert diagnostic.severity == SEVERITIES[finding.severity]
    assert diagnostic.code_description is not None and "#ll101-" in diagnostic.code_description.href


def test_hover_shows_message_targets_portable_and_settings(ruleset: RuleSet) -> None:
    finding, = _check_text(ruleset, "import torch\ntorch.cuda.synchronize()\n")
    resolved = Resolver(ruleset, parse_options({"targets": ["ascend", "xpu"], "torch-version": "2.6"}), []).resolve(None)
    text = hover_markdown([finding], ruleset.by_id(), resolved, "https://d")
    assert finding.message in text
    assert "| ascend | rename | `torch_npu.npu.synchronize` |" in text
    assert "| xpu | rename | `torch.xpu.synchronize` (torch>=2.3) |" in text
    assert "**Portable:** `torch.accelerator.synchronize()`" in text
    assert "targets: ascend, xpu · torch-version: 2.6" in text


def _apply(text: str, document: TextDocument, edit: types.TextEdit) -> str:
    start = document.offset_at_position(edit.range.start)
    end = document.offset_at_position(edit.range.end)
    return text[:start] + edit.new_text + text[end:]


SUPPRESSIBLE = [
    ("a.py", "import torch\ntorch.cuda.synchronize()\n"),
    ("a.py", "import torch\nx = 1; torch.cuda.synchronize()  # note\n"),
    ("k.cu", "__global__ void k(float* x) {}\nvoid f() { float* p; cudaMalloc(&p, 4); }\n"),
    ("requirements.txt", "numpy\ncupy-cuda12x==13.0\n"),
    ("Dockerfile", "# syntax=docker/dockerfile:1\nFROM nvidia/cuda:12.1.0-runtime-ubuntu22.04\n"),
    ("CMakeLists.txt", "project(x LANGUAGES CXX CUDA)\n"),
]


@pytest.mark.parametrize(("name", "text"), SUPPRESSIBLE)
def test_suppression_edits_hide_the_finding(ruleset: RuleSet, name: str, text: str) -> None:
    findings = _check_text(ruleset, text, name)
    assert findings
    prefix = comment_prefix(name)
    assert prefix == ("//" if name.endswith(".cu") else "#")
    document = _document(text, f"file:///w/{name}")
    for finding in findings:
        fixed = _apply(text, document, suppress_line_edit(document, finding, prefix))
        assert finding.rule_id not in {f.rule_id for f in _check_text(ruleset, fixed, name) if f.line == finding.line}
    whole = suppress_file_edit(document, prefix)
    assert whole is not None
    fixed = _apply(text, document, whole)
    assert _check_text(ruleset, fixed, name) == []
    assert fixed.splitlines()[0] == text.splitlines()[0] or not text.startswith("#")
    assert suppress_file_edit(_document(fixed), prefix) is None


def test_a_line_suppression_extends_the_existing_list(ruleset: RuleSet) -> None:
    text = "import torch\ntorch.cuda.synchronize(torch.device('cuda'))  # lockin: ignore[LL200]\n"
    finding, = _check_text(ruleset, text)
    document = _document(text)
    edit = suppress_line_edit(document, finding, "#")
    assert edit.new_text == f"# lockin: ignore[LL200,{finding.rule_id}]"
    assert _check_text(ruleset, _apply(text, document, edit)) == []


def test_a_continued_line_gets_its_comment_above(ruleset: RuleSet) -> None:
    text = "import torch\nx = torch.cuda.is_available() or \\\n    False\n"
    finding, = _check_text(ruleset, text)
    document = _document(text)
    fixed = _apply(text, document, suppress_line_edit(document, finding, "#"))
    assert fixed.splitlines()[1] == f"# lockin: ignore[{finding.rule_id}]"
    assert _check_text(ruleset, fixed) == []


def test_notebooks_get_no_suppression_actions(ruleset: RuleSet) -> None:
    text = (FIXTURES / "repo" / "notebooks" / "explore.ipynb").read_text(encoding="utf-8")
    findings = _check_text(ruleset, text, "explore.ipynb")
    assert findings
    document = _document(text, "file:///w/explore.ipynb")
    assert suppression_actions(document.uri, "explore.ipynb", document, findings, []) == []


def test_the_server_is_a_subcommand_that_other_commands_do_not_pay_for() -> None:
    import subprocess
    import sys

    from lockin_lint.cli import build_parser

    assert build_parser().parse_args(["server", "--no-cache"]).command == "server"
    loaded = subprocess.run([sys.executable, "-c", "import sys, lockin_lint.cli; print('pygls' in sys.modules)"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "False"


def test_the_server_does_not_reach_into_the_command_line() -> None:
    import ast

    for module in (REPO / "lockin_lint" / "server").glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(name == "cli" or name.endswith(".cli") for name in imported), module.name


def test_a_burst_of_changes_is_checked_once_and_a_lone_change_at_once(ruleset: RuleSet) -> None:
    import asyncio

    from lockin_lint.server.app import LockinServer

    server = LockinServer(ruleset)
    server.options = parse_options({"debounce-ms": 40})
    checked: list[str] = []
    waits: list[float] = []

    async def edits() -> None:
        loop = asyncio.get_running_loop()
        def check(uri: str) -> None:  # what the real check does with the queue, without a client
            server.pending.pop(uri, None)
            checked.append(uri)

        server.check = check  # type: ignore[method-assign,assignment]

        def change() -> None:
            server.check_later("file:///a.py")
            waits.append(server.pending["file:///a.py"].when() - loop.time())

        for _ in range(5):  # keystrokes arriving together
            change()
        await asyncio.sleep(0.2)
        change()  # after a pause
        await asyncio.sleep(0.2)

    asyncio.run(edits())
    assert checked == ["file:///a.py", "file:///a.py"]
    assert waits[0] < 0.01 and all(0.03 < w <= 0.04 for w in waits[1:5]) and waits[5] < 0.01


def test_notebook_cells_get_the_findings_of_the_ipynb_at_their_own_lines(ruleset: RuleSet,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from lockin_lint.server.notebooks import by_cell, notebook_json

    path = FIXTURES / "repo" / "notebooks" / "explore.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    texts = {f"cell{i}": ("".join(c["source"]), "python" if c["cell_type"] == "code" else "markdown")
             for i, c in enumerate(cells)}
    notebook = types.NotebookDocument(uri=path.as_uri(), notebook_type="jupyter-notebook", version=1, cells=[
        types.NotebookCell(types.NotebookCellKind.Code if c["cell_type"] == "code" else types.NotebookCellKind.Markup,
                           f"cell{i}") for i, c in enumerate(cells)])
    text = notebook_json(notebook, texts.__getitem__)
    resolved = Resolver(ruleset, Options(), []).resolve(None)
    placed = by_cell(text, check_document(text, None, "explore.ipynb", resolved, ruleset).findings)
    expected = {(f["cell"], f["cell_line"], f["rule_id"], f["symbol"])
                for f in _cli_findings(path.parent, path.name, monkeypatch)}
    assert expected
    assert {(index + 1, f.line, f.rule_id, f.symbol) for index, found in placed.items() for f in found} == expected
    for index, found in placed.items():
        for finding in found:
            spelled = texts[f"cell{index}"][0].splitlines()[finding.line - 1][finding.column - 1:finding.end_column - 1]
            assert finding.symbol.rsplit(".", 1)[-1] in spelled
