"""Forward chaining: required steps make further rules fire, to quiescence."""
import shutil

import pytest
import yaml

import friction
from builders import case, evaluate_one, rule, step, write_set

ENGINES = friction.ENGINES


@pytest.mark.parametrize("engine_name", ENGINES)
def test_two_and_three_levels(tmp_path, engine_name):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("l0", [step("a")], event="move"),
        rule("l1", [step("b", after=["a"])], step="a"),
        rule("l2", [step("c", after=["b"])], step="b"),
        rule("l3", [step("d", after=["c"])], step="c", all=[{"attr": "digital", "eq": False}]),
    ]})
    two = evaluate_one(folder, case(digital=True), engine_name)
    assert two.journey.actions == ("a", "b", "c")          # two levels below the first rule
    assert [s.depth for s in two.journey.steps] == [0, 1, 2]
    three = evaluate_one(folder, case(digital=False), engine_name)
    assert three.journey.actions == ("a", "b", "c", "d")   # three levels
    assert {f.rule_id: f.on_steps for f in three.trace.firings} == {
        "l0": (), "l1": ("a",), "l2": ("b",), "l3": ("c",)}


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_rule_waiting_on_two_steps_fires_once_both_are_there(tmp_path, engine_name):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("x", [step("a")], event="move"),
        rule("y", [step("b")], event="move", all=[{"attr": "products", "gt": 1}]),
        rule("join", [step("c", lane="backstage")], step=["a", "b"]),
    ]})
    assert evaluate_one(folder, case(products=1), engine_name).journey.actions == ("a",)
    assert set(evaluate_one(folder, case(products=2), engine_name).journey.actions) == {"a", "b", "c"}


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_step_required_by_two_rules_is_counted_once_and_keeps_both(tmp_path, engine_name):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("first", [step("proof", asks=["address"])], event="move", cause="policy"),
        rule("second", ["proof"], event="move", cause="regulation"),
        rule("after-proof", [step("check", lane="backstage")], step="proof"),
    ]})
    res = evaluate_one(folder, case(), engine_name)
    assert res.journey.actions == ("proof", "check")
    assert res.metrics.steps == 2 and res.metrics.repeated_asks == 0
    assert res.journey.steps[0].rules == ("first", "second")
    assert res.metrics.policy_steps == 0   # regulation still requires it without the policy
    assert [f.rule_id for f in res.trace.firings] == ["after-proof", "first", "second"]


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_chain_that_loops_back_terminates(tmp_path, engine_name):
    # a -> b -> (requires a again): a is already there, so nothing new fires.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("start", [step("a")], event="move"),
        rule("ab", [step("b")], step="a"),
        rule("ba", ["a"], step="b"),
    ]})
    res = evaluate_one(folder, case(), engine_name)
    assert res.journey.actions == ("a", "b")
    assert res.journey.steps[0].rules == ("ba", "start")


@pytest.mark.parametrize("engine_name", ENGINES)
def test_missing_attribute_makes_every_comparison_false(tmp_path, engine_name):
    # segment and score have no default: a case without them fails eq, ne, lt, in, not_in
    conds = {"eq": {"attr": "segment", "eq": "retail"}, "ne": {"attr": "segment", "ne": "retail"},
             "lt": {"attr": "score", "lt": 0.5}, "in": {"attr": "segment", "in": ["retail"]},
             "not_in": {"attr": "segment", "not_in": ["premier"]},
             "absent": {"attr": "segment", "present": False}}
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule(name, [step(f"s-{name}")], event="move", all=[c]) for name, c in conds.items()
    ]})
    assert evaluate_one(folder, case(), engine_name).journey.actions == ("s-absent",)
    got = set(evaluate_one(folder, case(segment="retail", score=0.2), engine_name).journey.actions)
    assert got == {"s-eq", "s-lt", "s-in", "s-not_in"}


def _rules_of(folder):
    out = []
    for p in sorted(folder.glob("*.yaml")):
        if p.name != "policy-set.yaml":
            out += yaml.safe_load(p.read_text())["rules"]
    return out


def _evaluate(folder, engine_name):
    ev = friction.evaluate_paths(str(folder), "tests/fixtures/tiny-cases.yaml", engine_name)
    return friction.evaluation_to_dict(ev)["cases"]


@pytest.mark.parametrize("engine_name", ENGINES)
def test_results_do_not_depend_on_file_names_or_rule_order(tmp_path, engine_name):
    original = tmp_path / "original"
    shutil.copytree("tests/fixtures/tiny", original)
    baseline = _evaluate(original, engine_name)

    # Same rules, files renamed so they sort the other way, and rules reversed in each file.
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    shutil.copy(original / "policy-set.yaml", shuffled)
    rules = _rules_of(original)
    (shuffled / "zz-first.yaml").write_text(yaml.safe_dump({"rules": rules[::-1][:3]}))
    (shuffled / "aa-second.yaml").write_text(yaml.safe_dump({"rules": rules[::-1][3:]}))
    assert _evaluate(shuffled, engine_name) == baseline

    # One file holding every rule, in yet another order.
    merged = tmp_path / "merged"
    merged.mkdir()
    shutil.copy(original / "policy-set.yaml", merged)
    (merged / "all.yaml").write_text(yaml.safe_dump({"rules": rules[2:] + rules[:2]}))
    assert _evaluate(merged, engine_name) == baseline


def test_both_engines_give_identical_results_on_the_fixture():
    assert _evaluate("tests/fixtures/tiny", "compiled") == _evaluate("tests/fixtures/tiny", "rete")


@pytest.mark.parametrize("engine_name", ENGINES)
def test_trace_without_equals_a_replay_without_the_rules(engine_name):
    """policy_steps and rank read `Trace.without` instead of replaying: check it against a
    real replay, for every single rule and for all policy/practice rules together."""
    cps = friction.compile_policy_set(friction.load_policy_set("tests/fixtures/tiny"))
    ev = friction.Evaluator(cps, engine_name)
    cases, _ = friction.resolve_cases(friction.load_catalog("tests/fixtures/tiny-cases.yaml"), cps.manifest)
    policy = cps.rule_ids({friction.Cause.policy, friction.Cause.practice})
    subsets = [frozenset({r.index}) for r in cps.rules] + [policy]
    checked = 0
    for c in cases:
        full = ev.replay(c)
        for removed in subsets:
            assert full.without(removed) == ev.replay(c, removed)
            checked += removed <= full.fired
    assert checked >= 5  # the fixture really removes rules that fired
