"""Metrics of one journey, exactly as DESIGN.md defines them (refinements in the README).

One implementation, `measure_steps`, reads nothing but the steps themselves: journeys the
compiled set made (through `measure` and the fast `measure_ids`) and journeys read from
event logs are measured by the same code."""
from __future__ import annotations

from dataclasses import make_dataclass
from functools import lru_cache
from operator import attrgetter, mul
from typing import Collection, Iterable, Mapping, Sequence

from .compile import CompiledPolicySet
from .journey import Journey, JourneyStep, Ordering
from .metrics import METRIC_INDEX, METRICS, REGISTRY, StepFacts
from .vocabulary import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, STAFF_ONLY, Lane
from .case import Case

__all__ = ["Metrics", "StepFacts", "measure", "measure_ids", "measure_steps", "ask_items", "step_items", "effort_score", "effort_of", "Effort",
           "totals", "customer_visible", "customer_acts", "tidy_number"]


_VALUES = attrgetter(*METRICS)


def _as_dict(self) -> dict[str, float]:
    return dict(zip(METRICS, _VALUES(self)))   # asdict() deep-copies: slow on a hot path


def _values(self) -> tuple[float, ...]:
    return _VALUES(self)


def _getitem(self, name: str) -> float:
    return getattr(self, name)


# The metrics of one journey: one field per registry entry, in registry order.
Metrics = make_dataclass(
    "Metrics", [(m.name, m.kind) for m in REGISTRY], frozen=True, slots=True,
    namespace={"as_dict": _as_dict, "values": _values, "__getitem__": _getitem,
               "__doc__": "The metrics of one journey, one field per entry of the metric registry."},
)
Metrics.__module__ = __name__   # so that it pickles (worker processes send it back)


def customer_visible(journey: Journey) -> list[JourneyStep]:
    return [s for s in journey.steps if s.lane in CUSTOMER_VISIBLE]


def customer_acts(path: Sequence[JourneyStep]) -> list[JourneyStep]:
    """The steps of a customer path the customer acts in: all but the organisation's
    `informs` messages (a letter sent is not the customer switching channel)."""
    return [s for s in path if not (s.step.informs and s.lane == Lane.frontstage)]


def measure_steps(steps: Sequence[StepFacts], edges: Iterable[tuple[int, int]], start_channel: str,
                  policy_made: Collection[int] = (), *, after: Iterable[tuple[int, int]] | None = None,
                  elapsed_days: float | None = None) -> Metrics:
    """The metrics of a journey given as its steps alone, no compiled set needed.

    - `steps`: the journey's steps in journey order (`StepFacts`: action, lane, department,
      channel, asks, days, informs, fee).
    - `edges`: the dependency edges, as pairs of positions in `steps`, (earlier, later):
      what had to happen before what. For a journey read from an event log, consecutive
      events.
    - `start_channel`: the channel the case started in.
    - `policy_made`: positions of the steps that exist only because of policy or practice.
    - `after`: the edges elapsed time runs along (the `after` relation); default `edges`.
    - `elapsed_days`: when known from elsewhere (the timestamps of an event log), used as
      is instead of the longest path of step durations.

    Raises ValueError when an edge does not run forward in `steps`."""
    n = len(steps)
    edges = list(edges)
    for a, b in edges if after is None else (*edges, *after):
        if not 0 <= a < b < n:
            raise ValueError(f"edge {(a, b)} does not run forward between positions 0..{n - 1}")
    return _measure(steps, edges, start_channel, len(set(policy_made)), edges if after is None else after,
                    elapsed_days)


def _measure(steps: Sequence[StepFacts], edges: Iterable[tuple[int, int]], start_channel: str, policy_steps: int,
             after: Iterable[tuple[int, int]], elapsed_days: float | None) -> Metrics:
    """measure_steps on edges known to run forward."""
    n = len(steps)
    if elapsed_days is None:
        preds: list[list[int]] = [[] for _ in range(n)]
        for a, b in after:
            preds[b].append(a)
        finish = [0.0] * n
        for i, s in enumerate(steps):
            finish[i] = s.days + max([finish[p] for p in preds[i]], default=0.0) if preds[i] else s.days
        elapsed_days = max(finish, default=0.0)

    # One pass over the steps, in journey order (sums of floats keep that order).
    customer = staff = handoffs = switches = 0
    fees = minutes = customer_minutes = cost = 0.0
    departments, path_depts, path_channels = set(), set(), set()
    asked: dict[str, int] = {}       # item -> steps the customer acts in asking for it
    rekeyed: dict[str, int] = {}     # item -> staff-only steps handling it
    last_dept = last_channel = None  # on the customer path / where the customer acts
    for _, lane, dept, channel, asks, _, informs, fee, staff_min, customer_min, step_cost in steps:
        departments.add(dept)
        fees += fee
        minutes += staff_min
        customer_minutes += customer_min
        cost += step_cost
        if lane in _STAFF:
            staff += 1
            for item in step_items(asks):
                rekeyed[item] = rekeyed.get(item, 0) + 1
            continue
        if lane not in _VISIBLE:
            continue
        if lane == _CUSTOMER:   # on the customer path from here
            customer += 1
        if last_dept is not None and dept != last_dept:
            handoffs += 1
        last_dept = dept
        path_depts.add(dept)
        if channel != INTERNAL_CHANNEL:
            path_channels.add(channel)
        if informs and lane == _FRONTSTAGE:
            continue
        if channel != (start_channel if last_channel is None else last_channel):   # where the customer acts
            switches += 1
        last_channel = channel
        for item in step_items(asks):
            asked[item] = asked.get(item, 0) + 1
    return Metrics(
        steps=n,
        customer_steps=customer,
        backstage_steps=staff,
        departments=len(departments),
        customer_departments=len(path_depts),
        channels=len(path_channels),
        handoffs=handoffs,
        staff_handoffs=sum(1 for a, b in edges
                           if steps[b].lane in _STAFF and steps[a].department != steps[b].department),
        channel_switches=switches,
        repeated_asks=sum(asked.values()) - len(asked),
        # staff handle again what the customer gave, or what other staff steps handled
        staff_rekeys=sum(k if item in asked else k - 1 for item, k in rekeyed.items()),
        elapsed_days=tidy_number(elapsed_days),
        customer_fees=tidy_number(fees),
        policy_steps=policy_steps,
        staff_minutes=tidy_number(minutes),
        customer_minutes=tidy_number(customer_minutes),
        cost=tidy_number(cost),
    )


def ask_items(asks: Iterable[str]) -> set[str]:
    """The information items of one step: each once, compared case-insensitively with runs of
    white space folded (`Address` and `address ` are one item)."""
    return {" ".join(a.split()).casefold() for a in asks}


@lru_cache(maxsize=65536)
def _cached_items(asks: tuple[str, ...]) -> frozenset[str]:
    return frozenset(ask_items(asks))


def step_items(asks: Iterable[str]) -> frozenset[str]:
    """ask_items of a step's `asks`, memoised: a tuple is shared by every journey holding the step."""
    try:
        return _cached_items(asks)
    except TypeError:   # a list
        return frozenset(ask_items(asks))


def measure(journey: Journey, case: Case, policy_made: Iterable[str]) -> Metrics:
    """`policy_made`: the actions that disappear when policy and practice rules are removed."""
    steps = journey.steps
    position = {s.action: i for i, s in enumerate(steps)}
    after = [(position[a], i) for i, s in enumerate(steps) for a in s.after]
    facts = [s.facts or journey.cps.step_facts[s.id] for s in steps]
    return measure_steps(facts, journey.edges, case.channel, {position[a] for a in policy_made if a in position},
                         after=after)


def measure_ids(cps: CompiledPolicySet, o: Ordering, start_channel: str, policy_made: set[int],
                facts: Sequence[StepFacts] | None = None) -> Metrics:
    """The metrics of a journey given as the ordering of its step ids: the hot path of
    attribution (step facts are built once per compiled set, or given for this case)."""
    facts = cps.step_facts if facts is None else facts
    ordered = o.ordered
    position = {s: i for i, s in enumerate(ordered)}
    into, preds = o.into, o.preds
    return _measure([facts[s] for s in ordered], [(position[p], position[s]) for s in ordered for p in into[s]],
                    start_channel, sum(1 for s in ordered if s in policy_made),
                    [(position[p], position[s]) for s in ordered for p in preds[s]], None)


_CUSTOMER = Lane.customer.value
_FRONTSTAGE = Lane.frontstage.value
_VISIBLE = frozenset(l.value for l in CUSTOMER_VISIBLE)
_STAFF = frozenset(l.value for l in STAFF_ONLY)


def tidy_number(x: float) -> float:
    """A figure as printed: an int when whole, else rounded to 6 decimals, and an int when
    that rounding makes it whole (a float sum's 528389.9999999 is 528390, not 528390.0)."""
    if float(x).is_integer():
        return int(x)
    x = round(x, 6)
    return int(x) if x.is_integer() else x


def effort_score(metrics: Metrics, weights: Mapping[str, float]) -> float:
    return effort_of(metrics.values(), weights)



def effort_of(values: Sequence[float], weights: Mapping[str, float]) -> float:
    """The effort score of metric values given in registry order (METRICS)."""
    return Effort(weights)(values)


class Effort:
    """effort_of for one set of weights, each weight's place in a values tuple looked up
    once; the products summed in the weights' order, as effort_of sums them."""

    def __init__(self, weights: Mapping[str, float]):
        self.places = tuple(METRIC_INDEX[m] for m in weights)
        self.weights = tuple(weights.values())

    def __call__(self, values: Sequence[float]) -> float:
        return tidy_number(sum(map(mul, self.weights, map(values.__getitem__, self.places))))


def totals(all_metrics: Iterable[Metrics]) -> dict[str, float]:
    """Over a catalog every metric is a sum over cases (the registry's `total`)."""
    out = {m: 0 for m in METRICS}
    for m in all_metrics:
        for name in METRICS:
            out[name] += m[name]
    return {k: tidy_number(v) for k, v in out.items()}
