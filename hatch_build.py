"""Build-time metadata: the PyPI long description, and a clear error on a Python that is too old.

The README links to files of the repository (docs, fixtures, scripts) that a wheel does not ship, so
the long description gets those links rewritten to the repository on GitHub (`long_description`).

``requires-python = ">=3.10"`` is in the metadata, and a recent pip says so on Python 3.9. The pip
that Python 3.9 bundles (23.0) resolves the dependencies of a source checkout before it checks the
project's own ``Requires-Python``, and fails with "No matching distribution found for tree-sitter";
stopping the metadata build with the real reason is what is ours to fix.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

REPOSITORY = "https://github.com/lockin-lint/lockin-lint"
MINIMUM = (3, 10)
#: A Markdown link or image whose target is a path inside the repository.
_RELATIVE_LINK = re.compile(r"(!?\[[^\]]*\]\()(?!https?://|#|mailto:)([^)\s]+)(\))")


def long_description(readme: str) -> str:
    """The README with repository-relative link targets made absolute (images from ``raw``)."""

    def absolute(match: re.Match[str]) -> str:
        kind = "raw" if match.group(1).startswith("!") else "blob"
        return f"{match.group(1)}{REPOSITORY}/{kind}/main/{match.group(2).lstrip('./')}{match.group(3)}"

    return _RELATIVE_LINK.sub(absolute, readme)


class LongDescription(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        if sys.version_info < MINIMUM:
            raise RuntimeError(f"lockin-lint needs Python >= {'.'.join(map(str, MINIMUM))}; this is "
                               f"Python {sys.version.split()[0]}")
        readme = Path(self.root, "README.md").read_text(encoding="utf-8")
        metadata["readme"] = {"content-type": "text/markdown", "text": long_description(readme)}
