"""A wheel built from a clean checkout, installed in a fresh venv, finds its rules from anywhere.

This is what catches rules that are not shipped inside the package, or code that reads files relative
to the source tree. Slow (it builds and installs), but CI runs it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def _sh(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), f"{args}: {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


def test_wheel_from_clean_checkout_finds_its_rules(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout")
    clone = tmp_path / "clone"
    _sh("git", "clone", "--quiet", REPO, clone)
    _sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path / "dist", clone)
    (wheel,) = (tmp_path / "dist").glob("lockin_lint-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n for n in names if n.startswith("lockin_lint/rules/") and n.endswith(".yaml"))
    in_repo = sorted("lockin_lint/" + p.relative_to(clone).as_posix() for p in (clone / "rules").rglob("*.yaml"))
    assert shipped == in_repo and shipped

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _sh(python, "-m", "pip", "install", "--quiet", wheel)

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(clone / "fixtures" / "demo", elsewhere / "demo")
    listing = _sh(env_dir / "bin" / "lockin-lint", "rules", "--format", "json", cwd=elsewhere)
    from_source = _sh(sys.executable, "-m", "lockin_lint", "rules", "--format", "json", cwd=clone)
    assert json.loads(listing.stdout) == json.loads(from_source.stdout) != []
    report = _sh(python, "-m", "lockin_lint", "check", "demo", "--format", "json", cwd=elsewhere)
    findings = json.loads(report.stdout)["findings"]
    assert findings and all(f["path"].startswith("demo/") for f in findings)


def _metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(name).decode("utf-8")


def _unshipped_mentions(description: str, repo: Path) -> list[str]:
    """Repository paths the long description points at, outside links and code blocks (a command in
    inline code is an example, not a pointer)."""
    text = re.sub(r"```.*?```", "", description, flags=re.S)
    text = re.sub(r"!?\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"`[^`\n]* [^`\n]*`", "", text)
    paths = set(re.findall(r"(?<![\w/.:-])((?:[\w.-]+/)+[\w.-]*)", text))
    return sorted(p for p in paths if (repo / p).exists() and not p.startswith("lockin_lint/"))


def test_wheel_metadata_for_pypi(tmp_path: Path) -> None:
    """Project URLs, classifiers, keywords, Requires-Python, and a long description whose links all
    work from PyPI (the wheel lacks docs/, fixtures/, scripts/)."""
    _sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path / "dist", REPO)
    (wheel,) = (tmp_path / "dist").glob("lockin_lint-*.whl")
    metadata = _metadata(wheel)
    headers, _, description = metadata.partition("\n\n")
    assert "Requires-Python: >=3.10" in headers.splitlines()
    assert "Project-URL: Source, https://github.com/lockin-lint/lockin-lint" in headers
    assert "Classifier: Programming Language :: Python :: 3.10" in headers
    assert re.search(r"^Keywords: .*cuda", headers, re.M)
    assert "## Use" in description and "### pre-commit" in description
    targets = re.findall(r"\]\(([^)\s]+)\)", description)
    assert targets and [t for t in targets if not t.startswith(("https://", "#"))] == []
    assert _unshipped_mentions(description, REPO) == []
