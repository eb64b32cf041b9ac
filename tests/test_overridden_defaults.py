"""A ``device="cuda"`` parameter default every call in the project overrides (project/overridden_defaults.py):
the finding stays, at info, statuses unchanged, its message naming the calls; every near miss (a call
that omits it, ``**kwargs``, a use as a value, an export, a second definition, no call) keeps the warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

_LIB = '''import torch


class Model:
    @classmethod
    def restore(cls, path, dtype=None, device: str = "cuda"):
        return torch.load(path, map_location=device)


def make(n, dtype=None, device="cuda"):
    return torch.zeros(n, dtype=dtype, device=device)
'''


def _default(tmp_path: Path, ruleset: RuleSet, user: str, line: int = 10, lib: str = _LIB,
             extra: dict[str, str] | None = None) -> Finding:
    (tmp_path / "pkg").mkdir(parents=True)
    (tmp_path / "pkg" / "lib.py").write_text(lib, encoding="utf-8")
    (tmp_path / "user.py").write_text(user, encoding="utf-8")
    for name, text in (extra or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert not run.errors, run.errors
    [found] = [f for f in run.findings if f.path == "pkg/lib.py" and f.line == line]
    assert found.rule_id in ("LL200", "LL201")
    return found


def _baseline(tmp_path: Path, ruleset: RuleSet, line: int) -> Finding:
    """The same finding with no caller at all (the warning as reported before this pass)."""
    (tmp_path / "alone").mkdir()
    return _default(tmp_path / "alone", ruleset, "", line)


def test_every_call_passing_the_parameter_by_keyword_lowers_to_info(tmp_path: Path, ruleset: RuleSet) -> None:
    user = "from pkg.lib import make\n\nx = make(3, device='cpu')\ny = make(4, device=dev)\n"
    found = _default(tmp_path, ruleset, user)
    before = _baseline(tmp_path, ruleset, 10)
    assert before.severity == "warning"
    assert found.severity == "info"
    assert found.message == before.message + "; every call in the project passes `device` (user.py:3, user.py:4)"
    assert found.targets == before.targets and found.handled == before.handled


@pytest.mark.parametrize("user", [
    "from pkg.lib import make\n\nx = make(3, None, 'cpu')\n",  # positional, at the index
    '"""Wraps make."""\nfrom pkg.lib import make\n\nx = make(3, device="cpu")  # not make(3)\n',
], ids=["positional", "docstring-and-comment"])
def test_other_spellings_that_pass_it(tmp_path: Path, ruleset: RuleSet, user: str) -> None:
    assert _default(tmp_path, ruleset, user).severity == "info"


def test_a_classmethod_called_by_keyword_in_another_file(tmp_path: Path, ruleset: RuleSet) -> None:
    user = "from pkg.lib import Model\n\nm = Model.restore('p', device='cpu')\n"
    found = _default(tmp_path, ruleset, user, line=6)
    assert found.severity == "info" and "(user.py:3)" in found.message


def test_a_method_name_another_call_spells_without_the_parameter_keeps_the_warning(
        tmp_path: Path, ruleset: RuleSet) -> None:
    user = "from pkg.lib import Model\n\nm = Model.restore('p', device='cpu')\nsession.restore('p')\n"
    assert _default(tmp_path, ruleset, user, line=6).severity == "warning"


@pytest.mark.parametrize("user", [
    "from pkg.lib import make\n\nx = make(3, device='cpu')\ny = make(4)\n",  # one call omits it
    "from pkg.lib import make\n\nx = make(3, None)\n",  # positional, short of the index
    "from pkg.lib import make\n\nx = make(3, device='cpu')\ny = make(*args)\n",
    "from pkg.lib import make\n\nx = make(3, **options)\n",
    "from pkg.lib import make\n\nx = make(3, device='cpu')\nfactory = make\n",  # a value
    "from pkg.lib import make as build\n\nx = build(3, device='cpu')\n",  # another name
    "from pkg.lib import make\n\nx = make(3, device='cpu')\ngetattr(lib, 'make')\n",
    "def make():\n    pass\n\nmake()\n",  # a second definition of the name
    "",  # no call at all
], ids=["omitted", "short", "star-args", "star-kwargs", "value", "alias", "string", "second-def", "no-call"])
def test_near_misses_keep_the_warning(tmp_path: Path, ruleset: RuleSet, user: str) -> None:
    assert _default(tmp_path, ruleset, user).severity == "warning"


def test_a_method_called_through_its_class_counts_self_among_the_positions(tmp_path: Path,
                                                                          ruleset: RuleSet) -> None:
    lib = 'class Runner:\n    def run(self, x, device="cuda"):\n        return x.to(device)\n'
    user = "from pkg.lib import Runner\n\nRunner.run(obj, x)\nRunner().run(x, 'cpu')\n"
    assert _default(tmp_path, ruleset, user, line=2, lib=lib).severity == "warning"
    user = "from pkg.lib import Runner\n\nRunner().run(x, 'cpu')\n"
    assert _default(tmp_path / "b", ruleset, user, line=2, lib=lib).severity == "info"


def test_an_exported_function_keeps_the_warning(tmp_path: Path, ruleset: RuleSet) -> None:
    user = "from pkg.lib import make\n\nx = make(3, device='cpu')\n"
    init = {"pkg/__init__.py": "from .lib import make\n"}
    assert _default(tmp_path, ruleset, user, extra=init).severity == "warning"
    listed = _LIB + "\n__all__ = ['make']\n"
    assert _default(tmp_path / "b", ruleset, user, lib=listed).severity == "warning"
    annotated = _LIB + "\n__all__: list[str] = ['make']\n"
    assert _default(tmp_path / "c", ruleset, user, lib=annotated).severity == "warning"


def test_only_the_overridden_parameter_on_a_shared_line_is_lowered(tmp_path: Path, ruleset: RuleSet) -> None:
    lib = 'import torch\n\n\ndef make(n, device="cuda", out_device="cuda"):\n    return torch.zeros(n, device=device)\n'
    (tmp_path / "user.py").write_text("from lib import make\n\nx = make(3, device='cpu')\n", encoding="utf-8")
    (tmp_path / "lib.py").write_text(lib, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    found = sorted((f.column, f.severity) for f in run.findings if f.path == "lib.py" and f.line == 4)
    assert [severity for _, severity in found] == ["info", "warning"]


def test_a_method_of_an_exported_class_keeps_the_warning(tmp_path: Path, ruleset: RuleSet) -> None:
    user = "from pkg.lib import Model\n\nm = Model.restore('p', device='cpu')\n"
    init = {"pkg/__init__.py": "from .lib import Model\n"}
    assert _default(tmp_path, ruleset, user, line=6, extra=init).severity == "warning"


_CLASS = ('import torch\n\n\nclass Manager:\n    def __init__(self, n, device="cuda"):\n'
          '        self.x = torch.zeros(n, device=device)\n')


@pytest.mark.parametrize(("user", "severity"), [
    ("from pkg.lib import Manager\n\nm = Manager(3, device='cpu')\nk = Manager(2, 'cpu')\n", "info"),
    ("from pkg.lib import Manager\n\nm = Manager(3, device='cpu')\nk = Manager(2)\n", "warning"),
    ("from pkg.lib import Manager\n\n\nclass Sub(Manager):\n    pass\n\n\nm = Manager(3, device='cpu')\n", "warning"),
    ("from pkg.lib import Manager\n\nm = Manager(3, device='cpu')\nassert isinstance(m, Manager)\n", "warning"),
], ids=["every-call", "omitted", "subclass", "isinstance"])
def test_a_constructor_default_reads_the_class_calls(tmp_path: Path, ruleset: RuleSet, user: str,
                                                     severity: str) -> None:
    assert _default(tmp_path, ruleset, user, line=5, lib=_CLASS).severity == severity


@pytest.mark.parametrize(("lib", "user", "line"), [
    ('import pytest\n\n\n@pytest.fixture\ndef make(device="cuda"):\n    return device\n',
     "from pkg.lib import make\n\nx = make(device='cpu')\n", 5),  # a decorated function
    (_CLASS.replace("class Manager", "@register('m')\nclass Manager"),
     "from pkg.lib import Manager\n\nm = Manager(3, device='cpu')\n", 6),  # a decorated class
    ('import torch\n\n\ndef make(n):\n    return torch.zeros(n, device="cuda")\n',
     "from pkg.lib import make\n\nx = make(3)\n", 5),  # a call's argument, no parameter default
], ids=["decorated-function", "decorated-class", "call-argument"])
def test_other_shapes_keep_the_warning(tmp_path: Path, ruleset: RuleSet, lib: str, user: str, line: int) -> None:
    assert _default(tmp_path, ruleset, user, line=line, lib=lib).severity == "warning"


def test_a_list_default_holding_the_device(tmp_path: Path, ruleset: RuleSet) -> None:
    lib = 'import torch\n\n\ndef make(n, devices=["cuda"]):\n    return [torch.zeros(n, device=d) for d in devices]\n'
    user = "from pkg.lib import make\n\nx = make(3, devices=['cpu'])\n"
    assert _default(tmp_path, ruleset, user, line=4, lib=lib).severity == "info"
    assert _default(tmp_path / "b", ruleset, "from pkg.lib import make\n\nx = make(3)\n", line=4,
                    lib=lib).severity == "warning"
