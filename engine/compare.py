"""Policy as written against practice as lived: per life event, the modelled journeys of a
catalog beside the observed journeys of an event log, measured the same way. Where they
part: metric medians and their gaps, steps observed that no rule requires, rule steps
never observed, and the most common observed variants (does each fit a modelled journey?)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from .compile import CompiledPolicySet
from .errors import Problem
from .evaluate import Evaluation
from .measure import tidy_number
from .vocabulary import INTERNAL_CHANNEL
from .observe import OBSERVED_METRICS, Distributions, ObservedJourney, ping_pong, rework

__all__ = ["Comparison", "EventComparison", "compare", "fits"]

TOP_VARIANTS = 10   # kept per life event


@dataclass
class _Side:
    """What one side (model or log) did for one life event."""

    dist: Distributions
    cases: Counter = field(default_factory=Counter)    # action -> cases that have it
    events: Counter = field(default_factory=Counter)   # action -> times it happened
    variants: Counter = field(default_factory=Counter)  # actions in order -> cases
    rules: dict[str, set[str]] = field(default_factory=dict)   # action -> rules requiring it (model)
    # Modelled journeys as what they allow: their steps and the `after` pairs among them.
    orders: dict[frozenset[str], set[frozenset[tuple[str, str]]]] = field(default_factory=dict)


@dataclass(frozen=True)
class EventComparison:
    event: str
    model_cases: int
    observed_cases: int
    medians: dict[str, dict[str, float | None]]   # metric -> model, observed, gap (observed − model)
    unmodelled: list[dict[str, Any]]   # observed steps no modelled journey of this event has
    unobserved: list[dict[str, Any]]   # modelled steps no observed case has
    variants: list[dict[str, Any]]     # the most common observed variants
    distinct_variants: int
    fitting_cases: int                 # observed cases that fit a modelled journey (see `fits`)


@dataclass(frozen=True)
class Comparison:
    policy_set: str
    version: str
    catalog: str
    log: str
    map: str
    events: list[EventComparison]
    only_observed: list[str]    # life events in the log that no catalog case has
    only_modelled: list[str]
    problems: list[Problem]     # log cases that could not be read (model problems are the catalog's)
    # Names the log uses that the manifest does not list: {"departments": {name: events}, "channels": ...}
    unlisted: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"policy_set": {"name": self.policy_set, "version": self.version}, "catalog": self.catalog,
                "log": self.log, "map": self.map, "log_problems": len(self.problems),
                "events": [e.__dict__ for e in self.events],
                "only_observed": self.only_observed, "only_modelled": self.only_modelled,
                "unlisted": self.unlisted}


def compare(cps: CompiledPolicySet, model: Evaluation, observed: Iterable[ObservedJourney | Problem],
            log: str, map_name: str) -> Comparison:
    """`observed` is consumed once, case by case (a log is never held whole)."""
    sides: dict[str, dict[str, _Side]] = {"model": {}, "observed": {}}

    def side(which: str, event: str) -> _Side:
        s = sides[which].get(event)
        if s is None:
            s = sides[which][event] = _Side(Distributions(OBSERVED_METRICS))
        return s

    for r in model.results:
        s = side("model", r.case.event)
        actions = [st.action for st in r.journey.steps]
        metrics = {**r.metrics.as_dict(), "rework": rework(actions),
                   "ping_pong": ping_pong([st.department for st in r.journey.steps])}
        _add(s, r.case.event, actions, metrics)
        for st in r.journey.steps:
            s.rules.setdefault(st.action, set()).update(st.rules)
        s.orders.setdefault(frozenset(actions), set()).add(
            frozenset((p, st.action) for st in r.journey.steps for p in st.after))
    problems = []
    m = cps.manifest
    known = {"departments": set(m.departments), "channels": {*m.channels, INTERNAL_CHANNEL}}
    unlisted: dict[str, Counter] = {"departments": Counter(), "channels": Counter()}
    for j in observed:
        if isinstance(j, Problem):
            problems.append(j)
            continue
        _add(side("observed", j.life_event), j.life_event, list(j.actions), j.metrics)
        for st in j.steps:
            if st.department not in known["departments"]:
                unlisted["departments"][st.department] += 1
            if st.channel not in known["channels"]:
                unlisted["channels"][st.channel] += 1

    defined = set(cps.actions)
    events = []
    for event in sorted(sides["model"].keys() & sides["observed"].keys()):
        events.append(_compare_event(event, sides["model"][event], sides["observed"][event], defined))
    return Comparison(model.policy_set, model.version, model.catalog, log, map_name, events,
                      sorted(sides["observed"].keys() - sides["model"].keys()),
                      sorted(sides["model"].keys() - sides["observed"].keys()), problems,
                      {k: dict(sorted(c.items(), key=lambda x: (-x[1], x[0]))) for k, c in unlisted.items() if c})


def fits(variant: tuple[str, ...], orders: dict[frozenset[str], set[frozenset[tuple[str, str]]]]) -> bool:
    """An observed sequence fits the model when it is some modelled journey's steps, each
    once, in an order that journey's `after` relation allows: the model's own order among
    steps it leaves unordered is a tie-break, not a claim about practice."""
    position = {a: i for i, a in enumerate(variant)}
    if len(position) != len(variant):
        return False   # a step done twice: no modelled journey does that
    return any(all(position[a] < position[b] for a, b in edges)
               for edges in orders.get(frozenset(variant), ()))


def _add(s: _Side, event: str, actions: list[str], metrics: dict[str, float]) -> None:
    s.dist.add(event, metrics)
    s.cases.update(set(actions))
    s.events.update(actions)
    s.variants[tuple(actions)] += 1


def _compare_event(event: str, model: _Side, seen: _Side, defined: set[str]) -> EventComparison:
    n_model, n_seen = model.dist.cases(event), seen.dist.cases(event)
    medians = {}
    for m in OBSERVED_METRICS:
        a, b = model.dist.median(event, m), seen.dist.median(event, m)
        medians[m] = {"model": a, "observed": b, "gap": None if a is None or b is None else tidy_number(b - a)}
    # Ties broken by the action text, never by the order cases came in.
    unmodelled = [{"action": a, "cases": n, "share": round(n / n_seen, 4), "events": seen.events[a],
                   "in_policy_set": a in defined}
                  for a, n in sorted(seen.cases.items(), key=lambda x: (-x[1], x[0])) if a not in model.cases]
    unobserved = [{"action": a, "model_cases": n, "rules": sorted(model.rules.get(a, ()))}
                  for a, n in sorted(model.cases.items(), key=lambda x: (-x[1], x[0])) if a not in seen.cases]
    top = sorted(seen.variants.items(), key=lambda x: (-x[1], x[0]))[:TOP_VARIANTS]
    variants = [{"steps": list(v), "cases": n, "share": round(n / n_seen, 4), "fits": fits(v, model.orders)}
                for v, n in top]
    fitting = sum(n for v, n in seen.variants.items() if fits(v, model.orders))
    return EventComparison(event, n_model, n_seen, medians, unmodelled, unobserved, variants,
                           len(seen.variants), fitting)
