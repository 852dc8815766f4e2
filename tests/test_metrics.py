"""Every metric of DESIGN.md on tiny policy sets, counted by hand, on both engines."""
import pytest

import friction
from builders import case, evaluate_one, rule, step, write_set

TINY = "tests/fixtures/tiny"
CATALOG = "tests/fixtures/tiny-cases.yaml"

# Counted by hand from tests/fixtures/tiny (see the comments there) and tiny-cases.yaml.
# move/offline fires a.form, b.proof, c.branch (digital false), d.check, e.confirm; journey:
#   fill form (Front, web) -> upload proof (Back, web) -> visit branch (Front, branch)
#   -> check proof (Risk, internal, backstage, 3 days) -> confirm by phone (Front, phone, frontstage)
EXPECTED = {
    "move/offline": dict(
        steps=5, customer_steps=3, backstage_steps=1, departments=3,
        channels=3,            # web, branch, phone
        handoffs=4,            # Front>Back>Front>Risk>Front
        channel_switches=2,    # web->branch, branch->phone; starts in web like the first step
        repeated_asks=2,       # address twice, proof twice
        elapsed_days=3,        # upload(0) -> check(3) -> confirm(0); the branch visit (1) runs beside it
        policy_steps=4,        # without b.proof and c.branch only `fill form` remains
    ),
    # products 0: only a.form; starts on the phone, first step on the web
    "move/no-products": dict(steps=1, customer_steps=1, backstage_steps=0, departments=1, channels=1,
                             handoffs=0, channel_switches=1, repeated_asks=0, elapsed_days=0, policy_steps=0),
    "ask/offline": dict(steps=0, customer_steps=0, backstage_steps=0, departments=0, channels=0,
                        handoffs=0, channel_switches=0, repeated_asks=0, elapsed_days=0, policy_steps=0),
    # region abroad (ne uk) adds f.abroad's phone step: web then phone, starting on the phone
    "move/abroad": dict(steps=2, customer_steps=2, backstage_steps=0, departments=1, channels=2,
                        handoffs=0, channel_switches=2, repeated_asks=0, elapsed_days=0, policy_steps=1),
}
# The tiny set gives no minutes, capacities or costs (see tests/test_capacity.py for those).
for _e in EXPECTED.values():
    _e.update(staff_minutes=0, customer_minutes=0, cost=0)


@pytest.fixture(scope="module", params=friction.ENGINES)
def evaluation(request):
    return friction.evaluate_paths(TINY, CATALOG, request.param)


def test_every_metric_matches_the_hand_count(evaluation):
    assert not evaluation.problems
    got = {r.case.id: r.metrics.as_dict() for r in evaluation.results}
    assert got == EXPECTED


def test_totals_are_sums_of_cases(evaluation):
    t = evaluation.totals
    for m in friction.METRICS:
        assert t[m] == sum(e[m] for e in EXPECTED.values())


def test_journey_order_and_rules(evaluation):
    r = next(r for r in evaluation.results if r.case.id == "move/offline")
    assert r.journey.actions == ("fill form", "upload proof", "visit branch", "check proof",
                                 "confirm by phone")
    assert [s.rules for s in r.journey.steps] == [("a.form",), ("b.proof",), ("c.branch",),
                                                  ("d.check",), ("e.confirm",)]
    assert [s.depth for s in r.journey.steps] == [0, 0, 1, 1, 2]


def test_effort_uses_manifest_weights(evaluation):
    # weights: customer_steps 1, channels 2
    r = next(r for r in evaluation.results if r.case.id == "move/offline")
    assert r.effort == 3 * 1 + 3 * 2


def test_flags_with_rules_and_owners(evaluation):
    r = next(r for r in evaluation.results if r.case.id == "move/offline")
    by_kind = {}
    for f in r.flags:
        by_kind.setdefault(f.kind, []).append(f)
    assert {k: len(v) for k, v in by_kind.items()} == {
        "policy-made": 4, "channel-switch": 2, "repeated-ask": 2, "handoffs": 1,
        "silent-wait": 1, "limit": 1}
    made = {f.steps[0]: f for f in by_kind["policy-made"]}
    # check proof is required by a regulation rule, but only because policy asked for proof
    assert made["check proof"].rules == ("b.proof",)
    assert made["visit branch"].rules == ("b.proof", "c.branch")
    assert made["visit branch"].owners == ("Branches", "Risk")
    wait = by_kind["silent-wait"][0]
    assert wait.steps == ("check proof",) and wait.owners == ("Compliance",)
    switch_steps = [f.steps[0] for f in by_kind["channel-switch"]]
    assert switch_steps == ["visit branch", "confirm by phone"]
    asks = {f.message.split()[2]: f for f in by_kind["repeated-ask"]}
    assert asks["address"].rules == ("b.proof",) and asks["proof"].rules == ("c.branch",)
    assert by_kind["limit"][0].metric == "channels"
    assert by_kind["handoffs"][0].steps == ("upload proof", "visit branch", "check proof",
                                            "confirm by phone")


# --------------------------------------------------------------------------- single metrics


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_handoffs_follow_journey_order_not_department_count(tmp_path, engine_name):
    # A, B, A: 2 departments but 2 handoffs (A->B, B->A)
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r1", [step("one", department="A"),
                    step("two", department="B", after=["one"]),
                    step("three", department="A", after=["two"])], event="move"),
    ]})
    m = evaluate_one(folder, case(), engine_name).metrics
    assert (m.steps, m.departments, m.handoffs) == (3, 2, 2)


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_elapsed_days_is_the_longest_path_not_the_sum(tmp_path, engine_name):
    # a(2) -> b(3) -> d(1)  = 6 ;  a(2) -> c(5) = 7 ; e(4) alone = 4 ; longest = 7; sum would be 15
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r1", [step("a", lane="backstage", days=2),
                    step("b", lane="backstage", days=3, after=["a"]),
                    step("c", lane="backstage", days=5, after=["a"]),
                    step("d", lane="backstage", days=1, after=["b"]),
                    step("e", lane="backstage", days=4)], event="move"),
    ]})
    m = evaluate_one(folder, case(), engine_name).metrics
    assert m.elapsed_days == 7
    assert m.backstage_steps == 5 and m.customer_steps == 0 and m.channels == 0


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_channels_ignore_staff_lanes_and_switches_count_the_start(tmp_path, engine_name):
    # customer web, support phone (staff-only: not counted), frontstage branch, customer web
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r1", [step("w1", channel="web"),
                    step("s", lane="support", channel="phone", after=["w1"]),
                    step("b", lane="frontstage", channel="branch", after=["s"]),
                    step("w2", channel="web", after=["b"])], event="move"),
    ]})
    m = evaluate_one(folder, case(channel="phone"), engine_name).metrics
    assert m.channels == 2            # web, branch
    assert m.channel_switches == 3    # start phone->web, web->branch, branch->web
    assert m.backstage_steps == 1
    m2 = evaluate_one(folder, case(channel="web"), engine_name).metrics
    assert m2.channel_switches == 2


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_repeated_asks_sum_over_items(tmp_path, engine_name):
    # address asked 3x (2 repeats), id 2x (1 repeat), email once (0)
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r1", [step("x", asks=["address", "id"]),
                    step("y", asks=["address", "email"], after=["x"]),
                    step("z", lane="backstage", asks=["address", "id"], after=["y"])], event="move"),
    ]})
    assert evaluate_one(folder, case(), engine_name).metrics.repeated_asks == 3


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_policy_steps_include_steps_that_follow_from_policy(tmp_path, engine_name):
    # p (policy) -> s1 ; s1 triggers sys (system) -> s2 ; r (regulation) -> s3 ;
    # pr (practice) also requires s3. Without policy/practice: s3 only. policy_steps = s1, s2.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("p", [step("s1")], cause="policy", event="move"),
        rule("sys", [step("s2", after=["s1"])], cause="system", step="s1"),
        rule("r", [step("s3")], cause="regulation", event="move"),
        rule("pr", ["s3"], cause="practice", event="move"),
    ]})
    res = evaluate_one(folder, case(), engine_name)
    assert res.metrics.steps == 3 and res.metrics.policy_steps == 2
    assert res.policy_made == {"s1", "s2"}
    s3 = next(s for s in res.journey.steps if s.action == "s3")
    assert s3.rules == ("pr", "r")
