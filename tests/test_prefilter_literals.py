"""The prefilter's whole-file reading of comments and strings (`kb.python_literals`).

Why: a hit on a line inside a docstring used to pass the file to the parser for nothing; the reading
across lines must place such hits, never hide a hit in code, and stop where it could disagree with
the parser (the files after that point are judged line by line, as before).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockin_lint.api import engine_for
from lockin_lint.kb import prefilter
from lockin_lint.kb.prefilter import file_words, is_candidate, present_triggers
from lockin_lint.kb.python_literals import COMMENT, FORMATTED, PLAIN, Literals, formatted_parts
from lockin_lint.kb.ruleset import RuleSet

from .conftest import FIXTURES


def kind_at(data: bytes, needle: bytes) -> int | None:
    literals = Literals(data)
    offset = data.index(needle)
    assert literals.known(offset)
    found = literals.at(offset)
    return None if found is None else found[0]


@pytest.mark.parametrize(("code", "needle", "kind"), [
    (b'"""Doc\nuses torch.cuda here\n"""\nx = 1\n', b"cuda", PLAIN),
    (b"x = 1  # cuda\n", b"cuda", COMMENT),
    (b"s = '#'; y.cuda()\n", b"cuda", None),
    (b'r"\\"" + x.cuda()\n', b"cuda", None),  # a backslash escapes the quote in a raw string too
    (b'"""a \\""" b""" ; t.cuda()\n', b"cuda", None),
    (b"if\"x\": t.cuda()\n", b"cuda", None),  # `if` is no prefix
    (b'x = f"{d[\'k\']} cuda"\n', b"cuda", FORMATTED),
    (b"x = f'''{a}\n{b[\"cuda\"]}\n'''\n", b"cuda", FORMATTED),
    (b'x = f"{{cuda}}"\n', b"cuda", FORMATTED),
    (b"x = b'cuda' + u'y'\n", b"cuda", PLAIN),
])
def test_places(code: bytes, needle: bytes, kind: int | None) -> None:
    assert kind_at(code, needle) == kind


def test_formatted_parts() -> None:
    data = b"a{{b}}{x['k']:>{w}}c{y}"
    assert formatted_parts(data, 0, len(data)) == ([(6, 19), (20, 23)], [(9, 12)])
    assert formatted_parts(b"{a} }", 0, 5) is None


@pytest.mark.parametrize("code", [
    b'x = f"{d["k"]}"\nt.cuda()\n',  # 3.12: a field may hold the string's own quote
    b"x = 'unclosed\nt.cuda()\n",
    b'x = """never closed\nt.cuda()\n',
    b'x = f"{y:#x}" ; t.cuda()\n',
    b"x = f\"{d['}']}\" ; t.cuda()\n",
    b'x = f"a } b" ; t.cuda()\n',
    b"# -*- coding: latin-1 -*-\nx = '\xe9' ; t.cuda()\n",
])
def test_stops_where_it_could_disagree(code: bytes) -> None:
    literals = Literals(code)
    assert not literals.known(code.index(b"t.cuda"))
    assert not Literals(code).known(len(code) - 1)


@pytest.mark.parametrize(("code", "skipped"), [
    ('"""Move tensors with\n    x.cuda() or torch.linalg.solve(a, b)\n"""\nx = 1\n', True),
    ("def f():\n    '''Returns\n    torch.device('cuda')\n    '''\n    return 1\n", True),
    ('"""Doc\n"""\nimport torch\ntorch.cuda.synchronize()\n', False),
    ('x = """\n"""\ny = model.cuda()\n', False),
    ('x = """cuda\n"""\n', False),  # a multi-line string a string rule accepts: judged by the parser
    ('x = """\ncuda\n"""\n', True),  # one no string rule accepts ("\\ncuda\\n" is no device)
    ('x = f"""\n{t.cuda()}\n"""\n', False),  # code inside a field
    ('x = f"{d["k"]}"\n"""\nmodel.cuda()\n"""\n', False),  # after the reading stopped: line by line
    ('x = 1\n""""x.cuda()"""x.cuda()\n', False),  # each reading misplaces one hit: the exact one decides
    ('"""\nx.cuda()\n"""\ns = f"{name}_output_{i}"\n', True),  # `put_` in a formatted string's text
    ('"""\nx.cuda()\n"""\nd = f"cuda:{rank}"\n', False),  # its value, each field read as 0
    ('"""\nx.cuda()\n"""\nd = f"{x[\'cuda\']}"\n', False),  # a string inside a field
    ('"""\nx.cuda()\n"""\ns = "a\\\ncuda"\n', True),  # a value is the bytes between the quotes, escapes as written
    ('s = "a\\\ncuda"\n', False),  # no triple quote before the line-level hit: parsed, as before, unread
    ('x = r\"\"\"\n  see x.cuda() and \\\\d\n\"\"\"\n', True),
])
def test_gate(ruleset: RuleSet, code: str, skipped: bool) -> None:
    engine = engine_for(ruleset)
    result = engine.check("t.py", code.encode())
    assert result.skipped is skipped
    if skipped:
        assert engine.check("t.py", code.encode(), prefilter=False).findings == ()


PIECES = ['"""', "'''", '"', "'", "#", "\n", " ", "x.cuda()", "torch.linalg.solve(a)", "f", "r", "{", "}",
          "\\", "cuda", "device=", "import torch\n", "(", ")"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=14))
def test_never_hides_a_finding(ruleset: RuleSet, pieces: list[str]) -> None:
    """Random mixes of quotes, comments, braces and CUDA code: a file the reading across lines skips
    has no findings, or was skipped line by line already (the line-level reading has its own blind
    spots, e.g. an unterminated one-line string, which this change leaves as they were)."""
    engine = engine_for(ruleset)
    data = ("import torch\n" + "".join(pieces) + "\n").encode()
    index = engine.python
    words = file_words(data)
    present = present_triggers(index, data, words)
    if not is_candidate(index, data, present, words) and engine.check("t.py", data, prefilter=False).findings:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(prefilter._AcrossLines, "relevant",
                          lambda self, token, offset: prefilter._relevant(self.index, token, offset, self.lines))
            assert not is_candidate(index, data, present, words)


def test_fixtures_with_docstrings_around_code(ruleset: RuleSet) -> None:
    """Every Python fixture, each line also inside a docstring before it: the findings are unchanged
    and the docstring alone is skipped."""
    engine = engine_for(ruleset)
    for path in sorted((FIXTURES / "python").rglob("*.py")):
        code = path.read_text(encoding="utf-8")
        if '"""' in code:
            continue
        doc = f'"""\n{code}\n"""\n'
        assert engine.check("f.py", (doc + code).encode()).findings == \
            engine.check("f.py", (doc + code).encode(), prefilter=False).findings, path


def test_reads_only_as_far_as_asked() -> None:
    """A file whose first hit is code is not read to its end (the reading costs per literal)."""
    data = b"x.cuda()\n" + b'"""doc"""  # note\n' * 100
    literals = Literals(data)
    assert literals.known(2) and literals.at(2) is None
    assert literals.starts == []
    assert literals.known(len(data) - 2)
    assert len(literals.starts) == 200
