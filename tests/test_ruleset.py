"""Rule files: the shipped pack loads, and every kind of broken file gives one clear line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lockin_lint.model import CATEGORIES, TARGETS
from lockin_lint.kb.python_index import build_python_index
from lockin_lint.kb.ruleset import RuleError, RuleSet, load_rules

from .conftest import REPO, rule_yaml, write_rules


def test_schema_lists_the_same_targets_and_categories_as_the_model() -> None:
    schema = yaml.safe_load((REPO / "lockin_lint" / "kb" / "rule_schema.yaml").read_text(encoding="utf-8"))
    assert tuple(schema["$defs"]["targets_full"]["required"]) == TARGETS
    assert tuple(schema["$defs"]["rule"]["properties"]["category"]["enum"]) == CATEGORIES


def test_shipped_rules_load_and_index(ruleset: RuleSet) -> None:
    assert ruleset.rules
    ids = [r.id for r in ruleset.rules]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    index = build_python_index(ruleset)
    assert index.triggers and b"cuda" in index.triggers


def test_every_rule_doc_has_the_fixed_headings(ruleset: RuleSet) -> None:
    for rule in ruleset.rules:
        for heading in ("## What it does", "## Why is this bad?", "## Use instead"):
            assert heading in rule.docs, f"{rule.id} docs lack {heading!r}"


def _error(tmp_path: Path, text: str) -> str:
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = _error(tmp_path, "rules:\n  - id: LL901\n    name: [unclosed\n")
    assert message.startswith("rules/bad.yaml:") and "invalid YAML" in message


def test_schema_error_names_file_line_and_rule(tmp_path: Path) -> None:
    good = rule_yaml("LL901", "{qualified: [a.b]}")
    bad = rule_yaml("LL902", "{qualified: [a.c]}").replace("status: unknown}", "status: portable}", 1)
    message = _error(tmp_path, "rules:\n" + good + bad)
    assert message.startswith("rules/bad.yaml:") and "rule LL902" in message and "portable" in message
    line = int(message.split(":")[1])
    assert "status: portable" in (tmp_path / "bad.yaml").read_text().splitlines()[line - 1]


def test_missing_target_is_an_error(tmp_path: Path) -> None:
    text = "rules:\n" + rule_yaml("LL901", "{qualified: [a.b]}").replace(" cpu: {status: missing}", "")
    assert "'cpu' is a required property" in _error(tmp_path, text)


def test_bad_regex_duplicate_ids_and_symbols(tmp_path: Path) -> None:
    assert "invalid regex" in _error(
        tmp_path, "rules:\n" + rule_yaml("LL901", "{strings: {pattern: '(', contexts: [{keyword: d}]}, triggers: [abc]}"))
    assert "already defined" in _error(
        tmp_path, "rules:\n" + rule_yaml("LL901", "{qualified: [a.b]}") + rule_yaml("LL901", "{qualified: [a.c]}"))
    text = "rules:\n" + rule_yaml("LL901", "{qualified: [a.b]}") + rule_yaml("LL902", "{qualified: [a.b]}")
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match="already matched by LL901"):
        build_python_index(load_rules(tmp_path))


def test_string_rules_need_triggers(tmp_path: Path) -> None:
    text = "rules:\n" + rule_yaml("LL901", "{strings: {pattern: x, contexts: [{keyword: d}]}}")
    (tmp_path / "r.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match="needs `triggers`"):
        build_python_index(load_rules(tmp_path))


def test_symbol_overrides_must_name_a_matched_symbol(tmp_path: Path) -> None:
    extra = "    symbols:\n      a.z: {targets: {xpu: {status: native}}}\n"
    assert "symbols not named in match: a.z" in _error(
        tmp_path, "rules:\n" + rule_yaml("LL901", "{qualified: [a.b]}", extra=extra))


def test_cli_reports_a_broken_rule_file_in_one_line_with_exit_2(tmp_path: Path) -> None:
    bad = write_rules(tmp_path / "extra", rule_yaml("LL901", "{qualified: [a.b]}").replace("severity: warning", "severity: loud"))
    proc = subprocess.run([sys.executable, "-m", "lockin_lint", "check", str(tmp_path), "--rules", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "rules.yaml:" in lines[0] and "LL901" in lines[0] and "loud" in lines[0]


def test_min_torch_of_a_replacement_is_the_same_everywhere(ruleset: RuleSet) -> None:
    """One replacement, one minimum torch version: hand-written and generated rules must agree."""
    seen: dict[str, tuple[str | None, str]] = {}
    for rule in ruleset.rules:
        infos = [rule.default, *rule.symbols.values()]
        options = [(p.replacement, p.min_torch) for info in infos for p in info.portable]
        options += [(t.replacement, t.min_torch) for info in infos for t in info.targets.values() if t.replacement]
        for replacement, min_torch in options:
            call = replacement.split("(", 1)[0]
            if not call.startswith("torch.accelerator."):
                continue
            first = seen.setdefault(call, (min_torch, rule.id))
            assert first[0] == min_torch, f"{call}: {rule.id} says {min_torch}, {first[1]} says {first[0]}"


def _full_schema_validator():  # type: ignore[no-untyped-def]
    import jsonschema

    schema = yaml.safe_load((REPO / "lockin_lint" / "kb" / "rule_schema.yaml").read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def test_shipped_rule_files_pass_the_full_schema_symbols_included() -> None:
    """The loader checks `symbols` in Python for speed; here the schema itself checks them."""
    validator = _full_schema_validator()
    for path in sorted((REPO / "rules").rglob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        errors = list(validator.iter_errors(data))
        assert not errors, f"{path}: {errors[0].message}"


BAD_OVERRIDES = [
    "{targets: {rocm: {status: portable}}}",
    "{targets: {tpu: {status: native}}}",
    "{targets: {rocm: {replacement: x}}}",
    "{targets: {rocm: {status: rename, replacement: ''}}}",
    "{targets: {rocm: {status: rename, min_torch: 'two'}}}",
    "{targets: {rocm: {status: rename, colour: red}}}",
    "{targets: [rocm]}",
    "{portable: [{min_torch: '2.6'}]}",
    "{portable: [{replacement: x, extra: 1}]}",
    "{notes: hello}",
    "native",
]


@pytest.mark.parametrize("override", BAD_OVERRIDES)
def test_fast_symbol_checks_agree_with_the_schema(tmp_path: Path, override: str) -> None:
    extra = f"    symbols:\n      a.b: {override}\n"
    text = "rules:\n" + rule_yaml("LL901", "{qualified: [a.b]}", extra=extra)
    assert list(_full_schema_validator().iter_errors(yaml.safe_load(text))), "the schema should reject it"
    message = _error(tmp_path, text)
    assert "rule LL901" in message and "symbols/a.b" in message
    good = "rules:\n" + rule_yaml("LL901", "{qualified: [a.b]}", extra=(
        "    symbols:\n      a.b: {targets: {rocm: {status: rename, replacement: x, min_torch: '2.6'}},"
        " portable: [{replacement: y, min_torch: '2.4'}]}\n"))
    assert not list(_full_schema_validator().iter_errors(yaml.safe_load(good)))
    (tmp_path / "bad.yaml").write_text(good, encoding="utf-8")
    assert load_rules(tmp_path, use_cache=False).rules[0].symbols["a.b"].targets["rocm"].replacement == "x"
