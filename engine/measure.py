"""Metrics of one journey, exactly as DESIGN.md defines them (refinements in the README).

One implementation, `measure_steps`, reads nothing but the steps themselves: journeys the
compiled set made (through `measure` and the fast `measure_ids`) and journeys read from
event logs are measured by the same code."""
from __future__ import annotations

from collections import Counter
from dataclasses import make_dataclass
from typing import Collection, Iterable, Mapping, Sequence

from .compile import CompiledPolicySet
from .journey import Journey, JourneyStep
from .metrics import METRICS, REGISTRY, StepFacts
from .model import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, STAFF_ONLY, Case, Lane

__all__ = ["Metrics", "StepFacts", "measure", "measure_ids", "measure_steps", "effort_score",
           "totals", "customer_visible", "tidy_number"]


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


def measure_steps(steps: Sequence[StepFacts], edges: Iterable[tuple[int, int]], start_channel: str,
                  policy_made: Collection[int] = (), *, after: Iterable[tuple[int, int]] | None = None,
                  elapsed_days: float | None = None) -> Metrics:
    """The metrics of a journey given as its steps alone, no compiled set needed.

    - `steps`: the journey's steps in journey order (`StepFacts`: action, lane, department,
      channel, asks, days, informs, fee).
    - `edges`: dependency edges as pairs of positions in `steps`, (earlier, later): what
      must happen before what. For a journey read from an event log, consecutive events.
    - `start_channel`: the channel the case started in.
    - `policy_made`: positions of the steps that exist only because of policy or practice.
    - `after`: the edges elapsed time runs along (the `after` relation); default `edges`.
    - `elapsed_days`: when known from elsewhere (timestamps of an event log), used as is
      instead of the longest path of step durations.

    Raises ValueError when an edge does not run forward in `steps`."""
    n = len(steps)
    if elapsed_days is None:
        preds: list[list[int]] = [[] for _ in range(n)]
        for a, b in (edges if after is None else after):
            if not 0 <= a < b < n:
                raise ValueError(f"edge {(a, b)} does not run forward between positions 0..{n - 1}")
            preds[b].append(a)
        finish = [0.0] * n
        for i, s in enumerate(steps):
            finish[i] = s.days + max((finish[p] for p in preds[i]), default=0.0)
        elapsed_days = max(finish, default=0.0)
    visible = [s.channel for s in steps if s.lane in _VISIBLE]
    switches = sum(1 for a, b in zip(visible, visible[1:]) if a != b)
    if visible and visible[0] != start_channel:
        switches += 1
    asked = Counter(item for s in steps for item in s.asks)
    depts = [s.department for s in steps]
    return Metrics(
        steps=n,
        customer_steps=sum(1 for s in steps if s.lane == _CUSTOMER),
        backstage_steps=sum(1 for s in steps if s.lane in _STAFF),
        departments=len(set(depts)),
        channels=len({c for c in visible if c != INTERNAL_CHANNEL}),
        handoffs=sum(1 for a, b in zip(depts, depts[1:]) if a != b),
        channel_switches=switches,
        repeated_asks=sum(k - 1 for k in asked.values()),
        elapsed_days=tidy_number(elapsed_days),
        policy_steps=len(set(policy_made)),
        staff_minutes=tidy_number(sum(s.minutes for s in steps)),
        customer_minutes=tidy_number(sum(s.customer_minutes for s in steps)),
        cost=tidy_number(sum(s.cost for s in steps)),
    )


def measure(journey: Journey, case: Case, policy_made: Iterable[str]) -> Metrics:
    """`policy_made`: the actions that disappear when policy and practice rules are removed."""
    position = {s.action: i for i, s in enumerate(journey.steps)}
    edges = [(position[a], i) for i, s in enumerate(journey.steps) for a in s.after]
    facts = journey.cps.step_facts
    return measure_steps([facts[s.id] for s in journey.steps], edges, case.channel,
                         {position[a] for a in policy_made if a in position})


def measure_ids(cps: CompiledPolicySet, ordered: Sequence[int], preds: Mapping[int, Sequence[int]],
                start_channel: str, policy_made: set[int]) -> Metrics:
    """The metrics of a journey given as step ids of `cps` in order, each with its `after`
    steps: the hot path of attribution (the step facts are built once per compiled set)."""
    facts = cps.step_facts
    position = {s: i for i, s in enumerate(ordered)}
    edges = [(position[p], i) for i, s in enumerate(ordered) for p in preds[s]]
    return measure_steps([facts[s] for s in ordered], edges, start_channel,
                         [i for i, s in enumerate(ordered) if s in policy_made])


_CUSTOMER = Lane.customer.value
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
