"""The seams the ninth session cut the run's serial tail with (issue 17): each must give what the slower
code it replaced gives, to the last bit, so that no report changes. No timing here.

- a summary reads each finding's status on a target once (`costs.statuses_on`, `unit_statuses`) and
  adds ranges as floats: compared with the summary built the old way from the public functions;
- `model.evolve` is `dataclasses.replace`;
- ``--format json`` encodes each distinct table of targets once (`json_format.finding_lines`);
- `line_search.findall_on_lines` is ``findall``;
- `backend_paths.dedicated_backend` answers at once for a path that spells no backend token.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from lockin_lint.analyzers.backend_paths import BACKEND_TOKENS, dedicated_backend
from lockin_lint.api import check_paths
from lockin_lint.kb.ruleset import RuleSet
from lockin_lint.model import (CATEGORIES, STATUSES, TARGETS, FileResult, Finding, FixMark, Location, Portable,
                               Settings, TargetInfo, evolve, finding_dict)
from lockin_lint.output.json_format import finding_lines
from lockin_lint.project.line_search import findall_on_lines
from lockin_lint.score.costs import is_blocking, statuses_on, unit_cost, unit_statuses
from lockin_lint.score.effort import EffortModel, TargetSummary, fix_saves, score_of, summarize_target
from lockin_lint.score.hooks import is_mechanical, is_ready, readiness
from lockin_lint.score.ranges import ZERO, Range
from lockin_lint.score.units import group_units

from .conftest import FIXTURES

MODEL = EffortModel()


def _findings(ruleset: RuleSet) -> list[Finding]:
    """Every finding of the fixture trees: kernels, libraries, APIs, edits, handled and fixable ones."""
    found: list[Finding] = []
    for tree in ("repo", "cuda", "python", "build_dispatch", "op_builders"):
        found += check_paths(["."], ruleset, Settings(jobs=1), cwd=FIXTURES / tree).findings
    return found


def _old_summary(findings: list[Finding], target: str) -> TargetSummary:
    """`summarize_target` as it was before the ninth session: each status asked per use, ranges added."""
    by_category: dict[str, Range] = {}
    total, blocking = ZERO, 0
    for unit in group_units(findings):
        cost = unit_cost(unit, target, MODEL)
        blocking += is_blocking(unit, target)
        if cost:
            by_category[unit.category] = by_category.get(unit.category, ZERO) + cost
            total += cost
    statuses = dict.fromkeys(STATUSES, 0)
    for finding in findings:
        statuses[finding.targets[target].status] += 1
    ready = sum(is_mechanical(f, target) for f in findings)
    count, saved = 0, ZERO
    for finding in findings:
        status = finding.targets[target].status
        if status != "native" and fix_saves([finding], target, MODEL)[0]:
            count += 1
            saved += MODEL.cost("rename" if status == "rename" else "adapt" if status == "equivalent" else "edit",
                                status, finding.category)
    score = score_of(ready, len(findings))
    ordered = [c for c in CATEGORIES if c in by_category] + sorted(set(by_category) - set(CATEGORIES))
    mids = {c: round(by_category[c].mid, 2) for c in ordered}
    return TargetSummary(score=score, effort_hours=round(sum(mids.values()), 2),
                         blockers=statuses["missing"] + statuses["unknown"], effort_by_category=mids,
                         statuses=statuses, effort=total.rounded(), band=MODEL.band(score, total), ready=ready,
                         sites=len(findings), fixable=count, fix_saves=saved.rounded(), blocking_units=blocking)


def test_a_summary_is_the_one_the_old_way_gives_on_every_target(ruleset: RuleSet) -> None:
    findings = _findings(ruleset)
    assert len({f.category for f in findings}) > 4 and any(f.handled for f in findings)
    for target in TARGETS:
        assert summarize_target(findings, target, MODEL) == _old_summary(findings, target), target


def test_a_unit_costs_the_same_with_its_statuses_given(ruleset: RuleSet) -> None:
    findings = _findings(ruleset)
    for target in TARGETS:
        table = statuses_on(findings, target)
        assert all(readiness(f, target) == is_ready(f, target) for f in findings)
        for unit in group_units(findings):
            given = unit_statuses(unit, table)
            assert unit_cost(unit, target, MODEL, given) == unit_cost(unit, target, MODEL)
            assert is_blocking(unit, target, given) == is_blocking(unit, target)


def test_evolve_is_replace() -> None:
    finding = Finding("LL100", "device-api", "warning", "a.py", 3, 1, 3, 9, "torch.cuda.x", "m",
                      {"rocm": TargetInfo("missing")}, handled=(("xpu", "a branch"),))
    changed = evolve(finding, severity="info", handled=())
    assert changed == dataclasses.replace(finding, severity="info", handled=()) and type(changed) is Finding
    assert finding.severity == "warning" and evolve(finding) == finding and evolve(finding) is not finding
    result = FileResult("a.py", findings=(finding,), lines=4)
    assert evolve(result, findings=()) == dataclasses.replace(result, findings=())
    with pytest.raises(TypeError):
        evolve(finding, nonsense=1)


def _everything(path: str, line: int, status: str) -> Finding:
    """A finding with every optional key of its JSON shape, and text the encoder escapes."""
    return Finding("LL100", "device-api", "warning", path, line, 1, line, 9, "torch.cuda.x", 'say "hé"\n\t\\',
                   {"rocm": TargetInfo(status, "torch.x"), "cpu": TargetInfo("missing", None, "2.1")},
                   Portable("torch.accelerator", "2.6"), fingerprint="f", cell=2, cell_line=1,
                   depends_on=(Location("k.cu", 4, 2, "kernel"),), handled=(("xpu", "branch"),),
                   extra_symbols=("y",), fix=FixMark("safe", "use torch.accelerator"))


def test_the_json_lines_are_what_json_dumps_gives(ruleset: RuleSet) -> None:
    shared = _findings(ruleset)
    made = [_everything("n.ipynb", 3, "equivalent"), _everything("n.ipynb", 4, "missing"),
            dataclasses.replace(_everything("m.py", 1, "equivalent"), cell=None, cell_line=None, portable=None,
                                depends_on=(), handled=(), extra_symbols=(), fix=None)]
    for findings in (shared, made, shared + made):
        assert finding_lines(findings) == [json.dumps(finding_dict(f), ensure_ascii=False) for f in findings]


_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.MULTILINE)


@pytest.mark.parametrize("data", [
    b'#include "a.h"\n', b'  #  include <b.h>\n#include "c.h"', b'x #include "no.h"\n#include "yes.h"\n',
    b'#include "a.h" // include "z.h"\n', b"include include\n", b"", b'#include "a.h', b'\r\n#include "w.h"\r\n',
    b'#include "a\n.h"\n', b"#include <x>#include <y>\n", b'/* include */\n#include "last.h"'])
def test_findall_on_lines_is_findall(data: bytes) -> None:
    assert findall_on_lines(_INCLUDE, data, b"include") == _INCLUDE.findall(data)


def test_every_backend_token_is_still_read_from_a_path() -> None:
    """The quick answer for a path spelling no backend token must not hide one: each token, as a folder
    and in a file name, in any case, is read as before."""
    for token, target in BACKEND_TOKENS.items():
        expected = target if target is not None else token
        assert dedicated_backend(f"src/{token}/x.py") == expected, token
        assert dedicated_backend(f"src/attn_{token.upper()}.cu") == expected, token
    assert dedicated_backend("csrc/flash_attn_ck/x.cu") == dedicated_backend("x/composable_kernel/y.h") == "rocm"
    assert dedicated_backend("vllm/model_executor/layers/linear.py") is None
