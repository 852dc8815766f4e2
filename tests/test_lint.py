"""`friction.lint`: static checks of a policy set.

The planted-defect set tests/fixtures/defects/ carries one defect of each kind, each named
in a comment beside it; the tests below find every one at its exact file, line and rule,
and nothing else at error or warning level. Smaller sets written inline pin the condition
reasoning (what is dead, what is shadowed, and what is *not*).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from builders import BASE_MANIFEST, rule, step, write_set
from friction.lint import CODES, LEVELS, Finding, format_findings, has_errors, lint

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFECTS = FIXTURES / "defects"
TINY = FIXTURES / "tiny"


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the only line of `path` containing `text`."""
    hits = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line]
    assert len(hits) == 1, f"{text!r} is on lines {hits} of {path}"
    return hits[0]


def at(finding: Finding) -> tuple[str, str, int | None, str | None]:
    """(code, file resolved, line, rule) of a finding, independent of the working directory."""
    return (finding.code, str(Path(finding.file).resolve()), finding.line, finding.rule)


def codes(findings: list[Finding], level: str | None = None) -> dict[str | None, set[str]]:
    out: dict[str | None, set[str]] = {}
    for f in findings:
        if level is None or f.level == level:
            out.setdefault(f.rule, set()).add(f.code)
    return out


def only(findings: list[Finding], code: str, rule_id: str | None = None) -> Finding:
    hits = [f for f in findings if f.code == code and (rule_id is None or f.rule == rule_id)]
    assert len(hits) == 1, f"{len(hits)} {code} findings for {rule_id}: {hits}"
    return hits[0]


# --------------------------------------------------------------------------- the planted defects


@pytest.fixture(scope="module")
def defects() -> list[Finding]:
    return lint(DEFECTS)


def where(file: str, rule_id: str) -> tuple[str, int]:
    path = DEFECTS / file
    return str(path.resolve()), line_of(path, f"- id: {rule_id}")


def test_defects_exactly_the_planted_errors_and_warnings(defects):
    found = sorted(at(f) for f in defects if f.level in ("error", "warning"))
    expected = sorted([
        ("unknown-department", str((DEFECTS / "intake.yaml").resolve()),
         line_of(DEFECTS / "intake.yaml", "department: Frontt"), "c.branch"),
        ("duplicate-rule", *where("intake.yaml", "c.branch-again"), "c.branch-again"),
        ("shadowed-rule", *where("intake.yaml", "b.proof-many-products"), "b.proof-many-products"),
        ("dead-rule", *where("checks.yaml", "d.manual-review"), "d.manual-review"),
        ("dead-rule", *where("checks.yaml", "e.review-letter"), "e.review-letter"),
        ("dead-rule", *where("checks.yaml", "f.offworld"), "f.offworld"),
        ("chain-cycle", *where("loops.yaml", "h.escalate"), "h.escalate"),
    ])
    assert found == expected
    assert has_errors(defects)


def test_unknown_department_is_an_error_with_did_you_mean(defects):
    f = only(defects, "unknown-department")
    assert f.level == "error"
    assert Path(f.file).name == "intake.yaml"
    # The line of the step that names the department, inside rule c.branch.
    assert f.line == line_of(DEFECTS / "intake.yaml", "department: Frontt")
    assert f.rule == "c.branch"
    assert "'Frontt'" in f.message and "did you mean 'Front'" in f.message


def test_contradictory_conditions_make_a_dead_rule(defects):
    f = only(defects, "dead-rule", "d.manual-review")
    assert (f.level, Path(f.file).name) == ("error", "checks.yaml")
    assert f.line == line_of(DEFECTS / "checks.yaml", "- id: d.manual-review")
    assert "products lt 2" in f.message and "products gt 5" in f.message


def test_a_step_only_a_dead_rule_requires_makes_a_dead_rule(defects):
    f = only(defects, "dead-rule", "e.review-letter")
    assert (f.level, Path(f.file).name) == ("error", "checks.yaml")
    assert f.line == line_of(DEFECTS / "checks.yaml", "- id: e.review-letter")
    assert "'manual review'" in f.message and "d.manual-review" in f.message


def test_an_any_with_every_branch_impossible_is_dead(defects):
    f = only(defects, "dead-rule", "f.offworld")
    assert f.line == line_of(DEFECTS / "checks.yaml", "- id: f.offworld")
    assert "region eq mars" in f.message and "'uk', 'abroad'" in f.message
    assert "products gt 10" in f.message


def test_duplicate_rule_names_the_first(defects):
    f = only(defects, "duplicate-rule")
    assert (f.level, Path(f.file).name, f.rule) == ("warning", "intake.yaml", "c.branch-again")
    assert f.line == line_of(DEFECTS / "intake.yaml", "- id: c.branch-again")
    assert "rule c.branch (" in f.message
    # not reported a second time as shadowed, either way round
    assert not [s for s in defects if s.code == "shadowed-rule" and s.rule in ("c.branch", "c.branch-again")]


def test_shadowed_rule_names_the_rule_that_shadows_it(defects):
    f = only(defects, "shadowed-rule")
    assert (f.level, Path(f.file).name, f.rule) == ("warning", "intake.yaml", "b.proof-many-products")
    assert f.line == line_of(DEFECTS / "intake.yaml", "- id: b.proof-many-products")
    b_line = [n for n, text in enumerate((DEFECTS / "intake.yaml").read_text().splitlines(), 1)
              if text.strip() == "- id: b.proof"]
    assert "rule b.proof (" in f.message and f"intake.yaml:{b_line[0]})" in f.message
    assert "'upload proof'" in f.message


def test_chain_cycle_reported_once_naming_rules_and_steps(defects):
    f = only(defects, "chain-cycle")
    assert (f.level, Path(f.file).name, f.rule) == ("warning", "loops.yaml", "h.escalate")
    assert f.line == line_of(DEFECTS / "loops.yaml", "- id: h.escalate")
    assert "h.escalate -('escalate')-> i.recall -('call back')-> h.escalate" in f.message
    assert "circular" in f.message


def test_unused_department_is_info_at_its_manifest_line(defects):
    f = only(defects, "unused-department")
    assert (f.level, Path(f.file).name, f.rule) == ("info", "policy-set.yaml", None)
    assert f.line == line_of(DEFECTS / "policy-set.yaml", "departments:")
    assert "'Legal'" in f.message
    assert not has_errors([f])


def test_findings_are_sorted_and_deterministic(defects):
    assert defects == sorted(defects, key=lambda f: (f.file, f.line or 0, f.code, f.rule or "", f.message))
    assert lint(DEFECTS) == defects
    assert all(f.level in LEVELS and CODES[f.code] == f.level for f in defects)


def test_rule_file_names_do_not_change_the_findings(tmp_path, defects):
    # Same rules, files renamed so they load in another order: same findings per rule.
    folder = tmp_path / "renamed"
    folder.mkdir()
    renames = {"intake.yaml": "z-intake.yaml", "checks.yaml": "a-checks.yaml", "loops.yaml": "m-loops.yaml"}
    for p in DEFECTS.iterdir():
        (folder / renames.get(p.name, p.name)).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    again = lint(folder)
    key = lambda fs: sorted((f.code, f.rule, f.line) for f in fs)  # noqa: E731
    assert key(again) == key(defects)


def test_friction_lint_is_the_module_and_the_function_has_its_own_name():
    # Regression: `friction.lint` was the function, hiding the module.
    import types

    import friction
    assert isinstance(friction.lint, types.ModuleType)
    assert friction.lint.lint is lint is friction.lint_policy_set
    assert "lint_policy_set" in friction.__all__ and "lint" not in friction.__all__


# --------------------------------------------------------------------------- clean sets, broken sets


def test_tiny_has_no_errors_or_warnings():
    findings = lint(TINY)
    assert [f for f in findings if f.level != "info"] == []
    assert not has_errors(findings)
    # 'ask' is declared but no rule starts on it
    assert [(f.code, f.message.split("'")[1]) for f in findings] == [("unused-event", "ask")]


def test_tiny_with_its_catalog_is_clean():
    findings = lint(TINY, [FIXTURES / "tiny-cases.yaml"])
    assert [f for f in findings if f.level != "info"] == []


def test_no_manifest_is_an_error_finding_not_an_exception(tmp_path):
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "rules.yaml").write_text(yaml.safe_dump({"rules": [rule("r", [step("a")])]}))
    findings = lint(folder)
    assert [(f.level, f.code, f.rule) for f in findings] == [("error", "no-policy-set", None)]
    assert "policy-set.yaml is missing" in findings[0].message
    assert has_errors(findings)


def test_missing_folder_and_bad_manifest_are_error_findings(tmp_path):
    assert [f.code for f in lint(tmp_path / "nowhere")] == ["no-policy-set"]
    folder = write_set(tmp_path / "p", {"r.yaml": [rule("r", [step("a")])]})
    (folder / "policy-set.yaml").write_text("name: [unclosed\n")
    findings = lint(folder)
    assert [f.code for f in findings] == ["bad-yaml"]
    assert Path(findings[0].file).name == "policy-set.yaml" and findings[0].line == 2


def test_other_checks_still_run_when_part_of_the_set_is_broken(tmp_path):
    folder = write_set(tmp_path / "p", {
        "good.yaml": [
            rule("dead", [step("a")], event="move",
                 all=[{"attr": "segment", "eq": "retail"}, {"attr": "segment", "eq": "premier"}]),
            rule("needs-ghost", [step("b")], step="ghost step"),
            rule("odd-key", [step("c")], event="mvoe"),
        ],
    })
    (folder / "invalid.yaml").write_text(yaml.safe_dump({"rules": [rule("bad-cause", [step("z")], cause="whim")]}))
    findings = lint(folder)
    by = {(f.code, f.rule) for f in findings if f.level == "error"}
    assert ("load", "bad-cause") in by
    assert ("dead-rule", "dead") in by
    assert ("unknown-step", "needs-ghost") in by
    assert ("unknown-event", "odd-key") in by
    ghost = only(findings, "unknown-step")
    # load problems keep their own, more precise line: the key that is wrong, inside the rule
    assert Path(ghost.file).name == "good.yaml" and ghost.line == line_of(folder / "good.yaml", "step: ghost step")
    assert ghost.line > line_of(folder / "good.yaml", "id: needs-ghost")
    assert "did you mean" in only(findings, "unknown-event").message
    # a rule on only unknown life events is a load error, not also a dead rule
    assert ("dead-rule", "odd-key") not in by

    # A file that is not even YAML: reported, and the other files are still checked.
    (folder / "invalid.yaml").write_text("rules:\n  - id: x\n    when: {event: [move\n")
    again = lint(folder)
    bad = only(again, "bad-yaml")
    assert Path(bad.file).name == "invalid.yaml" and bad.level == "error"
    assert only(again, "dead-rule", "dead").line == line_of(folder / "good.yaml", "id: dead")


def test_undeclared_attribute_is_an_error_and_does_not_crash(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r", [step("a")], event="move", all=[{"attr": "prodcts", "gt": 2}, {"attr": "prodcts", "lt": 1}]),
    ]})
    findings = lint(folder)
    unknown = [f for f in findings if f.code == "unknown-attribute"]
    assert len(unknown) == 2   # one per condition that names it
    assert all(f.rule == "r" and "did you mean 'products'" in f.message for f in unknown)
    # still reasoned about: gt 2 and lt 1 contradict, whatever the attribute
    assert only(findings, "dead-rule", "r").level == "error"


# --------------------------------------------------------------------------- condition reasoning


def lint_rules(tmp_path: Path, *rules: dict, manifest: dict | None = None) -> list[Finding]:
    return lint(write_set(tmp_path / "p", {"r.yaml": list(rules)}, manifest))


@pytest.mark.parametrize("conditions", [
    [{"attr": "segment", "eq": "retail"}, {"attr": "segment", "eq": "premier"}],
    [{"attr": "segment", "eq": "retail"}, {"attr": "segment", "ne": "retail"}],
    [{"attr": "segment", "in": ["retail"]}, {"attr": "segment", "not_in": ["retail", "premier"]}],
    [{"attr": "segment", "eq": "gold"}],                                # not an allowed value
    [{"attr": "products", "eq": 11}],                                   # above the maximum
    [{"attr": "products", "in": [-1, 12]}],                             # outside min..max
    [{"attr": "products", "ge": 4}, {"attr": "products", "le": 3}],
    [{"attr": "products", "gt": 3}, {"attr": "products", "lt": 4}],     # no int strictly between
    [{"attr": "score", "gt": 0.5}, {"attr": "score", "lt": 0.5}],
    [{"attr": "digital", "eq": True}, {"attr": "digital", "eq": False}],
    [{"attr": "segment", "present": False}, {"attr": "segment", "eq": "retail"}],
    [{"attr": "segment", "present": False}, {"attr": "segment", "ne": "retail"}],
    [{"attr": "products", "present": False}],                           # has a default: always there
    [{"any": [{"attr": "products", "lt": 0}, {"all": [{"attr": "digital", "eq": True},
                                                      {"attr": "digital", "ne": True}]}]}],
])
def test_dead_conditions(tmp_path, conditions):
    findings = lint_rules(tmp_path, rule("r", [step("a")], event="move", all=conditions))
    assert codes(findings, "error") == {"r": {"dead-rule"}}
    assert only(findings, "dead-rule").message.startswith("can never fire: ")


@pytest.mark.parametrize("conditions", [
    [{"attr": "products", "gt": 2}, {"attr": "products", "lt": 5}],
    [{"attr": "products", "gt": 3}, {"attr": "products", "le": 4}],
    [{"attr": "score", "gt": 0.5}, {"attr": "score", "lt": 0.6}],
    [{"attr": "score", "ge": 1}, {"attr": "score", "le": 1}],
    [{"attr": "segment", "ne": "retail"}, {"attr": "segment", "present": True}],
    [{"attr": "segment", "present": False}],                            # no default: may be missing
    [{"attr": "segment", "present": False}, {"attr": "products", "eq": 3}],
    [{"attr": "digital", "eq": False}, {"attr": "digital", "ne": True}],
    [{"any": [{"attr": "products", "lt": 0}, {"attr": "products", "eq": 0}]}],
])
def test_live_conditions_are_not_dead(tmp_path, conditions):
    findings = lint_rules(tmp_path, rule("r", [step("a")], event="move", all=conditions))
    assert [f for f in findings if f.level != "info"] == []


def test_when_any_with_a_possible_branch_is_live(tmp_path):
    findings = lint_rules(tmp_path, rule("r", [step("a")], event="move",
                                         any=[{"attr": "segment", "eq": "gold"}, {"attr": "products", "ge": 2}]))
    assert [f for f in findings if f.level != "info"] == []


def test_step_needed_on_another_life_event_is_dead(tmp_path):
    findings = lint_rules(
        tmp_path,
        rule("make", [step("a")], event="move"),
        rule("use", [step("b")], event="ask", step="a"),
    )
    f = only(findings, "dead-rule", "use")
    assert "'a'" in f.message and "'ask'" in f.message
    assert codes(findings, "error") == {"use": {"dead-rule"}}


def test_dead_propagates_along_a_chain(tmp_path):
    findings = lint_rules(
        tmp_path,
        rule("r1", [step("a")], event="move", all=[{"attr": "products", "gt": 10}]),
        rule("r2", [step("b")], step="a"),
        rule("r3", [step("c")], step="b"),
        rule("r4", [step("d")], step=["c", "e"]),
        rule("r5", [step("e")], event="move"),
    )
    assert codes(findings, "error") == {r: {"dead-rule"} for r in ("r1", "r2", "r3", "r4")}
    assert "'b'" in only(findings, "dead-rule", "r3").message


def test_a_cycle_nothing_enters_is_dead_and_a_cycle(tmp_path):
    findings = lint_rules(
        tmp_path,
        rule("p", [step("a")], step="b"),
        rule("q", [step("b")], step="a"),
        rule("self", [step("s")], event="move"),
        rule("loop", ["s"], step="s"),   # a rule requiring the very step it needs
    )
    assert codes(findings, "error") == {"p": {"dead-rule"}, "q": {"dead-rule"}}
    cycles = sorted(f.message for f in findings if f.code == "chain-cycle")
    assert len(cycles) == 2
    assert "loop -('s')-> loop" in cycles[0]
    assert "p -('a')-> q -('b')-> p" in cycles[1]


def test_each_cycle_once_with_a_deterministic_rotation(tmp_path):
    # Two cycles sharing c: a -> c -> a and b -> c -> b.
    findings = lint_rules(
        tmp_path,
        rule("start", [step("x")], event="move"),
        rule("a", [step("ya")], step="x"),
        rule("c", [step("z")], step=["ya"]),
        rule("c2", [step("x")], step="z"),
    )
    cyc = [f for f in findings if f.code == "chain-cycle"]
    assert [(f.rule, f.message.split(":")[1].split(";")[0].strip()) for f in cyc] == [
        ("a", "a -('ya')-> c -('z')-> c2 -('x')-> a")]


# --------------------------------------------------------------------------- duplicates and shadows


def test_shadowing_by_interval_in_subset_and_events(tmp_path):
    findings = lint_rules(
        tmp_path,
        rule("broad", [step("a"), step("b")], all=[{"attr": "products", "ge": 1}]),     # every event
        rule("narrow-int", ["a"], event="move", all=[{"attr": "products", "gt": 4}]),
        rule("narrow-in", ["b"], event=["move", "ask"],
             all=[{"attr": "products", "in": [2, 3]}, {"attr": "segment", "in": ["retail"]}]),
        rule("seg-any", [step("c")], event="move", all=[{"attr": "segment", "in": ["retail", "premier"]}]),
        rule("seg-one", ["c"], event="move", step="a", all=[{"attr": "segment", "eq": "premier"}]),
        # score is a number: reasoned about as intervals, not by listing values
        rule("score-broad", [step("e")], event="move",
             all=[{"attr": "score", "ge": 0.5}, {"attr": "score", "ne": 0.55}]),
        rule("score-narrow", ["e"], event="move", all=[{"attr": "score", "gt": 0.6}]),
        rule("score-low", [step("f")], event="move", all=[{"attr": "score", "le": 0.5}]),
        rule("score-lower", ["f"], event="move", all=[{"attr": "score", "lt": 0.2}]),
        rule("score-above", [step("g")], event="ask", all=[{"attr": "score", "gt": 0.45}]),
        rule("score-from", ["g"], event="ask", all=[{"attr": "score", "ge": 0.5}]),
        rule("score-gt", [step("h")], event="ask", all=[{"attr": "score", "gt": 0.5}]),
        rule("score-ge", ["h"], event="ask", all=[{"attr": "score", "ge": 0.5}]),  # weaker: not shadowed
        rule("score-under", [step("i")], event="ask", all=[{"attr": "score", "lt": 0.5}]),
        rule("score-at-most", ["i"], event="ask", all=[{"attr": "score", "le": 0.3}]),
    )
    shadowed = {f.rule: f.message for f in findings if f.code == "shadowed-rule"}
    assert set(shadowed) == {"narrow-int", "narrow-in", "seg-one", "score-narrow", "score-lower",
                             "score-from", "score-gt", "score-at-most"}
    assert "rule broad (" in shadowed["narrow-int"] and "rule seg-any (" in shadowed["seg-one"]
    assert all(f.level == "warning" for f in findings if f.code == "shadowed-rule")


@pytest.mark.parametrize("a_when, b_when", [
    ({"event": "move", "all": [{"attr": "products", "ge": 1}]},
     {"event": "move", "all": [{"attr": "products", "ge": 3}]}),          # B stronger
    ({"all": [{"attr": "products", "ge": 3}]},
     {"event": "move", "all": [{"attr": "products", "ge": 1}]}),          # B on fewer events
    ({"event": "move"}, {"event": "move", "step": "x"}),                  # B needs a step A does not
    ({"event": "move", "any": [{"attr": "segment", "eq": "retail"}, {"attr": "products", "ge": 5}]},
     {"event": "move", "all": [{"attr": "segment", "in": ["retail", "premier"]}]}),  # segment may be missing
    ({"event": "move", "all": [{"attr": "segment", "present": True}]},
     {"event": "move", "all": [{"attr": "segment", "eq": "premier"}]}),
    ({"event": "move", "all": [{"attr": "score", "gt": 0.5}]},
     {"event": "move", "all": [{"attr": "score", "ge": 0.6}]}),
])
def test_not_shadowed(tmp_path, a_when, b_when):
    findings = lint_rules(
        tmp_path,
        rule("make-x", [step("x")], event="ask"),
        rule("a", [step("s")], **a_when),
        rule("b", ["s", step("t")], **b_when),
    )
    assert [f for f in findings if f.code in ("shadowed-rule", "duplicate-rule")] == []


def test_shadowing_requires_every_step(tmp_path):
    findings = lint_rules(
        tmp_path,
        rule("a", [step("s"), step("only-a")], event="move", all=[{"attr": "products", "ge": 3}]),
        rule("b", ["s"], event="move", all=[{"attr": "products", "ge": 1}]),
    )
    assert [f for f in findings if f.code == "shadowed-rule"] == []


def test_duplicates_compare_normalised_when(tmp_path):
    findings = lint_rules(
        tmp_path,
        rule("one", [step("s"), step("t")], event=["move", "ask"], step=["x", "y"],
             all=[{"attr": "products", "ge": 1}, {"attr": "segment", "in": ["retail", "premier"]}]),
        rule("two", ["t", "s"], event=["ask", "move"], step=["y", "x"],
             all=[{"attr": "segment", "in": ["premier", "retail"]}, {"attr": "products", "ge": 1}]),
        rule("mk", [step("x"), step("y")], event="move"),
    )
    dup = only(findings, "duplicate-rule")
    assert dup.rule == "two" and "rule one (" in dup.message and "the same conditions" in dup.message
    assert [f for f in findings if f.code == "shadowed-rule"] == []


def test_equivalent_conditions_are_a_duplicate_not_two_shadows(tmp_path):
    findings = lint_rules(
        tmp_path,
        rule("ge3", [step("s")], event="move", all=[{"attr": "products", "ge": 3}]),
        rule("gt2", ["s"], event="move", all=[{"attr": "products", "gt": 2}]),
    )
    assert [(f.code, f.rule) for f in findings if f.level == "warning"] == [("duplicate-rule", "gt2")]
    assert "equivalent conditions" in only(findings, "duplicate-rule").message


def test_different_steps_are_not_duplicates(tmp_path):
    findings = lint_rules(
        tmp_path,
        rule("one", [step("s")], event="move"),
        rule("two", [step("t")], event="move"),
    )
    assert [f for f in findings if f.level != "info"] == []


def test_dead_rules_are_not_also_shadowed_or_duplicates(tmp_path):
    dead = [{"attr": "products", "lt": 0}]
    findings = lint_rules(
        tmp_path,
        rule("d1", [step("s")], event="move", all=dead),
        rule("d2", ["s"], event="move", all=dead),
        rule("live", ["s"], event="move"),
    )
    assert {(f.code, f.rule) for f in findings if f.level != "info"} == {("dead-rule", "d1"), ("dead-rule", "d2")}


# --------------------------------------------------------------------------- manifest and catalogs


def test_unused_manifest_entries(tmp_path):
    manifest = copy.deepcopy(BASE_MANIFEST)
    findings = lint_rules(tmp_path, rule("r", [step("a", channel="phone")], event="move",
                                         all=[{"attr": "digital", "eq": True}]), manifest=manifest)
    infos = {(f.code, f.message.split("'")[1]) for f in findings if f.level == "info"}
    assert infos == {
        ("unused-department", "B"), ("unused-department", "C"),
        ("unused-channel", "branch"),          # web is the start channel: used
        ("unused-attribute", "products"), ("unused-attribute", "segment"), ("unused-attribute", "score"),
        ("unused-event", "ask"),
    }
    assert all(f.rule is None and Path(f.file).name == "policy-set.yaml" and f.line for f in findings)


def test_catalog_events_no_rule_is_exercised_by(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("on-move", [step("a")], event="move"),
        rule("on-ask", [step("b")], event="ask"),
        rule("any-event", [step("c")]),
    ]})
    catalog = tmp_path / "cases.yaml"
    catalog.write_text(yaml.safe_dump({"cases": [{"id": "c1", "event": "ask"}]}))
    findings = lint(folder, [catalog])
    f = only(findings, "uncatalogued-event")
    assert (f.level, f.rule, Path(f.file).name) == ("warning", "on-move", "r.yaml")
    assert f.line == line_of(folder / "r.yaml", "id: on-move")
    assert "'move'" in f.message
    assert [g for g in lint(folder) if g.code == "uncatalogued-event"] == []


def test_bad_catalog_is_an_error_finding(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [rule("r", [step("a")], event="move")]})
    catalog = tmp_path / "cases.yaml"
    catalog.write_text(yaml.safe_dump({"cases": [{"id": "c1", "event": "mvoe"}]}))
    findings = lint(folder, [catalog])
    f = only(findings, "catalog")
    assert f.level == "error" and Path(f.file).name == "cases.yaml"
    assert "case c1" in f.message and "did you mean 'move'" in f.message
    missing = lint(folder, [tmp_path / "none.yaml"])
    assert only(missing, "catalog").message == "no such file"


# --------------------------------------------------------------------------- output


def test_finding_text_and_dict():
    f = Finding("error", "dead-rule", "p/r.yaml", 12, "a.b", "can never fire: x")
    assert str(f) == "p/r.yaml:12: error: rule a.b: can never fire: x [dead-rule]"
    g = Finding("info", "unused-channel", "p/policy-set.yaml", None, None, "channel 'fax' ...")
    assert str(g) == "p/policy-set.yaml: info: channel 'fax' ... [unused-channel]"
    assert f.as_dict() == {"level": "error", "code": "dead-rule", "file": "p/r.yaml", "line": 12,
                           "rule": "a.b", "message": "can never fire: x"}


def test_format_findings_summary(defects):
    text = format_findings(defects)
    lines = text.splitlines()
    assert lines[:-1] == [str(f) for f in defects]
    assert lines[-1] == "4 errors, 3 warnings, 1 info"
    assert format_findings([]) == "0 errors, 0 warnings, 0 info\n"
    one = [Finding("warning", "chain-cycle", "f", 1, "r", "m")]
    assert format_findings(one).splitlines()[-1] == "0 errors, 1 warning, 0 info"
    assert not has_errors(one)


# --------------------------------------------------------------------------- soundness, by replay

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import friction  # noqa: E402
from friction.load import read_policy_set  # noqa: E402

_VALUES = {
    "digital": [True, False],
    "products": [-1, 0, 1, 2, 3, 5, 10, 11],
    "segment": ["retail", "premier", "gold"],
    "score": [0, 0.25, 0.5, 0.6, 1, 1.5],
}
_OPS = {"digital": ["eq", "ne", "in", "not_in", "present"],
        "products": ["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "present"],
        "segment": ["eq", "ne", "in", "not_in", "present"],
        "score": ["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "present"]}


@st.composite
def _atoms(draw):
    attr = draw(st.sampled_from(sorted(_VALUES)))
    op = draw(st.sampled_from(_OPS[attr]))
    if op == "present":
        return {"attr": attr, "present": draw(st.booleans())}
    if op in ("in", "not_in"):
        return {"attr": attr, op: draw(st.lists(st.sampled_from(_VALUES[attr]), min_size=1, max_size=3))}
    return {"attr": attr, op: draw(st.sampled_from(_VALUES[attr]))}


_conditions = st.recursive(_atoms(), lambda inner: st.one_of(
    st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3))), max_leaves=5)


@st.composite
def _rule_sets(draw):
    rules = []
    for i in range(draw(st.integers(2, 6))):
        when = {}
        events = draw(st.lists(st.sampled_from(["move", "ask"]), max_size=2, unique=True))
        if events:
            when["event"] = events
        needs = draw(st.lists(st.sampled_from("abc"), max_size=2, unique=True))
        if needs:
            when["step"] = needs
        for group in ("all", "any"):
            items = draw(st.lists(_conditions, max_size=2))
            if items:
                when[group] = items
        then = [step(a) for a in draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=2, unique=True))]
        cause = draw(st.sampled_from(["policy", "practice", "system", "regulation"]))
        rules.append(rule(f"r{i}", then, cause=cause, **when))
    return rules


def _grid_cases() -> list[friction.Case]:
    out = []
    for event in ("move", "ask"):
        for digital in (True, False):
            for products in (0, 1, 2, 3, 4, 5, 10):
                for segment in (None, "retail", "premier"):
                    for score in (None, 0, 0.5, 0.55, 0.6, 1):
                        attrs = {"digital": digital, "products": products}
                        if segment is not None:
                            attrs["segment"] = segment
                        if score is not None:
                            attrs["score"] = score
                        out.append(friction.Case(id="c", event=event, channel="web", attrs=attrs))
    return out


GRID = _grid_cases()


_ORDER_FREE = [i for i, m in enumerate(friction.METRICS) if m not in ("handoffs", "channel_switches")]


def _unordered(values: tuple) -> tuple:
    return tuple(values[i] for i in _ORDER_FREE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=_rule_sets())
def test_lint_claims_hold_on_replay(tmp_path_factory, rules):
    """What lint says of rules is never contradicted by replaying every case of a grid:
    a dead rule never fires, a shadowed rule never fires without the rule shadowing it, and
    of two duplicates one fires exactly when the other does."""
    folder = write_set(tmp_path_factory.mktemp("gen") / "p", {"r.yaml": rules})
    policy_set, _ = read_policy_set(folder)
    cps = friction.compile_policy_set(policy_set)
    replay = friction.make_engine("compiled", cps)
    runs = [{cps.rules[i].id for i in replay.fire(c)} for c in GRID]
    ev = friction.Evaluator(cps)
    index = {r.id: r.index for r in cps.rules}
    for f in lint(folder):
        if f.code in ("shadowed-rule", "duplicate-rule"):
            # removing the rule changes no metric that does not depend on the journey's order
            for c, fired in zip(GRID, runs):
                if f.rule in fired:
                    trace = ev.replay(c)
                    assert _unordered(ev.values(trace)) == \
                        _unordered(ev.values(trace.without(frozenset({index[f.rule]})))), (f, c)
        if f.code == "dead-rule":
            assert not any(f.rule in fired for fired in runs), f
        elif f.code in ("shadowed-rule", "duplicate-rule"):
            others = re.findall(r"([\w.-]+) \([^()]*:\d+\)", f.message)  # "rule b (file:line)"
            assert others, f
            for fired in runs:
                if f.rule in fired:
                    assert all(o in fired for o in others), (f, fired)
                if f.code == "duplicate-rule" and others[0] in fired:
                    assert f.rule in fired, (f, fired)


# --------------------------------------------------------------------------- causes (#16.7)

from builders import case, evaluate_one  # noqa: E402


def test_regulation_shadowed_by_policy_is_not_called_removable(tmp_path):
    # Regression: "changes no journey" was said of a regulation rule whose removal makes its
    # step policy-made. Counted by hand for products=3: both rules fire and require 'prove';
    # without `law`, only the policy rule requires it, so policy_steps goes from 0 to 1.
    rules = [rule("law", ["prove"], cause="regulation", event="move", all=[{"attr": "products", "ge": 3}]),
             rule("pol", [step("prove")], cause="policy", event="move", all=[{"attr": "products", "ge": 1}])]
    folder = write_set(tmp_path / "p", {"r.yaml": rules})
    findings = lint(folder)
    assert [f for f in findings if f.code == "shadowed-rule"] == []
    f = only(findings, "shadowed-by-policy", "law")
    assert f.level == "info" and "rule pol (" in f.message and "'prove' would be policy-made" in f.message
    # what the finding says removing it would change, replayed
    assert evaluate_one(folder, case(products=3)).metrics.policy_steps == 0
    alone = write_set(tmp_path / "q", {"r.yaml": rules[1:]})
    assert evaluate_one(alone, case(products=3)).metrics.policy_steps == 1


@pytest.mark.parametrize("a_cause, b_cause", [
    ("policy", "regulation"), ("policy", "policy"), ("practice", "policy"),
    ("regulation", "system"), ("system", "regulation"),
])
def test_shadowed_rule_when_removing_it_changes_no_metric(tmp_path, a_cause, b_cause):
    findings = lint_rules(
        tmp_path,
        rule("a", [step("prove")], cause=a_cause, event="move", all=[{"attr": "products", "ge": 3}]),
        rule("b", ["prove"], cause=b_cause, event="move", all=[{"attr": "products", "ge": 1}]),
    )
    f = only(findings, "shadowed-rule", "a")
    assert "rule b (" in f.message and "changes no journey's steps, nor policy_steps" in f.message
    assert [g for g in findings if g.code == "shadowed-by-policy"] == []


def test_regulation_shadowed_by_policy_but_covered_by_a_system_rule(tmp_path):
    # `sys` requires 'prove' whenever `law` fires, so removing `law` keeps 'prove' out of
    # policy_steps: a plain shadowed rule.
    findings = lint_rules(
        tmp_path,
        rule("law", [step("prove")], cause="regulation", event="move", all=[{"attr": "products", "ge": 3}]),
        rule("pol", ["prove", step("extra")], cause="policy", event="move"),
        rule("sys", ["prove"], cause="system", event="move", all=[{"attr": "products", "ge": 2}]),
    )
    assert only(findings, "shadowed-rule", "law").level == "warning"
    # `sys` itself (products 2) is shadowed by `pol` alone: without it 'prove' is policy-made
    assert [g.rule for g in findings if g.code == "shadowed-by-policy"] == ["sys"]


def test_regulation_waiting_for_a_policy_step_keeps_nothing_out_of_policy_steps(tmp_path):
    # Without policy rules 'form' is never required, so `law` never fires there either.
    findings = lint_rules(
        tmp_path,
        rule("mk", [step("form")], cause="policy", event="move"),
        rule("law", [step("prove")], cause="regulation", event="move", step="form",
             all=[{"attr": "products", "ge": 3}]),
        rule("pol", ["prove"], cause="policy", event="move", step="form"),
    )
    assert only(findings, "shadowed-rule", "law").level == "warning"


@pytest.mark.parametrize("order", [("reg", "pol"), ("pol", "reg")])
def test_regulation_and_policy_duplicates_say_which_to_keep(tmp_path, order):
    # Regression: a regulation/policy duplicate got "keep one" whichever was removed.
    made = {"reg": rule("reg", [step("prove")], cause="regulation", event="move"),
            "pol": rule("pol", [step("prove")], cause="policy", event="move")}
    findings = lint_rules(tmp_path, *(made[k] for k in order))
    f = only(findings, "duplicate-rule")
    assert f.rule == "pol" and "rule reg (" in f.message
    assert "remove this one (policy), not that one (regulation)" in f.message
    assert "keep one" not in f.message


def test_same_cause_group_duplicates_keep_one(tmp_path):
    findings = lint_rules(tmp_path, rule("one", [step("s")], cause="policy", event="move"),
                          rule("two", [step("s")], cause="practice", event="move"))
    f = only(findings, "duplicate-rule")
    assert f.rule == "two" and f.message.endswith("keep one")


# --------------------------------------------------------------------------- dead through chains (#16.8)


def test_a_rule_waiting_for_a_step_made_only_under_the_opposite_condition_is_dead(tmp_path):
    # Regression: 'web form' is only required when digital is true; `offline` waits for it
    # and requires digital false, so it never fires (replayed below on both values).
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("web", [step("web form")], event="move", all=[{"attr": "digital", "eq": True}]),
        rule("offline", [step("post it")], event="move", step="web form",
             all=[{"attr": "digital", "eq": False}]),
    ]})
    f = only(lint(folder), "dead-rule", "offline")
    assert "'web form'" in f.message and "`digital eq true`" in f.message
    for digital in (True, False):
        assert "post it" not in evaluate_one(folder, case(digital=digital)).journey.actions


def test_chain_conditions_carry_through_several_rules_and_alternatives(tmp_path):
    # 'b' is required when products >= 5 (through 'a') or when segment is premier; a rule
    # waiting for 'b' under products <= 2 lives through the second producer only.
    rules = [
        rule("ra", [step("a")], event="move", all=[{"attr": "products", "ge": 5}]),
        rule("rb", [step("b")], event="move", step="a"),
        rule("rb2", ["b"], event="move", all=[{"attr": "segment", "eq": "premier"}]),
        rule("few", [step("c")], event="move", step="b", all=[{"attr": "products", "le": 2}]),
        rule("few-retail", [step("d")], event="move", step="b",
             all=[{"attr": "products", "le": 2}, {"attr": "segment", "eq": "retail"}]),
    ]
    findings = lint_rules(tmp_path, *rules)
    assert {f.rule for f in findings if f.code == "dead-rule"} == {"few-retail"}
    f = only(findings, "dead-rule", "few-retail")
    assert "`products ge 5`" in f.message and "`segment eq premier`" in f.message


def test_chain_conditions_through_a_cycle(tmp_path):
    # 'x' and 'y' require each other; only `start` (digital true) brings either in.
    findings = lint_rules(
        tmp_path,
        rule("start", [step("x")], event="move", all=[{"attr": "digital", "eq": True}]),
        rule("x-to-y", [step("y")], event="move", step="x"),
        rule("y-to-x", ["x"], event="move", step="y"),
        rule("late", [step("z")], event="move", step="y", all=[{"attr": "digital", "eq": False}]),
    )
    assert {f.rule for f in findings if f.code == "dead-rule"} == {"late"}


def test_chain_conditions_are_per_life_event(tmp_path):
    # On `move` 'a' needs digital true; on `ask` it is always required: `offline` lives on ask.
    findings = lint_rules(
        tmp_path,
        rule("m", [step("a")], event="move", all=[{"attr": "digital", "eq": True}]),
        rule("k", ["a"], event="ask"),
        rule("offline", [step("b")], step="a", all=[{"attr": "digital", "eq": False}]),
        rule("offline-move", [step("c")], event="move", step="a", all=[{"attr": "digital", "eq": False}]),
    )
    assert {f.rule for f in findings if f.code == "dead-rule"} == {"offline-move"}


# --------------------------------------------------------------------------- confusable ids (#10.9)


@pytest.mark.parametrize("twin, how", [
    ("Address.Proof", "by case"),
    ("ADDRESS.PROOF", "by case"),
    ("\u0430ddress.proof", "CYRILLIC SMALL LETTER A"),        # Cyrillic а
    ("addre\u0455\u0455.proof", "CYRILLIC SMALL LETTER DZE"),  # Cyrillic ѕ
    ("address.pr\u03bfof", "GREEK SMALL LETTER OMICRON"),      # Greek ο
    ("\uff41ddress.proof", "FULLWIDTH LATIN SMALL LETTER A"),   # NFKC
    ("address\u200b.proof", "by look-alike characters"),       # zero-width space
    ("address.pr0of", "by look-alike characters"),
])
def test_rule_ids_a_reader_cannot_tell_apart(tmp_path, twin, how):
    findings = lint_rules(tmp_path, rule("address.proof", [step("s")], event="move"),
                          rule(twin, [step("t")], event="move"))
    [f] = [f for f in findings if f.code == "confusable-id"]
    assert f.level == "warning" and f.rule in (twin, "address.proof") and how in f.message
    other = "address.proof" if f.rule == twin else twin
    assert f"rule {other} (" in f.message


def test_distinct_rule_ids_are_not_confusable(tmp_path):
    findings = lint_rules(tmp_path, rule("address.proof", [step("s")], event="move"),
                          rule("address.proofs", [step("t")], event="move"),
                          rule("address-proof", [step("u")], event="move"),
                          rule("adress.proof", [step("v")], event="move"))
    assert [f for f in findings if f.code == "confusable-id"] == []
