"""One test per bug found in review, each with the smallest input that showed it."""
import json

import pytest
import yaml
from click.testing import CliRunner

from friction import cli
import friction
from builders import BASE_MANIFEST, case, rule, step, write_set
from friction.batch import run_cases
from friction.load import policy_set_from_data


def _cli(*args):
    return CliRunner().invoke(cli.main, list(args))


def test_policy_made_names_every_policy_rule_on_a_looping_chain(tmp_path):
    # r0 (system) -> X; a (policy) on X -> Y; b (practice) on Y -> Z; c (policy) on Z -> Y.
    # Z exists because of a, b and c; the old memoised walk cut the loop and lost some.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r0", [step("X")], event="move"),
        rule("a", [step("Y")], cause="policy", step="X"),
        rule("b", [step("Z")], cause="practice", step="Y"),
        rule("c", ["Y"], cause="policy", step="Z"),
    ]})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    res = friction.Evaluator(cps).evaluate(case())
    made = {f.steps[0]: f.rules for f in res.flags if f.kind == "policy-made"}
    assert made == {"Y": ("a", "b", "c"), "Z": ("a", "b", "c")}


def test_explicit_metrics_key_is_checked_not_dropped(tmp_path):
    exp = tmp_path / "e.yaml"
    exp.write_text(yaml.safe_dump({"policy_set": str((tmp_path / "..").resolve() / "x"), "expectations": [
        {"name": "n", "select": {"event": "move"},
         "expect": {"no_flags": ["limit"], "metrics": {"steps": {"max": 0}}}}]}))
    r = _cli("test", "tests/fixtures/tiny", "tests/fixtures/tiny-cases.yaml", "--expectations", str(exp))
    assert r.exit_code == 1 and "steps: expected at most 0" in r.stdout


def test_a_long_after_chain_loads_and_explains(tmp_path):
    n = 1200   # the recursive cycle search and chain walk once overflowed the stack here
    steps = [step(f"s{i}", lane="backstage", after=[f"s{i - 1}"] if i else []) for i in range(n)]
    rules = [rule("first", [steps[0]], event="move")] + [
        rule(f"r{i:04d}", [steps[i]], step=f"s{i - 1}") for i in range(1, n)]
    folder = write_set(tmp_path / "p", {"r.yaml": rules})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    res = friction.Evaluator(cps).evaluate(case())
    assert res.metrics.steps == n
    from friction.explain import explain
    last = explain(cps, res).steps[-1]
    assert len(last.chain) == n and last.chain[0] == ("s0", "first")


def test_run_cases_can_be_interleaved():
    a = run_cases(lambda c: ("A", c.id), [case(cid=f"{i}") for i in range(3)])
    b = run_cases(lambda c: ("B", c.id), [case(cid=f"{i}") for i in range(3)])
    assert list(zip(a, b)) == [(("A", str(i)), ("B", str(i))) for i in range(3)]


@pytest.mark.parametrize("key,value", [("weights", {"channels": float("nan")}),
                                       ("limits", {"steps": float("inf")})])
def test_weights_and_limits_must_be_finite(key, value):
    with pytest.raises(friction.InputError, match="finite"):
        policy_set_from_data({**BASE_MANIFEST, key: value},
                             {"r.yaml": {"rules": [rule("r", [step("s")], event="move")]}})


@pytest.mark.parametrize("snapshot", [
    {"friction_snapshot": 1, "policy_set": 5, "cases": {}},
    {"friction_snapshot": 1, "policy_set": {"path": "tests/fixtures/tiny"}, "cases": {"c": 5}},
    {"friction_snapshot": 1, "policy_set": {"path": "tests/fixtures/tiny"}, "cases": {"c": {"steps": "x"}}},
    {"friction_snapshot": 1, "policy_set": {"path": "tests/fixtures/tiny"}, "cases": {"c": {"steps": None}}},
])
def test_a_hand_edited_snapshot_is_bad_input_not_a_traceback(tmp_path, snapshot):
    f = tmp_path / "s.json"
    f.write_text(json.dumps(snapshot))
    r = _cli("test", "tests/fixtures/tiny", "tests/fixtures/tiny-cases.yaml", "--snapshot", str(f))
    assert r.exit_code == 2 and "Traceback" not in r.output + r.stderr and r.stderr.startswith("error:")


def test_unreadable_jsonl_lines_are_problems_not_tracebacks(tmp_path):
    f = tmp_path / "c.jsonl"
    good = json.dumps({"id": "ok", "event": "move"})
    f.write_bytes((good + "\n" + "[" * 100_000 + "\n").encode() + b"\xff\xfe bad\n")
    r = _cli("evaluate", "tests/fixtures/tiny", str(f), "--format", "jsonl")
    assert r.exit_code == 2 and "Traceback" not in r.output + r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows[0]["id"] == "ok" and "nested too deeply" in rows[1]["error"] and "UTF-8" in rows[2]["error"]
    assert [r["line"] for r in rows[1:]] == [2, 3]


def test_deeply_nested_yaml_is_bad_input(tmp_path):
    f = tmp_path / "deep.yaml"
    f.write_text("cases: " + "[" * 5000 + "]" * 5000 + "\n")
    r = _cli("evaluate", "tests/fixtures/tiny", str(f))
    assert r.exit_code == 2 and "nested too deeply" in r.stderr and "Traceback" not in r.output + r.stderr


def test_a_jsonl_persona_is_a_label(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps({"id": "x", "event": "move", "persona": "walk-in", "attrs": {"products": 0}}) + "\n")
    ev = friction.evaluate_paths("tests/fixtures/tiny", str(f))
    assert not ev.problems and ev.results[0].case.persona == "walk-in"


def test_diff_reports_a_bad_case_once(tmp_path):
    cat = tmp_path / "c.yaml"
    cat.write_text(yaml.safe_dump({"cases": [{"id": "ok", "event": "move"}, {"id": "bad", "event": "mvoe"}]}))
    r = _cli("diff", "tests/fixtures/tiny", "tests/fixtures/tiny", str(cat))
    assert r.exit_code == 2 and r.stderr.count("unknown life event") == 1


def test_an_invalid_explicit_case_keeps_its_expanded_twin_out(tmp_path):
    cat = tmp_path / "c.yaml"
    cat.write_text(yaml.safe_dump({"personas": {"offline": {"digital": False}}, "events": ["move"],
                                   "expand": True, "cases": [{"id": "move/offline", "event": "move", "atrs": {}}]}))
    ev = friction.evaluate_paths("tests/fixtures/tiny", str(cat))
    assert [r.case.id for r in ev.results] == [] and len(ev.problems) == 1


def test_rules_null_is_an_empty_rule_file(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [rule("r", [step("s")], event="move")]})
    (folder / "empty.yaml").write_text("rules:\n")
    assert len(friction.load_policy_set(folder).rules) == 1


def test_top_must_not_be_negative():
    assert _cli("rank", "--top", "-2").exit_code == 2


def test_lint_reads_a_jsonl_catalog_line_by_line(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text('{"id": "a", "event": "move"}\n{"id": "b", "event": "mvoe"}\n')
    findings = friction.lint_policy_set("tests/fixtures/tiny", [str(f)])
    bad = [x for x in findings if x.code == "catalog"]
    assert len(bad) == 1 and bad[0].line == 2 and "did you mean 'move'" in bad[0].message
    assert not [x for x in findings if x.code == "uncatalogued-event"]   # 'move' counts as used
