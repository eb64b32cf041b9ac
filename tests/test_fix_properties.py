"""Properties of fixing, over programs hypothesis assembles from the fix fixtures' lines and lines no
rule may touch: the fixed text parses, a second pass changes nothing, unrelated lines keep their bytes."""

from __future__ import annotations

import ast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockin_lint.fix.plan import FixOptions
from lockin_lint.kb.ruleset import RuleSet, load_rules

from .conftest import FIXTURES
from .fixhelp import fix_in_memory

HEADER = "import os\nimport torch\nimport torch.distributed as dist\n"
#: One-line statements of the fixtures that a fix rewrites (or deliberately leaves alone).
FIXABLE = sorted({line for name in ("portable.py", "safe_only.py", "torch24.py")
                  for line in (FIXTURES / "fixes" / name).read_text(encoding="utf-8").splitlines()
                  if line and not line[0].isspace() and not line.startswith(("#", "import", "from", '"'))
                  and not line.endswith((":", '"""')) and line[0].isalpha()})
#: Lines that mention CUDA only where no rule looks: strings, comments, other names.
UNRELATED = [
    'print("torch.cuda.synchronize() is a string")  # torch.cuda.empty_cache() in a comment',
    "note = 'x.cuda() and device=\"cuda\"'",
    "DEVICE = 3  # a name a fix must not clash with",
    "cuda_like = dict(device_count=2)",
    "result = os.path.join('cuda', 'nccl')",
    "value = [x * 2 for x in range(3)]",
]
_RULES: list[RuleSet] = []


def _ruleset() -> RuleSet:
    if not _RULES:
        _RULES.append(load_rules())
    return _RULES[0]


programs = st.lists(st.one_of(st.sampled_from(FIXABLE), st.sampled_from(UNRELATED)), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=programs, unsafe=st.booleans(), version=st.sampled_from([None, "2.4", "2.6", "2.8"]))
def test_fixing_parses_is_idempotent_and_keeps_unrelated_lines(lines: list[str], unsafe: bool,
                                                               version: str | None) -> None:
    source = HEADER + "\n".join(lines) + "\n"
    options = FixOptions(unsafe=unsafe, torch_version=version)
    fixed = fix_in_memory("prop.py", source, _ruleset(), options).after
    ast.parse(fixed)
    assert fix_in_memory("prop.py", fixed, _ruleset(), options).after == fixed
    fixed_lines = fixed.splitlines()
    for line in set(lines) & set(UNRELATED):
        assert fixed_lines.count(line) == lines.count(line)


def test_the_pools_are_not_empty() -> None:
    assert len(FIXABLE) > 10 and all("cuda" not in line.split("#")[0] or "'" in line or '"' in line
                                     for line in UNRELATED[:2])
