"""The pre-commit hook selects exactly the files the CLI checks (fast; the end-to-end run is in
test_pre_commit.py)."""

from __future__ import annotations

import re

import pytest
import yaml

from lockin_lint.analyzers import files_regex, is_source

from .conftest import REPO, load_script

HOOKS = REPO / ".pre-commit-hooks.yaml"

#: Names the registry takes or leaves, beyond the fixtures' own files.
SAMPLES = (
    "requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "requirements/base.txt", "requirements/gpu.in",
    "constraints.txt", "pyproject.toml", "setup.cfg", "setup.py", "environment.yml", "env/conda-gpu.yaml",
    "Dockerfile", "docker/Dockerfile.cuda", "gpu.Dockerfile", "Containerfile", "docker-compose.yml",
    "compose.prod.yaml", "CMakeLists.txt", "cmake/FindNCCL.cmake", "Makefile", "GNUmakefile", "rules.mk",
    ".github/workflows/ci.yml", "sub/.github/workflows/gpu.yaml", ".gitlab-ci.yml", "nb.ipynb", "k.cu", "k.cuh",
    "a.h", "a.hpp", "a.inl", "a.inc", "stubs.pyi", "README.md", "setup.py.orig", "notes.txt", "workflows/ci.yml",
    "config.yml", "package.json", "Makefile.am", "requirements.txt.bak", "docs/conf.py", "x/pyproject.toml.in",
)


def test_hook_file_is_generated_from_the_registry() -> None:
    generator = load_script(REPO / "scripts" / "gen_pre_commit_hooks.py")
    assert HOOKS.read_text(encoding="utf-8") == generator.generate(), \
        ".pre-commit-hooks.yaml is stale: run `python scripts/gen_pre_commit_hooks.py`"


def _hook() -> dict:  # type: ignore[type-arg]
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["lockin-lint"]
    return hooks[0]  # type: ignore[no-any-return]


def test_hook_selects_files_by_the_registry_not_by_identify_types() -> None:
    hook = _hook()
    assert hook["types"] == ["file"] and "types_or" not in hook
    assert hook["files"].strip() == files_regex()


@pytest.mark.parametrize("path", sorted({
    *SAMPLES,
    *(p.relative_to(REPO / "fixtures").as_posix() for p in (REPO / "fixtures").rglob("*") if p.is_file()),
}))
def test_regex_and_registry_agree(path: str) -> None:
    """pre-commit matches ``files`` with ``re.search`` on the repository-relative path."""
    selected = re.search(_hook()["files"], path) is not None
    assert selected == is_source(path), path


def test_requirements_dockerfiles_and_workflows_are_selected() -> None:
    regex = _hook()["files"]
    for path in ("requirements.txt", "Dockerfile", ".github/workflows/ci.yml", "CMakeLists.txt", "pyproject.toml"):
        assert re.search(regex, path), path
