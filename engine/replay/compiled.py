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
        self._needs = [r.needs for r in cps.rules]
        self._requires = [r.requires for r in cps.rules]

    def fire(self, case: Case, excluded: frozenset[int] = frozenset()) -> list[int]:
        needs, requires = self._needs, self._requires
        ready: list[int] = []
        missing: dict[int, int] = {}
        waiting: dict[int, list[int]] = {}
        for r in self.cps.candidates(case):
            if r in excluded:
                continue
            if needs[r]:
                missing[r] = len(needs[r])
                for s in needs[r]:
                    waiting.setdefault(s, []).append(r)
            else:
                ready.append(r)
        fired: list[int] = []
        have: set[int] = set()
        while ready:
            r = ready.pop()
            fired.append(r)
            for s in requires[r]:
                if s not in have:
                    have.add(s)
                    for w in waiting.get(s, ()):
                        missing[w] -= 1
                        if not missing[w]:
                            ready.append(w)
        return fired

    def replay(self, case: Case, excluded: frozenset[int] = frozenset()) -> Trace:
        return build_trace(self.cps, case, self.fire(case, excluded), excluded)
