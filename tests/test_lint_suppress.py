"""Lint suppressions: a rule's `lint: {ignore, reason}`, the project's lint config
(friction.toml or [tool.friction.lint] in pyproject.toml, found from the policy set upward)
and `friction lint --show-suppressed`."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from builders import case, evaluate_one, rule, step, write_set
from friction.cli import main
from friction.lint import lint, lint_report

# `shadowed` is shadowed by `broad` (products >= 3 implies products >= 1); both system rules.
SHADOWED = rule("shadowed", ["prove"], event="move", all=[{"attr": "products", "ge": 3}])
BROAD = rule("broad", [step("prove")], event="move", all=[{"attr": "products", "ge": 1}])
REASON = "the handbook names this case on its own"


def with_lint(r: dict, **lint_key) -> dict:
    return {**r, "lint": lint_key}


def codes(findings) -> set[tuple[str, str | None]]:
    return {(f.code, f.rule) for f in findings}


def test_a_rule_suppresses_a_finding_on_itself_with_its_reason(tmp_path):
    plain = write_set(tmp_path / "plain", {"r.yaml": [SHADOWED, BROAD]})
    assert ("shadowed-rule", "shadowed") in codes(lint(plain))
    folder = write_set(tmp_path / "p", {"r.yaml": [
        with_lint(SHADOWED, ignore=["shadowed-rule"], reason=REASON), BROAD]})
    report = lint_report(folder)
    assert ("shadowed-rule", "shadowed") not in codes(report.findings)
    assert [(s.finding.code, s.finding.rule, s.by, s.reason) for s in report.suppressed] == \
        [("shadowed-rule", "shadowed", "rule shadowed", REASON)]
    assert lint(folder) == report.findings


def test_a_suppression_needs_a_reason(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [with_lint(SHADOWED, ignore=["shadowed-rule"]), BROAD]})
    errors = [f for f in lint(folder) if f.level == "error"]
    assert len(errors) == 1 and errors[0].rule == "shadowed" and "reason" in errors[0].message


def test_the_lint_key_does_not_change_evaluation(tmp_path):
    # By hand: products=3 requires 'prove' (one customer step) with or without the key.
    plain = write_set(tmp_path / "plain", {"r.yaml": [SHADOWED, BROAD]})
    keyed = write_set(tmp_path / "keyed", {"r.yaml": [
        with_lint(SHADOWED, ignore="shadowed-rule", reason=REASON), BROAD]})
    a, b = (evaluate_one(f, case(products=3)) for f in (plain, keyed))
    assert a.metrics == b.metrics and a.journey.actions == b.journey.actions == ("prove",)
    assert b.metrics.steps == 1


def test_unknown_and_load_codes_cannot_be_suppressed(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        with_lint(SHADOWED, ignore=["shadowed-rul", "unknown-department"], reason=REASON), BROAD]})
    bad = sorted((f.message for f in lint(folder) if f.code == "bad-suppression"))
    assert len(bad) == 2
    assert "unknown lint code 'shadowed-rul'" in bad[1] and "did you mean 'shadowed-rule'" in bad[1]
    assert "'unknown-department' is a load problem" in bad[0]
    # the misspelt code suppressed nothing
    assert ("shadowed-rule", "shadowed") in codes(lint(folder))


def test_a_suppression_that_matches_nothing_is_reported(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        with_lint(BROAD, ignore=["dead-rule"], reason=REASON), SHADOWED]})
    f = [f for f in lint(folder) if f.code == "unused-suppression"]
    assert [(x.level, x.rule) for x in f] == [("info", "broad")] and "'dead-rule'" in f[0].message


def test_uncatalogued_event_suppression_is_not_unused_when_no_catalog_is_given(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        with_lint(BROAD, ignore=["uncatalogued-event"], reason=REASON)]})
    assert [f for f in lint(folder) if f.code == "unused-suppression"] == []


# --------------------------------------------------------------------------- the project config


def test_friction_toml_found_upward_disables_and_changes_levels(tmp_path):
    (tmp_path / "friction.toml").write_text(
        '[lint]\ndisable = ["unused-attribute"]\nlevels = {shadowed-rule = "error"}\n')
    folder = write_set(tmp_path / "a" / "b" / "p", {"r.yaml": [SHADOWED, BROAD]})
    report = lint_report(folder)
    assert Path(report.config).resolve() == (tmp_path / "friction.toml").resolve()
    shadowed = [f for f in report.findings if f.code == "shadowed-rule"]
    assert [f.level for f in shadowed] == ["error"]
    assert not [f for f in report.findings if f.code == "unused-attribute"]
    gone = [s for s in report.suppressed if s.finding.code == "unused-attribute"]
    assert gone and all(s.by == report.config and "disabled" in s.reason for s in gone)
    # without the config, as before
    assert {f.level for f in lint(folder, config=False) if f.code == "shadowed-rule"} == {"warning"}
    assert [f for f in lint(folder, config=False) if f.code == "unused-attribute"]


def test_pyproject_counts_only_with_its_table_and_friction_toml_comes_first(tmp_path):
    (tmp_path / "friction.toml").write_text('[lint]\ndisable = ["shadowed-rule"]\n')
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n')   # no [tool.friction.lint]
    folder = write_set(tmp_path / "a" / "p", {"r.yaml": [SHADOWED, BROAD]})
    assert Path(lint_report(folder).config).name == "friction.toml"

    (tmp_path / "a" / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.friction.lint]\nlevels = {shadowed-rule = "info"}\n')
    report = lint_report(folder)
    assert Path(report.config).name == "pyproject.toml"
    assert [f.level for f in report.findings if f.code == "shadowed-rule"] == ["info"]

    (tmp_path / "a" / "friction.toml").write_text('[lint]\nlevels = {shadowed-rule = "error"}\n')
    assert [f.level for f in lint(folder) if f.code == "shadowed-rule"] == ["error"]


def test_config_problems_are_errors_with_file_and_line(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [SHADOWED, BROAD]})
    cfg = tmp_path / "friction.toml"
    cfg.write_text('[lint]\ndisable = [\n  "unused-attribute",\n  "shadowed-rul",\n]\n')
    [f] = [f for f in lint(folder) if f.code == "config"]
    assert (f.level, f.line) == ("error", 4) and "did you mean 'shadowed-rule'" in f.message

    cfg.write_text('[lint]\nlevels = {dead-rule = "fatal"}\n')
    [f] = [f for f in lint(folder) if f.code == "config"]
    assert f.line == 2 and "levels.dead-rule" in f.message

    cfg.write_text('[lint]\ndisabel = ["shadowed-rule"]\n')
    [f] = [f for f in lint(folder) if f.code == "config"]
    assert "did you mean 'disable'" in f.message

    cfg.write_text('[lint]\nlevels = {unknown-department = "info"}\n')
    [f] = [f for f in lint(folder) if f.code == "config"]
    assert "load problem" in f.message

    cfg.write_text('[lint\n')
    [f] = [f for f in lint(folder) if f.code == "config"]
    assert f.line == 1 and "bad TOML" in f.message

    missing = lint(folder, config=tmp_path / "nowhere.toml")
    assert [f.code for f in missing if f.level == "error"] == ["config"]


# --------------------------------------------------------------------------- the command


def test_show_suppressed_lists_them_with_their_reasons(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        with_lint(SHADOWED, ignore=["shadowed-rule"], reason=REASON), BROAD]})
    runner = CliRunner()
    quiet = runner.invoke(main, ["lint", str(folder)])
    assert quiet.exit_code == 0 and "[shadowed-rule]" not in quiet.output and "suppressed by" not in quiet.output
    shown = runner.invoke(main, ["lint", str(folder), "--show-suppressed"])
    assert shown.exit_code == 0
    line = [x for x in shown.output.splitlines() if "shadowed-rule" in x]
    assert len(line) == 1 and f"suppressed by rule shadowed: {REASON}" in line[0]
    as_json = json.loads(runner.invoke(main, ["lint", str(folder), "--show-suppressed", "--format", "json"]).output)
    assert [(s["code"], s["rule"], s["reason"]) for s in as_json["suppressed"]] == \
        [("shadowed-rule", "shadowed", REASON)]


def test_config_option_names_the_file(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [SHADOWED, BROAD]})
    cfg = tmp_path / "elsewhere" / "lint.toml"
    cfg.parent.mkdir()
    cfg.write_text('[lint]\nlevels = {shadowed-rule = "error"}\n')
    result = CliRunner().invoke(main, ["lint", str(folder), "--config", str(cfg)])
    assert result.exit_code == 1 and "error: rule shadowed" in result.output


def test_a_pyproject_whose_tool_table_is_not_a_table_is_an_error_not_a_crash(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [SHADOWED, BROAD]})
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text('[tool.friction]\nlint = 3\n')
    [f] = [f for f in lint(folder) if f.code == "config"]
    assert f.level == "error" and "[tool.friction.lint]" in f.message
    cfg.write_text('tool = 3\n')
    assert [f for f in lint(folder, config=cfg) if f.code == "config"] != []
