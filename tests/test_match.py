"""The compiled matcher's shape: rules in step-dependency order so one pass reaches the
fixed point, loops only for rules that chain in a cycle, `unless` tested after every rule
that can require its step. Expected firings are counted by hand beside the rules; the
differential test checks the same engine against durable_rules on generated sets."""
from __future__ import annotations

import re

import friction
from friction.logic import chain_order

from builders import case, rule, step, write_set


def _fire_body(cps: friction.CompiledPolicySet, event: str) -> str:
    n = sorted(cps.manifest.events).index(event)
    src = cps.source
    start = src.index(f"def fire_{n}(")
    return src[start:src.index("\n\n", start)]


def _rule_positions(body: str) -> list[str]:
    return re.findall(r"# rule '([^']*)'", body)


def test_chain_order_puts_producers_first_and_flags_only_real_cycles():
    # (name, tests, requires): c tests what b requires, b what a requires; d and e need
    # each other; f tests its own step (no cycle: it fires at most once); g tests for the
    # absence of what e requires.
    rules = [("g", {"s5"}, {"s6"}), ("f", {"s7"}, {"s7"}), ("c", {"s2"}, {"s3"}), ("e", {"s4"}, {"s5"}),
             ("b", {"s1"}, {"s2"}), ("d", {"s5", "s3"}, {"s4"}), ("a", set(), {"s1"})]
    order = chain_order(rules, lambda r: r[1], lambda r: r[2])
    flat = [r[0] for group, _ in order for r in group]
    assert sorted(flat) == sorted(r[0] for r in rules)
    before = lambda x, y: flat.index(x) < flat.index(y)  # noqa: E731
    assert before("a", "b") and before("b", "c") and before("c", "d") and before("e", "g") and before("d", "g")
    groups = {tuple(sorted(r[0] for r in group)): cycle for group, cycle in order}
    assert groups[("d", "e")] is True
    assert groups[("f",)] is False and groups[("a",)] is False and groups[("g",)] is False


def test_a_chain_written_backwards_is_one_pass_with_no_loop(tmp_path):
    # a needs what b requires, b what c requires: ids sort against the chain.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("a", [step("three")], step="two"),
        rule("b", [step("two")], step="one"),
        rule("c", [step("one")], event="move"),
    ]})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    body = _fire_body(cps, "move")
    assert "while" not in body
    assert _rule_positions(body) == ["c", "b", "a"]
    engine = friction.make_engine("compiled", cps)
    assert {cps.rules[i].id for i in engine.fire(case())} == {"a", "b", "c"}
    assert engine.fire(case(event="ask")) == []           # c is for `move` only: nothing starts the chain
    # rule b removed: a loses the step it needs
    assert {cps.rules[i].id for i in engine.fire(case(), frozenset({cps.rule_index["b"]}))} == {"c"}


def test_rules_that_chain_in_a_cycle_loop_until_nothing_new_fires(tmp_path):
    # x: digital, or once 'y' is required -> 'x';  y: 'x' required -> 'y';
    # z: 'y' required and not digital -> 'z'.  Not digital: nothing starts the cycle.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("x", [step("x")], any=[{"attr": "digital", "eq": True}, {"step": "y"}]),
        rule("y", [step("y")], step="x"),
        rule("z", [step("z")], step="y", all=[{"attr": "products", "ge": 2}]),
    ]})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    body = _fire_body(cps, "move")
    assert body.count("while again:") == 1
    engine = friction.make_engine("compiled", cps)
    fired = lambda c, excluded=frozenset(): {cps.rules[i].id for i in engine.fire(c, excluded)}  # noqa: E731
    assert fired(case(digital=True, products=2)) == {"x", "y", "z"}
    assert fired(case(digital=True, products=1)) == {"x", "y"}
    assert fired(case(digital=False, products=5)) == set()
    assert fired(case(digital=True, products=5), frozenset({cps.rule_index["y"]})) == {"x"}


def test_unless_is_tested_after_every_rule_that_can_require_its_step(tmp_path):
    # 'proof' comes at the end of a chain (start -> check -> proof); branch needs 'start'
    # unless 'proof'. Written first, it must still see 'proof' decided.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("a-branch", [step("visit branch", channel="branch")], step="start", unless=["proof"]),
        rule("b-check", [step("check")], step="start"),
        rule("c-proof", [step("proof")], step="check", all=[{"attr": "digital", "eq": True}]),
        rule("d-start", [step("start")], event="move"),
    ]})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    body = _fire_body(cps, "move")
    assert "while" not in body
    order = _rule_positions(body)
    assert order.index("c-proof") < order.index("a-branch") and order.index("d-start") < order.index("b-check")
    engine = friction.make_engine("compiled", cps)
    fired = lambda c, excluded=frozenset(): {cps.rules[i].id for i in engine.fire(c, excluded)}  # noqa: E731
    assert fired(case(digital=True)) == {"d-start", "b-check", "c-proof"}
    assert fired(case(digital=False)) == {"d-start", "b-check", "a-branch"}
    # without the rule that requires 'proof', the branch visit comes back
    assert fired(case(digital=True), frozenset({cps.rule_index["c-proof"]})) == {"d-start", "b-check", "a-branch"}


# --------------------------------------------------------------------------- the yardstick

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402

from friction.load import policy_set_from_data  # noqa: E402
from friction.testing import scenarios  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from limit import generated_limit  # noqa: E402


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios(min_cases=2, max_cases=8))
def test_the_limit_takes_every_set_the_loader_accepts_and_agrees_with_the_engine(scenario):
    # generated sets hold step tests in any/all, unless in strata, chains that loop back
    manifest, files, case_list = scenario
    cps = friction.compile_policy_set(policy_set_from_data(manifest, files, lines=False))
    limit = generated_limit(cps)
    engine = friction.make_engine("compiled", cps)
    for c in case_list:
        assert sorted(limit(c.event, c.attrs)) == sorted(engine.fire(c)), c
