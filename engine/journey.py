"""From a trace to the journey: each step once, with every rule that required it, in the
topological order of `after`. Ties are broken by content, never by file or firing order:
first the chain depth (steps required by a case directly before the steps they trigger),
then the smallest (rule id, position in `then`) that required the step."""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from .compile import CompiledPolicySet
from .model import Cause, Lane, Step
from .trace import Trace

__all__ = ["JourneyStep", "Journey", "build_journey"]


@dataclass(frozen=True)
class JourneyStep:
    action: str
    step: Step
    rules: tuple[str, ...]      # every rule that required it, sorted
    causes: tuple[Cause, ...]   # their causes, distinct, sorted
    depth: int                  # 0: required by the case alone; n: n steps down a chain
    after: tuple[str, ...]      # the `after` steps that are in this journey

    lane = property(lambda self: self.step.lane)
    department = property(lambda self: self.step.department)
    channel = property(lambda self: self.step.channel)
    days = property(lambda self: self.step.days)


@dataclass(frozen=True)
class Journey:
    trace: Trace
    steps: tuple[JourneyStep, ...]

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(s.action for s in self.steps)

    def __len__(self) -> int:
        return len(self.steps)


def build_journey(cps: CompiledPolicySet, trace: Trace) -> Journey:
    required: dict[str, list[tuple[str, int]]] = {}   # action -> [(rule id, position)]
    for f in trace.firings:
        for pos, action in enumerate(f.requires):
            required.setdefault(action, []).append((f.rule_id, pos))

    # Shortest derivation depth, as a fixed point over the firings: independent of firing order.
    depth: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for f in trace.firings:
            if any(s not in depth for s in f.on_steps):
                continue
            d = 1 + max((depth[s] for s in f.on_steps), default=-1)
            for action in f.requires:
                if depth.get(action, d + 1) > d:
                    depth[action] = d
                    changed = True

    causes: dict[str, set[Cause]] = {a: set() for a in required}
    for f in trace.firings:
        for action in f.requires:
            causes[action].add(cps.rules[f.rule].cause)

    key = {a: (depth[a], min(required[a])) for a in required}
    preds = {a: [p for p in cps.policy_set.steps[a].after if p in required] for a in required}
    succs: dict[str, list[str]] = {a: [] for a in required}
    for a, ps in preds.items():
        for p in ps:
            succs[p].append(a)
    indegree = {a: len(ps) for a, ps in preds.items()}
    heap = [(key[a], a) for a, n in indegree.items() if n == 0]
    heapq.heapify(heap)
    ordered: list[str] = []
    while heap:
        _, a = heapq.heappop(heap)
        ordered.append(a)
        for b in succs[a]:
            indegree[b] -= 1
            if indegree[b] == 0:
                heapq.heappush(heap, (key[b], b))
    # `after` cycles are rejected at load, so every step is ordered.
    steps = tuple(
        JourneyStep(
            action=a, step=cps.policy_set.steps[a],
            rules=tuple(sorted({rid for rid, _ in required[a]})),
            causes=tuple(sorted(causes[a], key=lambda c: c.value)),
            depth=depth[a], after=tuple(preds[a]),
        )
        for a in ordered
    )
    return Journey(trace=trace, steps=steps)
