"""Practice as lived: each case of an event log becomes an observed journey (its events in
timestamp order, mapped to steps), measured by the same code as a modelled journey, plus
what only a log shows: rework and ping-pong.

An observed journey's dependency edges are its consecutive events, so `elapsed_days`,
the longest path of step durations, is the time from its first event to its last (each
step lasts from the event before it to its own timestamp)."""
from __future__ import annotations

import math
import os
import statistics
from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .errors import Problem
from .eventlog import LogCase, read_log
from .load import relative_path
from .logmap import LogMap
from .measure import StepFacts, measure_steps, tidy_number
from .metrics import METRICS
from .vocabulary import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, Lane

__all__ = ["LOG_METRICS", "OBSERVED_METRICS", "ObservedJourney", "ObservedStep", "Distributions",
           "observe_case", "observe_log", "ping_pong", "rework", "percentile"]

# What only a log shows (a modelled journey has each action once, so its rework is 0).
LOG_METRICS = ("rework", "ping_pong")
# policy_steps needs the rules that made a step: a log does not know them.
OBSERVED_METRICS = (*(m for m in METRICS if m != "policy_steps"), *LOG_METRICS)

DAY = 86400.0


def rework(activities: Sequence[str]) -> int:
    """Repeats of an activity within one case: Σ over activities of (times done − 1)."""
    return sum(n - 1 for n in Counter(activities).values())


def ping_pong(departments: Sequence[str]) -> int:
    """Work sent back where it came from (A → B → A): over the departments in order, with
    consecutive repeats folded into one, the positions whose department is the one two
    places before."""
    runs = [d for i, d in enumerate(departments) if i == 0 or d != departments[i - 1]]
    return sum(1 for a, b in zip(runs, runs[2:]) if a == b)


@dataclass(frozen=True)
class ObservedStep:
    action: str
    activity: str
    lane: Lane
    department: str
    channel: str
    days: float        # since the event before (0 for the first)
    informs: bool
    time: float        # POSIX seconds
    line: int

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "activity": self.activity, "lane": self.lane.value,
                "department": self.department, "channel": self.channel, "days": tidy_number(self.days),
                "informs": self.informs, "at": _iso(self.time), "line": self.line}


@dataclass(frozen=True)
class ObservedJourney:
    case: LogCase
    steps: tuple[ObservedStep, ...]
    start_channel: str
    metrics: dict[str, float]      # OBSERVED_METRICS

    @property
    def id(self) -> str:
        return self.case.id

    @property
    def life_event(self) -> str:
        return self.case.life_event

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(s.action for s in self.steps)

    def as_dict(self, detail: str = "full") -> dict[str, Any]:
        """Shaped like an evaluated case (so the same writers take it): no persona, no
        attributes, no effort, no flags. `summary`: the journey as its actions."""
        journey = ([s.as_dict() for s in self.steps] if detail == "full" else list(self.actions))
        return {"id": self.case.id, "event": self.case.life_event, "persona": None, "channel": self.start_channel,
                "line": self.case.line, "metrics": dict(self.metrics), "journey": journey, "flags": []}


def observe_case(case: LogCase, logmap: LogMap, lane_of: Any = None) -> ObservedJourney | Problem:
    """The observed journey of one case, or why the map cannot place it."""
    lane_of = lane_of or logmap.lane_matcher()
    steps = []
    prev = case.events[0].time if case.events else 0.0
    for e in case.events:
        placed = lane_of(e.activity)
        if isinstance(placed, str):
            return Problem("", e.line, f"case {case.id}", placed)
        lane, informs = placed
        channel = INTERNAL_CHANNEL
        if lane in CUSTOMER_VISIBLE:
            channel = logmap.channels.get(e.activity) or (case.channel if case.channel is not None else e.channel)
        steps.append(ObservedStep(logmap.actions.get(e.activity, e.activity), e.activity, lane, e.department,
                                  channel or INTERNAL_CHANNEL, (e.time - prev) / DAY, informs, e.time, e.line))
        prev = e.time
    visible = [s.channel for s in steps if s.lane in CUSTOMER_VISIBLE]
    start = case.channel if case.channel is not None else (visible[0] if visible else INTERNAL_CHANNEL)
    return ObservedJourney(case, tuple(steps), start, measure_observed(steps, start))


def measure_observed(steps: Sequence[ObservedStep], start_channel: str) -> dict[str, float]:
    """The journey metrics by the one implementation every journey goes through
    (measure.measure_steps), then the log's own. The dependency edges of an observed
    journey are its consecutive events; its elapsed days run from the first timestamp to
    the last."""
    facts = [StepFacts(s.action, s.lane.value, s.department, s.channel, (), s.days, s.informs) for s in steps]
    elapsed = (steps[-1].time - steps[0].time) / DAY if steps else 0.0
    m = measure_steps(facts, [(i - 1, i) for i in range(1, len(steps))], start_channel,
                      elapsed_days=elapsed).as_dict()
    m["rework"] = rework([s.activity for s in steps])
    m["ping_pong"] = ping_pong([s.department for s in steps])
    return {k: m[k] for k in OBSERVED_METRICS}


def observe_log(path: str | os.PathLike, logmap: LogMap) -> Iterator[ObservedJourney | Problem]:
    """Every case of the log as an observed journey, or the problem that kept it out."""
    lane_of, file = logmap.lane_matcher(), relative_path(Path(path))
    for item in read_log(path, logmap):
        if isinstance(item, Problem):
            yield item
            continue
        out = observe_case(item, logmap, lane_of)
        yield out if isinstance(out, ObservedJourney) else Problem(file, out.line, out.subject, out.message)


# --------------------------------------------------------------------------- distributions


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


class Distributions:
    """Per life event, every metric's values as cases pass (8 bytes a value), summarised
    as median, 90th percentile (nearest rank), maximum and mean."""

    def __init__(self, metrics: Iterable[str]):
        self.metrics = tuple(metrics)
        self.values: dict[str, dict[str, array]] = {}

    def add(self, life_event: str, metrics: Mapping[str, float]) -> None:
        cols = self.values.get(life_event)
        if cols is None:
            cols = self.values[life_event] = {m: array("d") for m in self.metrics}
        for m in self.metrics:
            cols[m].append(metrics[m])

    def cases(self, life_event: str) -> int:
        cols = self.values.get(life_event)
        return len(cols[self.metrics[0]]) if cols else 0

    def summary(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for event in sorted(self.values):
            cols = self.values[event]
            stats: dict[str, Any] = {"cases": self.cases(event)}
            for m in self.metrics:
                v = sorted(cols[m])
                stats[m] = {"median": tidy_number(statistics.median(v)), "p90": tidy_number(percentile(v, 90)),
                            "max": tidy_number(v[-1]), "mean": tidy_number(statistics.fmean(v))}
            out[event] = stats
        return out

    def median(self, life_event: str, metric: str) -> float | None:
        cols = self.values.get(life_event)
        return tidy_number(statistics.median(cols[metric])) if cols and len(cols[metric]) else None


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
