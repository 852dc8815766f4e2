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
