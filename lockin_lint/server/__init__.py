"""``lockin-lint server``: a Language Server Protocol server over stdio (pygls 2 / lsprotocol).

Editors get the CLI's findings while the code is typed: diagnostics on open, change and save, hover
tables per target, and code actions. The server wraps the same pure core as ``lockin-lint check``
(see `checking`), so what the editor shows is what CI reports. ``docs/editors.md`` shows the setups.
"""

from __future__ import annotations

import logging


def serve(extra_rules: tuple[str, ...] = (), use_cache: bool = True) -> int:
    """Load the rules once, then answer the client on stdin/stdout until it sends ``exit``.

    pygls is imported here, not at module level, so the CLI's other commands never pay for it.
    """
    from ..kb.ruleset import load_rules
    from .app import create_server

    logging.basicConfig(level=logging.WARNING, format="lockin-lint server: %(message)s")  # stderr: stdout is the protocol
    create_server(load_rules(extra=extra_rules, use_cache=use_cache)).start_io()
    return 0


__all__ = ["serve"]
