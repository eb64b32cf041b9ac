"""Which rewrite, if any, a finding gets: the codemod table for portable code, or a target's ``rename``
facts for ``--fix-to TARGET``; gated by the declared torch version and by ``--unsafe-fixes``.

This is cheap (no parsing), so every run can mark findings as fixable; only files with a planned
fix are later parsed by libcst.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..model import Finding, FixMark, Rule, evolve
from .table import BY_SYMBOL, DEVICE_MIN_TORCH, FSTRING_DEVICE, Entry

#: The package a target's PyTorch plugin is imported as; importing it registers the device type
#: (what transfer_to_npu and torch_gpu2mlu do at run time).
PLUGIN_IMPORTS: Mapping[str, str] = {"ascend": "torch_npu", "mlu": "torch_mlu", "musa": "torch_musa"}
#: Targets with a single device: ``"cuda:1"`` has no counterpart there, only a bare ``"cuda"`` does.
_SINGLE_DEVICE = frozenset({"mps", "cpu"})

_METHOD = re.compile(r"^\.([A-Za-z_]\w*)\(\)$")
_ATTRIBUTE = re.compile(r"^\.([A-Za-z_]\w*)$")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_WORD = re.compile(r"^[a-z]+$")
_DEVICE_STRING = re.compile(r"^cuda(:[0-9]+)?$")
_FSTRING_DEVICE = re.compile(r"^cuda:\{[^{}]*\}$")


@dataclass(frozen=True, slots=True)
class FixOptions:
    """What the user asked for: unsafe fixes too, a vendor target, the oldest torch to support."""

    unsafe: bool = False
    target: str | None = None
    torch_version: str | None = None


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def allowed(min_torch: str | None, declared: str | None) -> bool:
    """An API of ``min_torch`` may be written when the project's oldest torch has it (no declared
    version: the newest API)."""
    return min_torch is None or declared is None or version_tuple(min_torch) <= version_tuple(declared)


def is_import_line(finding: Finding) -> bool:
    """A name reported in an import statement: it goes away with the last use a fix rewrites."""
    return finding.code.startswith(("import ", "from "))


def choose(finding: Finding, rule: Rule | None, options: FixOptions) -> Entry | None:
    """The rewrite for this finding, or None (the finding then simply stays)."""
    if rule is None or is_import_line(finding):
        return None
    if options.target is not None:
        vendor = vendor_entry(finding, rule, options)
        return vendor if vendor is not None and _call_form_fits(finding, vendor) else None
    symbol = FSTRING_DEVICE if _FSTRING_DEVICE.match(finding.symbol) else finding.symbol
    for entry in BY_SYMBOL.get((finding.rule_id, symbol), ()):
        floor = max(entry.min_torch or "0", DEVICE_MIN_TORCH if entry.needs_device else "0", key=version_tuple)
        if allowed(floor if floor != "0" else None, options.torch_version):
            return entry if _call_form_fits(finding, entry) else None
    return None


def _call_form_fits(finding: Finding, entry: Entry) -> bool:
    """Whether the call on the finding's line has arguments the rewrite keeps (``x.cuda(1)`` does
    not fit ``.to(device)``). A look at the line, so that marks and the libcst parse are spared where
    the codemod would decline; the codemod still decides on the syntax tree."""
    if entry.kind in ("attribute", "rename-attribute"):  # assigned (self.is_cuda = ...), not read
        name = re.escape(finding.symbol.lstrip("."))
        return re.search(rf"\.{name}\s*(:[^=]*)?[-+*/|&]?=(?!=)", finding.code) is None
    if entry.kind not in ("call", "method") or (entry.args == "keep" and entry.keywords is None):
        return True
    name = re.escape(finding.symbol.rsplit(".", 1)[-1])
    if entry.args == "none":
        return re.search(rf"\b{name}\(\s*\)", finding.code) is not None
    if entry.args == "positional":
        return re.search(rf"\b{name}\([^)]*[^=!<>]=[^=]", finding.code) is None
    keywords = "|".join(entry.keywords or ())
    return re.search(rf"\b{name}\(\s*(\)|({keywords})\s*=)", finding.code) is not None


def vendor_entry(finding: Finding, rule: Rule, options: FixOptions) -> Entry | None:
    """A target's ``rename`` fact as an edit: a qualified name, a method, an attribute or a string."""
    assert options.target is not None
    info = rule.info_for(finding.symbol.lstrip(".")).targets.get(options.target)
    if info is None or info.status != "rename" or not info.replacement or not allowed(info.min_torch,
                                                                                       options.torch_version):
        return None
    new, symbol, portable = info.replacement, finding.symbol, f"{options.target}: {info.replacement}"
    if symbol.startswith("."):
        method, attribute = _METHOD.match(new), _ATTRIBUTE.match(new)
        if method and rule.match.methods:
            return Entry(rule.id, (symbol,), "rename-method", method.group(1), portable, safe=False)
        if attribute and rule.match.attributes:
            return Entry(rule.id, (symbol,), "rename-attribute", attribute.group(1), portable, safe=False)
        return None
    if rule.match.string_pattern and "." not in symbol:
        if not _WORD.match(new) or (":" in symbol and options.target in _SINGLE_DEVICE):
            return None
        if _FSTRING_DEVICE.match(symbol):
            return Entry(rule.id, (symbol,), "rename-fstring", new, portable, values=("cuda:",))
        if _DEVICE_STRING.match(symbol):
            return Entry(rule.id, (symbol,), "rename-string", new + symbol[4:], portable, values=(symbol,))
        return Entry(rule.id, (symbol,), "rename-string", new, portable, values=(symbol,))
    if _DOTTED.match(new):
        template = "{torch}" + new[5:] if new.startswith("torch.") else new
        return Entry(rule.id, (symbol,), "reference", template, portable)
    return None


def mark(findings: Iterable[Finding], rules: Mapping[str, Rule], options: FixOptions) -> list[Finding]:
    """The findings with a ``fix`` mark where a rewrite exists (shown whether or not it is applied)."""
    marked = []
    for finding in findings:
        entry = choose(finding, rules.get(finding.rule_id), options)
        if entry is not None:
            finding = evolve(finding, fix=FixMark("safe" if entry.safe else "unsafe", entry.describe()))
        marked.append(finding)
    return marked


def wanted(entry: Entry, options: FixOptions) -> bool:
    return entry.safe or options.unsafe
