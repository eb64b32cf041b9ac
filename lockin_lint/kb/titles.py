"""A rule's title and its documentation anchor, for SARIF viewers and the generated rule docs.

GitHub code scanning shows a rule's ``shortDescription`` as the title of every alert, so it must read
as a title ("CUDA Runtime API: Memory Management"), not as a message template with a hole in it
(``<name> is part of ...``). Titles are derived from the message every rule already has, one way for
all rules, so a new rule needs nothing more; where the message's subject is the placeholder itself
(``{symbol} kernels need ...``), the rule sets ``title`` in its YAML.
"""

from __future__ import annotations

import re

from ..model import Rule

#: Base of the ``helpUri`` links: each rule has its section in the generated ``docs/rules.md``.
DEFAULT_DOCS_URL = "https://github.com/lockin-lint/lockin-lint/blob/main/docs/rules.md"

_PART_OF = re.compile(r"^`\{symbol\}` is part of (?:the )?(?P<what>.+?)(?: \((?P<section>[^()]+)\))?$")
_IS_A = re.compile(r"^`\{symbol\}` is (?:an? |the )?(?P<what>.+)$")
_PLACEHOLDER = re.compile(r"\s*\(?`?\{symbol\}`?\)?")


def rule_title(rule: Rule) -> str:
    return rule.title or title_from_message(rule.message)


def title_from_message(message: str) -> str:
    """``"`{symbol}` is part of the cuBLAS API (Level-1)"`` -> ``"cuBLAS API: Level-1"``;
    ``"`{symbol}` is a CUDA base image"`` -> ``"CUDA base image"``; otherwise the message without its
    placeholder: ``"`{symbol}` links a CUDA toolkit library"`` -> ``"Links a CUDA toolkit library"``."""
    part_of = _PART_OF.match(message)
    if part_of:
        section = part_of["section"]
        text = f"{part_of['what']}: {section}" if section else part_of["what"]
    else:
        is_a = _IS_A.match(message)
        text = is_a["what"] if is_a else _PLACEHOLDER.sub(" ", message.replace("({symbol})", "(...)")).strip()
        text = re.sub(r"^\((?P<aside>[^()]+)\)", r"\g<aside>", text)  # "(apex AMP) is ..." -> "apex AMP is ..."
    text = re.sub(r"\s+", " ", text).strip()
    first = text.split(" ", 1)[0]
    if any(c.isupper() for c in first[1:]):  # a name spelled its own way: cuBLAS, nvGRAPH, xFormers
        return text
    return text[:1].upper() + text[1:]


def rule_anchor(rule: Rule) -> str:
    """GitHub's heading anchor for the rule's ``## ID name`` section of ``docs/rules.md``."""
    return f"{rule.id}-{rule.name}".lower()


def help_uri(rule: Rule, base: str | None = None) -> str:
    return f"{(base or DEFAULT_DOCS_URL).rstrip('#')}#{rule_anchor(rule)}"
