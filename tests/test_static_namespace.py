"""scripts/static_namespace.py: the name reader behind the torch release history and the vendor name lists.

Why: a name it misses becomes a wrong `missing` (vendor) or a wrong gate (torch); a name it invents becomes a
wrong `rename`. Each binding form it claims to read is exercised here on a small in-memory package.
"""

from __future__ import annotations

from .conftest import REPO, load_script

NS = load_script(REPO / "scripts" / "static_namespace.py")

FILES = {
    "torch_x/__init__.py": (
        "import os\n"
        "from typing import Any\n"
        "from .core.device import synchronize, Device as device\n"
        "from .core.memory import *\n"
        "from .core import amp\n"
        "import torch_x.core.stream as streams\n"
        "try:\n"
        "    from .core.graphs import XGraph\n"
        "except ImportError:\n"
        "    pass\n"
        "def is_available(): ...\n"
        "class Event: ...\n"
        "default_generators = ()\n"
        "_private = 1\n"
        "__all__ = ['listed_only']\n"
    ),
    "torch_x/core/__init__.py": "",
    "torch_x/core/device.py": "def synchronize(): ...\nclass Device: ...\n",
    "torch_x/core/memory.py": "__all__ = ['empty_cache', '_record_memory_history']\ndef empty_cache(): ...\n"
                              "def _record_memory_history(): ...\ndef hidden(): ...\n",
    "torch_x/core/amp/__init__.py": "from .autocast_mode import autocast\n",
    "torch_x/core/amp/autocast_mode.py": "class autocast: ...\n",
    "torch_x/core/stream.py": "class Stream: ...\n",
    "torch_x/core/graphs.py": "class XGraph: ...\n",
    "torch_x/core/lazy.py": "import torch_x\nsetattr(torch_x, 'FloatStorage', object)\n",
    "torch_x/backends/cnnl.py": "class CnnlModule(PropModule):\n    allow_tf32 = ContextProp(None, None)\n",
}


def names(private: tuple[str, ...] = ()) -> dict[str, set[str]]:
    source = NS.Source(FILES.get, FILES)
    spaces = NS.Namespaces(source, private, aliases={"torch.x": "torch_x"})
    found = NS.walk(spaces, {"torch.x": ("torch_x", 1), "torch.backends.cnnl": ("torch_x.backends.cnnl", 0)})
    return {path: set(bindings) for path, bindings in found.items()}


def test_every_binding_form_is_read() -> None:
    top = names()["torch.x"]
    assert {"synchronize", "device", "empty_cache", "amp", "streams", "XGraph", "is_available", "Event",
            "default_generators", "listed_only", "FloatStorage", "core"} <= top
    assert not {"os", "Any", "hidden", "_private", "_record_memory_history", "Device"} & top


def test_submodules_and_private_probes() -> None:
    found = names(private=("_record_memory_history",))
    assert "_record_memory_history" in found["torch.x"]
    assert found["torch.x.amp"] >= {"autocast", "autocast_mode"}


def test_prop_module_flags_are_module_attributes() -> None:
    assert "allow_tf32" in names()["torch.backends.cnnl"]
