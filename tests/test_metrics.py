"""Every metric of DESIGN.md on tiny policy sets, counted by hand, on both engines."""
import pytest

import friction
from builders import BASE_MANIFEST, case, evaluate_one, rule, step, write_set

TINY = "tests/fixtures/tiny"
CATALOG = "tests/fixtures/tiny-cases.yaml"

# Counted by hand from tests/fixtures/tiny (see the comments there) and tiny-cases.yaml.
# move/offline fires a.form, b.proof, c.branch (digital false), d.check, e.confirm.
# Dependency edges (after, and chain edges that coincide with them): fill -> upload,
# upload -> visit, upload -> check, check -> confirm. Journey order: fill form (Front, web),
# upload proof (Back, web); then visit branch (Front, branch) and check proof (Risk, internal)
# are ready, neither in Back nor on the web, so the smaller action: check proof; then
# confirm by phone (Front, phone) and visit branch are ready, neither in Risk nor internal:
# confirm by phone; then visit branch.
# Customer path: fill (Front, web), upload (Back, web), confirm (Front, phone, informs),
# visit (Front, branch); the customer acts in fill, upload, visit.
EXPECTED = {
    "move/offline": dict(
        steps=5, customer_steps=3, backstage_steps=1, departments=3,
        customer_departments=2,  # Front, Back (Risk is behind the line)
        channels=3,            # web, phone, branch
        handoffs=2,            # on the customer path: Front>Back>Front>Front
        staff_handoffs=1,      # upload proof (Back) -> check proof (Risk, backstage)
        channel_switches=1,    # acts: web, web, branch; starts in web like the first act
        repeated_asks=2,       # address: fill, upload; proof: upload, visit
        staff_rekeys=0,        # check proof asks nothing
        elapsed_days=3,        # upload(0) -> check(3) -> confirm(0); the branch visit (1) runs beside it
        customer_fees=0,
        policy_steps=4,        # without b.proof and c.branch only `fill form` remains
    ),
    # products 0: only a.form; starts on the phone, first step on the web
    "move/no-products": dict(steps=1, customer_steps=1, backstage_steps=0, departments=1,
                             customer_departments=1, channels=1, handoffs=0, staff_handoffs=0,
                             channel_switches=1, repeated_asks=0, staff_rekeys=0, elapsed_days=0,
                             customer_fees=0, policy_steps=0),
    "ask/offline": dict(steps=0, customer_steps=0, backstage_steps=0, departments=0, customer_departments=0,
                        channels=0, handoffs=0, staff_handoffs=0, channel_switches=0, repeated_asks=0,
                        staff_rekeys=0, elapsed_days=0, customer_fees=0, policy_steps=0),
    # region abroad (ne uk) adds f.abroad's phone step: fill form first (smaller action, no
    # edges), then phone from abroad; web then phone, starting on the phone
    "move/abroad": dict(steps=2, customer_steps=2, backstage_steps=0, departments=1, customer_departments=1,
                        channels=2, handoffs=0, staff_handoffs=0, channel_switches=2, repeated_asks=0,
                        staff_rekeys=0, elapsed_days=0, customer_fees=0, policy_steps=1),
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
    assert r.journey.actions == ("fill form", "upload proof", "check proof", "confirm by phone",
                                 "visit branch")
    assert [s.rules for s in r.journey.steps] == [("a.form",), ("b.proof",), ("d.check",),
                                                  ("e.confirm",), ("c.branch",)]
    assert [s.depth for s in r.journey.steps] == [0, 0, 1, 2, 1]


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
        "policy-made": 4, "channel-switch": 1, "repeated-ask": 2, "handoffs": 1,
        "silent-wait": 1, "limit": 1}
    made = {f.steps[0]: f for f in by_kind["policy-made"]}
    # check proof is required by a regulation rule, but only because policy asked for proof
    assert made["check proof"].rules == ("b.proof",)
    assert made["visit branch"].rules == ("b.proof", "c.branch")
    assert made["visit branch"].owners == ("Branches", "Risk")
    wait = by_kind["silent-wait"][0]
    assert wait.steps == ("check proof",) and wait.owners == ("Compliance",)
    switch_steps = [f.steps[0] for f in by_kind["channel-switch"]]
    assert switch_steps == ["visit branch"]   # the phone call is the bank's: no switch
    asks = {f.message.split()[2]: f for f in by_kind["repeated-ask"]}
    assert asks["address"].rules == ("b.proof",) and asks["proof"].rules == ("c.branch",)
    assert by_kind["limit"][0].metric == "channels"
    # at each hand-off of the customer path
    assert by_kind["handoffs"][0].steps == ("upload proof", "confirm by phone")


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
    # the customer is asked address 2x (1 repeat), id once, email once; the backstage step z
    # handles address and id again: 2 staff re-keys, no repeated ask
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r1", [step("x", asks=["address", "id"]),
                    step("y", asks=["address", "email"], after=["x"]),
                    step("z", lane="backstage", asks=["address", "id"], after=["y"])], event="move"),
    ]})
    m = evaluate_one(folder, case(), engine_name).metrics
    assert (m.repeated_asks, m.staff_rekeys) == (1, 2)


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


# --------------------------------------------------------------------------- two sides, two paths


def _manifest(departments):
    return {**BASE_MANIFEST, "departments": departments, "channels": ["web", "phone", "branch", "post"]}


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_one_notice_fanned_out_to_ten_teams(tmp_path, engine_name):
    # The customer tells the council once (Desk, web); ten teams each pick the notice up
    # behind the line. The customer is handed nowhere: 0 hand-offs on the customer path; the
    # notice reaches ten other teams: 10 staff hand-offs (chain edges notice -> each update).
    teams = [f"Team {k}" for k in range(10)]
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("tell", [step("tell us once", department="Desk")], event="move"),
        *[rule(f"t{k}", [step(f"update record {k}", lane="backstage", department=t)], step="tell us once")
          for k, t in enumerate(teams)],
    ]}, _manifest(["Desk", *teams]))
    m = evaluate_one(folder, case(), engine_name).metrics
    assert (m.steps, m.departments, m.customer_departments) == (11, 11, 1)
    assert m.handoffs == 0
    assert m.staff_handoffs == 10
    assert m.channel_switches == 0 and m.channels == 1


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_a_posted_confirmation_is_no_channel_switch(tmp_path, engine_name):
    # apply (web) then the bank posts a confirmation (frontstage, post, informs): the customer
    # acts on the web only. The letter is on the customer path (channels 2, its department).
    def build(informs):
        return write_set(tmp_path / f"p{informs}", {"r.yaml": [
            rule("r1", [step("apply", department="A"),
                        step("post a confirmation", lane="frontstage", department="B", channel="post",
                             informs=informs, after=["apply"], asks=["address"])], event="move"),
        ]}, _manifest(["A", "B"]))
    m = evaluate_one(build(True), case(channel="web"), engine_name).metrics
    assert (m.channels, m.customer_departments, m.handoffs) == (2, 2, 1)
    assert m.channel_switches == 0
    assert m.repeated_asks == 0
    # the same step where the customer must act (not informs): web -> post is a switch
    assert evaluate_one(build(False), case(channel="web"), engine_name).metrics.channel_switches == 1


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_journey_order_keeps_a_departments_and_a_channels_work_together(tmp_path, engine_name):
    # four independent customer steps (no edges): the first is the smallest action, "a"
    # (B, web); then the one in B: "d" (B, phone) although "b" and "c" sort before it;
    # then, none in B, the one in the same channel as "d": "c" (A, phone); then "b" (A, web).
    def build(ids):
        return write_set(tmp_path / ids[0], {"r.yaml": [
            rule(ids[0], [step("a", department="B", channel="web")], event="move"),
            rule(ids[1], [step("b", department="A", channel="web")], event="move"),
            rule(ids[2], [step("c", department="A", channel="phone")], event="move"),
            rule(ids[3], [step("d", department="B", channel="phone")], event="move"),
        ]})
    r = evaluate_one(build(["r1", "r2", "r3", "r4"]), case(), engine_name)
    assert r.journey.actions == ("a", "d", "c", "b")
    assert (r.metrics.handoffs, r.metrics.channel_switches) == (1, 2)   # B,B,A,A ; web,phone,phone,web
    # every rule renamed, sorting the other way: nothing changes
    again = evaluate_one(build(["z9", "y8", "x7", "w6"]), case(), engine_name)
    assert again.journey.actions == r.journey.actions and again.metrics == r.metrics


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_rules_chaining_in_a_loop_make_no_cycle(tmp_path, engine_name):
    # r1 requires a (depth 0); r2: a -> b (depth 1); r3: b -> a again. Chain edges only run to
    # a greater depth: a -> b, not b -> a. Journey a, b; one staff hand-off (A -> B).
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r1", [step("a", lane="backstage", department="A")], event="move"),
        rule("r2", [step("b", lane="backstage", department="B")], step="a"),
        rule("r3", ["a"], step="b"),
    ]})
    r = evaluate_one(folder, case(), engine_name)
    assert r.journey.actions == ("a", "b") and [s.depth for s in r.journey.steps] == [0, 1]
    assert r.journey.edges == ((0, 1),)
    assert r.metrics.staff_handoffs == 1


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_a_chain_edge_against_after_is_dropped(tmp_path, engine_name):
    # r2 fires on x and requires y, but the owner wrote that x comes after y. The chain edge
    # x -> y would close a cycle with `after` (y -> x): it is dropped, `after` wins.
    # Journey y, x; the one edge y -> x: B -> A behind the line, one staff hand-off.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r1", [step("x", lane="backstage", department="A", after=["y"])], event="move"),
        rule("r2", [step("y", lane="backstage", department="B", days=2)], step="x"),
    ]})
    r = evaluate_one(folder, case(), engine_name)
    assert r.journey.actions == ("y", "x")
    assert r.journey.edges == ((0, 1),)
    assert (r.metrics.staff_handoffs, r.metrics.elapsed_days) == (1, 2)


def test_a_case_needs_a_start_channel_that_no_list_order_gives(tmp_path):
    # without `start_channel`, the first listed channel used to be the default: reordering
    # `channels:` changed channel_switches. Now a case with no channel is a problem, and
    # with one channel listed, that channel is the start.
    manifest = {k: v for k, v in BASE_MANIFEST.items() if k != "start_channel"}
    folder = write_set(tmp_path / "p", {"r.yaml": [rule("r1", [step("one")], event="move")]}, manifest)
    cat = tmp_path / "cases.yaml"
    cat.write_text("cases:\n  - {id: no-channel, event: move}\n  - {id: phone, event: move, channel: phone}\n")
    ev = friction.evaluate_paths(str(folder), str(cat))
    assert [r.case.id for r in ev.results] == ["phone"]
    assert [p.message for p in ev.problems] == [
        "no start channel: give the case, its persona or the catalog a `channel`, or the manifest a `start_channel`"]
    single = write_set(tmp_path / "q", {"r.yaml": [rule("r1", [step("one")], event="move")]},
                       {**manifest, "channels": ["web"]})
    assert friction.evaluate_paths(str(single), str(cat)).results[0].case.channel == "web"


def test_a_figure_that_rounds_to_a_whole_number_prints_as_one():
    # regression: a yearly cost summed in one order was 528389.99999999994 and printed as
    # 528390.0, in another 528390; every figure prints one way whatever the float noise
    import json

    from friction.measure import tidy_number

    for x, want in ((528389.99999999994, "528390"), (528390.0000000001, "528390"), (2.5, "2.5"),
                    (0.1 + 0.2, "0.3"), (-1.0000000001, "-1"), (3, "3")):
        assert json.dumps(tidy_number(x)) == want, x
