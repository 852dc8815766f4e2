"""Metrics of one journey, exactly as DESIGN.md defines them (refinements in the README)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Iterable, Mapping

from .journey import Journey, JourneyStep
from .model import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, METRICS, STAFF_ONLY, Case, Lane

__all__ = ["Metrics", "measure", "effort_score", "totals", "customer_visible", "tidy_number"]


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
        return asdict(self)

    def __getitem__(self, name: str) -> float:
        return getattr(self, name)


def customer_visible(journey: Journey) -> list[JourneyStep]:
    return [s for s in journey.steps if s.lane in CUSTOMER_VISIBLE]


def measure(journey: Journey, case: Case, policy_made: Iterable[str]) -> Metrics:
    """`policy_made`: the actions that disappear when policy and practice rules are removed."""
    steps = journey.steps
    visible = customer_visible(journey)
    switches = sum(1 for a, b in zip(visible, visible[1:]) if a.channel != b.channel)
    if visible and visible[0].channel != case.channel:
        switches += 1
    asks = Counter(item for s in steps for item in s.step.asks)
    finish: dict[str, float] = {}
    for s in steps:  # journey order is topological in `after`
        finish[s.action] = s.days + max((finish[p] for p in s.after), default=0.0)
    policy_made = set(policy_made)
    return Metrics(
        steps=len(steps),
        customer_steps=sum(1 for s in steps if s.lane == Lane.customer),
        backstage_steps=sum(1 for s in steps if s.lane in STAFF_ONLY),
        departments=len({s.department for s in steps}),
        channels=len({s.channel for s in visible if s.channel != INTERNAL_CHANNEL}),
        handoffs=sum(1 for a, b in zip(steps, steps[1:]) if a.department != b.department),
        channel_switches=switches,
        repeated_asks=sum(n - 1 for n in asks.values()),
        elapsed_days=tidy_number(max(finish.values(), default=0.0)),
        policy_steps=sum(1 for s in steps if s.action in policy_made),
    )


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
