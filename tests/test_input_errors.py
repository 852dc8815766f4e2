"""Bad input: every problem names file, line and rule (or case) id; load reports every
problem at once; a bad case is reported while the other cases are still evaluated; the
CLI exits 2 with one line per problem and never shows a traceback.

Each test mutates ONE thing in a private copy of tests/fixtures/tiny (see conftest) and
asserts on the exact file, the exact line the error was planted on, the subject and a key
phrase of the message. Tests run with the working directory at tmp_path, so files are
named relative to it (`tiny/move.yaml`), as the loader names them.

Line map of the fixture (for reading the tests):
  tiny/move.yaml     a.form 2-8 (step line 8), b.proof 9-18 (condition 15, step 17-18,
                     `after` 18), c.branch 19-29 (rationale 22, `step:` 25, condition 26,
                     step 28-29, `days` 29)
  tiny/checks.yaml   d.check 2-8 (step 8), e.confirm 9-16 (step 15-16, `informs` 16),
                     f.abroad 17-25 (cause 18, condition 23, `then` 24, step 25)
  tiny/policy-set.yaml  version 2, channels 5, products 9, region 10
"""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from friction import cli
import friction
from conftest import write_yaml

ROOT = Path(__file__).resolve().parent.parent
MOVE, CHECKS, MANIFEST = "tiny/move.yaml", "tiny/checks.yaml", "tiny/policy-set.yaml"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def tiny(tiny_copy: Path) -> Path:
    """The copy, as the relative path `tiny` (the working directory is its parent)."""
    assert tiny_copy.parent.resolve() == Path.cwd().resolve()
    return Path("tiny")


def edit(path: Path, line: int, old: str, new: str) -> None:
    """Replace `old` by `new` on line `line` (1-based) of `path`; `old` must be there."""
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1], f"fixture changed: {old!r} not on line {line}: {lines[line - 1]!r}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    Path(path).write_text("".join(lines), encoding="utf-8")


def load_problems(folder: Path) -> list[friction.Problem]:
    with pytest.raises(friction.InputError) as err:
        friction.load_policy_set(folder)
    problems = err.value.problems
    assert problems and all(isinstance(p, friction.Problem) for p in problems)
    assert str(err.value) == "\n".join(map(str, problems))
    return problems


def dump(problems) -> str:
    return "problems:\n" + "\n".join(f"  {p}" for p in problems)


def the_problem(problems, file: str, line: int | None, subject: str | None, *phrases: str):
    """The one problem at exactly file:line about subject whose message holds every phrase."""
    hits = [p for p in problems
            if p.file == file and p.line == line and p.subject == subject
            and all(ph in p.message for ph in phrases)]
    assert len(hits) == 1, f"want {file}:{line}: {subject}: ...{phrases}\n{dump(problems)}"
    p = hits[0]
    where = file if line is None else f"{file}:{line}"
    assert str(p) == (f"{where}: {subject}: {p.message}" if subject else f"{where}: {p.message}")
    return p


def evaluate(folder: Path, catalog: Path, engine_name: str = "compiled") -> friction.Evaluation:
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    return friction.evaluate_catalog(cps, friction.load_catalog(catalog), engine_name)


def run_cli(*args: str):
    kwargs = {}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # click < 8.2
        kwargs["mix_stderr"] = False
    return CliRunner(**kwargs).invoke(cli.main, [str(a) for a in args])


def assert_no_traceback(result) -> None:
    # CliRunner catches exceptions instead of printing them: an uncaught one is a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    for text in (result.stdout, result.stderr, result.output):
        assert "Traceback" not in text


# --------------------------------------------------------------------------- sanity


def test_the_unmutated_copy_loads_and_evaluates(tiny):
    ev = evaluate(tiny, tiny.parent / "tiny-cases.yaml")
    assert ev.problems == []
    assert [r.case.id for r in ev.results] == ["move/offline", "move/no-products", "ask/offline", "move/abroad"]


# --------------------------------------------------------------------------- YAML


def test_bad_yaml_syntax_names_file_and_line(tiny):
    edit(tiny / "move.yaml", 22, "rationale: Offline customers", "rationale: Offline: customers")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 22, None, "bad YAML", "mapping values are not allowed")


def test_duplicate_yaml_key_in_a_rule_names_its_line(tiny):
    edit(tiny / "move.yaml", 21, "owner: Branches", "owner: Branches\n    owner: Risk")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 22, None, "bad YAML", "duplicate key 'owner'")


def test_bad_yaml_in_one_file_does_not_hide_problems_in_the_others(tiny):
    """Load collects every problem: a syntax error in move.yaml must not stop checks.yaml
    (which does not depend on it for this problem) from being reported too."""
    edit(tiny / "move.yaml", 22, "rationale: Offline customers", "rationale: Offline: customers")
    edit(tiny / "checks.yaml", 18, "cause: policy", "cause: law")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 22, None, "bad YAML")
    the_problem(problems, CHECKS, 18, "rule f.abroad", "cause")


def test_files_are_named_alike_in_every_problem_whatever_path_was_given(tiny_copy):
    """Given an absolute folder, a YAML error and a schema error are both named relative to
    the working directory, like every other problem (not one absolute, one relative)."""
    edit(tiny_copy / "move.yaml", 22, "rationale: Offline customers", "rationale: Offline: customers")
    edit(tiny_copy / "checks.yaml", 18, "cause: policy", "cause: law")
    problems = load_problems(tiny_copy.resolve())
    the_problem(problems, MOVE, 22, None, "bad YAML")
    the_problem(problems, CHECKS, 18, "rule f.abroad", "cause")


@pytest.mark.parametrize("text", ["rules: !!set {a, b}\n", "rules: !!omap [{a: 1}]\n", "rules: 5\n",
                                  "rules: {id: x}\n", "- rules: []\n", "just text\n"])
def test_rule_file_of_an_odd_shape_is_a_clean_error(tiny, text):
    write_yaml(tiny / "extra.yaml", text)
    problems = load_problems(tiny)
    assert [p.file for p in problems] == ["tiny/extra.yaml"], dump(problems)
    assert problems[0].line == 1


@pytest.mark.parametrize("text", ["cases: !!set {a, b}\n", "cases: !!omap [{a: 1}]\n", "cases: 5\n",
                                  "personas: !!set {a}\ncases: [{event: move}]\n", "- {event: move}\n"])
def test_catalog_of_an_odd_shape_is_a_clean_error(tiny, tmp_path, text):
    cat = write_yaml(tmp_path / "cases.yaml", text)
    ps = friction.load_policy_set(tiny)
    try:
        _, problems = friction.resolve_cases(friction.load_catalog(cat), ps.manifest)
    except friction.InputError as e:
        problems = e.problems
    assert problems and {p.file for p in problems} == {"cases.yaml"}, dump(problems)


def test_rule_file_holding_an_empty_mapping_is_not_a_crash(tiny):
    write_yaml(tiny / "extra.yaml", "{}\n")
    try:
        ps = friction.load_policy_set(tiny)
    except friction.InputError as e:  # refusing it is fine too, as long as it is a clean error
        the_problem(e.problems, "tiny/extra.yaml", 1, None, "rules")
    else:
        assert len(ps.rules) == 6


# --------------------------------------------------------------------------- unknown keys


def test_unknown_key_in_rule_suggests_rationale(tiny):
    edit(tiny / "move.yaml", 22, "rationale:", "rationle:")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 22, "rule c.branch", "unknown key 'rationle'", "(did you mean 'rationale'?)")
    assert len(problems) == 1, dump(problems)


def test_unknown_key_in_step_suggests_lane(tiny):
    edit(tiny / "move.yaml", 28, "lane: customer", "lan: customer")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 28, "rule c.branch", "unknown key 'lan'", "(did you mean 'lane'?)")


@pytest.mark.parametrize("old, new, phrase", [
    ("lane: customer", "lan: customer", "unknown key 'lan'"),
    ("department: Front", "department: [Front]", "department"),
], ids=["unknown-key", "wrong-type"])
def test_bad_step_is_reported_once_without_union_noise(tiny, old, new, phrase):
    """Only the real problem; not also 'Input should be a valid string' (the `then` item's
    other union branch) nor 'Tuple should have at least 1 item' (then has one)."""
    edit(tiny / "move.yaml", 28, old, new)
    problems = load_problems(tiny)
    assert len(problems) == 1 and phrase in problems[0].message, dump(problems)


def test_unknown_operator_in_condition_suggests_ge(tiny):
    edit(tiny / "move.yaml", 15, "ge: 1", "gte: 1")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 15, "rule b.proof", "unknown key 'gte'", "(did you mean 'ge'?)")


@pytest.mark.parametrize("line, old, new, subject, phrase", [
    (5, "rationale:", "rationle:", "rule a.form", "unknown key 'rationle'"),
    (15, "ge: 1", "gte: 1", "rule b.proof", "unknown key 'gte'"),
    (13, "when:", "when: {", None, "bad YAML"),
], ids=["invalid-rule", "invalid-condition", "unparsable-file"])
def test_broken_rule_causes_no_follow_on_errors_in_rules_naming_its_steps(tiny, line, old, new, subject, phrase):
    """A rule that cannot be loaded still names its steps: rules that come `after` them or
    match on them (`when.step`) must not be reported as naming a step 'no rule requires'
    (a rule does, it is just broken). One mistake, one problem."""
    edit(tiny / "move.yaml", line, old, new)
    problems = load_problems(tiny)
    p = the_problem(problems, MOVE, line if subject else p_line(problems), subject, phrase)
    assert problems == [p], dump(problems)


def p_line(problems) -> int | None:
    """The line a YAML parser pins an error on is its own business: take it from the problem."""
    return next((p.line for p in problems if p.file == MOVE and "bad YAML" in p.message), None)


# --------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize("file, line, old, new, subject, phrases", [
    ("move.yaml", 29, "days: 1", "days: soon", "rule c.branch", ("days", "expected a number, got text 'soon'")),
    ("checks.yaml", 8, "days: 3", "days: soon", "rule d.check", ("days", "expected a number, got text 'soon'")),
    ("checks.yaml", 8, "days: 3", "days: -1", "rule d.check", ("days", "must be at least 0, got the number -1")),
    ("checks.yaml", 16, "informs: true", "informs: maybe", "rule e.confirm", ("informs", "expected true or false, got text 'maybe'")),
    ("checks.yaml", 24, "then:", "then: []", "rule f.abroad", ("then", "must not be empty")),
    ("checks.yaml", 19, "owner: Risk", "owner: [Risk]", "rule f.abroad", ("owner", "expected text, got a list")),
    ("checks.yaml", 21, "when:", "when: move", "rule f.abroad", ("when", "expected a mapping, got text 'move'")),
], ids=["days-soon-continuation-line", "days-soon", "days-negative", "informs-maybe", "then-empty",
        "owner-list", "when-string"])
def test_wrong_type(tiny, file, line, old, new, subject, phrases):
    if new == "then: []":  # the step on the next line goes too, leaving `then` empty
        edit(tiny / file, line + 1, "- {action: phone from abroad", "# - {action: phone from abroad")
    if new == "when: move":
        edit(tiny / file, 22, "event: move", "# event: move")
        edit(tiny / file, 23, "all:", "# all:")
    edit(tiny / file, line, old, new)
    problems = load_problems(tiny)
    the_problem(problems, f"tiny/{file}", line, subject, *phrases)


def test_rule_id_of_the_wrong_type_is_named_by_position(tiny):
    edit(tiny / "checks.yaml", 17, "id: f.abroad", "id: [f.abroad]")
    problems = load_problems(tiny)
    the_problem(problems, CHECKS, 17, "rule #3", "id", "expected text, got a list")


def test_unknown_cause(tiny):
    edit(tiny / "checks.yaml", 18, "cause: policy", "cause: law")
    problems = load_problems(tiny)
    the_problem(problems, CHECKS, 18, "rule f.abroad", "cause", "text 'law' is not one of policy, practice, system, regulation")
    assert len(problems) == 1, dump(problems)


# --------------------------------------------------------------------------- cross-references


def test_duplicate_rule_id_across_files_names_both_places(tiny):
    edit(tiny / "move.yaml", 19, "id: c.branch", "id: d.check")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 19, "rule d.check", "duplicate rule id", "tiny/checks.yaml:2")
    assert len(problems) == 1, dump(problems)


def test_duplicate_rule_id_in_one_file(tiny):
    edit(tiny / "checks.yaml", 17, "id: f.abroad", "id: e.confirm")
    problems = load_problems(tiny)
    the_problem(problems, CHECKS, 17, "rule e.confirm", "duplicate rule id", "tiny/checks.yaml:9")


def test_after_names_a_step_that_does_not_exist(tiny):
    edit(tiny / "move.yaml", 18, "after: [fill form]", "after: [fill from]")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 18, "rule b.proof", "'fill from'", "no rule requires",
                "(did you mean 'fill form'?)")


def test_then_names_a_step_no_rule_defines(tiny):
    edit(tiny / "checks.yaml", 25, "- {action: phone from abroad, lane: customer, department: Front, "
         "channel: phone}", "- fill frm")
    problems = load_problems(tiny)
    the_problem(problems, CHECKS, 25, "rule f.abroad", "'fill frm'", "no rule defines",
                "(did you mean 'fill form'?)")


def test_when_step_names_a_step_no_rule_requires(tiny):
    edit(tiny / "move.yaml", 25, "step: upload proof", "step: upload prof")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 25, "rule c.branch", "'upload prof'", "no rule requires",
                "(did you mean 'upload proof'?)")


def test_condition_on_undeclared_attribute(tiny):
    edit(tiny / "move.yaml", 26, "attr: digital", "attr: digitl")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 26, "rule c.branch", "'digitl'", "not declared in the manifest",
                "(did you mean 'digital'?)")


@pytest.mark.parametrize("new, phrases", [
    ('eq: "no"', ("condition on 'digital'", "expected bool", "'no'")),
    ("in: [true, 1]", ("condition on 'digital'", "expected bool", "int 1")),
    ("ge: 1", ("'ge'", "bool attribute 'digital'", "only numbers are ordered")),
    ("lt: true", ("`lt` compares numbers only", "got True")),
], ids=["eq-string", "in-int", "ge-on-bool", "lt-true"])
def test_condition_value_of_the_wrong_type(tiny, new, phrases):
    edit(tiny / "move.yaml", 26, "eq: false", new)
    problems = load_problems(tiny)
    p = the_problem(problems, MOVE, 26, "rule c.branch", *phrases)
    assert "{" not in p.message, f"unformatted message template: {p}"


def test_ordered_operator_on_str_attribute(tiny):
    edit(tiny / "checks.yaml", 23, "ne: uk", "gt: 1")
    problems = load_problems(tiny)
    the_problem(problems, CHECKS, 23, "rule f.abroad", "'gt'", "str attribute 'region'", "only numbers")


def test_condition_that_is_not_a_mapping_has_a_readable_message(tiny):
    edit(tiny / "checks.yaml", 23, "all: [{attr: region, ne: uk}]", "all: [region]")
    problems = load_problems(tiny)
    p = the_problem(problems, CHECKS, 23, "rule f.abroad", "a condition is a mapping")
    assert "{{" not in p.message and "{got" not in p.message, f"unformatted message template: {p}"
    assert "'region'" in p.message


def test_condition_without_operator(tiny):
    edit(tiny / "checks.yaml", 23, "ne: uk", "ne: uk, eq: uk")
    problems = load_problems(tiny)
    the_problem(problems, CHECKS, 23, "rule f.abroad", "condition on 'region'", "exactly one operator")


def test_unknown_life_event_in_rule(tiny):
    edit(tiny / "move.yaml", 6, "event: move", "event: mvoe")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 6, "rule a.form", "unknown life event 'mvoe'", "(did you mean 'move'?)")


# --------------------------------------------------------------------------- steps


@pytest.mark.parametrize("old, new, phrases", [
    ("department: Front", "department: Frnt", ("step 'visit branch'", "unknown department 'Frnt'",
                                                "(did you mean 'Front'?)")),
    ("channel: branch", "channel: brnach", ("step 'visit branch'", "unknown channel 'brnach'",
                                            "(did you mean 'branch'?)")),
    ("channel: branch,", "", ("step 'visit branch'", "customer step", "needs a channel")),
    ("channel: branch", "channel: internal", ("step 'visit branch'", "customer step", "needs a channel")),
], ids=["department", "channel", "no-channel", "internal-channel"])
def test_bad_step_department_or_channel(tiny, old, new, phrases):
    edit(tiny / "move.yaml", 28, old, new)
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 28, "rule c.branch", *phrases)
    assert len(problems) == 1, dump(problems)


def test_same_action_defined_twice_differently_names_both_rules(tiny):
    edit(tiny / "checks.yaml", 25, "action: phone from abroad", "action: fill form")
    problems = load_problems(tiny)
    assert len(problems) == 1, dump(problems)
    (p,) = problems
    text = str(p)
    assert "fill form" in p.message and "defined differently" in p.message
    # located at one definition, naming the other one by rule id and place
    assert {(p.file, p.line, p.subject)} <= {(MOVE, 8, "rule a.form"), (CHECKS, 25, "rule f.abroad")}
    for rid, place in (("a.form", "tiny/move.yaml:8"), ("f.abroad", "tiny/checks.yaml:25")):
        assert f"rule {rid}" in text and place in text, text
    assert "channel" in p.message  # what differs (web vs phone)


def test_self_cycle_in_after(tiny):
    edit(tiny / "move.yaml", 8, "asks: [address]", "asks: [address], after: [fill form]")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 8, "rule a.form", "cycle", "fill form -> fill form")


def test_two_step_cycle_in_after(tiny):
    edit(tiny / "move.yaml", 8, "asks: [address]", "asks: [address], after: [upload proof]")
    problems = load_problems(tiny)
    (p,) = [p for p in problems if "cycle" in p.message]
    assert len(problems) == 1, dump(problems)
    assert (p.file, p.line, p.subject) in {(MOVE, 8, "rule a.form"), (MOVE, 17, "rule b.proof"),
                                          (MOVE, 18, "rule b.proof")}, dump(problems)
    assert p.message.count("->") == 2 and "fill form" in p.message and "upload proof" in p.message


def test_department_named_alike_in_manifest_and_step_is_known(tiny):
    """Step text is whitespace-normalised; the manifest's names must be too, or a name
    written identically in both places is 'unknown' (did you mean <itself>?)."""
    edit(tiny / "policy-set.yaml", 4, "Risk]", "Risk, Back  office]")
    edit(tiny / "move.yaml", 28, "department: Front", 'department: "Back  office"')
    ps = friction.load_policy_set(tiny)
    assert ps.steps["visit branch"].department in ps.manifest.departments


def test_step_named_alike_in_action_and_after_matches(tiny):
    """An action written with a double space, named with the same text in `after` and in
    `when.step`, is the same step (whatever normalisation the loader applies)."""
    edit(tiny / "move.yaml", 8, "action: fill form", 'action: "fill  form"')
    edit(tiny / "move.yaml", 18, "after: [fill form]", 'after: ["fill  form"]')
    edit(tiny / "checks.yaml", 13, "when: {step: check proof}", 'when: {step: "fill  form"}')
    ev = evaluate(tiny, Path("tiny-cases.yaml"))
    assert ev.problems == []
    fired = [f.rule_id for f in {r.case.id: r for r in ev.results}["move/no-products"].trace.firings]
    assert fired == ["a.form", "e.confirm"]


def test_event_named_alike_in_manifest_rule_and_case_matches(tiny, tmp_path):
    """Same check for life events: a name written identically in the manifest, a rule and a
    case must match, whatever whitespace normalisation the loader applies."""
    edit(tiny / "policy-set.yaml", 3, "events: [move, ask]", 'events: [move, ask, "house  move"]')
    edit(tiny / "move.yaml", 6, "when: {event: move}", 'when: {event: [move, "house  move"]}')
    cat = write_yaml(tmp_path / "cases.yaml", """\
        cases:
          - {id: hm, event: "house  move"}
        """)
    ev = evaluate(tiny, cat)
    assert ev.problems == []
    assert [f.rule_id for f in ev.results[0].trace.firings] == ["a.form"]


# --------------------------------------------------------------------------- manifest


def test_missing_manifest(tiny):
    (tiny / "policy-set.yaml").unlink()
    (p,) = load_problems(tiny)
    the_problem([p], "tiny", None, None, "policy-set.yaml is missing")


def test_internal_listed_as_a_channel(tiny):
    edit(tiny / "policy-set.yaml", 5, "branch]", "branch, internal]")
    (p,) = load_problems(tiny)
    the_problem([p], MANIFEST, 5, None, "'internal' is implicit")


def test_bad_attribute_default(tiny):
    edit(tiny / "policy-set.yaml", 9, "default: 1", "default: 11")
    (p,) = load_problems(tiny)
    the_problem([p], MANIFEST, 9, None, "attributes.products", "default 11", "above the maximum 10")


def test_attribute_default_of_the_wrong_type(tiny):
    edit(tiny / "policy-set.yaml", 8, "default: true", "default: yes please")
    (p,) = load_problems(tiny)
    the_problem([p], MANIFEST, 8, None, "attributes.digital", "default 'yes please'", "expected bool")


def test_allowed_attribute_value_of_the_wrong_type(tiny):
    edit(tiny / "policy-set.yaml", 10, "values: [uk, abroad]", "values: [uk, 5]")
    (p,) = load_problems(tiny)
    the_problem([p], MANIFEST, 10, None, "attributes.region", "allowed value 5", "expected str")


def test_unknown_key_in_manifest(tiny):
    edit(tiny / "policy-set.yaml", 2, "version:", "verison:")
    (p,) = load_problems(tiny)
    the_problem([p], MANIFEST, 2, None, "unknown key 'verison'", "(did you mean 'version'?)")


def test_manifest_not_a_mapping(tiny):
    write_yaml(tiny / "policy-set.yaml", "- name: tiny\n")
    (p,) = load_problems(tiny)
    the_problem([p], MANIFEST, 1, None, "manifest must be a mapping")


# --------------------------------------------------------------------------- many at once


def test_several_problems_in_several_files_are_all_reported(tiny):
    edit(tiny / "move.yaml", 22, "rationale:", "rationle:")             # schema, move.yaml
    edit(tiny / "checks.yaml", 8, "department: Risk", "department: Rsk")  # cross-check, checks.yaml
    edit(tiny / "checks.yaml", 18, "cause: policy", "cause: law")        # schema, checks.yaml
    edit(tiny / "checks.yaml", 15, "channel: phone", "channel: phnoe")    # cross-check, checks.yaml
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 22, "rule c.branch", "unknown key 'rationle'")
    the_problem(problems, CHECKS, 8, "rule d.check", "unknown department 'Rsk'", "(did you mean 'Risk'?)")
    the_problem(problems, CHECKS, 18, "rule f.abroad", "cause")
    the_problem(problems, CHECKS, 15, "rule e.confirm", "unknown channel 'phnoe'", "(did you mean 'phone'?)")
    assert len(problems) == 4, dump(problems)


def test_manifest_and_rule_problems_are_reported_together(tiny):
    edit(tiny / "policy-set.yaml", 2, "version:", "verison:")
    edit(tiny / "checks.yaml", 18, "cause: policy", "cause: law")
    problems = load_problems(tiny)
    the_problem(problems, MANIFEST, 2, None, "unknown key 'verison'")
    the_problem(problems, CHECKS, 18, "rule f.abroad", "cause")


def test_several_cross_check_problems_in_one_rule_are_all_reported(tiny):
    edit(tiny / "move.yaml", 28, "department: Front", "department: Frnt")
    edit(tiny / "move.yaml", 28, "channel: branch", "channel: brnach")
    problems = load_problems(tiny)
    the_problem(problems, MOVE, 28, "rule c.branch", "unknown department 'Frnt'")
    the_problem(problems, MOVE, 28, "rule c.branch", "unknown channel 'brnach'")


def test_problem_is_one_line_even_when_the_rule_id_holds_a_newline(tiny):
    edit(tiny / "checks.yaml", 17, "id: f.abroad", 'id: "f.\\nabroad"')
    edit(tiny / "checks.yaml", 18, "cause: policy", "cause: law")
    problems = load_problems(tiny)
    (p,) = problems
    assert p.file == CHECKS and p.line == 18 and "cause" in p.message
    assert "\n" not in str(p), repr(str(p))
    assert "abroad" in str(p)


# --------------------------------------------------------------------------- catalogs

CATALOG = """\
personas:
  offline: {digital: false, products: 2}
  big: {products: 11}
  odd: {digital: "yes"}
  extra: {regoin: uk}
  farout: {channel: webb}
cases:
  - {id: good/move, event: move, persona: offline}
  - {id: c-unknown-persona, event: move, persona: ofline}
  - {id: c-range, event: move, attrs: {products: 11}}
  - {id: c-values, event: move, attrs: {region: abraod}}
  - {id: c-type, event: move, attrs: {digital: "yes"}}
  - {id: c-undeclared, event: move, attrs: {regoin: uk}}
  - {id: c-event, event: mvoe, persona: offline}
  - {id: c-channel, event: move, persona: offline, channel: webb}
  - {id: good/move, event: ask, persona: offline}
  - {id: c-big, event: move, persona: big}
  - {id: c-key, event: move, persnoa: offline}
  - just-text
  - {id: good/ask, event: ask}
  - {event: move, attrs: {region: abroad}}
"""
GOOD = ["good/move", "good/ask", "move"]  # the last one's id is derived from its event

CATALOG_PROBLEMS = [
    # (line, subject, phrases)
    (3, "persona big", ("attribute 'products'", "11 is above the maximum 10")),
    (4, "persona odd", ("attribute 'digital'", "expected bool")),
    (5, "persona extra", ("attribute 'regoin' is not declared", "(did you mean 'region'?)")),
    (6, "persona farout", ("unknown channel 'webb'", "(did you mean 'web'?)")),
    (9, "case c-unknown-persona", ("unknown persona 'ofline'", "(did you mean 'offline'?)")),
    (10, "case c-range", ("attribute 'products'", "11 is above the maximum 10")),
    (11, "case c-values", ("attribute 'region'", "'abraod' is not one of 'uk', 'abroad'",
                           "(did you mean 'abroad'?)")),
    (12, "case c-type", ("attribute 'digital'", "expected bool", "'yes'")),
    (13, "case c-undeclared", ("attribute 'regoin' is not declared", "(did you mean 'region'?)")),
    (14, "case c-event", ("unknown life event 'mvoe'", "(did you mean 'move'?)")),
    (15, "case c-channel", ("unknown start channel 'webb'", "(did you mean 'web'?)")),
    (16, "case good/move", ("duplicate case id", "first at line 8")),
    (17, "case c-big", ("persona 'big' is invalid",)),
    (18, "case c-key", ("unknown key 'persnoa'", "(did you mean 'persona'?)")),
    (19, "case #12", ("expected a mapping",)),
]


@pytest.fixture
def bad_catalog(tmp_path) -> Path:
    return write_yaml(tmp_path / "cases.yaml", CATALOG)


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_catalog_problems_are_each_reported_and_good_cases_still_evaluated(tiny, bad_catalog, engine_name):
    ev = evaluate(tiny, bad_catalog, engine_name)
    assert sorted(r.case.id for r in ev.results) == sorted(GOOD)
    for line, subject, phrases in CATALOG_PROBLEMS:
        the_problem(ev.problems, "cases.yaml", line, subject, *phrases)
    assert len(ev.problems) == len(CATALOG_PROBLEMS), dump(ev.problems)
    # the good cases were really evaluated, not just listed
    by_id = {r.case.id: r for r in ev.results}
    assert [f.rule_id for f in by_id["good/move"].trace.firings] == [
        "a.form", "b.proof", "c.branch", "d.check", "e.confirm"]
    assert by_id["good/ask"].journey.actions == ()
    assert "f.abroad" in [f.rule_id for f in by_id["move"].trace.firings]


def test_resolve_cases_returns_good_cases_beside_the_problems(tiny, bad_catalog):
    ps = friction.load_policy_set(tiny)
    cases, problems = friction.resolve_cases(friction.load_catalog(bad_catalog), ps.manifest)
    assert sorted(c.id for c in cases) == sorted(GOOD)
    assert {(p.line, p.subject) for p in problems} == {(line, s) for line, s, _ in CATALOG_PROBLEMS}
    assert all(p.file == "cases.yaml" for p in problems)


def test_case_attribute_of_a_non_scalar_type_is_one_problem(tiny, tmp_path):
    cat = write_yaml(tmp_path / "cases.yaml", """\
        cases:
          - {id: good, event: move}
          - {id: bad, event: move, attrs: {products: [1, 2]}}
        """)
    ev = evaluate(tiny, cat)
    assert [r.case.id for r in ev.results] == ["good"]
    the_problem(ev.problems, "cases.yaml", 3, "case bad", "products")
    assert len(ev.problems) == 1, dump(ev.problems)  # not one line per Scalar type tried


def test_persona_attribute_of_a_non_scalar_type_spares_the_other_cases(tiny, tmp_path):
    cat = write_yaml(tmp_path / "cases.yaml", """\
        personas:
          ok: {digital: true}
          listy: {digital: false, products: [1, 2]}
        cases:
          - {id: good, event: move, persona: ok}
          - {id: bad, event: move, persona: listy}
        """)
    ev = evaluate(tiny, cat)
    assert [r.case.id for r in ev.results] == ["good"]
    the_problem(ev.problems, "cases.yaml", 3, "persona listy", "products")


def test_case_id_with_a_newline_gives_a_one_line_problem(tiny, tmp_path):
    cat = write_yaml(tmp_path / "cases.yaml", """\
        cases:
          - {id: good, event: move}
          - {id: "bad\\nid", event: mvoe}
        """)
    ev = evaluate(tiny, cat)
    assert [r.case.id for r in ev.results] == ["good"]
    (p,) = ev.problems
    assert p.file == "cases.yaml" and p.line == 3 and "unknown life event 'mvoe'" in p.message
    assert "\n" not in str(p), repr(str(p))


def test_catalog_shape_error_names_file_and_line(tiny, tmp_path):
    cat = write_yaml(tmp_path / "cases.yaml", """\
        personas:
          offline: {digital: false}
        case:
          - {event: move}
        """)
    with pytest.raises(friction.InputError) as err:
        friction.load_catalog(cat)
    the_problem(err.value.problems, "cases.yaml", 3, None, "unknown key 'case'", "(did you mean 'cases'?)")


# --------------------------------------------------------------------------- CLI


def test_cli_broken_policy_exit_2_one_line_per_problem(tiny):
    edit(tiny / "checks.yaml", 18, "cause: policy", "cause: law")
    edit(tiny / "move.yaml", 28, "department: Front", "department: Frnt")
    result = run_cli("evaluate", tiny, tiny.parent / "tiny-cases.yaml")
    assert result.exit_code == 2, result.output
    assert_no_traceback(result)
    lines = result.stderr.splitlines()
    assert sorted(lines) == sorted([
        "error: tiny/checks.yaml:18: rule f.abroad: cause: text 'law' is not one of policy, practice, "
        "system, regulation",
        "error: tiny/move.yaml:28: rule c.branch: step 'visit branch': unknown department 'Frnt' "
        "(did you mean 'Front'?)",
    ]), result.stderr
    assert result.stdout == ""


def test_cli_bad_yaml_exit_2(tiny):
    edit(tiny / "move.yaml", 22, "rationale: Offline customers", "rationale: Offline: customers")
    result = run_cli("evaluate", tiny, tiny.parent / "tiny-cases.yaml")
    assert result.exit_code == 2
    assert_no_traceback(result)
    lines = result.stderr.splitlines()
    assert "error: tiny/move.yaml:22: bad YAML: mapping values are not allowed here" in lines, result.stderr
    assert all(line.startswith("error: ") for line in lines), result.stderr


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_cli_catalog_with_one_bad_case_exit_2_and_table_holds_the_good_ones(tiny, tmp_path, engine_name):
    cat = write_yaml(tmp_path / "cases.yaml", """\
        personas:
          offline: {digital: false, products: 2}
        cases:
          - {id: move/offline, event: move, persona: offline}
          - {id: move/typo, event: move, persona: ofline}
          - {id: ask/offline, event: ask, persona: offline}
        """)
    result = run_cli("evaluate", tiny, cat, "--engine", engine_name)
    assert result.exit_code == 2, result.output
    assert_no_traceback(result)
    table = result.stdout
    assert "move/offline" in table and "ask/offline" in table and "move/typo" not in table
    assert "TOTAL (2 cases)" in table
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: cases.yaml:5: case move/typo: unknown persona 'ofline' (did you mean 'offline'?)"]
    assert "could not be evaluated" in result.stderr  # a summary line may follow


def test_cli_missing_policy_folder_is_one_line(tmp_path):
    result = run_cli("evaluate", "no-such-set", ROOT / "tests/fixtures/tiny-cases.yaml")
    assert result.exit_code == 2
    assert_no_traceback(result)
    assert result.stderr.splitlines() == ["error: no-such-set: no such policy set folder"]
    assert result.stdout == ""


def test_cli_missing_catalog_is_one_line(tiny):
    result = run_cli("evaluate", tiny, "no-such-cases.yaml")
    assert result.exit_code == 2
    assert_no_traceback(result)
    assert result.stderr.splitlines() == ["error: no-such-cases.yaml: no such file"]


def test_cli_output_into_a_missing_folder_is_bad_input_not_a_traceback(tiny):
    result = run_cli("evaluate", tiny, tiny.parent / "tiny-cases.yaml", "-o", "no-such-dir/out.txt")
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "no-such-dir" in result.stderr, result.stderr


def test_cli_process_prints_no_traceback_on_a_broken_policy(tiny):
    """The real process, not CliRunner (which swallows exceptions)."""
    edit(tiny / "checks.yaml", 18, "cause: policy", "cause: law")
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "evaluate", "tiny", "tiny-cases.yaml"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.splitlines() == [
        "error: tiny/checks.yaml:18: rule f.abroad: cause: text 'law' is not one of policy, practice, "
        "system, regulation"]


# --------------------------------------------------------------------------- hostile text


PWNED_ID = "x'); __import__('os').system('echo PWNED') #\n"


def _hostile(marker: Path) -> str:
    """Quotes, newlines and Python that would touch `marker` if it were ever executed."""
    code = f"__import__('os').system('touch {marker}')"
    return f"y\n{code}\n#\"\"\"'''\"'); {code} #\\ \x7f}}{{ {{0}}"


def test_the_hostile_text_is_armed(tmp_path):
    """Pasted unescaped into generated code (here: after a comment), it does run."""
    probe = tmp_path / "probe"
    exec(compile("# " + _hostile(probe) + "\n", "<probe>", "exec"), {})  # noqa: S102
    assert probe.exists()


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_hostile_text_is_data_never_code(tiny, tmp_path, capfd, engine_name):
    marker = tmp_path / "executed"
    hostile = _hostile(marker)
    # Names (actions, departments, events) may be whitespace-normalised: no newline there.
    one_line = " ".join(hostile.split())
    q = json.dumps  # a JSON string is a valid YAML double-quoted scalar
    edit(tiny / "policy-set.yaml", 1, "name: tiny", f"name: {q(hostile)}")
    edit(tiny / "policy-set.yaml", 3, "events: [move, ask]", f"events: [move, ask, {q(one_line)}]")
    edit(tiny / "policy-set.yaml", 4, "Risk]", f"Risk, {q(one_line)}]")
    write_yaml(tiny / "hostile.yaml", f"""\
        rules:
          - id: {q(PWNED_ID)}
            cause: policy
            owner: {q(hostile)}
            rationale: {q(hostile)}
            when:
              event: [move, {q(one_line)}]
              all: [{{attr: region, ne: {q(hostile)}}}]
            then:
              - {{action: {q(one_line)}, lane: backstage, department: {q(one_line)}, after: [fill form]}}
        """)
    cat = write_yaml(tmp_path / "hostile-cases.yaml", f"""\
        cases:
          - {{id: {q(hostile)}, event: {q(one_line)}, attrs: {{region: uk}}}}
          - {{id: plain, event: move, attrs: {{region: abroad}}}}
          - {{id: no-region, event: move}}
        """)
    ps = friction.load_policy_set(tiny)
    assert PWNED_ID in {r.id for r in ps.rules}
    cps = friction.compile_policy_set(ps)
    ev = friction.evaluate_catalog(cps, friction.load_catalog(cat), engine_name)
    assert ev.problems == []
    res = {r.case.id: r for r in ev.results}
    assert set(res) == {hostile, "plain", "no-region"}

    hostile_case = [f for f in res[hostile].trace.firings]
    assert [f.rule_id for f in hostile_case] == [PWNED_ID]             # verbatim, newline and all
    assert hostile_case[0].requires == (one_line,)
    assert res[hostile].journey.actions == (one_line,)                  # `after: fill form` not in it
    assert res[hostile].case.event == one_line
    plain = [f.rule_id for f in res["plain"].trace.firings]
    assert PWNED_ID in plain and "a.form" in plain and "f.abroad" in plain
    assert one_line in res["plain"].journey.actions
    assert PWNED_ID not in [f.rule_id for f in res["no-region"].trace.firings]  # missing attr: ne is false

    # the same result from the library's other engine, on a fresh Evaluator
    other = "rete" if engine_name == "compiled" else "compiled"
    again = friction.Evaluator(cps, engine=other).evaluate(res["plain"].case)
    assert [f.rule_id for f in again.trace.firings] == plain

    out = capfd.readouterr()
    assert "PWNED" not in out.out + out.err
    assert not marker.exists()
    assert not (Path.cwd() / "executed").exists()
