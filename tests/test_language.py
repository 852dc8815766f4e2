"""The language of `when`: step and event tests anywhere in conditions, `unless` with
stratified negation, and errors in the policy owner's words. Every expected value is
counted by hand beside the rules that make it; each runs on both engines."""
import pytest

import friction
from friction.rank import rank
from friction.load import policy_set_from_data
from friction.report import result_to_dict
from builders import BASE_MANIFEST, case, evaluate_one, rule, step, write_set

ENGINES = friction.ENGINES


def _load_error(tmp_path, rules) -> str:
    folder = write_set(tmp_path / "p", {"r.yaml": rules})
    with pytest.raises(friction.InputError) as e:
        friction.load_policy_set(folder)
    return str(e.value)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_after_a_or_b(tmp_path, engine_name):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("a", [step("a")], event="move", all=[{"attr": "digital", "eq": True}]),
        rule("b", [step("b", department="B")], event="move", all=[{"attr": "products", "gt": 1}]),
        rule("c", [step("c", lane="backstage", department="C")], any=[{"step": "a"}, {"step": "b"}]),
    ]})
    only_b = evaluate_one(folder, case(digital=False, products=2), engine_name)
    assert set(only_b.journey.actions) == {"b", "c"}
    assert {f.rule_id: f.on_steps for f in only_b.trace.firings} == {"b": (), "c": ("b",)}
    both = evaluate_one(folder, case(digital=True, products=2), engine_name)
    # both alternatives hold: c fired on each of them, and its depth is 1 either way
    assert {f.rule_id: f.on_steps for f in both.trace.firings}["c"] == ("a", "b")
    assert {s.action: s.depth for s in both.journey.steps} == {"a": 0, "b": 0, "c": 1}
    neither = evaluate_one(folder, case(digital=False, products=1), engine_name)
    assert neither.journey.actions == ()


@pytest.mark.parametrize("engine_name", ENGINES)
def test_depth_takes_the_shallowest_satisfied_alternative(tmp_path, engine_name):
    # a (0) -> b (1) -> d (2); c needs "d, or a": its step is one below a, not below d
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("1", [step("a")], event="move"),
        rule("2", [step("b", after=["a"])], step="a"),
        rule("3", [step("d", after=["b"])], step="b"),
        rule("4", [step("c", lane="backstage")], any=[{"step": "d"}, {"step": "a"}]),
    ]})
    r = evaluate_one(folder, case(), engine_name)
    assert {s.action: s.depth for s in r.journey.steps} == {"a": 0, "b": 1, "d": 2, "c": 1}
    # both alternatives are satisfied and neither set is inside the other: both are matched on
    assert {f.rule_id: f.on_steps for f in r.trace.firings}["4"] == ("a", "d")


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_smaller_alternative_absorbs_a_larger_one(tmp_path, engine_name):
    # "a, or (a and b)": with both required, the rule matched on a alone
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("1", [step("a"), step("b", department="B")], event="move"),
        rule("2", [step("c", lane="backstage")], any=[{"step": "a"}, {"all": [{"step": "a"}, {"step": "b"}]}]),
    ]})
    r = evaluate_one(folder, case(), engine_name)
    assert {f.rule_id: f.on_steps for f in r.trace.firings}["2"] == ("a",)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_event_or_attribute(tmp_path, engine_name):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("x", [step("x")], any=[{"event": "ask"}, {"attr": "segment", "eq": "premier"}]),
    ]})
    assert evaluate_one(folder, case(event="ask"), engine_name).journey.actions == ("x",)
    assert evaluate_one(folder, case(event="move", segment="premier"), engine_name).journey.actions == ("x",)
    assert evaluate_one(folder, case(event="move", segment="retail"), engine_name).journey.actions == ()


@pytest.mark.parametrize("engine_name", ENGINES)
def test_unless_a_step_is_already_required(tmp_path, engine_name):
    # the branch visit is asked only of customers who did not already upload online
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("proof", [step("open case", lane="backstage")], event="move"),
        rule("upload", [step("upload proof")], step="open case", all=[{"attr": "digital", "eq": True}]),
        rule("branch", [step("visit branch", channel="branch")], step="open case", unless=["upload proof"]),
    ]})
    online = evaluate_one(folder, case(digital=True), engine_name)
    assert set(online.journey.actions) == {"open case", "upload proof"}
    offline = evaluate_one(folder, case(digital=False), engine_name)
    assert set(offline.journey.actions) == {"open case", "visit branch"}


@pytest.mark.parametrize("engine_name", ENGINES)
def test_removing_a_rule_can_add_steps_with_unless(tmp_path, engine_name):
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("proof", [step("open case", lane="backstage")], event="move"),
        rule("upload", [step("upload proof")], step="open case", all=[{"attr": "digital", "eq": True}]),
        rule("branch", [step("visit branch", channel="branch"), step("post letter", lane="backstage")],
             step="open case", unless=["upload proof"]),
    ]})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    ev = friction.Evaluator(cps, engine_name)
    full = ev.replay(case(digital=True))
    upload = frozenset({cps.rule_index["upload"]})
    read_off = full.without(upload)
    replayed = ev.replay(case(digital=True), upload)
    assert read_off.fired == replayed.fired
    # removing "upload" takes one step away and adds two (the branch rule is unblocked)
    assert read_off.actions == {"open case", "visit branch", "post letter"}
    # and attribution says so: removing "upload" adds one step in total
    ranking, problems = rank(ev, [case(digital=True)])
    assert not problems
    assert {a.name: a.removed["steps"] for a in ranking.rules}["upload"] == -1


def test_a_cycle_through_unless_is_refused_naming_it(tmp_path):
    message = _load_error(tmp_path, [
        rule("a", [step("a")], event="move", unless=["c"]),
        rule("b", [step("b")], step="a"),
        rule("c", [step("c")], any=[{"step": "b"}, {"attr": "digital", "eq": False}]),
    ])
    assert "r.yaml:" in message and "rule a:" in message
    assert "unless 'c' cannot be decided" in message
    assert "rule a requires 'a'; rule b tests it and requires 'b'; rule c tests it and requires 'c'" in message


def test_a_rule_may_not_test_the_absence_of_its_own_step(tmp_path):
    message = _load_error(tmp_path, [rule("a", [step("a")], event="move", unless=["a"])])
    assert "rule a: unless 'a' cannot be decided: it follows from this rule itself (rule a requires 'a')" in message


def test_stratified_unless_loads_and_strata_order_rules():
    manifest = dict(BASE_MANIFEST)
    files = {"r.yaml": {"rules": [
        rule("a", [step("a")], event="move"),
        rule("b", [step("b")], unless=["a"]),
        rule("c", [step("c")], unless=["b"]),
        rule("d", [step("d")], step="c"),
    ]}}
    cps = friction.compile_policy_set(policy_set_from_data(manifest, files))
    assert {r.id: r.stratum for r in cps.rules} == {"a": 0, "b": 1, "c": 2, "d": 2}
    for name in ENGINES:
        ev = friction.Evaluator(cps, name)
        # move: a fires, so b is blocked, so c fires and then d
        assert ev.replay(case(event="move")).actions == {"a", "c", "d"}
        # ask: a does not fire, b fires, c is blocked
        assert ev.replay(case(event="ask")).actions == {"b"}


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_condition_nested_deeper_than_one_durable_rules_pattern_holds(tmp_path, engine_name):
    # Regression (#10.7): 15 levels made durable_rules refuse the ruleset ("error code: 113").
    cond = {"attr": "products", "ge": 2}
    for k in range(18):
        side = {"attr": "products", "eq": 100 + k}
        cond = {"all": [cond, {"any": [side, {"attr": "digital", "present": True}]}]} if k % 2 else \
            {"any": [cond, {"attr": "segment", "eq": "premier"}]}
    folder = write_set(tmp_path / "p", {"r.yaml": [rule("deep", [step("x")], all=[cond])]})
    # every `all` level also needs "products = 100 + k, or digital set"
    assert evaluate_one(folder, case(products=3, digital=True), engine_name).journey.actions == ("x",)
    assert evaluate_one(folder, case(products=3), engine_name).journey.actions == ()
    assert evaluate_one(folder, case(products=1, segment="premier", digital=False), engine_name).journey.actions == ("x",)
    assert evaluate_one(folder, case(products=1, segment="retail", digital=True), engine_name).journey.actions == ()


@pytest.mark.parametrize("engine_name", ENGINES)
def test_many_in_tests_on_one_rule(tmp_path, engine_name):
    # each `in` is a group in durable_rules: 20 of them were over its limit of 15
    conds = [{"attr": "products", "in": [k, k + 1, 7]} for k in range(20)]
    folder = write_set(tmp_path / "p", {"r.yaml": [rule("many", [step("x")], all=conds)]})
    assert evaluate_one(folder, case(products=7), engine_name).journey.actions == ("x",)
    assert evaluate_one(folder, case(products=3), engine_name).journey.actions == ()


# --------------------------------------------------------------------------- errors


def test_step_inside_any_is_allowed_and_misplaced_keys_say_where_they_go(tmp_path):
    message = _load_error(tmp_path, [
        rule("a", [step("a")], any=[{"step": "a"}, {"unless": ["a"]}]),
        {**rule("b", [step("b")]), "step": "a"},
        rule("c", [step("c")], attr="digital", eq=True),
    ])
    assert "unknown key 'unless': `unless` goes directly under `when`" in message
    assert "rule b: step: unknown key 'step': `step` goes under `when`" in message or \
        "unknown key 'step': `step` goes under `when`" in message
    assert "unknown key 'attr': a test on an attribute is a condition inside `all` or `any`" in message
    assert "unknown key 'step'" not in message.split("rule b")[0]   # inside `any` it is fine


def test_pydantic_wording_becomes_the_readmes(tmp_path):
    bad = rule("a", [{**step("a"), "asks": {"address": 1}, "days": -1, "informs": "maybe"}],
               cause="polcy", event={"x": 1})
    message = _load_error(tmp_path, [bad])
    lines = message.splitlines()
    assert any(line.startswith("p/r.yaml:") or "r.yaml:" in line for line in lines)
    assert "when.event: expected a list, got a mapping" in message
    assert "then.0.asks: expected a list, got a mapping" in message
    assert "cause: text 'polcy' is not one of policy, practice, system, regulation (did you mean 'policy'?)" in message
    assert "then.0.days: must be at least 0, got the number -1" in message
    assert "then.0.informs: expected true or false, got text 'maybe'" in message
    assert "Input should" not in message
    # every line names the file and a line number
    assert all(":" in line.split(" ")[0] and line.split(":")[1].isdigit() for line in lines), lines


def test_an_unknown_step_in_a_condition_or_unless_is_named(tmp_path):
    message = _load_error(tmp_path, [
        rule("a", [step("upload proof")], event="move"),
        rule("b", [step("b")], any=[{"step": "upload prof"}, {"attr": "digital", "eq": True}], unless=["nothing"]),
    ])
    assert "step 'upload prof' is a step no rule requires (did you mean 'upload proof'?)" in message
    assert "unless 'nothing' is a step no rule requires" in message


@pytest.mark.parametrize("engine_name", ENGINES)
def test_cached_outcomes_know_which_alternative_a_rule_fired_on(tmp_path, engine_name):
    # Regression: outcomes were cached by the rules that fired alone. "c" fires on step a
    # (made by a policy rule) or on digital customers; both cases fire {a, c}, but only for
    # the offline customer does c stand on policy, so only there are a and c policy-made,
    # and c's step is one below a (depth 1) rather than on the case alone (depth 0).
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("a", [step("a")], cause="policy", event="move"),
        rule("c", [step("c", department="C", after=["a"])], cause="regulation",
             any=[{"step": "a"}, {"attr": "digital", "eq": True}]),
    ]})
    ev = friction.Evaluator(friction.compile_policy_set(friction.load_policy_set(folder)), engine_name)
    online, offline = case(digital=True, cid="on"), case(digital=False, cid="off")
    for c, made, depth in ((online, ["a"], 0), (offline, ["a", "c"], 1), (online, ["a"], 0)):
        row = ev.row(c).as_dict()   # the second and third from the cache
        assert [s["action"] for s in row["journey"] if s["policy_made"]] == made
        assert {s["action"]: s["depth"] for s in row["journey"]}["c"] == depth
        assert row["metrics"]["policy_steps"] == len(made)
        assert row == result_to_dict(ev.evaluate(c))
