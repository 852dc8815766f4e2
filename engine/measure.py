"""Metrics of one journey, exactly as DESIGN.md defines them (refinements in the README).

One implementation, `measure_steps`, reads nothing but the steps themselves: journeys the
compiled set made (through `measure` and the fast `measure_ids`) and journeys read from
event logs are measured by the same code."""
from __future__ import annotations

from collections import Counter
from dataclasses import make_dataclass
from typing import Collection, Iterable, Mapping, Sequence

from .compile import CompiledPolicySet
from .journey import Journey, JourneyStep, Ordering
from .metrics import METRICS, REGISTRY, StepFacts
from .model import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, STAFF_ONLY, Case, Lane

__all__ = ["Metrics", "StepFacts", "measure", "measure_ids", "measure_steps", "ask_items", "effort_score",
           "totals", "customer_visible", "customer_acts", "tidy_number"]


def _as_dict(self) -> dict[str, float]:
    return {m: getattr(self, m) for m in METRICS}   # asdict() deep-copies: slow on a hot path


def _getitem(self, name: str) -> float:
    return getattr(self, name)


# The metrics of one journey: one field per registry entry, in registry order.
Metrics = make_dataclass(
    "Metrics", [(m.name, m.kind) for m in REGISTRY], frozen=True, slots=True,
    namespace={"as_dict": _as_dict, "__getitem__": _getitem,
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
    if elapsed_days is None:
        preds: list[list[int]] = [[] for _ in range(n)]
        for a, b in (edges if after is None else after):
            preds[b].append(a)
        finish = [0.0] * n
        for i, s in enumerate(steps):
            finish[i] = s.days + max((finish[p] for p in preds[i]), default=0.0)
        elapsed_days = max(finish, default=0.0)

    path = [s for s in steps if s.lane in _VISIBLE]                                  # the customer path
    acts = [s for s in path if not (s.informs and s.lane == _FRONTSTAGE)]           # where the customer acts
    switches = sum(1 for a, b in zip(acts, acts[1:]) if a.channel != b.channel)
    if acts and acts[0].channel != start_channel:
        switches += 1
    asked = Counter(item for s in acts for item in ask_items(s.asks))
    rekeyed = Counter(item for s in steps if s.lane in _STAFF for item in ask_items(s.asks))
    path_depts = [s.department for s in path]
    return Metrics(
        steps=n,
        customer_steps=sum(1 for s in steps if s.lane == _CUSTOMER),
        backstage_steps=sum(1 for s in steps if s.lane in _STAFF),
        departments=len({s.department for s in steps}),
        customer_departments=len(set(path_depts)),
        channels=len({s.channel for s in path if s.channel != INTERNAL_CHANNEL}),
        handoffs=sum(1 for a, b in zip(path_depts, path_depts[1:]) if a != b),
        staff_handoffs=sum(1 for a, b in edges
                           if steps[b].lane in _STAFF and steps[a].department != steps[b].department),
        channel_switches=switches,
        repeated_asks=sum(k - 1 for k in asked.values()),
        # staff handle again what the customer gave, or what other staff steps handled
        staff_rekeys=sum(k if item in asked else k - 1 for item, k in rekeyed.items()),
        elapsed_days=tidy_number(elapsed_days),
        customer_fees=tidy_number(sum(s.fee for s in steps)),
        policy_steps=len(set(policy_made)),
        staff_minutes=tidy_number(sum(s.minutes for s in steps)),
        customer_minutes=tidy_number(sum(s.customer_minutes for s in steps)),
        cost=tidy_number(sum(s.cost for s in steps)),
    )


def ask_items(asks: Iterable[str]) -> set[str]:
    """The information items of one step: each once, compared case-insensitively with runs of
    white space folded (`Address` and `address ` are one item)."""
    return {" ".join(a.split()).casefold() for a in asks}


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
    return measure_steps([facts[s] for s in ordered], o.edges(), start_channel,
                         [i for i, s in enumerate(ordered) if s in policy_made], after=o.after_edges())


_CUSTOMER = Lane.customer.value
_FRONTSTAGE = Lane.frontstage.value
_VISIBLE = frozenset(l.value for l in CUSTOMER_VISIBLE)
_STAFF = frozenset(l.value for l in STAFF_ONLY)


def tidy_number(x: float) -> float:
    return int(x) if float(x).is_integer() else round(x, 6)


def effort_score(metrics: Metrics, weights: Mapping[str, float]) -> float:
    return tidy_number(sum(w * metrics[m] for m, w in weights.items()))


def totals(all_metrics: Iterable[Metrics]) -> dict[str, float]:
    """Over a catalog every metric is a sum over cases (the registry's `total`)."""
    out = {m: 0 for m in METRICS}
    for m in all_metrics:
        for name in METRICS:
            out[name] += m[name]
    return {k: tidy_number(v) for k, v in out.items()}
