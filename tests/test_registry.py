"""The one metric registry, and metrics measured from step data alone (no compiled set)."""
import dataclasses
import pickle

import pytest

import friction
from friction.errors import InputError
from friction.measure import measure_steps
from friction.metrics import COLUMNS, DEFAULT_WEIGHTS, REGISTRY, StepFacts, metric_named
from friction.manifest import Manifest
from friction.report import render
from builders import case, evaluate_one, rule, step, write_set


def test_every_list_of_metrics_is_the_registry():
    names = tuple(m.name for m in REGISTRY)
    assert friction.METRICS == names
    assert tuple(f.name for f in dataclasses.fields(friction.Metrics)) == names
    assert friction.SCORES == (*names, "effort")
    limits = Manifest.model_fields["limits"].annotation
    assert set(limits.__args__[0].__args__) == set(names)   # Literal of the registry's names
    from friction import diff, expect, fuzz
    assert diff.DIFF_KEYS == expect.SNAPSHOT_KEYS == fuzz.LIMIT_KEYS == friction.SCORES
    assert Manifest(name="x", events=["e"], departments=["d"], channels=["c"]).weights == DEFAULT_WEIGHTS


def test_short_names_are_aliases():
    assert metric_named("cust") == "customer_steps"
    assert metric_named("hand-offs") == "handoffs"
    assert metric_named("effort") == "effort"
    assert metric_named(" channels ") == "channels"
    with pytest.raises(InputError, match=r"unknown metric 'chanels' \(did you mean 'channels'\?\)"):
        metric_named("chanels", "--by")
    with pytest.raises(InputError):
        metric_named("effort", allow_effort=False)


def test_table_columns_come_from_the_registry(tmp_path):
    folder = write_set(tmp_path / "p", {"r.yaml": [rule("r1", [step("one")], event="move")]})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    from friction.evaluate import evaluate_items
    ev = evaluate_items(cps, "inline", [case()])
    header = render(ev, "table").splitlines()[2].split()
    assert header == ["case", *(COLUMNS[m.name] for m in REGISTRY), "effort", "flags"]
    csv_header = render(ev, "csv").splitlines()[0].split(",")
    assert csv_header[4:4 + len(friction.METRICS)] == list(friction.METRICS)


def test_metrics_pickle():
    m = friction.Metrics(**{n: 1 for n in friction.METRICS})
    assert pickle.loads(pickle.dumps(m)) == m


# --------------------------------------------------------------------------- from step data


def F(action, lane="customer", department="A", channel="web", **more):
    return StepFacts(action, lane, department, channel, **more)


def test_measure_steps_counts_by_hand_without_a_compiled_set():
    # An observed journey, as read from an event log (consecutive events are the edges):
    #   call (A, phone) -> check (B, backstage 3d) -> letter (A, post, frontstage) -> visit (C, branch)
    steps = [
        F("call", department="A", channel="phone", asks=("address",)),
        F("check", lane="backstage", department="B", channel="internal", days=3, asks=("address",)),
        F("letter", lane="frontstage", department="A", channel="post", days=1, informs=True),
        F("visit", department="C", channel="branch", days=1, asks=("address", "id")),
    ]
    edges = [(0, 1), (1, 2), (2, 3)]
    m = measure_steps(steps, edges, "phone", policy_made=[3])
    assert m.steps == 4 and m.customer_steps == 2 and m.backstage_steps == 1
    assert m.departments == 3
    assert m.channels == 3          # phone, post, branch
    assert m.customer_departments == 2   # A, C: the customer never meets B
    assert m.handoffs == 1          # customer path A, A, C
    assert m.staff_handoffs == 1    # call (A) -> check (B, backstage)
    assert m.channel_switches == 1  # acts: call (phone), visit (branch); the letter is the bank's
    assert m.repeated_asks == 1     # address: call, visit
    assert m.staff_rekeys == 1      # check handles the address the customer gave
    assert m.elapsed_days == 5      # 0 + 3 + 1 + 1 along the chain
    assert m.policy_steps == 1
    # elapsed days known from timestamps win over step durations
    assert measure_steps(steps, edges, "phone", elapsed_days=12.5).elapsed_days == 12.5
    # `after` edges alone for elapsed time: check and visit in parallel -> 3
    assert measure_steps(steps, edges, "phone", after=[(0, 1)]).elapsed_days == 3


def test_items_compare_case_insensitively_once_per_step_and_fees_add_up():
    steps = [F("a", asks=("Address", "address ", "ADDRESS")), F("b", asks=("address", "e-mail"), fee=12.5),
             F("c", lane="support", channel="internal", asks=("E-mail", "e-mail"), fee=2)]
    m = measure_steps(steps, [(0, 1), (1, 2)], "web")
    assert m.repeated_asks == 1     # address asked by a and b; a asks it once however written
    assert m.staff_rekeys == 1      # c handles the e-mail the customer gave in b, once
    assert m.customer_fees == 14.5


def test_measure_steps_refuses_backward_edges():
    with pytest.raises(ValueError, match="forward"):
        measure_steps([F("a"), F("b")], [(1, 0)], "web")


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_measure_steps_reads_each_steps_own_data(tmp_path, engine_name):
    # The journey the compiled set made, re-measured from its step data alone, gives the
    # same metrics; then one step's department changed in the data changes handoffs.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("r1", [step("one", department="A"), step("two", department="B", after=["one"])], event="move"),
    ]})
    r = evaluate_one(folder, case(), engine_name)
    facts = [StepFacts(s.action, s.step.lane.value, s.step.department, s.step.channel, s.step.asks,
                       s.step.days, s.step.informs) for s in r.journey.steps]
    assert measure_steps(facts, [(0, 1)], "web") == dataclasses.replace(r.metrics, policy_steps=0)
    assert r.metrics.handoffs == 1
    facts[1] = facts[1]._replace(department="A")
    assert measure_steps(facts, [(0, 1)], "web").handoffs == 0
