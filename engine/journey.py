"""From a trace to the journey: each step once, with every rule that required it, in
journey order (DESIGN.md): a topological order of the dependency edges (`after`, and from
each step a fired rule needs to each step it requires further down the chain). Among the
steps ready to be placed, the one in the same department as the step placed just before,
then the one in the same channel, then the smallest action text: an organisation keeps a
team's and a channel's work together. Never rule ids, file order or firing order."""
from __future__ import annotations

from bisect import insort
from dataclasses import dataclass, field
from typing import AbstractSet as Set, Collection, Mapping, NamedTuple, Sequence

from .compile import CompiledPolicySet
from .metrics import StepFacts
from .vocabulary import Cause
from .language import Step
from .trace import Trace

__all__ = ["JourneyStep", "Journey", "Ordering", "build_journey", "order_steps", "place_steps"]


@dataclass(frozen=True)
class JourneyStep:
    action: str
    step: Step
    rules: tuple[str, ...]      # every rule that required it, sorted
    causes: tuple[Cause, ...]   # their causes, distinct, sorted
    depth: int                  # 0: required by the case alone; n: n steps down a chain
    after: tuple[str, ...]      # the `after` steps that are in this journey
    id: int = -1                # step id in the compiled set
    facts: StepFacts | None = field(default=None, compare=False, repr=False)   # as this case has it

    lane = property(lambda self: self.step.lane)
    department = property(lambda self: self.step.department)
    channel = property(lambda self: self.facts.channel if self.facts else self.step.channel)
    days = property(lambda self: self.facts.days if self.facts else self.step.days)


@dataclass(frozen=True)
class Journey:
    trace: Trace
    steps: tuple[JourneyStep, ...]
    cps: CompiledPolicySet | None = field(default=None, compare=False, repr=False)
    # dependency edges as (earlier, later) positions in `steps`, sorted
    edges: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(s.action for s in self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:   # the dataclass repr holds every step's definition
        return f"Journey(case={self.trace.case.id!r}, steps={list(self.actions)!r})"


def order_steps(cps: CompiledPolicySet, trace: Trace,
                facts: Sequence[StepFacts] | None = None) -> Ordering:
    """The journey of the rules that fired, as step ids: the order, each step's depth
    (Trace.depth), the rules (id, position in `then`) that required it, its `after` steps
    in the journey, and the dependency edges (chain edges from the steps each firing
    matched on: Trace.matched). `facts`: each step id's facts for this case (default the set's)."""
    facts = cps.step_facts if facts is None else facts
    rules = cps.rules
    fired = sorted(trace.fired)
    required: dict[int, list[tuple[str, int]]] = {}
    for i in fired:
        rid = rules[i].id
        for pos, s in enumerate(rules[i].requires):
            by = required.get(s)
            if by is None:
                required[s] = [(rid, pos)]
            else:
                by.append((rid, pos))

    depth = trace.depth
    step_after = cps.step_after
    preds = {s: [p for p in step_after[s] if p in required] if step_after[s] else [] for s in required}
    # Chain edges run down the chain (to a greater depth), so rules chaining in a loop make
    # no cycle; `after` edges against the depth could close one with chain edges.
    chain = {(n, t) for i in fired for n in trace.matched(i) for t in rules[i].requires if depth[t] > depth[n]}
    if any(depth[p] >= depth[s] for s, ps in preds.items() for p in ps):
        chain = _drop_cycles(chain, preds)
    into: dict[int, set[int]] = {s: set(ps) for s, ps in preds.items()}
    for n, t in chain:
        into[t].add(n)
    depts, channels = _places(facts)
    ordered = place_steps(into.keys(), into, depts, channels)
    # `after` cycles are rejected at load and chain edges on a cycle dropped: all are ordered.
    return Ordering(ordered, depth, required, preds, into)


def place_steps(steps: Set[int], into: Mapping[int, Collection[int]], dept_of: Sequence[str],
                channel_of: Sequence[str]) -> list[int]:
    """Journey order of `steps` over dependency edges (`into`: a step -> the steps it depends
    on; a step with none may be left out): Kahn's order where, among the steps ready to be
    placed, the one in the same department as the step placed just before comes first, then
    the one in the same channel, then the smallest id (ids sort as actions do). Steps on a
    cycle are left out."""
    succs: dict[int, list[int]] = {}
    indegree: dict[int, int] = {}
    for s, ps in into.items():
        if ps:
            indegree[s] = len(ps)
            for p in ps:
                out = succs.get(p)
                if out is None:
                    succs[p] = [s]
                else:
                    out.append(s)
    ready = sorted(steps - indegree.keys())
    ordered: list[int] = []
    if not ready:
        return ordered
    # The ready steps of each department, sorted: the order stays in a department until
    # its group is empty, so the ready steps of all departments are read only then.
    groups: dict[str, list[int]] = {}
    for x in ready:
        group = groups.get(dept_of[x])
        if group is None:
            groups[dept_of[x]] = [x]
        else:
            group.append(x)
    s = ready[0]
    dept = dept_of[s]
    group = groups[dept]
    while True:
        group.remove(s)
        ordered.append(s)
        out = succs.get(s)
        if out is not None:
            for b in out:
                indegree[b] -= 1
                if not indegree[b]:
                    other = groups.get(dept_of[b])
                    if other is None:
                        groups[dept_of[b]] = [b]
                    else:
                        insort(other, b)
        channel = channel_of[s]
        if group:
            for s in group:
                if channel_of[s] == channel:
                    break
            else:
                s = group[0]
            continue
        del groups[dept]
        if not groups:
            return ordered
        # the smallest ready step in the same channel, else the smallest
        s = None
        for other in groups.values():
            for x in other:
                if channel_of[x] == channel:
                    if s is None or x < s:
                        s = x
                    break
        if s is None:
            s = min([other[0] for other in groups.values()])
        dept = dept_of[s]
        group = groups[dept]


_PLACES: dict[int, tuple[Sequence[StepFacts], list[str], list[str]]] = {}


def _places(facts: Sequence[StepFacts]) -> tuple[list[str], list[str]]:
    """Each step id's department and channel, as lists: read once per set of step facts
    (a compiled set's, or one per alternative taken), not once per journey."""
    hit = _PLACES.get(id(facts))
    if hit is None or hit[0] is not facts:
        if len(_PLACES) > 256:
            _PLACES.clear()
        hit = _PLACES[id(facts)] = (facts, [f.department for f in facts], [f.channel for f in facts])
    return hit[1], hit[2]


def _drop_cycles(chain: set[tuple[int, int]], preds: dict[int, list[int]]) -> set[tuple[int, int]]:
    """Chain edges that lie on no cycle of `after` and chain edges together: what the owner
    wrote in `after` wins. Decided per edge on the whole graph, so no order matters."""
    out: dict[int, list[int]] = {s: list(ps) for s, ps in preds.items()}   # step -> its predecessors
    for n, t in chain:
        out[t].append(n)

    def reaches(start: int, goal: int) -> bool:   # goal reaches start (walking predecessors)
        seen, todo = {start}, [start]
        while todo:
            for p in out[todo.pop()]:
                if p == goal:
                    return True
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return False

    return {(n, t) for n, t in chain if not reaches(n, t)}


class Ordering(NamedTuple):
    ordered: list[int]
    depth: dict[int, int]
    required: dict[int, list[tuple[str, int]]]
    preds: dict[int, list[int]]        # `after` steps in the journey
    into: dict[int, set[int]]          # dependency edges: step -> the steps it depends on

    def edges(self) -> tuple[tuple[int, int], ...]:
        """The dependency edges as (earlier, later) positions in `ordered`, sorted."""
        position = {s: i for i, s in enumerate(self.ordered)}
        return tuple(sorted((position[p], position[s]) for s in self.ordered for p in self.into[s]))

    def after_edges(self) -> list[tuple[int, int]]:
        position = {s: i for i, s in enumerate(self.ordered)}
        return [(position[p], position[s]) for s in self.ordered for p in self.preds[s]]


def build_journey(cps: CompiledPolicySet, trace: Trace, facts: Sequence[StepFacts] | None = None) -> Journey:
    """`facts`: each step id's facts for this case (default: as the case's attributes choose)."""
    facts = cps.case_facts(trace.case) if facts is None else facts
    rules = [cps.rules[i] for i in sorted(trace.fired)]
    o = order_steps(cps, trace, facts)
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
            depth=o.depth[s], after=tuple(actions[p] for p in o.preds[s]), id=s, facts=facts[s],
        ))
    return Journey(trace=trace, cps=cps, steps=tuple(out), edges=o.edges())


def _cause_order(c: Cause) -> str:
    return c.value
