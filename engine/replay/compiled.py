"""The fast path: generated matchers, then the counting fixed point of friction.fixpoint."""
from __future__ import annotations

from ..compile import CompiledPolicySet
from ..fixpoint import fire
from ..model import Case
from ..trace import Trace, build_trace


class CompiledEngine:
    name = "compiled"

    def __init__(self, cps: CompiledPolicySet):
        self.cps = cps

    def fire(self, case: Case, excluded: frozenset[int] = frozenset()) -> list[int]:
        return fire(self.cps, case, excluded)

    def replay(self, case: Case, excluded: frozenset[int] = frozenset()) -> Trace:
        return build_trace(self.cps, case, self.fire(case, excluded), excluded)
