"""The least model of a policy set on one case: which rules fire.

Every rule's condition is monotone in the steps it tests, so without `unless` the rules
that fire are the least fixed point, found by counting each live unit's (a rule
alternative that tests steps) missing steps down to zero: each rule and step is visited
once, and the result does not depend on the order rules are taken.

A rule with `unless` is held back until the queue is empty and no rule of a lower stratum
is held back; then its `unless` steps are decided for good (every rule that can require
them is in a lower stratum: logic.strata), and it fires or never does. So the result is
still unique: the stratified model of Datalog with negation.
"""
from __future__ import annotations

from .compile import CompiledPolicySet
from .model import Case

__all__ = ["fire"]


def fire(cps: CompiledPolicySet, case: Case, excluded: frozenset[int] = frozenset()) -> list[int]:
    """The rules (indices) that fire for `case` with the rules in `excluded` removed."""
    match = cps.matchers.get(case.event)
    if match is None:
        return []
    ready, units = match(case.attrs)
    rules = cps.rules
    if excluded:
        ready = [r for r in ready if r not in excluded]
        unit_rule = cps.unit_rule
        units = [u for u in units if unit_rule[u] not in excluded]
    if not units and not cps.guarded:
        return ready  # nothing waits on a step: every rule that matched fires
    unit_rule, size, on_step, requires = cps.unit_rule, cps.unit_size, cps.units_on_step, cps.rule_requires
    siblings = cps.sibling_units
    missing = {u: size[u] for u in units}   # live units, with how many steps they lack
    fired = []
    have = set()
    held: dict[int, list[int]] = {}      # stratum -> rules with `unless` waiting for it
    decided: set[int] = set()            # rules whose `unless` passed
    guarded = cps.guarded
    queue = ready
    while True:
        while queue:
            r = queue.pop()
            if r in guarded and r not in decided:
                held.setdefault(rules[r].stratum, []).append(r)
                continue
            fired.append(r)
            for s in requires[r]:
                if s not in have:
                    have.add(s)
                    for u in on_step[s]:
                        if u in missing:
                            missing[u] -= 1
                            if not missing[u]:
                                w = unit_rule[u]
                                for v in siblings[u]:   # its other ways to wait: it is queued once
                                    missing.pop(v, None)
                                queue.append(w)
        if not held:
            return fired
        for r in held.pop(min(held)):
            if not any(s in have for s in rules[r].unless):
                decided.add(r)
                queue.append(r)
