"""What formatters need besides the run itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..model import Rule, Settings
from ..score.effort import EffortModel


@dataclass(frozen=True)
class OutputContext:
    settings: Settings
    version: str
    #: The loaded rules by id (SARIF describes every rule a result uses).
    rules: Mapping[str, Rule] | None = field(default=None)
    effort: EffortModel | None = field(default=None)
    #: The directory finding paths are relative to (SARIF's ``%SRCROOT%``); None: the working directory.
    root: Path | None = field(default=None)
    #: Where rule documentation lives (SARIF ``helpUri``); None: ``docs/rules.md`` on GitHub.
    docs_url: str | None = field(default=None)
