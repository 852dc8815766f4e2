"""Findings on a journey: where it hurts and whose rule makes it hurt.

Each flag names the steps, the rules and their owners behind it, and says in one line
what a customer goes through."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

from .compile import CompiledPolicySet
from .journey import Journey, JourneyStep
from .measure import Metrics, ask_items, customer_acts, customer_visible, step_items
from .metrics import METRIC_INDEX, StepFacts
from .vocabulary import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, STAFF_ONLY, Cause, Lane

__all__ = ["Flag", "FLAG_KINDS", "judge", "flag_kinds", "flag_counts", "flag_tally", "FlagTally", "kinds_of", "tally_kinds", "policy_ancestry", "limit_blame", "critical_path", "POLICY_CAUSES"]

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
                    for s in journey.trace.matched(i):
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

    visible = customer_visible(journey)          # the customer path
    acts = customer_acts(visible)
    case = journey.trace.case
    if acts and acts[0].channel != case.channel:
        s = acts[0]
        flags.append(one("channel-switch", f"starts in {case.channel} but must {s.action} by {s.channel}",
                         s, s.rules))
    for a, b in zip(acts, acts[1:]):
        if a.channel != b.channel:
            flags.append(one("channel-switch", f"moves from {a.channel} to {b.channel} to {b.action}",
                             b, b.rules))

    asked: dict[str, list[JourneyStep]] = defaultdict(list)
    for s in acts:
        for item in sorted(ask_items(s.step.asks)):
            asked[item].append(s)
    for item in sorted(asked):
        steps = asked[item]
        if len(steps) > 1:
            flags.append(make("repeated-ask", f"asked for {item} {len(steps)} times: "
                              + ", ".join(f"'{s.action}'" for s in steps),
                              steps, [r for s in steps[1:] for r in s.rules]))

    limit = manifest.thresholds.handoffs
    if metrics.handoffs > limit:   # on the customer path: the customer passed from team to team
        at = limit_blame("handoffs", journey, policy_made)
        flags.append(make("handoffs", f"{metrics.handoffs} handoffs between departments "
                          f"(threshold {limit})", at, [r for s in at for r in s.rules]))

    wait = manifest.thresholds.silent_wait_days
    for s in journey.steps:
        if s.days > wait and not s.step.informs:
            flags.append(one("silent-wait", f"waits {s.days:g} days at '{s.action}' with no word "
                             f"to the customer (threshold {wait:g})", s, s.rules))

    for metric, bound in sorted(manifest.limits.items()):
        value = metrics[metric]
        if value > bound:
            steps = limit_blame(metric, journey, policy_made)
            flags.append(make("limit", f"{metric} is {value:g}, over the policy set's limit of {bound:g}",
                              steps, [r for s in steps for r in s.rules], metric))
    return tuple(flags)


def flag_kinds(cps: CompiledPolicySet, steps: Sequence[StepFacts], start_channel: str,
               metrics: Metrics) -> tuple[str, ...]:
    """The kinds of the flags `judge` raises on a journey (its steps' facts in journey
    order), in judge's order, without building the flags: what summary rows and totals
    need. Each count follows judge's rule for that kind."""
    return kinds_of(cps.manifest, metrics.values(), *flag_counts(cps.manifest, steps))


def flag_counts(manifest, steps: Sequence[StepFacts]) -> tuple[int, int]:
    """What flag kinds need beside the metrics, from a journey's step facts in journey
    order: the information items the customer acts on more than once (repeated-ask), and
    the steps waiting past the threshold with no word (silent-wait)."""
    asked: dict[str, int] = {}
    silent = 0
    wait = manifest.thresholds.silent_wait_days
    for _, lane, _, _, asks, days, informs, *_ in steps:
        if days > wait and not informs:
            silent += 1
        if asks and lane in _VISIBLE and not (informs and lane == _FRONTSTAGE):   # the customer acts
            for item in step_items(asks):
                asked[item] = asked.get(item, 0) + 1
    return sum(1 for k in asked.values() if k > 1), silent



def kinds_of(manifest, values: Sequence[float], repeated_items: int, silent_waits: int) -> tuple[str, ...]:
    """flag_kinds from the metric values (registry order, METRICS) and what they do not
    hold: the information items the customer is asked for more than once, and the steps
    waiting past the threshold with no word."""
    return tally_kinds(flag_tally(manifest, values, repeated_items, silent_waits))


def tally_kinds(tally: Sequence[int]) -> tuple[str, ...]:
    """Each flag's kind, in judge's order, from how many there are of each (flag_tally)."""
    out: tuple[str, ...] = ()
    for kind, n in zip(FLAG_KINDS, tally):
        if n:
            out += (kind,) * n
    return out


def flag_tally(manifest, values: Sequence[float], repeated_items: int, silent_waits: int) -> tuple[int, ...]:
    """How many flags of each kind (FLAG_KINDS order) kinds_of gives."""
    return FlagTally(manifest)(values, repeated_items, silent_waits)


class FlagTally:
    """flag_tally for one manifest, its limits and threshold looked up once (a batch run
    asks once per new outcome)."""

    def __init__(self, manifest):
        self.limits = tuple((METRIC_INDEX[metric], bound) for metric, bound in manifest.limits.items())
        self.handoffs = manifest.thresholds.handoffs

    def __call__(self, values: Sequence[float], repeated_items: int, silent_waits: int) -> tuple[int, ...]:
        limits = 0
        for i, bound in self.limits:
            if values[i] > bound:
                limits += 1
        return (values[_POLICY], values[_SWITCHES], repeated_items,
                1 if values[_HANDOFFS] > self.handoffs else 0, silent_waits, limits)


_POLICY, _SWITCHES, _HANDOFFS = (METRIC_INDEX[m] for m in ("policy_steps", "channel_switches", "handoffs"))


_VISIBLE = frozenset(l.value for l in CUSTOMER_VISIBLE)
_FRONTSTAGE = Lane.frontstage.value


def limit_blame(metric: str, journey: Journey, policy_made: set[str]) -> list[JourneyStep]:
    """The steps that make `metric` what it is, as the metric is defined (DESIGN.md): a
    `limit` flag names them and their rules, not every rule of the journey."""
    steps = journey.steps
    visible = customer_visible(journey)          # the customer path
    if metric == "customer_steps":
        return [s for s in steps if s.lane == Lane.customer]
    if metric == "backstage_steps":
        return [s for s in steps if s.lane in STAFF_ONLY]
    if metric == "channels":
        return [s for s in visible if s.channel != INTERNAL_CHANNEL]
    if metric == "customer_departments":
        return visible
    if metric == "handoffs":   # the step the customer is handed to, at each hand-off of the customer path
        return [b for a, b in zip(visible, visible[1:]) if a.department != b.department]
    if metric == "staff_handoffs":   # the staff step work is handed to, at each such dependency edge
        handed = {b for a, b in journey.edges
                  if steps[b].lane in STAFF_ONLY and steps[a].department != steps[b].department}
        return [steps[i] for i in sorted(handed)]
    acts = customer_acts(visible)
    if metric == "channel_switches":   # the step in the new channel, at each switch
        first = acts[:1] if acts and acts[0].channel != journey.trace.case.channel else []
        return first + [b for a, b in zip(acts, acts[1:]) if a.channel != b.channel]
    if metric == "repeated_asks":   # every step the customer acts in asking again for an item
        return _asking_again(acts, set())
    if metric == "staff_rekeys":    # every staff step handling an item again
        given = {item for s in acts for item in ask_items(s.step.asks)}
        return _asking_again([s for s in steps if s.lane in STAFF_ONLY], given)
    if metric == "customer_fees":
        return [s for s in steps if s.step.fee]
    if metric == "elapsed_days":
        return critical_path(journey)
    if metric == "policy_steps":
        return [s for s in steps if s.action in policy_made]
    return list(steps)   # steps, departments: every step counts


def _asking_again(steps: list[JourneyStep], asked: set[str]) -> list[JourneyStep]:
    """The steps asking for an item already in `asked` or asked by an earlier one of them."""
    again = []
    for s in steps:
        items = ask_items(s.step.asks)
        if items & asked:
            again.append(s)
        asked |= items
    return again


def critical_path(journey: Journey) -> list[JourneyStep]:
    """The steps on a longest path of durations through `after` (on every one, when several
    tie), in journey order: what makes elapsed_days."""
    steps = journey.steps
    at = {s.action: i for i, s in enumerate(steps)}
    start, finish = [0.0] * len(steps), [0.0] * len(steps)
    for i, s in enumerate(steps):   # journey order is topological in `after`
        start[i] = max((finish[at[p]] for p in s.after if p in at), default=0.0)
        finish[i] = start[i] + s.days
    longest = max(finish, default=0.0)
    on = {i for i in range(len(steps)) if finish[i] == longest}
    todo = list(on)
    while todo:
        i = todo.pop()
        for p in steps[i].after:
            j = at.get(p)
            if j is not None and j not in on and finish[j] == start[i]:
                on.add(j)
                todo.append(j)
    return [steps[i] for i in sorted(on)]
