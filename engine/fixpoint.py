"""The least model of a policy set on one case: which rules fire.

Every rule's condition is monotone in the steps it tests, so without `unless` the rules
that fire are the least fixed point, whatever order they are taken in. The compiler
resolves the chaining at compile time: each life event's generated function (compile's
`fire_N`) takes the rules in step-dependency order (logic.chain_order), so one pass
reaches the fixed point and only rules that chain in a cycle loop until nothing new fires.

A rule with `unless` comes after every rule that can require a step it tests for absence
(logic.strata refuses a set where that is a cycle), so those steps are decided for good by
the time it is tested: the result is the stratified model of Datalog with negation, unique
and independent of the order rules are written or fire in.
"""
from __future__ import annotations

from .compile import CompiledPolicySet
from .case import Case

__all__ = ["fire"]


def fire(cps: CompiledPolicySet, case: Case, excluded: frozenset[int] = frozenset()) -> list[int]:
    """The rules (indices) that fire for `case` with the rules in `excluded` removed."""
    run = cps.firers.get(case.event)
    return run(case.attrs, excluded) if run is not None else []
