"""A new outcome's journey order, metrics and flag counts in one pass over small ints.

The general path (journey.order_steps, Trace.depth and Trace.without, measure_ids,
judge.flag_counts) handles every policy set. For the common case a compiled set can do
part of its work once: when every rule fires in one way (no `unless`, at most one
alternative testing steps) and no rules chain in a cycle, taking the fired rules in
step-dependency order (CompiledPolicySet.chain_rank) settles depths and the policy-made
steps in one pass, and each step's facts are read from flat tuples made once per set of
facts.
`summarize` returns None when a journey is outside that case, or when `after` closes a
cycle with chain edges (journey.order_steps then drops chain edges); the caller takes the
general path. Tests check that both paths give the same answers on generated sets."""
from __future__ import annotations

from typing import NamedTuple, Sequence

from .compile import CompiledPolicySet
from .journey import place_steps
from .measure import step_items, tidy_number
from .metrics import StepFacts
from .vocabulary import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, STAFF_ONLY, Lane

__all__ = ["Kernel", "Summary"]


class Summary(NamedTuple):
    ordered: list[int]                  # step ids in journey order
    values: tuple[float, ...]           # METRICS, in registry order
    repeated_items: int                 # information items the customer is asked for more than once
    silent_waits: int                   # steps waiting past the threshold with no word


_CUSTOMER = Lane.customer.value
_FRONTSTAGE = Lane.frontstage.value
_VISIBLE = frozenset(l.value for l in CUSTOMER_VISIBLE)
_STAFF = frozenset(l.value for l in STAFF_ONLY)


class Kernel:
    """What the one-pass path reads, made once per compiled set."""

    def __init__(self, cps: CompiledPolicySet, policy_rules: frozenset[int], silent_wait_days: float):
        self.applies = not cps.ambiguous
        self.rank = cps.chain_rank
        self.cyclic = cps.cyclic
        self.needs = cps.rule_needs   # what a fired rule fired on (Trace.matched)
        self.requires = cps.rule_requires
        self.at_zero = tuple(dict.fromkeys(r, 0) for r in cps.rule_requires)   # a rule's steps at depth 0
        self.after = cps.step_after
        self.has_after = frozenset(s for s, ps in enumerate(cps.step_after) if ps)
        # steps some step comes after, or that come after some: finish days follow `after` through them
        self.timed = self.has_after | frozenset(p for ps in cps.step_after for p in ps)
        self.policy = policy_rules
        self.wait = silent_wait_days
        self._rows: dict[int, tuple[Sequence[StepFacts], tuple[list[tuple], list[str], list[str]]]] = {}

    def rows(self, facts: Sequence[StepFacts]) -> tuple[list[tuple], list[str], list[str]]:
        """Each step id's facts as one flat tuple, with what the pass asks of it decided;
        and each step id's department and channel (the order's tie-break reads them)."""
        hit = self._rows.get(id(facts))
        if hit is None or hit[0] is not facts:
            if len(self._rows) > 256:
                self._rows.clear()
            out = []
            for s, f in enumerate(facts):
                # 0: staff-only; 1: the customer acts; 2: on the customer path, an `informs`
                # message; 3: anywhere else
                kind = (0 if f.lane in _STAFF else 3 if f.lane not in _VISIBLE
                        else 2 if f.informs and f.lane == _FRONTSTAGE else 1)
                money = (f.fee, f.minutes, f.customer_minutes, f.cost)
                out.append((f.department, f.channel, kind, f.lane == _CUSTOMER, f.channel != INTERNAL_CHANNEL,
                            tuple(step_items(f.asks)), float(f.days), money if any(money) else None,
                            f.days > self.wait and not f.informs, s in self.timed))
            hit = self._rows[id(facts)] = (facts, (out, [f.department for f in facts], [f.channel for f in facts]))
        return hit[1]

    def summarize(self, fired: frozenset[int], start_channel: str, facts: Sequence[StepFacts]) -> Summary | None:
        if not self.applies or (self.cyclic and not self.cyclic.isdisjoint(fired)):
            return None
        needs, requires, policy = self.needs, self.requires, self.policy
        # depth: a rule's steps sit one below the deepest step it fired on, and a step
        # required by several rules at the least of their depths; policy-made: the steps no
        # rule left without policy and practice rules requires. Rules that fired on no
        # step put theirs at depth 0 and keep them whatever else fired: they go first.
        depth: dict[int, int] = {}
        kept: set[int] = set()
        at_zero = self.at_zero
        chained = []
        for i in fired:
            if needs[i]:
                chained.append(i)
            else:
                depth.update(at_zero[i])
                if i not in policy:
                    kept.update(requires[i])
        if chained:
            # the rules that fired on steps, in step-dependency order: every rule that can
            # require the steps one fired on came first
            chained.sort(key=self.rank.__getitem__)
            get = depth.get
            for i in chained:
                nd = needs[i]
                d = 0
                for n in nd:
                    x = depth[n]
                    if x >= d:
                        d = x + 1
                if i not in policy and all([n in kept for n in nd]):
                    kept.update(requires[i])
                for t in requires[i]:
                    x = get(t)
                    if x is None or x > d:
                        depth[t] = d
        # dependency edges, for the steps with any: `after` within the journey, and chain
        # edges down the chain
        into: dict[int, list[int]] = {}
        after = self.after
        steps = set(depth)   # a set: a dict's keys & a frozenset would walk the frozenset
        for s in steps & self.has_after:
            ps = [p for p in after[s] if p in depth]
            if ps:
                into[s] = ps
        for i in chained:
            nd = needs[i]
            for t in requires[i]:
                dt = depth[t]
                for n in nd:
                    if dt > depth[n]:
                        ps = into.get(t)
                        if ps is None:
                            into[t] = [n]
                        elif n not in ps:
                            ps.append(n)
        rows, dept_of, channel_of = self.rows(facts)
        ordered = place_steps(steps, into, dept_of, channel_of)
        if len(ordered) < len(depth):
            return None   # `after` closes a cycle with chain edges: journey.order_steps drops those
        # the metrics, as measure._measure defines them (sums in journey order), and the
        # flag counts judge.flag_kinds makes
        customer = staff = handoffs = switches = staff_handoffs = silent = 0
        fees = minutes = customer_minutes = cost = elapsed = 0.0
        finish: dict[int, float] = {}
        departments, path_depts, path_channels = set(), set(), set()
        asked: dict[str, int] = {}
        rekeyed: dict[str, int] = {}
        last_dept = None
        last_channel = start_channel
        for s in ordered:
            dept, channel, kind, is_customer, external, items, days, money, waits, timed = rows[s]
            if timed:   # it waits for others' finish, or others for its
                start = 0.0
                for p in after[s]:
                    x = finish.get(p)
                    if x is not None and x > start:
                        start = x
                days += start
                finish[s] = days
            if days > elapsed:
                elapsed = days
            if waits:
                silent += 1
            departments.add(dept)
            if money is not None:   # adding zeros changes no sum: skipped
                fee, staff_min, customer_min, step_cost = money
                fees += fee
                minutes += staff_min
                customer_minutes += customer_min
                cost += step_cost
            if kind == 0:
                staff += 1
                if s in into:
                    for p in into[s]:
                        if dept_of[p] != dept:
                            staff_handoffs += 1
                for item in items:
                    rekeyed[item] = rekeyed.get(item, 0) + 1
                continue
            if kind == 3:
                continue
            if is_customer:
                customer += 1
            if dept != last_dept:
                if last_dept is not None:
                    handoffs += 1
                last_dept = dept
                path_depts.add(dept)
            if external:
                path_channels.add(channel)
            if kind == 2:
                continue
            if channel != last_channel:
                switches += 1
                last_channel = channel
            for item in items:
                asked[item] = asked.get(item, 0) + 1
        repeated = 0
        for k in asked.values():
            if k > 1:
                repeated += 1
        if fees or minutes or customer_minutes or cost:
            fees, minutes, customer_minutes, cost = (tidy_number(fees), tidy_number(minutes),
                                                     tidy_number(customer_minutes), tidy_number(cost))
        else:   # tidy_number(0.0), as most journeys have it
            fees = minutes = customer_minutes = cost = 0
        return Summary(ordered, (
            len(ordered), customer, staff, len(departments), len(path_depts), len(path_channels), handoffs,
            staff_handoffs, switches, sum(asked.values()) - len(asked),
            sum([k if item in asked else k - 1 for item, k in rekeyed.items()]) if rekeyed else 0,
            tidy_number(elapsed), fees, len(depth) - len(kept), minutes, customer_minutes, cost,
        ), repeated, silent)

