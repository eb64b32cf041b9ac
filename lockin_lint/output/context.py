"""What formatters need besides the run itself."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Settings


@dataclass(frozen=True)
class OutputContext:
    settings: Settings
    version: str
