"""Formatter registry: every output format is a function ``(run, context) -> str``.

Each formatter's module is imported when it is first called: the command line needs the names for its
grammar, and a run needs one format (SARIF's module alone took 20 ms to import). `OutputContext` is
imported on first use too (it imports the effort model, 7 ms): building the grammar, and a run that
replays its stored output (`cli_memo`), import this package for the names only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable

from ..model import RunResult

if TYPE_CHECKING:
    from .context import OutputContext

Formatter = Callable[[RunResult, "OutputContext"], str]

#: ``lockin-lint report --format`` choices (`report_formats.REPORT_FORMATS` renders them; the grammar
#: needs the names without importing the renderers).
REPORT_FORMAT_NAMES: tuple[str, ...] = ("html", "json", "markdown", "text")

#: Findings an HTML report lists by default: enough to browse, few enough to stay small on big repositories
#: (every finding is in ``--format json``; ``report --all-findings`` lists them all in the page).
DEFAULT_HTML_FINDINGS = 500


def __getattr__(name: str) -> Any:
    """``from lockin_lint.output import OutputContext`` imports the context module then, not before."""
    if name == "OutputContext":
        from .context import OutputContext

        return OutputContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

__all__ = ["DEFAULT_HTML_FINDINGS", "FORMATTERS", "Formatter", "OutputContext", "REPORT_FORMAT_NAMES"]
