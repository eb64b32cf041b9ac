"""``check --fix / --unsafe-fixes / --diff / --fix-to`` on real files: what is written, what is not,
exit codes, atomic writes, files that cannot be fixed, and the marks in text, JSON and SARIF."""

from __future__ import annotations

import difflib
import io
import json
import os
import stat
from pathlib import Path

import pytest

from lockin_lint.cli import main

from .test_sarif import schema_errors

TRAIN = ("import torch\n"
         "from torch.cuda.amp import GradScaler\n\n"
         "torch.cuda.synchronize()  # wait\n"
         "scaler = GradScaler()\n"
         "torch.cuda.manual_seed_all(0)\n"
         "print('torch.cuda.synchronize()')\n")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", *argv], out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(TRAIN, encoding="utf-8")
    return tmp_path


def test_diff_prints_a_unified_diff_and_writes_nothing(project: Path) -> None:
    code, out, err = run("--diff", "train.py")
    assert code == 1
    assert out.startswith("--- a/train.py\n+++ b/train.py\n")
    assert "+    torch.accelerator.synchronize()  # wait\n" in out
    assert "-torch.cuda.manual_seed_all(0)" not in out  # unsafe: not without --unsafe-fixes
    assert (project / "train.py").read_text(encoding="utf-8") == TRAIN
    assert "would be fixed" in err


def test_fix_applies_safe_fixes_and_exits_1_while_findings_remain(project: Path) -> None:
    code, out, err = run("--fix", "train.py")
    text = (project / "train.py").read_text(encoding="utf-8")
    assert code == 1  # manual_seed_all (unsafe) remains
    assert "torch.accelerator.synchronize()  # wait" in text and "torch.amp.GradScaler(DEVICE.type)" in text
    assert "from torch.cuda.amp import GradScaler" not in text  # the import the fix left unused
    assert "torch.cuda.manual_seed_all(0)" in text
    assert "print('torch.cuda.synchronize()')" in text  # strings are never touched
    assert "fixed 2 findings in 1 files" in err
    assert "LL104" in out and "fix (unsafe, --fix --unsafe-fixes)" in out


def test_fix_with_unsafe_fixes_leaves_nothing_and_exits_0(project: Path) -> None:
    code, _, _ = run("--fix", "--unsafe-fixes", "train.py")
    assert code == 0
    second = (project / "train.py").read_text(encoding="utf-8")
    assert run("--fix", "--unsafe-fixes", "train.py")[0] == 0
    assert (project / "train.py").read_text(encoding="utf-8") == second  # idempotent


def test_writes_are_atomic_and_keep_permissions(project: Path) -> None:
    path = project / "train.py"
    os.chmod(path, 0o640)
    run("--fix", "train.py")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in project.iterdir()) == ["train.py"]  # no temporary file left behind


def test_a_file_with_a_syntax_error_is_reported_and_not_fixed(project: Path) -> None:
    broken = "import torch\ntorch.cuda.synchronize()\ndef broken(:\n"
    (project / "train.py").write_text(broken, encoding="utf-8")
    code, _, err = run("--fix", "train.py")
    assert code == 1
    assert (project / "train.py").read_text(encoding="utf-8") == broken
    assert "error: train.py: not fixed: line 3" in err


def test_fix_to_ascend_renames_and_imports_the_plugin_once(project: Path) -> None:
    (project / "train.py").write_text("import torch\ntorch.cuda.synchronize()\nx = torch.ones(1).cuda()\n"
                                      "n = torch.cuda.device_count()\n", encoding="utf-8")
    run("--fix-to", "ascend", "--unsafe-fixes", "train.py")
    text = (project / "train.py").read_text(encoding="utf-8")
    assert text.count("import torch_npu\n") == 1
    assert "torch_npu.npu.synchronize()" in text and ".npu()" in text and "torch_npu.npu.device_count()" in text


def test_torch_version_gates_the_rewrites(project: Path) -> None:
    (project / "train.py").write_text("import torch\nx = torch.ones(1).cuda()\ntorch.cuda.empty_cache()\n",
                                      encoding="utf-8")
    code, out, _ = run("--diff", "--unsafe-fixes", "--torch-version", "2.5", "train.py")
    assert out == "" and code == 1  # .to(device) needs 2.6, torch.accelerator.memory 2.9


def test_json_marks_fixable_findings(project: Path) -> None:
    _, out, _ = run("--format", "json", "train.py")
    fixes = {f["symbol"]: f.get("fix") for f in json.loads(out)["findings"]}
    assert fixes["torch.cuda.synchronize"]["applicability"] == "safe"
    assert fixes["torch.cuda.manual_seed_all"]["applicability"] == "unsafe"


def test_sarif_carries_fixes_that_rebuild_the_fixed_file(project: Path) -> None:
    _, out, _ = run("--format", "sarif", "train.py")
    document = json.loads(out)
    assert schema_errors(document) == []
    results = document["runs"][0]["results"]
    replacements = [r for result in results for fix in result.get("fixes", [])
                    for change in fix["artifactChanges"] for r in change["replacements"]]
    assert replacements
    lines = TRAIN.splitlines(keepends=True)
    for r in sorted(replacements, key=lambda r: -r["deletedRegion"]["startLine"]):
        region = r["deletedRegion"]
        lines[region["startLine"] - 1 : region["endLine"] - 1] = [r["insertedContent"]["text"]]
    run("--fix", "--unsafe-fixes", "train.py")
    assert "".join(lines) == (project / "train.py").read_text(encoding="utf-8")


def test_the_summary_says_what_fixing_saves(project: Path) -> None:
    _, _, err = run("train.py")
    assert "findings fixable with `--fix` (1 more with --unsafe-fixes), saving" in err


def test_notebook_keeps_every_byte_outside_changed_sources(project: Path) -> None:
    from .conftest import FIXTURES

    source = (FIXTURES / "fixes" / "notebook.ipynb").read_text(encoding="utf-8")
    (project / "nb.ipynb").write_text(source, encoding="utf-8")
    run("--fix", "--unsafe-fixes", "nb.ipynb")
    fixed = (project / "nb.ipynb").read_text(encoding="utf-8")
    before, after = json.loads(source), json.loads(fixed)
    for cell in (*before["cells"], *after["cells"]):
        cell.pop("source")
    assert before == after
    changed = [line for line in difflib.unified_diff(source.splitlines(), fixed.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("---", "+++"))]
    assert changed
    assert all(line[1:].lstrip().startswith(('"', '"source": ')) for line in changed), changed


def test_a_fix_that_would_not_parse_is_dropped_and_reported(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lockin_lint.fix.apply as apply

    def broken(source: str, plan: apply.Planned) -> str:
        plan.applied.update(plan.fixes)
        return source + "def (:\n"

    monkeypatch.setattr(apply, "fix_module", broken)
    code, _, err = run("--fix", "train.py")
    assert code == 1
    assert (project / "train.py").read_text(encoding="utf-8") == TRAIN
    assert "error: train.py: not fixed: the fixed code would not parse" in err


def test_fix_to_rejects_an_unknown_target(project: Path) -> None:
    code, _, err = run("--fix-to", "tpu", "train.py")
    assert code == 2 and err.count("\n") == 1 and "--fix-to" in err


def test_calls_whose_arguments_a_rewrite_cannot_keep_are_not_marked(project: Path) -> None:
    (project / "train.py").write_text("import torch\na = torch.ones(1).cuda(1)\nb = torch.ones(1).cuda()\n"
                                      "torch.cuda.synchronize(device=0)\nn = torch.cuda.memory_allocated(0)\n",
                                      encoding="utf-8")
    _, out, _ = run("--format", "json", "--unsafe-fixes", "train.py")
    marked = {(f["line"], f["symbol"]): "fix" in f for f in json.loads(out)["findings"]}
    assert marked == {(2, ".cuda"): False, (3, ".cuda"): True, (4, "torch.cuda.synchronize"): False,
                      (5, "torch.cuda.memory_allocated"): True}


def test_a_file_that_cannot_be_written_is_reported(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lockin_lint.fix.apply as fix_apply  # imported by the fix stage when it writes

    def refuse(path: Path, text: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fix_apply, "write_atomically", refuse)
    code, _, err = run("--fix", "train.py")
    assert code == 1 and "error: train.py: not fixed: cannot write: Permission denied" in err
    assert "fixed 0 findings in 0 files" in err
