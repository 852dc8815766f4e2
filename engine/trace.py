"""The one record of a replay. Explain, journey, metrics, flags, coverage and attribution
all read it; none of them evaluates rules again on its own."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .compile import CompiledPolicySet
from .fixpoint import fire
from .case import Case

__all__ = ["Firing", "Trace", "build_trace"]


@dataclass(frozen=True)
class Firing:
    rule: int                       # index into CompiledPolicySet.rules
    rule_id: str
    on_steps: tuple[str, ...]       # the steps that made it fire (Trace.matched), by action
    facts: tuple[tuple[str, Any], ...]  # the life event and the case attributes its conditions read
    requires: tuple[str, ...]       # actions it required, in `then` order


class Trace:
    """Which rules fired for a case, and from that everything about each firing.

    An engine records only the set of rules that fired (the result of a replay does not
    depend on the order they fired in); the firings with their facts, the steps each
    matched on and each step's depth are built when first read, so a batch run that never
    explains a case never pays for them."""

    __slots__ = ("case", "fired", "excluded", "cps", "_firings", "_live", "_matched", "_depth")

    def __init__(self, cps: CompiledPolicySet, case: Case, fired: frozenset[int],
                 excluded: frozenset[int] = frozenset()):
        self.cps, self.case, self.fired, self.excluded = cps, case, fired, excluded
        self._firings: tuple[Firing, ...] | None = None
        self._live: tuple[frozenset[int], dict[int, list[int]]] | None = None
        self._matched: dict[int, tuple[int, ...]] | None = None   # made when first read
        self._depth: dict[int, int] | None = None

    @property
    def firings(self) -> tuple[Firing, ...]:
        """Sorted by rule (rule ids sort the rules): never by the order the engine fired."""
        if self._firings is None:
            cps, attrs = self.cps, self.case.attrs
            out = []
            for i in sorted(self.fired):
                r = cps.rules[i]
                out.append(Firing(
                    rule=i, rule_id=r.id, on_steps=tuple(cps.actions[s] for s in self.matched(i)),
                    facts=(("event", self.case.event),) + tuple((k, attrs[k]) for k in r.attributes if k in attrs),
                    requires=tuple(cps.actions[s] for s in r.requires),
                ))
            self._firings = tuple(out)
        return self._firings

    @property
    def step_ids(self) -> frozenset[int]:
        rules = self.cps.rules
        return frozenset(s for i in self.fired for s in rules[i].requires)

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self.cps.actions[s] for s in self.step_ids)

    def _units(self) -> tuple[frozenset[int], dict[int, list[int]]]:
        """Rules ready on the case alone, and each rule's live units (alternatives testing steps)."""
        if self._live is None:
            ready, units = self.cps.live(self.case)
            by_rule: dict[int, list[int]] = {}
            unit_rule = self.cps.unit_rule
            for u in units:
                by_rule.setdefault(unit_rule[u], []).append(u)
            self._live = (frozenset(ready), by_rule)
        return self._live

    def matched(self, rule: int) -> tuple[int, ...]:
        """The steps (ids, sorted) that made a fired rule fire: the union of the smallest
        sets of required steps that satisfy its condition on this case (the alternatives
        of logic.alternatives whose guard holds and whose steps are all required, keeping
        only those no other such alternative's steps are a proper subset of). Empty when
        its case conditions hold with no step. These are the rule's chain edges' sources."""
        if not self.cps.ambiguous:
            # each rule has one alternative testing steps or none: it fired on those steps
            return self.cps.rule_needs[rule]
        if self._matched is None:
            self._matched = {}
        hit = self._matched.get(rule)
        if hit is None:
            ready, by_rule = self._units()
            if rule in ready:
                hit = ()
            else:
                have = self.step_ids
                unit_steps = self.cps.unit_steps
                sets = [frozenset(unit_steps[u]) for u in by_rule.get(rule, ()) if all(s in have for s in unit_steps[u])]
                minimal = [x for x in sets if not any(y < x for y in sets)]
                hit = tuple(sorted(frozenset().union(*minimal)))
            self._matched[rule] = hit
        return hit

    @property
    def depth(self) -> dict[int, int]:
        """Each required step's depth: 0 when a rule that fired on the case alone requires
        it, else the least, over the rules requiring it, of 1 + the least, over the rule's
        satisfied alternatives, of the greatest depth of that alternative's steps (its
        shortest derivation; `unless` adds nothing to depth). Computed level by level:
        steps get depths in increasing order, so the first one set is the least."""
        if self._depth is None:
            rules = self.cps.rules
            missing: dict[int, int] = {}
            waiting: dict[int, list[int]] = {}
            frontier = []
            if not self.cps.ambiguous:   # one unit per rule at most: its steps, keyed by the rule
                unit_rule = range(len(rules))
                for i in self.fired:
                    needs = self.matched(i)
                    if not needs:
                        frontier.append(i)
                        continue
                    missing[i] = len(needs)
                    for s in needs:
                        waiting.setdefault(s, []).append(i)
            else:
                ready, by_rule = self._units()
                unit_steps, unit_rule = self.cps.unit_steps, self.cps.unit_rule
                for i in self.fired:
                    if i in ready:
                        frontier.append(i)
                        continue
                    for u in by_rule.get(i, ()):
                        missing[u] = len(unit_steps[u])
                        for s in unit_steps[u]:
                            waiting.setdefault(s, []).append(u)
            depth: dict[int, int] = {}
            placed: set[int] = set()
            level = 0
            while frontier:
                new = []
                for i in frontier:
                    if i in placed:
                        continue
                    placed.add(i)
                    for s in rules[i].requires:
                        if s not in depth:
                            depth[s] = level
                            new.append(s)
                frontier = []
                for s in new:
                    for u in waiting.get(s, ()):
                        missing[u] -= 1
                        if not missing[u]:
                            frontier.append(unit_rule[u])
                level += 1
            self._depth = depth
        return self._depth

    def without(self, rules: frozenset[int]) -> "Trace":
        """The trace of this case with `rules` removed (any set of rule indices).

        Without `unless`, rules only add steps, so a rule that fires without `rules` also
        fired here, on the same facts: the firings that survive are the least fixed point of
        the recorded ones, read off this trace alone. With `unless` that holds as long as no
        step tested by an `unless` is lost (every rule then sees the same absences); when
        one is lost, a rule it blocked may now fire and add steps elsewhere, so the case is
        evaluated again (friction.fixpoint, strata in order). Equal to a replay with `rules`
        removed; the tests check that on both engines."""
        if not (rules & self.fired):
            return self if rules <= self.excluded else Trace(self.cps, self.case, self.fired, self.excluded | rules)
        cps = self.cps
        pending = [i for i in self.fired if i not in rules]
        have: set[int] = set()
        live: list[int] = []
        if not cps.ambiguous:   # no `unless`, one unit per rule at most: what it fired on
            needs, requires = cps.rule_needs, cps.rule_requires
            waiting = []
            for i in pending:   # a rule that fired on no step fires without any other
                if needs[i]:
                    waiting.append(i)
                else:
                    live.append(i)
                    have.update(requires[i])
            pending = waiting
            holds = lambda i: all([s in have for s in needs[i]])   # noqa: E731
        else:
            ready, by_rule = self._units()
            unit_steps = cps.unit_steps
            holds = lambda i: i in ready or any(all(s in have for s in unit_steps[u])   # noqa: E731
                                                for u in by_rule.get(i, ()))
        progress = True
        while progress:
            progress = False
            waiting = []
            for i in pending:
                if holds(i):
                    live.append(i)
                    have.update(cps.rules[i].requires)
                    progress = True
                else:
                    waiting.append(i)
            pending = waiting
        excluded = self.excluded | rules
        if cps.unless_steps and any(s not in have for s in self.step_ids & cps.unless_steps):
            out = Trace(cps, self.case, frozenset(fire(cps, self.case, excluded)), excluded)
        else:
            out = Trace(cps, self.case, frozenset(live), excluded)
        out._live = self._live   # the same case: the same live rules and units
        return out

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Trace) and self.fired == other.fired and self.case == other.case
                and self.excluded == other.excluded and self.cps is other.cps)

    def __hash__(self) -> int:
        return hash((self.fired, self.case.id, self.excluded))

    def __repr__(self) -> str:
        ids = sorted(self.cps.rules[i].id for i in self.fired)
        return f"Trace(case={self.case.id!r}, fired={ids}, excluded={sorted(self.excluded)})"


def build_trace(cps: CompiledPolicySet, case: Case, fired: Iterable[int],
                excluded: frozenset[int] = frozenset()) -> Trace:
    return Trace(cps, case, frozenset(fired), excluded)
