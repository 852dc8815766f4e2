"""Metrics of one journey, exactly as DESIGN.md defines them (refinements in the README)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .compile import CompiledPolicySet
from .journey import Journey, JourneyStep
from .model import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, METRICS, STAFF_ONLY, Case

__all__ = ["Metrics", "measure", "measure_ids", "effort_score", "totals", "customer_visible", "tidy_number"]


@dataclass(frozen=True)
class Metrics:
    steps: int
    customer_steps: int
    backstage_steps: int
    departments: int
    channels: int
    handoffs: int
    channel_switches: int
    repeated_asks: int
    elapsed_days: float
    policy_steps: int

    def as_dict(self) -> dict[str, float]:
        return {m: getattr(self, m) for m in METRICS}   # asdict() deep-copies: slow on a hot path

    def __getitem__(self, name: str) -> float:
        return getattr(self, name)


def customer_visible(journey: Journey) -> list[JourneyStep]:
    return [s for s in journey.steps if s.lane in CUSTOMER_VISIBLE]


def measure(journey: Journey, case: Case, policy_made: Iterable[str]) -> Metrics:
    """`policy_made`: the actions that disappear when policy and practice rules are removed."""
    cps_ids = {s.action: s.id for s in journey.steps}
    return measure_ids(
        journey.cps, [s.id for s in journey.steps], {s.id: [cps_ids[a] for a in s.after] for s in journey.steps},
        case.channel, {cps_ids[a] for a in policy_made if a in cps_ids})


def measure_ids(cps: CompiledPolicySet, ordered: Sequence[int], preds: Mapping[int, Sequence[int]],
                start_channel: str, policy_made: set[int]) -> Metrics:
    """The metrics of a journey given as step ids in order, each with its `after` steps."""
    lane, dept, channel, days, asks = (cps.step_lane, cps.step_department, cps.step_channel,
                                       cps.step_days, cps.step_asks)
    visible = [channel[s] for s in ordered if lane[s] in _VISIBLE]
    switches = sum(1 for a, b in zip(visible, visible[1:]) if a != b)
    if visible and visible[0] != start_channel:
        switches += 1
    asked = Counter(item for s in ordered for item in asks[s])
    finish: dict[int, float] = {}
    for s in ordered:  # journey order is topological in `after`
        finish[s] = days[s] + max((finish[p] for p in preds[s]), default=0.0)
    depts = [dept[s] for s in ordered]
    return Metrics(
        steps=len(ordered),
        customer_steps=sum(1 for s in ordered if lane[s] == "customer"),
        backstage_steps=sum(1 for s in ordered if lane[s] in _STAFF),
        departments=len(set(depts)),
        channels=len({c for c in visible if c != INTERNAL_CHANNEL}),
        handoffs=sum(1 for a, b in zip(depts, depts[1:]) if a != b),
        channel_switches=switches,
        repeated_asks=sum(n - 1 for n in asked.values()),
        elapsed_days=tidy_number(max(finish.values(), default=0.0)),
        policy_steps=sum(1 for s in ordered if s in policy_made),
    )


_VISIBLE = frozenset(l.value for l in CUSTOMER_VISIBLE)
_STAFF = frozenset(l.value for l in STAFF_ONLY)


def tidy_number(x: float) -> float:
    return int(x) if float(x).is_integer() else round(x, 6)


def effort_score(metrics: Metrics, weights: Mapping[str, float]) -> float:
    return tidy_number(sum(w * metrics[m] for m, w in weights.items()))


def totals(all_metrics: Iterable[Metrics]) -> dict[str, float]:
    out = {m: 0 for m in METRICS}
    for m in all_metrics:
        for name in METRICS:
            out[name] += m[name]
    return {k: tidy_number(v) for k, v in out.items()}
