"""The one record of a replay. Explain, journey, metrics, flags, coverage and attribution
all read it; none of them evaluates rules again on its own."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .compile import CompiledPolicySet
from .model import Case

__all__ = ["Firing", "Trace", "build_trace"]


@dataclass(frozen=True)
class Firing:
    rule: int                       # index into CompiledPolicySet.rules
    rule_id: str
    on_steps: tuple[str, ...]       # steps already required that it matched on
    facts: tuple[tuple[str, Any], ...]  # case attributes its conditions read, with their values
    requires: tuple[str, ...]       # actions it required, in `then` order


@dataclass(frozen=True)
class Trace:
    case: Case
    firings: tuple[Firing, ...]     # sorted by rule id: never by the order the engine fired
    excluded: frozenset[int] = frozenset()  # rules left out of this replay (policy_steps, rank)

    @property
    def fired(self) -> frozenset[int]:
        return frozenset(f.rule for f in self.firings)

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(a for f in self.firings for a in f.requires)

    def without(self, rules: frozenset[int]) -> "Trace":
        """The trace of this case with `rules` removed, read off this trace alone.

        Rules only add steps, so a rule that fires without `rules` also fired here, on the
        same facts: the firings that survive are the least fixed point of the recorded ones
        (a firing survives when every step it matched on is still required by a survivor).
        Equal to a replay with `rules` removed; the tests check that on both engines."""
        if not (rules & self.fired):
            return self if rules <= self.excluded else Trace(self.case, self.firings, self.excluded | rules)
        pending = [f for f in self.firings if f.rule not in rules]
        have: set[str] = set()
        live: list[Firing] = []
        progress = True
        while progress:
            progress = False
            waiting = []
            for f in pending:
                if all(s in have for s in f.on_steps):
                    live.append(f)
                    have.update(f.requires)
                    progress = True
                else:
                    waiting.append(f)
            pending = waiting
        live.sort(key=lambda f: f.rule)
        return Trace(self.case, tuple(live), self.excluded | rules)


def build_trace(cps: CompiledPolicySet, case: Case, fired: Iterable[int],
                excluded: frozenset[int] = frozenset()) -> Trace:
    firings = []
    for i in sorted(set(fired)):
        r = cps.rules[i]
        facts = tuple((k, case.attrs[k]) for k in r.attributes if k in case.attrs)
        firings.append(Firing(
            rule=i, rule_id=r.id, on_steps=tuple(cps.actions[s] for s in r.needs),
            facts=(("event", case.event),) + facts,
            requires=tuple(cps.actions[s] for s in r.requires),
        ))
    return Trace(case=case, firings=tuple(firings), excluded=excluded)
