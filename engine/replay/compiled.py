"""The fast path: generated matchers, then chaining by counting each waiting rule's
missing steps down to zero (each rule and step is visited once)."""
from __future__ import annotations

from ..compile import CompiledPolicySet
from ..model import Case
from ..trace import Trace, build_trace


class CompiledEngine:
    name = "compiled"

    def __init__(self, cps: CompiledPolicySet):
        self.cps = cps
        self._matchers = cps.matchers
        self._needs = [len(r.needs) for r in cps.rules]
        self._requires = [r.requires for r in cps.rules]
        # step id -> rules that wait on it: static, so a case only counts down
        self._waiting: list[list[int]] = [[] for _ in cps.actions]
        for r in cps.rules:
            for s in r.needs:
                self._waiting[s].append(r.index)

    def fire(self, case: Case, excluded: frozenset[int] = frozenset()) -> list[int]:
        match = self._matchers.get(case.event)
        if match is None:
            return []
        ready, candidates = match(case.attrs)
        if excluded:
            ready = [r for r in ready if r not in excluded]
            candidates = [r for r in candidates if r not in excluded]
        if not candidates:
            return ready  # nothing waits on a step: every rule that matched fires
        needs, requires, waiting = self._needs, self._requires, self._waiting
        missing = {r: needs[r] for r in candidates}   # rules still waiting, with how many steps they lack
        fired: list[int] = []
        have: set[int] = set()
        while ready:
            r = ready.pop()
            fired.append(r)
            for s in requires[r]:
                if s not in have:
                    have.add(s)
                    for w in waiting[s]:
                        if w in missing:
                            missing[w] -= 1
                            if not missing[w]:
                                ready.append(w)
        return fired

    def replay(self, case: Case, excluded: frozenset[int] = frozenset()) -> Trace:
        return build_trace(self.cps, case, self.fire(case, excluded), excluded)
