"""From a trace to the journey: each step once, with every rule that required it, in the
topological order of `after`. Ties are broken by content, never by file or firing order:
first the chain depth (steps required by a case directly before the steps they trigger),
then the smallest (rule id, position in `then`) that required the step."""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

from .compile import CompiledPolicySet, CompiledRule
from .model import Cause, Step
from .trace import Trace

__all__ = ["JourneyStep", "Journey", "Ordering", "build_journey", "order_steps"]


@dataclass(frozen=True)
class JourneyStep:
    action: str
    step: Step
    rules: tuple[str, ...]      # every rule that required it, sorted
    causes: tuple[Cause, ...]   # their causes, distinct, sorted
    depth: int                  # 0: required by the case alone; n: n steps down a chain
    after: tuple[str, ...]      # the `after` steps that are in this journey
    id: int = -1                # step id in the compiled set

    lane = property(lambda self: self.step.lane)
    department = property(lambda self: self.step.department)
    channel = property(lambda self: self.step.channel)
    days = property(lambda self: self.step.days)


@dataclass(frozen=True)
class Journey:
    trace: Trace
    steps: tuple[JourneyStep, ...]
    cps: CompiledPolicySet | None = field(default=None, compare=False, repr=False)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(s.action for s in self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:   # the dataclass repr holds every step's definition
        return f"Journey(case={self.trace.case.id!r}, steps={list(self.actions)!r})"


def order_steps(cps: CompiledPolicySet, rules: Sequence[CompiledRule]) -> Ordering:
    """The journey of the rules that fired, as step ids: the order, each step's depth, the
    rules (id, position in `then`) that required it, and its `after` steps in the journey."""
    required: dict[int, list[tuple[str, int]]] = {}
    for r in rules:
        for pos, s in enumerate(r.requires):
            required.setdefault(s, []).append((r.id, pos))

    # Shortest derivation depth, level by level: a firing is ready once every step it needs
    # has its depth; steps get depths in increasing order, so the first one set is the least.
    # Independent of firing order.
    depth: dict[int, int] = {}
    missing = [len(r.needs) for r in rules]
    waiting: dict[int, list[int]] = {}
    frontier = []
    for i, r in enumerate(rules):
        if r.needs:
            for s in r.needs:
                waiting.setdefault(s, []).append(i)
        else:
            frontier.append(i)
    level = 0
    while frontier:
        new = []
        for i in frontier:
            for s in rules[i].requires:
                if s not in depth:
                    depth[s] = level
                    new.append(s)
        frontier = []
        for s in new:
            for i in waiting.get(s, ()):
                missing[i] -= 1
                if not missing[i]:
                    frontier.append(i)
        level += 1

    step_after = cps.step_after
    preds = {s: [p for p in step_after[s] if p in required] for s in required}
    succs: dict[int, list[int]] = {s: [] for s in required}
    indegree = {}
    for s, ps in preds.items():
        indegree[s] = len(ps)
        for p in ps:
            succs[p].append(s)
    heap = [((depth[s], min(required[s])), s) for s, n in indegree.items() if n == 0]
    heapq.heapify(heap)
    ordered: list[int] = []
    while heap:
        _, s = heapq.heappop(heap)
        ordered.append(s)
        for b in succs[s]:
            indegree[b] -= 1
            if indegree[b] == 0:
                heapq.heappush(heap, ((depth[b], min(required[b])), b))
    # `after` cycles are rejected at load, so every step is ordered.
    return Ordering(ordered, depth, required, preds)


class Ordering(NamedTuple):
    ordered: list[int]
    depth: dict[int, int]
    required: dict[int, list[tuple[str, int]]]
    preds: dict[int, list[int]]


def build_journey(cps: CompiledPolicySet, trace: Trace) -> Journey:
    rules = [cps.rules[i] for i in sorted(trace.fired)]
    o = order_steps(cps, rules)
    causes: dict[int, set[Cause]] = {}
    for r in rules:
        for s in r.requires:
            causes.setdefault(s, set()).add(r.cause)
    actions, steps = cps.actions, cps.steps
    out = []
    for s in o.ordered:
        by = o.required[s]
        cs = causes[s]
        out.append(JourneyStep(
            action=actions[s], step=steps[s],
            rules=(by[0][0],) if len(by) == 1 else tuple(sorted({rid for rid, _ in by})),
            causes=tuple(cs) if len(cs) == 1 else tuple(sorted(cs, key=_cause_order)),
            depth=o.depth[s], after=tuple(actions[p] for p in o.preds[s]), id=s,
        ))
    return Journey(trace=trace, cps=cps, steps=tuple(out))


def _cause_order(c: Cause) -> str:
    return c.value
