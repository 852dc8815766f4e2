"""`rank` roll-ups: an owner's or a cause's attribution is what leaves when all its rules
are removed together, and its `cases` are the cases in which any of its rules fired.
Expected numbers are counted by hand on the small set below."""
from __future__ import annotations

import friction
from builders import rule, step, write_set
from friction.rank import rank

# owner X: a requires "fill form"; b, waiting on it, requires "sign form" (a chain).
# owner Y: c and d both require "check form" (each alone removes nothing).
RULES = [
    {**rule("a", [step("fill form")], cause="policy", event="move"), "owner": "X"},
    {**rule("b", [step("sign form", after=["fill form"])], cause="policy", event="move", step="fill form"), "owner": "X"},
    {**rule("c", [step("check form", lane="backstage", department="B")], cause="practice", event="move"), "owner": "Y"},
    {**rule("d", ["check form"], cause="system", event="move"), "owner": "Y"},
]


def ranking(tmp_path, n_cases: int = 2):
    cps = friction.compile_policy_set(friction.load_policy_set(write_set(tmp_path / "s", {"r.yaml": RULES})))
    cases = [friction.Case(f"c{i}", "move", "web", {"digital": True, "products": 1}) for i in range(n_cases)]
    cases.append(friction.Case("q", "ask", "web", {"digital": True, "products": 1}))   # fires nothing
    ranked, problems = rank(friction.Evaluator(cps), cases)
    assert problems == []
    return ranked


def by_name(items):
    return {a.name: a for a in items}


def test_rule_attribution_is_single_removal(tmp_path):
    rules = by_name(ranking(tmp_path).rules)
    # per case: a takes fill+sign (2), b sign (1), c and d nothing (the other still requires it)
    assert {k: (a.removed["steps"], a.cases) for k, a in rules.items()} == \
        {"a": (4, 2), "b": (2, 2), "c": (0, 2), "d": (0, 2)}


def test_owner_attribution_removes_the_owners_rules_together(tmp_path):
    owners = by_name(ranking(tmp_path).owners)
    # X: fill and sign leave (2 per case, not 2 + 1); Y: check leaves (1 per case, not 0 + 0)
    assert owners["X"].removed["steps"] == 4 and owners["Y"].removed["steps"] == 2
    assert owners["X"].removed["customer_steps"] == 4 and owners["Y"].removed["customer_steps"] == 0
    # cases: where any of its rules fired (2 cases), never more than the catalog
    assert (owners["X"].cases, owners["Y"].cases, owners["X"].rules) == (2, 2, 2)


def test_cause_attribution_removes_the_causes_rules_together(tmp_path):
    causes = by_name(ranking(tmp_path).causes)
    assert {k: (a.removed["steps"], a.cases, a.rules) for k, a in causes.items()} == \
        {"policy": (4, 2, 2), "practice": (0, 2, 1), "system": (0, 2, 1)}


def test_group_cases_never_exceed_the_catalog(tmp_path):
    rk = ranking(tmp_path, n_cases=3)
    assert rk.cases == 4
    assert max(a.cases for a in rk.owners + rk.causes) == 3
