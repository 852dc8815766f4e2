"""A `limit` flag names the steps, and so the rules, that make its metric what it is, as
the metric is defined: not every rule of the journey. Counted by hand on the set below."""
from __future__ import annotations

import friction
from builders import BASE_MANIFEST, rule, step, write_set

# Journey (journey order = `after` order; departments A, B, C):
#   form     customer    A web     2 days            asks address        (rule form)
#   review   backstage   B         5 days  after form                    (rule review)
#   letter   frontstage  C post    0 days  after form  informs           (rule letter)
#   sign     customer    A branch  1 day   after review  asks address    (rule sign)
# elapsed: form 2 -> review 7 -> sign 8 (critical path form, review, sign; letter is off it)
RULES = [
    rule("form", [step("form", asks=["address"], days=2)], event="move"),
    rule("review", [step("review", lane="backstage", department="B", days=5, after=["form"])], event="move"),
    rule("letter", [step("letter", lane="frontstage", department="C", channel="branch", informs=True,
                         after=["form"])], event="move"),
    rule("sign", [step("sign", channel="phone", asks=["address"], days=1, after=["review"])], event="move"),
]


def limit_flags(tmp_path, limits: dict) -> dict[str, friction.Flag]:
    manifest = {**BASE_MANIFEST, "limits": limits}
    cps = friction.compile_policy_set(friction.load_policy_set(write_set(tmp_path / "s", {"r.yaml": RULES}, manifest)))
    r = friction.Evaluator(cps).evaluate(friction.Case("c", "move", "web", {"digital": True, "products": 1}))
    assert r.metrics.elapsed_days == 8 and r.metrics.customer_steps == 2
    return {f.metric: f for f in r.flags if f.kind == "limit"}


def test_each_limit_names_the_rules_its_metric_counts(tmp_path):
    flags = limit_flags(tmp_path, {"elapsed_days": 1, "customer_steps": 1, "backstage_steps": 0,
                                   "repeated_asks": 0, "channels": 1, "steps": 1})
    assert flags["elapsed_days"].rules == ("form", "review", "sign")          # not letter: off the critical path
    assert flags["customer_steps"].rules == ("form", "sign")
    assert flags["backstage_steps"].rules == ("review",)
    assert flags["repeated_asks"].rules == ("sign",)                          # asks address again
    assert flags["channels"].rules == ("form", "letter", "sign")              # web, branch, phone
    assert flags["steps"].rules == ("form", "letter", "review", "sign")


def test_channel_switch_and_handoff_limits_name_the_step_at_each_switch(tmp_path):
    # one chain, so one journey order: form (A, web) -> letter (C, branch) -> review (B,
    # backstage) -> sign (A, phone); the case starts in web
    chain = [rule("form", [step("form")], event="move"),
             rule("letter", [step("letter", lane="frontstage", department="C", channel="branch",
                                  after=["form"])], event="move"),
             rule("review", [step("review", lane="backstage", department="B", after=["letter"])], event="move"),
             rule("sign", [step("sign", channel="phone", after=["review"])], event="move")]
    manifest = {**BASE_MANIFEST, "limits": {"channel_switches": 0, "handoffs": 0}}
    cps = friction.compile_policy_set(friction.load_policy_set(write_set(tmp_path / "s", {"r.yaml": chain}, manifest)))
    r = friction.Evaluator(cps).evaluate(friction.Case("c", "move", "web", {"digital": True, "products": 1}))
    flags = {f.metric: f for f in r.flags if f.kind == "limit"}
    assert r.journey.actions == ("form", "letter", "review", "sign")
    assert flags["channel_switches"].steps == ("letter", "sign")      # web -> branch -> phone
    assert flags["channel_switches"].rules == ("letter", "sign")
    # whichever path handoffs run along, each is blamed on the step handed to, never the first
    assert len(flags["handoffs"].steps) == r.metrics.handoffs and "form" not in flags["handoffs"].steps


def test_critical_path_takes_every_tied_path(tmp_path):
    rules = [rule("a", [step("a", days=3)], event="move"),
             rule("b", [step("b", days=3)], event="move"),
             rule("c", [step("c", days=1, after=["a", "b"])], event="move"),
             rule("d", [step("d", days=2)], event="move")]
    cps = friction.compile_policy_set(friction.load_policy_set(write_set(tmp_path / "t", {"r.yaml": rules})))
    r = friction.Evaluator(cps).evaluate(friction.Case("c", "move", "web", {"digital": True, "products": 1}))
    from friction.judge import critical_path
    assert sorted(s.action for s in critical_path(r.journey)) == ["a", "b", "c"]
