"""Three false classes of the fourth session's last round (docs/validation.md, #11, fifth session,
f10b), each with the near misses that keep their old reading:

- a platform refused with a message (``if self.is_rocm_pytorch(): warn; return False``) handles
  nothing for it (analyzers/python_refusals.py ``platform_refusal``);
- a negated CUDA test inside ``X and (not torch.cuda.is_available() or Y)`` whose branch does the
  work is the CPU's path (analyzers/python_negated_guards.py);
- a public optional import with a ``None`` placeholder that nothing in the project imports is unused
  (analyzers/python_fallback_imports.py candidates, project/unused_imports.py).
"""

from __future__ import annotations

from pathlib import Path

from lockin_lint.analyzers.python_dispatch import BRANCH, FALLBACK
from lockin_lint.api import check_bytes, check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding


def _found(source: str, ruleset: RuleSet, line: int, rule: str) -> Finding:
    result = check_bytes("m.py", source.encode(), ruleset)
    assert not result.errors, result.errors
    found = sorted((f for f in result.findings if f.line == line and f.rule_id == rule), key=lambda f: f.column)
    assert found, (line, rule)
    return found[0]  # the leftmost: the CUDA test itself where a line has two


# -- a platform refused with a message (DeepSpeed op_builder/sparse_attn.py:36-39, :54, :68) --------
_PROBE = ("import torch\n\n\nclass Builder:\n    def is_compatible(self, verbose=False):\n"
          "        if {test}:\n{body}\n"
          "        major = torch.version.cuda.split('.')[0]\n        import triton\n        return int(major) >= 11\n")
_WARN = "            if verbose:\n                self.warning('sparse attention is not compatible with ROCM')\n"


def _probe(ruleset: RuleSet, test: str = "self.is_rocm_pytorch()", body: str = _WARN + "            return False",
           ) -> tuple[Finding, Finding]:
    source = _PROBE.format(test=test, body=body)
    lines = source.splitlines()
    version = next(i for i, text in enumerate(lines, 1) if "split" in text)
    return _found(source, ruleset, version, "LL122"), _found(source, ruleset, version + 1, "LL516")


def test_a_platform_refused_with_a_message_is_not_handled_there(ruleset: RuleSet) -> None:
    for body in (_WARN + "            return False", _WARN + "            return",
                 "            logger.warning('not supported on ROCm')\n            return None"):
        version, triton = _probe(ruleset, body=body)
        assert "rocm" not in dict(version.handled) and "rocm" not in dict(triton.handled), body
        assert version.targets["rocm"].status == "equivalent"  # the rule's torch.version.hip
    version, _ = _probe(ruleset, test="torch.version.hip")
    assert "rocm" not in dict(version.handled)


def test_near_misses_of_a_platform_refusal_keep_the_branch(ruleset: RuleSet) -> None:
    for test, body in (("self.is_rocm_pytorch()", "            return False"),  # a silent probe answer
                       ("self.is_rocm_pytorch()", _WARN + "            return self.rocm_ok()"),  # asks further
                       ("self.is_rocm_pytorch()", _WARN + "            x = 1\n            return False")):
        version, triton = _probe(ruleset, test=test, body=body)
        assert dict(version.handled).get("rocm") == BRANCH, body
        assert dict(triton.handled).get("rocm") == BRANCH, body


def test_a_cuda_probe_answer_keeps_its_cpu_fallback(ruleset: RuleSet) -> None:
    """vLLM's ``_oink_ops.py:55``: ``if not torch.cuda.is_available(): return False`` lets the
    caller fall back; a message before it does not make it a refusal (the test is CUDA's)."""
    source = ("import torch\n\n\ndef available(i):\n    if not torch.cuda.is_available():\n"
              "        logger.warning('no CUDA')\n        return False\n"
              "    return torch.cuda.get_device_capability(i)[0] >= 10\n")
    assert dict(_found(source, ruleset, 8, "LL101").handled).get("cpu") == FALLBACK


# -- a negated CUDA test whose branch is the CPU path (accelerate src/accelerate/launchers.py:154) ---
_LAUNCH = ("import torch\n\n\ndef launch(function, args, in_colab):\n    if in_colab and len(args) > 8:\n"
           "        raise ValueError('too many')\n    elif {test}:\n{body}\n    else:\n        spawn(function, args)\n")
_CPU_BODY = ("        if torch.cuda.is_available():\n            print('Launching training on one GPU.')\n"
             "        else:\n            print('Launching training on one CPU.')\n        function(*args)")


def _launch(ruleset: RuleSet, test: str = "in_colab and (not torch.cuda.is_available() or count() < 2)",
            body: str = _CPU_BODY) -> Finding:
    return _found(_LAUNCH.format(test=test, body=body), ruleset, 7, "LL101")


def test_a_negated_cuda_test_whose_branch_does_the_work_handles_the_cpu(ruleset: RuleSet) -> None:
    for test in ("in_colab and (not torch.cuda.is_available() or count() < 2)",
                 "not torch.cuda.is_available() or count() < 2", "not torch.cuda.is_available()"):
        found = _launch(ruleset, test=test)
        assert dict(found.handled) == {"cpu": FALLBACK}, test
        assert found.targets["xpu"].status == "rename"  # the branch names no other platform


def test_near_misses_of_a_negated_cuda_test_keep_the_cpu_rename(ruleset: RuleSet) -> None:
    for test, body in (
            ("not torch.cuda.is_available()", "        return None"),  # a probe's answer (bitsandbytes cuda_specs.py:57)
            ("not torch.cuda.is_available()", "        print('no CUDA')\n        function(*args)\n        return"),
            ("not torch.cuda.is_available()", "        raise RuntimeError('CUDA required')"),
            ("not torch.cuda.is_available()", "        function(*args, device='cuda')"),  # still CUDA
            ("not torch.cuda.is_available()", "        print('nothing to do')"),  # only a message
            ("in_colab and (not torch.cuda.is_available() or torch.xpu.is_available())", _CPU_BODY),
            ("not torch.cuda.is_available() or torch.cuda.get_device_properties(0).major < 10",
             "        BACKENDS.remove('sm100')"),  # a CUDA feature gate (vLLM test_mla_backends.py:46)
            ("torch.cuda.is_available()", "        function(*args)")):  # not negated: its own reading
        assert dict(_launch(ruleset, test=test, body=body).handled).get("cpu") != FALLBACK or \
            test == "torch.cuda.is_available()", (test, body)


# -- a public optional import nothing imports (flash-attention flash_attn/cute/cute_dsl_utils.py:11) --
_UTILS = ("import torch\n\ntry:\n    from triton.tools.disasm import extract\nexcept ImportError:\n"
          "    extract = None\n\n\ndef helper(x):\n    return torch.relu(x)\n")


def _import_run(tmp_path: Path, ruleset: RuleSet, files: dict[str, str]) -> Finding:
    (tmp_path / "pkg").mkdir()
    for name, text in {"pkg/utils.py": _UTILS, **files}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    assert not run.errors, run.errors
    [found] = [f for f in run.findings if f.path == "pkg/utils.py" and f.line == 4]
    return found


def test_a_public_optional_import_nothing_imports_is_unused(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _import_run(tmp_path, ruleset, {"pkg/interface.py": (
        '"""We extract the splits here."""\nfrom pkg.utils import (\n    helper,\n)\n\n\n'
        'def run(x):\n    return helper(x)\n'),
        "setup.py": "def unpack(tar):\n    tar.extract('x')\n"})  # spells `extract`, not the module
    assert dict(found.handled)["cpu"] == "optional import, unused"
    assert found.targets["mps"].status == "native" and "rocm" not in dict(found.handled)


def test_a_public_optional_import_another_file_may_import_stays(tmp_path: Path, ruleset: RuleSet) -> None:
    users = ("from pkg.utils import (\n    helper,\n    extract,\n)\n",
             "from . import utils\n\n\ndef f(archive):\n    return archive.extract()\n",  # any `.extract`
             "from pkg import utils\n\nf = utils.extract\n",
             "from pkg.utils import *\n",
             "import pkg.utils as u\n\nf = getattr(u, 'extract')\n")
    for number, user in enumerate(users):
        (tmp_path / str(number)).mkdir()
        found = _import_run(tmp_path / str(number), ruleset, {"pkg/user.py": user})
        assert "cpu" not in dict(found.handled), user
    plain = check_bytes("utils.py", _UTILS.encode(), ruleset).facts
    assert plain is not None and plain.unused_imports  # a candidate ...
    exported = check_bytes("utils.py", (_UTILS + "\n__all__ = ['extract', 'helper']\n").encode(), ruleset).facts
    assert exported is None or not exported.unused_imports  # ... unless exported on purpose
