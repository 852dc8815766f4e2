"""Engine invariants as properties, on generated policy sets and cases (friction.testing).

Each property is a plain function that raises AssertionError when it does not hold; the
tests run them under Hypothesis, and the mutant tests at the end run the same functions
against deliberately broken components to show they can fail.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import friction
import friction.evaluate
from friction.errors import InputError
from friction.load import policy_set_from_data
from friction.manifest import Manifest
from friction.replay.compiled import CompiledEngine
from friction.report import result_to_dict
from friction.vocabulary import CUSTOMER_VISIBLE
from friction.testing import attribute_values, cases, personas, policy_sets, scenarios


RETE_EXAMPLES = max(5, settings.default.max_examples // 4)


def build(manifest: dict, files: dict) -> friction.CompiledPolicySet:
    # Without the YAML round trip (most of the time of these tests); that generated sets
    # load whole through YAML text, lines and all, is its own property below.
    return friction.compile_policy_set(policy_set_from_data(manifest, files, lines=False))


def results(cps: friction.CompiledPolicySet, case_list, engine_name: str = "compiled") -> list[dict]:
    ev = friction.Evaluator(cps, engine_name)
    return [result_to_dict(ev.evaluate(c)) for c in case_list]


def all_rules(files: dict) -> list[dict]:
    return [r for name in sorted(files) for r in files[name]["rules"]]


def required(trace: friction.Trace) -> set[str]:
    return {a for f in trace.firings for a in f.requires}


# --------------------------------------------------------------------------- layouts


@st.composite
def layouts(draw, rules: list[dict]) -> dict:
    """The same rules, permuted and spread over differently named files."""
    order = draw(st.permutations(rules))
    n = draw(st.integers(1, max(1, len(rules))))
    names = draw(st.lists(st.sampled_from(["a.yaml", "b.yaml", "m.yaml", "z.yaml", "ü.yaml", "0.yaml"]),
                          min_size=n, max_size=n, unique=True)) if n <= 6 else [f"{k:03d}.yaml" for k in range(n)]
    files: dict = {name: {"rules": []} for name in names}
    for rule in order:
        files[draw(st.sampled_from(names))]["rules"].append(rule)
    return files


def fixed_layouts(files: dict) -> list[dict]:
    """Every rule in one file, reversed; each rule in its own file, named to sort the
    other way round; every file's rules reversed, with the file names swapped."""
    rules = all_rules(files)
    names = sorted(files)
    return [
        {"all.yaml": {"rules": rules[::-1]}},
        {f"{len(rules) - i:03d}.yaml": {"rules": [r]} for i, r in enumerate(rules)},
        {new: {"rules": files[old]["rules"][::-1]} for old, new in zip(names, names[::-1])},
    ]


# --------------------------------------------------------------------------- properties


def prop_same_result_twice(scenario, engine_name: str = "compiled") -> None:
    manifest, files, case_list = scenario
    cps = build(manifest, files)
    ev = friction.Evaluator(cps, engine_name)
    first = [result_to_dict(ev.evaluate(c)) for c in case_list]
    assert [result_to_dict(ev.evaluate(c)) for c in case_list] == first, "same evaluator, second run"
    if engine_name == "compiled":  # a fresh rete evaluator would register another ruleset
        assert results(build(manifest, files), case_list) == first, "fresh load and compile"


def prop_order_independent(scenario, data, engine_name: str = "compiled") -> None:
    manifest, files, case_list = scenario
    baseline = results(build(manifest, files), case_list, engine_name)
    others = fixed_layouts(files) if engine_name == "compiled" else fixed_layouts(files)[:1]
    others.append(data.draw(layouts(all_rules(files)), label="layout"))
    for layout in others:
        assert results(build(manifest, layout), case_list, engine_name) == baseline, \
            f"rules laid out as {sorted(layout)} give other results"


def prop_removing_rules_never_adds_steps(scenario, data) -> None:
    manifest, files, case_list = scenario
    cps = build(manifest, files)
    ev = friction.Evaluator(cps)
    n = len(cps.rules)
    for case in case_list:
        full = ev.replay(case)
        assert set(ev.evaluate(case).journey.actions) == required(full)
        for i in range(n):
            without = ev.replay(case, frozenset({i}))
            assert i not in without.fired, "a left-out rule fired"
            if not cps.negation:
                assert required(without) <= required(full), f"leaving out rule {cps.rules[i].id!r} added steps"
            else:  # with `unless`, only a rule the removal unblocked can add steps
                unblocked = [r for r in without.fired - full.fired if cps.rules[r].unless]
                assert required(without) <= required(full) or unblocked, f"rule {cps.rules[i].id!r}"
        if cps.negation:
            return
        # and for nested sets of left-out rules: fewer rules, never more steps
        small = data.draw(st.sets(st.sampled_from(range(n))), label="left out")
        big = small | data.draw(st.sets(st.sampled_from(range(n))), label="also left out")
        assert required(ev.replay(case, frozenset(big))) <= required(ev.replay(case, frozenset(small)))


def prop_removing_a_rule_never_raises_what_a_journey_holds(scenario) -> None:
    """Steps, departments (all, and the customer's) and channels are counts of what is in
    the journey; removing a rule only takes steps away. (Hand-offs and switches depend on
    adjacency and may rise: the README says what they promise instead.) Not with `unless`:
    removing a rule may unblock another (prop_removing_rules_never_adds_steps)."""
    manifest, files, case_list = scenario
    cps = build(manifest, files)
    if cps.negation:
        return
    ev = friction.Evaluator(cps)
    for case in case_list:
        full = ev.evaluate(case)
        for i in sorted(full.trace.fired):
            less = ev.result(full.trace.without(frozenset({i}))).metrics
            for m in ("steps", "customer_steps", "backstage_steps", "departments", "customer_departments",
                      "channels", "customer_fees"):
                assert less[m] <= full.metrics[m], f"removing {cps.rules[i].id!r} raised {m}"


def renamed(files: dict, names: dict[str, str]) -> dict:
    return {n: {"rules": [dict(r, id=names[r["id"]]) for r in f["rules"]]} for n, f in files.items()}


def prop_rule_names_change_no_metric(scenario, data) -> None:
    """Renaming rule ids by any bijection (here: the ids dealt out again among the rules,
    which reverses how they sort) changes no metric, no journey and no flag but its ids."""
    manifest, files, case_list = scenario
    ids = [r["id"] for r in all_rules(files)]
    names = dict(zip(ids, data.draw(st.permutations(ids), label="new ids")))
    before, after = (friction.Evaluator(build(manifest, f)) for f in (files, renamed(files, names)))
    for case in case_list:
        a, b = before.evaluate(case), after.evaluate(case)
        assert b.metrics == a.metrics and b.effort == a.effort, f"renaming {names} changed the metrics"
        assert b.journey.actions == a.journey.actions
        assert sorted((f.kind, f.steps, tuple(sorted(names[r] for r in f.rules))) for f in a.flags) == \
            sorted((f.kind, f.steps, f.rules) for f in b.flags)


def without_rule(manifest: dict, files: dict, rid: str) -> dict:
    """The files without rule `rid`; if other rules still name steps only it defines, it
    stays as a rule that can never fire (its attribute both present and absent)."""
    removed = {n: {"rules": [r for r in f["rules"] if r["id"] != rid]} for n, f in files.items()}
    try:
        policy_set_from_data(manifest, removed, lines=False)
        return removed
    except InputError:
        attr = sorted(manifest["attributes"])[0]
        never = {"all": [{"attr": attr, "present": True}, {"attr": attr, "present": False}]}
        return {n: {"rules": [dict(r, when=never) if r["id"] == rid else r for r in f["rules"]]}
                for n, f in files.items()}


def prop_rebuilt_without_rule_equals_left_out(scenario, data) -> None:
    manifest, files, case_list = scenario
    cps = build(manifest, files)
    rid = data.draw(st.sampled_from([r.id for r in cps.rules]), label="rule removed")
    ev = friction.Evaluator(cps)
    rebuilt = friction.Evaluator(build(manifest, without_rule(manifest, files, rid)))
    for case in case_list:
        left_out = ev.result(ev.replay(case, frozenset({cps.rule_index[rid]})))
        gone = rebuilt.evaluate(case)
        if not cps.negation:  # with `unless`, leaving a rule out may unblock another
            assert set(gone.journey.actions) <= set(ev.evaluate(case).journey.actions)
        assert result_to_dict(gone) == result_to_dict(left_out), f"rebuilt without {rid!r} != left out"


def prop_shortcuts_agree_with_the_full_path(scenario, data) -> None:
    """What the engine reads off a trace or takes from its cache equals what a replay and
    a full evaluation give: `Trace.without` (policy-made steps, attribution) against a
    replay with those rules left out, `Evaluator.values` against `result`, and cached
    `Evaluator.row`s (shared by cases that fire the same rules) against `evaluate`."""
    manifest, files, case_list = scenario
    cps = build(manifest, files)
    ev = friction.Evaluator(cps)
    n = len(cps.rules)
    policy_rules = cps.rule_ids({friction.Cause.policy, friction.Cause.practice})
    for case in case_list * 2:   # twice: the second time rows come from the cache
        result = ev.evaluate(case)
        trace = result.trace
        assert ev.row(case).as_dict() == result_to_dict(result), "cached row != evaluate"
        assert result.policy_made == required(trace) - required(ev.replay(case, policy_rules))
        left_out = [frozenset({i}) for i in sorted(trace.fired)]
        left_out.append(frozenset(data.draw(st.sets(st.sampled_from(range(n))), label="left out")))
        for rules in left_out:
            read_off = trace.without(rules)
            assert read_off.fired == ev.replay(case, rules).fired, f"without({sorted(rules)}) != replay"
            full = ev.result(read_off)
            assert ev.values(read_off) == (*(full.metrics[m] for m in friction.METRICS), full.effort)


def check_result(result: friction.CaseResult, ps: friction.PolicySet) -> None:
    """Invariants of one result: metric bounds, journey order and shape."""
    m = result.metrics
    steps = result.journey.steps
    visible = [s for s in steps if s.lane in CUSTOMER_VISIBLE]
    assert m.steps == len(steps) == len(set(result.journey.actions)), "a step appears twice"
    assert m.policy_steps <= m.steps
    assert m.handoffs <= max(len(visible) - 1, 0)       # on the customer path
    assert m.customer_steps + m.backstage_steps <= m.steps
    assert m.channels <= len(visible)
    assert m.departments <= m.steps
    assert m.customer_departments <= min(m.departments, len(visible))
    assert m.staff_handoffs <= len(result.journey.edges)
    assert m.channel_switches <= len(visible)
    assert m.staff_rekeys >= 0 and m.customer_fees >= 0
    assert 0 <= m.elapsed_days <= sum(s.days for s in steps) + 1e-9
    assert m.repeated_asks >= 0
    assert result.policy_made <= set(result.journey.actions)
    position = {s.action: i for i, s in enumerate(steps)}
    for s in steps:
        assert s.rules and list(s.rules) == sorted(set(s.rules))
        for before in ps.steps[s.action].after:
            if before in position:
                assert position[before] < position[s.action], f"{s.action!r} before its `after` {before!r}"
    ids = {r.id for r in ps.rules}
    for f in result.flags:
        assert set(f.rules) <= ids and set(f.steps) <= set(position)


def prop_results_are_well_formed(scenario) -> None:
    manifest, files, case_list = scenario
    cps = build(manifest, files)
    ev = friction.Evaluator(cps)
    for case in case_list:
        check_result(ev.evaluate(case), cps.policy_set)


def prop_json_round_trip(scenario) -> None:
    manifest, files, case_list = scenario
    for d in results(build(manifest, files), case_list):
        assert json.loads(json.dumps(d)) == d
        assert json.loads(json.dumps(d, ensure_ascii=False)) == d


# --------------------------------------------------------------------------- tests


@given(policy_sets())
def test_every_generated_policy_set_loads_whole(generated):
    manifest, files = generated
    ps = policy_set_from_data(manifest, files)
    assert sorted(r.id for r in ps.rules) == sorted(r["id"] for r in all_rules(files))
    # through YAML text or straight from the data: the same rules (the other properties
    # build sets the fast way, without the text)
    fast = policy_set_from_data(manifest, files, lines=False)
    assert [r.model_dump() for r in fast.rules] == [r.model_dump() for r in ps.rules]
    assert fast.manifest.model_dump() == ps.manifest.model_dump()


@given(scenarios())
def test_the_same_result_twice(scenario):
    prop_same_result_twice(scenario)


@given(scenarios(), st.data())
def test_results_do_not_depend_on_rule_files_or_rule_order(scenario, data):
    prop_order_independent(scenario, data)


@given(scenarios(), st.data())
def test_removing_a_rule_never_adds_steps(scenario, data):
    prop_removing_rules_never_adds_steps(scenario, data)


@given(scenarios())
def test_removing_a_rule_never_raises_steps_departments_or_channels(scenario):
    prop_removing_a_rule_never_raises_what_a_journey_holds(scenario)


@given(scenarios(), st.data())
def test_renaming_rule_ids_changes_no_metric(scenario, data):
    prop_rule_names_change_no_metric(scenario, data)


@given(scenarios(), st.data())
def test_a_set_rebuilt_without_a_rule_gives_what_leaving_it_out_gives(scenario, data):
    prop_rebuilt_without_rule_equals_left_out(scenario, data)


@given(scenarios(), st.data())
def test_shortcuts_agree_with_replays_and_full_evaluation(scenario, data):
    prop_shortcuts_agree_with_the_full_path(scenario, data)


@given(scenarios())
def test_metric_bounds_and_journey_order(scenario):
    prop_results_are_well_formed(scenario)


@given(scenarios())
def test_results_survive_a_json_round_trip(scenario):
    prop_json_round_trip(scenario)


@settings(max_examples=RETE_EXAMPLES)
@given(scenarios(rete_safe=True, max_rules=6, max_cases=3), st.data())
def test_rete_same_result_twice_and_independent_of_rule_order(scenario, data):
    prop_same_result_twice(scenario, "rete")
    prop_order_independent(scenario, data, "rete")


# --------------------------------------------------------------------------- the strategies


def _manifest(**attributes: Any) -> Manifest:
    return Manifest.model_validate({"name": "m", "events": ["move", "ask"], "departments": ["D"],
                                    "channels": ["web", "phone"], "start_channel": "phone",
                                    "attributes": attributes})


MANIFEST = _manifest(
    digital={"type": "bool", "default": True},
    products={"type": "int", "min": 0, "max": 10, "default": 4},
    score={"type": "number", "min": 0.5, "max": 1},
    segment={"type": "str", "values": ["retail", "premier"], "default": "premier"},
    region={"type": "str"},
)


@given(personas(MANIFEST, partial=True), cases(MANIFEST, partial=True))
def test_personas_and_cases_hold_valid_values(persona, case):
    for attrs in (persona, case.attrs):
        assert set(attrs) <= set(MANIFEST.attributes)
        for name, value in attrs.items():
            assert MANIFEST.attributes[name].check(value) is None
    assert case.event in MANIFEST.events and case.channel in MANIFEST.channels


def test_personas_shrink_towards_defaults():
    quiet = settings(database=None, derandomize=True, max_examples=200)
    smallest = find(personas(MANIFEST), lambda p: True, settings=quiet)
    assert smallest == {"digital": True, "products": 4, "region": "", "score": 1, "segment": "premier"}
    # partial: an attribute with a default stays, with it; one without is left out
    assert find(personas(MANIFEST, partial=True), lambda p: True, settings=quiet) == {
        "digital": True, "products": 4, "segment": "premier"}
    # a failing property shrinks to the one attribute that matters, the rest at defaults
    found = find(personas(MANIFEST), lambda p: p["products"] > 6 and not p["digital"], settings=quiet)
    assert found == {"digital": False, "products": 7, "region": "", "score": 1, "segment": "premier"}
    assert find(cases(MANIFEST), lambda c: True, settings=quiet).channel == "phone"   # the start channel


def test_cases_pin_attributes_and_refuse_unknown_ones():
    pinned = find(cases(MANIFEST, events=["ask"], attrs={"digital": False}), lambda c: True,
                  settings=settings(database=None, derandomize=True))
    assert pinned.event == "ask" and pinned.attrs["digital"] is False
    with pytest.raises(Exception, match="not an attribute"):
        cases(MANIFEST, attrs={"nope": 1}).example()
    with pytest.raises(Exception, match="expected int"):
        personas(MANIFEST, attrs={"products": "4"}).example()


@given(st.data())
def test_rete_safe_values_stay_inside_what_durable_rules_handles(data):
    spec = friction.manifest.Attribute(type=data.draw(st.sampled_from(["int", "number"])))
    value = data.draw(attribute_values(spec, rete_safe=True))
    assert friction.testing.is_rete_safe(value, spec.type)
    assert "e" not in json.dumps(value)


# --------------------------------------------------------------------------- mutants
# Each invariant test must be able to fail: run its property against a deliberately
# broken component and expect Hypothesis to find a counterexample.

MUTANT_SETTINGS = settings(max_examples=300, derandomize=True, database=None, report_multiple_bugs=False,
                           phases=[Phase.explicit, Phase.generate], deadline=None)


def reordered(journey, key):
    """The journey in another topological order of its dependency edges: ties by `key`."""
    steps, edges = journey.steps, journey.edges
    preds = {i: {a for a, b in edges if b == i} for i in range(len(steps))}
    placed: list[int] = []
    while len(placed) < len(steps):
        ready = [i for i in range(len(steps)) if i not in placed and preds[i] <= set(placed)]
        placed.append(min(ready, key=lambda i: key(steps[i])))
    new = {old: k for k, old in enumerate(placed)}
    return dataclasses.replace(journey, steps=tuple(steps[i] for i in placed),
                               edges=tuple(sorted((new[a], new[b]) for a, b in edges)))


def journey_in_file_order(real: Callable) -> Callable:
    """build_journey still topological, but breaking ties by the file and line of the rules
    behind a step: the journey then depends on how the files are laid out."""
    def broken(cps, trace, *args):
        where = cps.policy_set.where
        return reordered(real(cps, trace, *args), lambda s: min(where[r] for r in s.rules))
    return broken


def journey_by_rule_id(real: Callable) -> Callable:
    """build_journey breaking ties by the smallest rule id behind a step, as friction once
    did: the journey then depends on how rules are named."""
    def broken(cps, trace, *args):
        return reordered(real(cps, trace, *args), lambda s: (s.rules[0], s.action))
    return broken


def handoffs_round_trip(real: Callable) -> Callable:
    """measure that also counts the hand-off from the last step back to the first."""
    def broken(journey, case, policy_made):
        m = real(journey, case, policy_made)
        s = journey.steps
        extra = int(len(s) > 1 and s[-1].department != s[0].department)
        return friction.Metrics(**{**m.as_dict(), "handoffs": m.handoffs + extra})
    return broken


def fire_with_exclusions_leaking(real: Callable) -> Callable:
    """An engine where leaving a rule out lets every waiting rule fire regardless."""
    def broken(self, case, excluded=frozenset()):
        fired = real(self, case, excluded)
        if excluded:
            fired += [r for r in self.cps.candidates(case) if r not in excluded and r not in fired]
        return fired
    return broken


MUTANTS = {
    "journey tie-break by file order -> order independence fails": (
        friction.evaluate, "build_journey", journey_in_file_order, prop_order_independent),
    "journey tie-break by rule id -> renaming rules changes metrics": (
        friction.evaluate, "build_journey", journey_by_rule_id, prop_rule_names_change_no_metric),
    "hand-offs counted round the loop -> metric bounds fail": (
        friction.evaluate, "measure", handoffs_round_trip, lambda s, d: prop_results_are_well_formed(s)),
    "left-out rules unblock others -> monotonicity fails": (
        CompiledEngine, "fire", fire_with_exclusions_leaking, prop_removing_rules_never_adds_steps),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_the_properties_catch_a_broken_component(mutant, monkeypatch):
    where, attr, breaker, prop = MUTANTS[mutant]

    @MUTANT_SETTINGS
    @given(scenarios(), st.data())
    def check(scenario, data):
        prop(scenario, data)

    monkeypatch.setattr(where, attr, breaker(getattr(where, attr)))
    # (the same property passes on the real component: the tests above)
    with pytest.raises(AssertionError):
        check()
