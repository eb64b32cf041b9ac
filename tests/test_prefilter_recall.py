"""Files the line-level judge of the prefilter used to skip although they have a finding.

Why: the line-level reading (`prefilter._Line`) read code inside a formatted string's replacement
field as string text, and misread a line where a triple-quoted string closes beside code or is left
unterminated; a file whose only hits sat there was skipped and its findings lost. Such files must be
parsed; the near misses (a rule's word in a plain string's text, or in a ``{}`` format string's
literal text) must stay skipped.
"""

from __future__ import annotations

import pytest

from lockin_lint.api import engine_for
from lockin_lint.kb.ruleset import RuleSet


@pytest.mark.parametrize(("code", "rule"), [
    ('import torch\nx = f"{torch.cuda.current_device()}"\n', "LL101"),
    ('import torch\nprint(f"mem {torch.cuda.memory_allocated()}")\n', "LL103"),
    ('s = f"{x.to(\'cuda\')}"\n', "LL200"),  # a string inside a field: the parser judges it
    ('"""Doc\n"""; y = model.cuda()\n', None),
    ('x = 1\n"""; y = model.cuda()\n', None),
])
def test_parsed_and_reported(ruleset: RuleSet, code: str, rule: str | None) -> None:
    engine = engine_for(ruleset)
    result = engine.check("t.py", code.encode())
    unfiltered = engine.check("t.py", code.encode(), prefilter=False)
    assert not result.skipped
    assert unfiltered.findings, "the case must have a finding to lose"
    assert result.findings == unfiltered.findings
    if rule is not None:
        assert rule in {finding.rule_id for finding in result.findings}


def test_unterminated_triple_quote_is_parsed(ruleset: RuleSet) -> None:
    """The parser's recovery decides what an unterminated string hides: the prefilter must not."""
    code = b'x = 1\ns = """; y = model.cuda()\n'
    engine = engine_for(ruleset)
    result = engine.check("t.py", code)
    assert not result.skipped
    assert result.findings == engine.check("t.py", code, prefilter=False).findings


@pytest.mark.parametrize("code", [
    'import torch\ns = "torch.cuda"\n',
    'import torch\ns = "torch.cuda {}".format(n)\n',
    'import torch\ns = "{} torch.cuda".format(n)\n',
    'import torch\ns = f"torch.cuda {n}"\n',
    'import torch\ns = f"{n} torch.cuda"\n',
    'import torch\ns = f"{\', \'.join(input_files)} {output_file}"\n',  # `put_`: code no rule names
    'import torch\n"""Uses torch.cuda."""\n',
])
def test_near_misses_stay_skipped(ruleset: RuleSet, code: str) -> None:
    engine = engine_for(ruleset)
    assert engine.check("t.py", code.encode()).skipped
