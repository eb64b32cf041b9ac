"""Formatter registry: every output format is a function ``(run, context) -> str``."""

from __future__ import annotations

from typing import Callable

from ..model import RunResult
from .concise import render_concise
from .context import OutputContext
from .github import render_github
from .json_format import render_json
from .sarif import render_sarif
from .text import render_text

Formatter = Callable[[RunResult, OutputContext], str]

FORMATTERS: dict[str, Formatter] = {
    "text": render_text,
    "concise": render_concise,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}

__all__ = ["FORMATTERS", "Formatter", "OutputContext"]
