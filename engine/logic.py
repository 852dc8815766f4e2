"""The logic of `when`, shared by the loader's checks and the compiler.

Normal form. A rule's condition (without `unless`) is monotone in the steps it tests: a
`step` test can sit anywhere inside `all`/`any`, but nothing negates it. So it can be
written as alternatives `guard_i and steps_i all required`, where each guard tests only
the case (attributes, life event): the rule fires once, for some alternative, its guard
holds and its steps are all required. `alternatives()` computes them; the loader refuses
a rule with more than MAX_ALTERNATIVES.

Strata. `unless: [A]` makes a rule wait until nothing can require A any more. That is
decidable only when A does not depend, through any chain, on the rule itself (stratified
negation, as in Datalog): `strata()` gives every rule a stratum (a rule is in a stratum
above every rule that can require a step it tests with `unless`, and no lower than any
rule that can require a step it needs) or names the cycle through `unless` that prevents
it. Replay then decides each `unless` only after every lower stratum is complete, so the
result is unique and independent of firing order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Sequence, TypeVar

from .language import Condition, Rule, Step

__all__ = ["MAX_ALTERNATIVES", "Alternative", "NegationCycle", "TooManyAlternatives", "alternatives",
           "chain_order", "components", "conjoin", "strata", "then_actions"]

MAX_ALTERNATIVES = 64

T = TypeVar("T")


@dataclass(frozen=True)
class Alternative:
    guard: Condition | None      # a test on the case only; None: always true
    steps: frozenset[str]        # steps that must all be required


class TooManyAlternatives(ValueError):
    pass


def conjoin(parts: Sequence[Condition | None]) -> Condition | None:
    items: list[Condition] = []
    for p in parts:
        if p is None:
            continue
        items.extend(p.all if p.all is not None else (p,))
    if not items:
        return None
    return items[0] if len(items) == 1 else Condition(all=tuple(items))


def _disjoin(parts: Sequence[Condition | None]) -> Condition | None:
    if any(p is None for p in parts):
        return None
    items: list[Condition] = []
    for p in parts:
        items.extend(p.any if p.any is not None else (p,))  # type: ignore[union-attr]
    return items[0] if len(items) == 1 else Condition(any=tuple(items))


def alternatives(condition: Condition | None, limit: int = MAX_ALTERNATIVES) -> tuple[Alternative, ...]:
    """The condition as alternatives (guard, steps), one per distinct set of steps, fewest
    steps first. Raises TooManyAlternatives past `limit`."""
    raw = _expand(condition, limit)
    by_steps: dict[frozenset[str], list[Condition | None]] = {}
    for guard, steps in raw:
        by_steps.setdefault(steps, []).append(guard)
    return tuple(Alternative(_disjoin(gs), steps)
                 for steps, gs in sorted(by_steps.items(), key=lambda kv: (len(kv[0]), sorted(kv[0]))))


def _expand(c: Condition | None, limit: int) -> list[tuple[Condition | None, frozenset[str]]]:
    if c is None or not c.steps():
        return [(c, frozenset())]
    if c.step is not None:
        return [(None, frozenset(c.step))]
    if c.any is not None:
        out = [alt for x in c.any for alt in _expand(x, limit)]
        if len(out) > limit:
            raise TooManyAlternatives(len(out))
        return out
    plain = conjoin([x for x in c.all or () if not x.steps()])
    acc: list[tuple[Condition | None, frozenset[str]]] = [(plain, frozenset())]
    for x in c.all or ():
        if not x.steps():
            continue
        acc = [(conjoin([g1, g2]), s1 | s2) for g1, s1 in acc for g2, s2 in _expand(x, limit)]
        if len(acc) > limit:
            raise TooManyAlternatives(len(acc))
    return acc


def then_actions(rule: Rule) -> list[str]:
    return [s.action if isinstance(s, Step) else s for s in rule.then]


@dataclass(frozen=True)
class NegationCycle:
    rule: str                 # the rule whose `unless` cannot be decided
    step: str                 # the step it tests for absence
    path: tuple[str, ...]     # rule, step, rule, step, ... from `rule` to `step`

    def describe(self) -> str:
        p = self.path
        hops = [f"rule {p[0]} requires '{p[1]}'"] if len(p) > 1 else []
        hops += [f"rule {p[k]} tests it and requires '{p[k + 1]}'" for k in range(2, len(p) - 1, 2)]
        return (f"unless '{self.step}' cannot be decided: it follows from this rule itself "
                f"({'; '.join(hops)}); a rule may only test for the absence of steps that cannot "
                "follow from it (negation must be stratified)")


def strata(rules: Iterable[Rule]) -> tuple[dict[str, int], list[NegationCycle]]:
    """The stratum of each rule (by id), and every rule whose `unless` is on a cycle.

    The graph has rules and steps as nodes: rule -> each step it requires, step -> each
    rule that needs it (positive), step -> each rule with it in `unless` (negative). A
    negative edge inside a strongly connected component is a cycle through negation."""
    rules = list(rules)
    needs = {r.id: sorted(r.when.steps()) for r in rules}
    produces = {r.id: then_actions(r) for r in rules}
    unless = {r.id: frozenset(r.when.unless) for r in rules}
    needed_by: dict[str, list[str]] = {}
    blocked_by: dict[str, list[str]] = {}
    for r in rules:
        for s in needs[r.id]:
            needed_by.setdefault(s, []).append(r.id)
        for s in r.when.unless:
            blocked_by.setdefault(s, []).append(r.id)

    def successors(node: tuple[str, str]) -> list[tuple[str, str]]:
        kind, name = node
        if kind == "r":
            return [("s", s) for s in produces.get(name, ())]
        return [("r", r) for r in needed_by.get(name, ())] + [("r", r) for r in blocked_by.get(name, ())]

    nodes = [("r", r.id) for r in rules] + [("s", s) for s in sorted(set(needed_by) | set(blocked_by) |
                                                                     {a for v in produces.values() for a in v})]
    component = components(nodes, successors)

    cycles = []
    for r in rules:
        for s in r.when.unless:
            if ("s", s) in component and component[("s", s)] == component[("r", r.id)]:
                cycles.append(NegationCycle(r.id, s, _path(("r", r.id), ("s", s), successors, component)))
    if cycles:
        return {}, cycles

    # Components come out of Tarjan's algorithm in reverse topological order.
    order = sorted(set(component.values()), reverse=True)
    members: dict[int, list[tuple[str, str]]] = {}
    for n, c in component.items():
        members.setdefault(c, []).append(n)
    level: dict[int, int] = {}
    for c in order:
        level.setdefault(c, 0)
        for n in members[c]:
            for m in successors(n):
                negative = n[0] == "s" and m[0] == "r" and n[1] in unless[m[1]]
                cm = component[m]
                if cm != c:
                    level[cm] = max(level.get(cm, 0), level[c] + negative)
    return {r.id: level[component[("r", r.id)]] for r in rules}, []


def chain_order(rules: Sequence[T], tests: Callable[[T], Iterable[Hashable]],
                requires: Callable[[T], Iterable[Hashable]]) -> list[tuple[tuple[T, ...], bool]]:
    """Rules in step-dependency order: groups (strongly connected components) where every
    rule that can require a step another rule tests (for presence or, with `unless`, for
    absence) is in the same group or an earlier one, each group in the given order. The
    flag says whether the group chains in a cycle (more than one rule): only such a group
    needs more than one pass. A rule testing a step it requires itself is no cycle: it
    fires at most once, so its own step can never make it fire again."""
    producers: dict[Hashable, list[int]] = {}
    for k, r in enumerate(rules):
        for s in requires(r):
            producers.setdefault(s, []).append(k)
    consumers: list[set[int]] = [set() for _ in rules]
    for k, r in enumerate(rules):
        for s in tests(r):
            for p in producers.get(s, ()):
                if p != k:
                    consumers[p].add(k)
    component = components(list(range(len(rules))), lambda k: sorted(consumers[k]))
    groups: dict[int, list[int]] = {}
    for k in range(len(rules)):
        groups.setdefault(component[k], []).append(k)
    # Components are numbered in reverse topological order: producers have larger numbers.
    return [(tuple(rules[k] for k in groups[c]), len(groups[c]) > 1) for c in sorted(groups, reverse=True)]


def components(nodes: list, successors) -> dict:
    """Tarjan's strongly connected components, iterative; component numbers increase in
    reverse topological order (a component's successors have smaller numbers)."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    component: dict = {}
    counter = 0
    n_comp = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(successors(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(successors(nxt))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component[m] = n_comp
                    if m == node:
                        break
                n_comp += 1
    return component


def _path(start, goal, successors, component) -> tuple[str, ...]:
    """A shortest path from `start` to `goal` inside their component (breadth first, in
    sorted order, so the message is the same every run)."""
    c = component[start]
    previous = {start: None}
    todo = [start]
    while todo:
        nxt = []
        for n in todo:
            for m in sorted(successors(n)):
                if m not in previous and component.get(m) == c:
                    previous[m] = n
                    nxt.append(m)
        if goal in previous:
            break
        todo = nxt
    out = []
    n = goal
    while n is not None:
        out.append(n[1])
        n = previous[n]
    return tuple(reversed(out))
