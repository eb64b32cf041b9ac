"""Formatter registry: every output format is a function ``(run, context) -> str``.

Each formatter's module is imported when it is first called: the command line needs the names for its
grammar, and a run needs one format (SARIF's module alone took 20 ms to import).
"""

from __future__ import annotations

import importlib
from typing import Callable

from ..model import RunResult
from .context import OutputContext

Formatter = Callable[[RunResult, OutputContext], str]


def _lazy(module: str, name: str) -> Formatter:
    def render(run: RunResult, ctx: OutputContext) -> str:
        formatter: Formatter = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        return formatter(run, ctx)
    render.__name__ = name
    return render


FORMATTERS: dict[str, Formatter] = {
    "text": _lazy("text", "render_text"),
    "concise": _lazy("concise", "render_concise"),
    "json": _lazy("json_format", "render_json"),
    "sarif": _lazy("sarif", "render_sarif"),
    "github": _lazy("github", "render_github"),
}

__all__ = ["FORMATTERS", "Formatter", "OutputContext"]
