"""Findings on a journey: where it hurts and whose rule makes it hurt.

Each flag names the steps, the rules and their owners behind it, and says in one line
what a customer goes through."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .compile import CompiledPolicySet
from .journey import Journey, JourneyStep
from .measure import Metrics, customer_visible
from .model import Cause, Lane, STAFF_ONLY

__all__ = ["Flag", "FLAG_KINDS", "judge", "policy_ancestry", "POLICY_CAUSES"]

POLICY_CAUSES = frozenset({Cause.policy, Cause.practice})
FLAG_KINDS = ("policy-made", "channel-switch", "repeated-ask", "handoffs", "silent-wait", "limit")


@dataclass(frozen=True)
class Flag:
    kind: str
    message: str
    steps: tuple[str, ...]
    rules: tuple[str, ...]
    owners: tuple[str, ...]
    metric: str | None = None  # for `limit` flags

    def as_dict(self) -> dict:
        d = {"kind": self.kind, "message": self.message, "steps": list(self.steps),
             "rules": list(self.rules), "owners": list(self.owners)}
        if self.metric:
            d["metric"] = self.metric
        return d


def policy_ancestry(cps: CompiledPolicySet, journey: Journey, only: set[str] | None = None) -> dict[str, set[int]]:
    """For each step (or each of `only`), every rule (index) on any chain that required it:
    the rules that required it, the rules that required the steps those matched on, and so
    on (plain reachability; chains may loop back, so no result is memoised half-way)."""
    rules = cps.rules
    by_step: dict[int, list[int]] = {}
    for i in journey.trace.fired:
        for s in rules[i].requires:
            by_step.setdefault(s, []).append(i)
    out: dict[str, set[int]] = {}
    for step in journey.steps:
        if only is not None and step.action not in only:
            continue
        found: set[int] = set()
        seen, todo = {step.id}, [step.id]
        while todo:
            for i in by_step.get(todo.pop(), ()):
                if i not in found:
                    found.add(i)
                    for s in rules[i].needs:
                        if s not in seen:
                            seen.add(s)
                            todo.append(s)
        out[step.action] = found
    return out


def judge(cps: CompiledPolicySet, journey: Journey, metrics: Metrics,
          policy_made: set[str]) -> tuple[Flag, ...]:
    rules = cps.rules
    manifest = cps.manifest
    flags: list[Flag] = []
    owner_of = cps.owner_of

    def make(kind: str, message: str, steps: list[JourneyStep], rule_ids, metric=None) -> Flag:
        rule_ids = sorted(set(rule_ids))
        owners = sorted({owner_of[r] for r in rule_ids})
        return Flag(kind, message, tuple(s.action for s in steps), tuple(rule_ids), tuple(owners), metric)

    def one(kind: str, message: str, s: JourneyStep, rule_ids: tuple[str, ...]) -> Flag:
        # one step, rule ids already sorted and distinct (a step's own, or read in index order)
        return Flag(kind, message, (s.action,), rule_ids, tuple(sorted({owner_of[r] for r in rule_ids})), None)

    if policy_made:
        ancestry = policy_ancestry(cps, journey, policy_made)
        for s in journey.steps:
            if s.action in policy_made:
                # rule indices sort as rule ids do (the compiled set is sorted by id)
                behind = tuple(rules[i].id for i in sorted(ancestry[s.action]) if rules[i].cause in POLICY_CAUSES)
                flags.append(one("policy-made", f"'{s.action}' is there only because of policy or practice "
                                 f"({', '.join(behind)})", s, behind))

    visible = customer_visible(journey)
    seen_by_customer = {s.action for s in visible}
    case = journey.trace.case
    if visible and visible[0].channel != case.channel:
        s = visible[0]
        flags.append(one("channel-switch", f"starts in {case.channel} but must {s.action} by {s.channel}",
                         s, s.rules))
    for a, b in zip(visible, visible[1:]):
        if a.channel != b.channel:
            flags.append(one("channel-switch", f"moves from {a.channel} to {b.channel} to {b.action}",
                             b, b.rules))

    asked: dict[str, list[JourneyStep]] = defaultdict(list)
    for s in journey.steps:
        for item in s.step.asks:
            asked[item].append(s)
    for item in sorted(asked):
        steps = asked[item]
        if len(steps) > 1:
            flags.append(make("repeated-ask", f"asked for {item} {len(steps)} times: "
                              + ", ".join(f"'{s.action}'" for s in steps),
                              steps, [r for s in steps[1:] for r in s.rules]))

    limit = manifest.thresholds.handoffs
    if metrics.handoffs > limit:
        at = [b for a, b in zip(journey.steps, journey.steps[1:]) if a.department != b.department]
        flags.append(make("handoffs", f"{metrics.handoffs} handoffs between departments "
                          f"(threshold {limit})", at, [r for s in at for r in s.rules]))

    wait = manifest.thresholds.silent_wait_days
    for s in journey.steps:
        if s.days > wait and not s.step.informs:
            flags.append(one("silent-wait", f"waits {s.days:g} days at '{s.action}' with no word "
                             f"to the customer (threshold {wait:g})", s, s.rules))

    counted = {
        "customer_steps": lambda s: s.lane == Lane.customer,
        "backstage_steps": lambda s: s.lane in STAFF_ONLY,
        "channels": lambda s: s.action in seen_by_customer,
        "channel_switches": lambda s: s.action in seen_by_customer,
        "repeated_asks": lambda s: bool(s.step.asks),
        "policy_steps": lambda s: s.action in policy_made,
    }
    for metric, bound in sorted(manifest.limits.items()):
        value = metrics[metric]
        if value > bound:
            steps = [s for s in journey.steps if counted.get(metric, lambda s: True)(s)]
            flags.append(make("limit", f"{metric} is {value:g}, over the policy set's limit of {bound:g}",
                              steps, [r for s in steps for r in s.rules], metric))
    return tuple(flags)
