"""``torch.cuda`` names a backend's subclass rebinds for good before its base class runs are handled
for that backend in the base class's module (analyzers/python_cuda_rebinds.py, project/cuda_rebinds.py);
near misses keep their statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import Finding

# vLLM's v1/worker/gpu_model_runner.py and xpu_model_runner.py, rewritten
_BASE = '''import torch

_SIDE = torch.cuda.Stream


class RunnerOutput:
    def __init__(self, copy_stream):
        with torch.cuda.stream(copy_stream):
            self.done = torch.cuda.Event()


class GPURunner:
    side: torch.cuda.Stream = None

    def __init__(self, device):
        self.stream = torch.cuda.Stream()
        free, total = torch.cuda.mem_get_info()

    def run(self):
        torch.cuda.synchronize()
        with torch.cuda.stream(self.stream):
            return RunnerOutput(self.stream)
'''
_PATCH = '''from contextlib import contextmanager

import torch

from pkg.gpu_runner import GPURunner


class XPURunner(GPURunner):
    def __init__(self, device):
        with _cuda_to_xpu():
            super().__init__(device)


@contextmanager
def _cuda_to_xpu():
    try:
        torch.cuda.Stream = torch.xpu.Stream
        torch.cuda.stream = torch.xpu.stream
        torch.cuda.Event = torch.Event
        if graphs_supported():
            torch.cuda.mem_get_info = torch.xpu.mem_get_info
        yield
    finally:
        pass
'''
_OTHER = "import torch\n\n\ndef copy(stream):\n    with torch.cuda.stream(stream):\n        pass\n"


def _run(tmp_path: Path, ruleset: RuleSet, patch: str = _PATCH, base: str = _BASE) -> dict[tuple[str, int], Finding]:
    for name, text in {"pkg/__init__.py": "", "pkg/gpu_runner.py": base, "pkg/xpu_runner.py": patch,
                       "pkg/other.py": _OTHER}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = check_paths(["."], ruleset, cwd=tmp_path)
    return {(f.path, f.line): f for f in run.findings}


def _xpu_notes(found: dict[tuple[str, int], Finding]) -> dict[tuple[str, int], str]:
    return {place: dict(f.handled)["xpu"] for place, f in found.items() if "xpu" in dict(f.handled)}


def test_rebound_names_are_handled_on_that_target_in_the_base_module(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _run(tmp_path, ruleset)
    base = "pkg/gpu_runner.py"
    assert _xpu_notes(found) == {
        (base, 8): "rebound to torch.xpu.stream by xpu_runner.py:18",  # a helper class the runner builds
        (base, 9): "rebound to torch.Event by xpu_runner.py:19",
        (base, 13): "rebound to torch.xpu.Stream by xpu_runner.py:17",  # a class field's type: names, runs nothing
        (base, 16): "rebound to torch.xpu.Stream by xpu_runner.py:17",
        (base, 21): "rebound to torch.xpu.stream by xpu_runner.py:18",
    }
    for place in _xpu_notes(found):
        finding = found[place]
        assert finding.targets["xpu"].status == "native"
        assert set(dict(finding.handled)) == {"xpu"}
        assert finding.targets["ascend"].status != "native"
    # not rebound (mem_get_info only under an ``if``, synchronize never), or run at import time
    for line in (3, 17, 20):
        assert (base, line) in found and "xpu" not in dict(found[(base, line)].handled), line
    assert not found[("pkg/other.py", 5)].handled  # another module the runner may reach: out of scope


@pytest.mark.parametrize("patch", [
    _PATCH.replace("    finally:\n        pass\n", "    finally:\n        torch.cuda.stream = _saved\n"),
    _PATCH.replace("        with _cuda_to_xpu():\n            super().__init__(device)",
                   "        super().__init__(device)\n\n    def run(self):\n        with _cuda_to_xpu():\n"
                   "            return super().run()"),
    _PATCH.replace("from pkg.gpu_runner import GPURunner", "from pkg.gpu_runner import GPURunner as Base")
    .replace("class XPURunner(GPURunner)", "class XPURunner(Other)"),
    _PATCH.replace("torch.xpu.Stream", "_StreamPlaceholder"),
    _PATCH.replace("torch.cuda.Event = torch.Event", "torch.cuda.Event = torch.npu.Event"),
    _PATCH.replace("from pkg.gpu_runner import GPURunner", "from pkg.missing import GPURunner"),
], ids=["restored", "not-in-init", "another-base", "placeholder", "two-backends", "base-not-in-run"])
def test_near_misses_stay(tmp_path: Path, ruleset: RuleSet, patch: str) -> None:
    notes = _xpu_notes(_run(tmp_path, ruleset, patch))
    if "_saved" in patch:  # only the restored name is no longer rebound for good
        assert (("pkg/gpu_runner.py", 8) not in notes and ("pkg/gpu_runner.py", 21) not in notes
                and ("pkg/gpu_runner.py", 16) in notes)
    else:
        assert not notes


def test_a_base_module_without_the_class_stays(tmp_path: Path, ruleset: RuleSet) -> None:
    assert not _xpu_notes(_run(tmp_path, ruleset, base=_BASE.replace("class GPURunner:", "class CudaRunner:")))


# The base module's package: what it imports from its folder (one level) is run by the runner too.
_BASE_IMPORTING = ('from pkg.helpers import copy_out\nfrom .stages import stage\nfrom pkg import queues\n'
                   'from outside.tools import tool\n' + _BASE)
_HELPER = ('import torch\n\n_LOADED = torch.cuda.Stream\n\n\ndef copy_out(stream):\n'
           '    with torch.cuda.stream(stream):\n        free = torch.cuda.mem_get_info()\n')


def _run_package(tmp_path: Path, ruleset: RuleSet) -> dict[tuple[str, int], Finding]:
    for name, text in {"pkg/helpers.py": _HELPER, "pkg/stages.py": _HELPER, "pkg/queues.py": _HELPER,
                       "pkg/unimported.py": _HELPER, "outside/__init__.py": "", "outside/tools.py": _HELPER}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return _run(tmp_path, ruleset, base=_BASE_IMPORTING)


def test_modules_of_the_base_package_it_imports_are_handled_inside_functions(tmp_path: Path,
                                                                             ruleset: RuleSet) -> None:
    notes = _xpu_notes(_run_package(tmp_path, ruleset))
    for module in ("pkg/helpers.py", "pkg/stages.py", "pkg/queues.py"):  # absolute, relative, ``from pkg import``
        assert notes.get((module, 7)) == "rebound to torch.xpu.stream by xpu_runner.py:18", module
        assert (module, 3) not in notes  # module level: runs at import, before any runner
        assert (module, 8) not in notes  # mem_get_info is rebound only under an ``if``
    assert ("pkg/gpu_runner.py", 25) in notes  # the base module itself still (its lines moved by 4)


def test_package_modules_not_imported_or_outside_the_folder_stay(tmp_path: Path, ruleset: RuleSet) -> None:
    found = _run_package(tmp_path, ruleset)
    for module in ("pkg/unimported.py", "outside/tools.py", "pkg/other.py"):
        assert (module, 7 if module != "pkg/other.py" else 5) in found, module
    notes = _xpu_notes(found)
    assert not [place for place in notes if place[0] in ("pkg/unimported.py", "outside/tools.py", "pkg/other.py")]


# vLLM's XPU graph names: rebound only ``if supports_xpu_graph():``, a capability probe of the same backend.
_PROBED = _PATCH.replace("graphs_supported()", "supports_xpu_graph()")


def test_a_name_rebound_under_the_backends_capability_probe_is_handled_with_a_conditional_note(
        tmp_path: Path, ruleset: RuleSet) -> None:
    found = _run(tmp_path, ruleset, _PROBED)
    notes = _xpu_notes(found)
    base = "pkg/gpu_runner.py"
    assert notes[(base, 17)] == ("rebound to torch.xpu.mem_get_info by xpu_runner.py:21"
                                 " where supports_xpu_graph() is true (:20)")
    assert found[(base, 17)].targets["xpu"].status == "native"
    assert notes[(base, 16)] == "rebound to torch.xpu.Stream by xpu_runner.py:17"  # unconditional: as before
    assert (base, 20) not in notes  # synchronize: never rebound


@pytest.mark.parametrize("probe", [
    "graphs_supported()",  # no platform in the name
    "supports_npu_graph()",  # another platform's probe
    "supports_xpu()",  # no capability
    "is_xpu_graph()",  # not a capability word
    "supports_xpu_graph(device)",  # a probe of something given
    "not supports_xpu_graph()",
    "flag",
])
def test_a_name_under_another_test_stays(tmp_path: Path, ruleset: RuleSet, probe: str) -> None:
    notes = _xpu_notes(_run(tmp_path, ruleset, _PATCH.replace("graphs_supported()", probe)))
    assert ("pkg/gpu_runner.py", 17) not in notes
    assert ("pkg/gpu_runner.py", 16) in notes  # the unconditional names keep their notes


@pytest.mark.parametrize("patch", [
    _PROBED.replace("        yield\n", "        else:\n            torch.cuda.mem_get_info = _none\n        yield\n"),
    _PROBED.replace("torch.xpu.mem_get_info", "torch.npu.mem_get_info"),
], ids=["with-else", "another-backend"])
def test_a_probed_name_with_an_else_or_another_backend_stays(tmp_path: Path, ruleset: RuleSet, patch: str) -> None:
    notes = _xpu_notes(_run(tmp_path, ruleset, patch))
    assert ("pkg/gpu_runner.py", 17) not in notes
    assert ("pkg/gpu_runner.py", 16) in notes


# vLLM's platforms/xpu.py names the graph wrapper the XPU uses; compilation/cuda_graph.py, rewritten.
_PLATFORM = '''class XPUPlatform:
    @classmethod
    def get_static_graph_wrapper_cls(cls) -> str:
        return "pkg.graphs.GraphWrapper"
'''
_GRAPHS = '''import torch


class GraphWrapper:
    graph: torch.cuda.CUDAGraph = None
    side = torch.cuda.Stream()

    def capture(self, pool):
        with torch.cuda.stream(pool):
            free = torch.cuda.mem_get_info()
            torch.cuda.synchronize()
'''


def _run_platform(tmp_path: Path, ruleset: RuleSet, platform: str = _PLATFORM, where: str = "pkg/platforms/xpu.py",
                  graphs: str = _GRAPHS) -> dict[tuple[str, int], str]:
    for name, text in {where: platform, "pkg/graphs.py": graphs}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return _xpu_notes(_run(tmp_path, ruleset, _PROBED))


def test_a_module_the_platform_class_names_is_handled_inside_functions(tmp_path: Path, ruleset: RuleSet) -> None:
    notes = _run_platform(tmp_path, ruleset)
    assert notes[("pkg/graphs.py", 9)] == "rebound to torch.xpu.stream by xpu_runner.py:18"
    assert notes[("pkg/graphs.py", 10)] == ("rebound to torch.xpu.mem_get_info by xpu_runner.py:21"
                                            " where supports_xpu_graph() is true (:20)")
    assert ("pkg/graphs.py", 6) not in notes  # class level: runs at import
    assert ("pkg/graphs.py", 11) not in notes  # synchronize: never rebound


def test_a_field_type_counts_with_the_functions(tmp_path: Path, ruleset: RuleSet) -> None:
    graphs = _GRAPHS.replace("torch.cuda.CUDAGraph", "torch.cuda.Stream")
    notes = _run_platform(tmp_path, ruleset, graphs=graphs)
    assert notes[("pkg/graphs.py", 5)] == "rebound to torch.xpu.Stream by xpu_runner.py:17"
    assert ("pkg/graphs.py", 6) not in notes  # a call at class level: runs at import
    top = "import torch\n\nSIDE: torch.cuda.Stream = None\n" + graphs.replace("import torch\n", "")
    notes = _run_platform(tmp_path, ruleset, graphs=top)
    assert ("pkg/graphs.py", 3) not in notes  # a module-level annotation: not a class's field


@pytest.mark.parametrize("platform, where", [
    (_PLATFORM, "pkg/platforms/npu.py"),  # another backend's platform
    (_PLATFORM, "pkg/platforms/base.py"),  # a file no backend's by its path
    (_PLATFORM.replace("        return", "        warn()\n        return"), "pkg/platforms/xpu.py"),
    (_PLATFORM.replace("    @classmethod\n", ""), "pkg/platforms/xpu.py"),
    (_PLATFORM.replace("get_static_graph_wrapper_cls", "static_graph_wrapper"), "pkg/platforms/xpu.py"),
    (_PLATFORM.replace("GraphWrapper", "Missing"), "pkg/platforms/xpu.py"),  # the class is not there
    (_PLATFORM.replace("pkg.graphs", "elsewhere.graphs"), "pkg/platforms/xpu.py"),  # not a module of the run
], ids=["npu-platform", "no-backend-path", "getter-does-more", "not-classmethod", "not-a-getter", "no-class",
        "not-in-run"])
def test_a_module_not_named_so_stays(tmp_path: Path, ruleset: RuleSet, platform: str, where: str) -> None:
    notes = _run_platform(tmp_path, ruleset, platform, where)
    assert not [place for place in notes if place[0] == "pkg/graphs.py"]
    assert ("pkg/gpu_runner.py", 16) in notes
