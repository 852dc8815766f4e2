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
    facts: tuple[tuple[str, Any], ...]  # the life event and the case attributes its conditions read
    requires: tuple[str, ...]       # actions it required, in `then` order


class Trace:
    """Which rules fired for a case, and from that everything about each firing.

    An engine records only the set of rules that fired (the result of a replay does not
    depend on the order they fired in); the firings with their facts are built when first
    read, so a batch run that never explains a case never pays for them."""

    __slots__ = ("case", "fired", "excluded", "cps", "_firings")

    def __init__(self, cps: CompiledPolicySet, case: Case, fired: frozenset[int],
                 excluded: frozenset[int] = frozenset()):
        self.cps, self.case, self.fired, self.excluded = cps, case, fired, excluded
        self._firings: tuple[Firing, ...] | None = None

    @property
    def firings(self) -> tuple[Firing, ...]:
        """Sorted by rule (rule ids sort the rules): never by the order the engine fired."""
        if self._firings is None:
            cps, attrs = self.cps, self.case.attrs
            out = []
            for i in sorted(self.fired):
                r = cps.rules[i]
                out.append(Firing(
                    rule=i, rule_id=r.id, on_steps=tuple(cps.actions[s] for s in r.needs),
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

    def without(self, rules: frozenset[int]) -> "Trace":
        """The trace of this case with `rules` removed, read off this trace alone.

        Rules only add steps, so a rule that fires without `rules` also fired here, on the
        same facts: the firings that survive are the least fixed point of the recorded ones
        (a firing survives when every step it matched on is still required by a survivor).
        Equal to a replay with `rules` removed; the tests check that on both engines."""
        if not (rules & self.fired):
            return self if rules <= self.excluded else Trace(self.cps, self.case, self.fired, self.excluded | rules)
        compiled = self.cps.rules
        pending = [compiled[i] for i in self.fired if i not in rules]
        have: set[int] = set()
        live: list[int] = []
        progress = True
        while progress:
            progress = False
            waiting = []
            for r in pending:
                if all(s in have for s in r.needs):
                    live.append(r.index)
                    have.update(r.requires)
                    progress = True
                else:
                    waiting.append(r)
            pending = waiting
        return Trace(self.cps, self.case, frozenset(live), self.excluded | rules)

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
