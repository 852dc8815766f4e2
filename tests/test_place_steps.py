"""journey.place_steps against the rule it implements, written the slow and obvious way:
among the steps whose dependencies are all placed, the one in the department of the step
placed just before, then in its channel, then the smallest id; steps on a cycle (or after
one) are left out. Both the general path and the one-pass kernel order journeys with it."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from friction.journey import place_steps


def reference(steps: set[int], into: dict[int, list[int]], dept_of: list[str], channel_of: list[str]) -> list[int]:
    placed: list[int] = []
    left = set(steps)
    last = None
    while True:
        ready = [s for s in left if not any(p in left for p in into.get(s, ()))]
        if not ready:
            return placed
        if last is None:
            s = min(ready)
        else:
            s = min(ready, key=lambda x: (dept_of[x] != dept_of[last], channel_of[x] != channel_of[last], x))
        placed.append(s)
        left.remove(s)
        last = s


@st.composite
def journeys(draw):
    n = draw(st.integers(1, 40))
    dept_of = draw(st.lists(st.sampled_from("ABCD"), min_size=n, max_size=n))
    channel_of = draw(st.lists(st.sampled_from(["branch", "phone", "web", "internal"]), min_size=n, max_size=n))
    steps = set(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n)))
    forward_only = draw(st.booleans())   # a DAG, or edges either way (cycles)
    into: dict[int, list[int]] = {}
    for s in steps:
        preds = draw(st.lists(st.sampled_from(sorted(steps)), max_size=3, unique=True))
        preds = [p for p in preds if p != s and (p < s or not forward_only)]
        if preds or draw(st.booleans()):   # a step with no dependencies may be left out of `into`
            into[s] = preds
    return steps, into, dept_of, channel_of


@settings(max_examples=400, deadline=None)
@given(journeys())
def test_place_steps_follows_the_rule_it_states(journey):
    steps, into, dept_of, channel_of = journey
    assert place_steps(steps, into, dept_of, channel_of) == reference(steps, into, dept_of, channel_of)


def test_a_small_journey_counted_by_hand():
    # 0 and 2 in dept A; 1 in B. After 0 (A, web) comes 2 (A) before 1, though 1 < 2;
    # 3 waits for 1.
    dept_of = ["A", "B", "A", "B"]
    channel_of = ["web", "web", "phone", "phone"]
    assert place_steps({0, 1, 2, 3}, {3: [1]}, dept_of, channel_of) == [0, 2, 1, 3]
    # a cycle between 1 and 3: both are left out, and so is nothing else
    assert place_steps({0, 1, 2, 3}, {1: [3], 3: [1]}, dept_of, channel_of) == [0, 2]
