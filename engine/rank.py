"""Attribution: what disappears from the catalog's totals when rules are removed.

A rule's attribution is what leaves when that one rule is removed; an owner's or a cause's
is what leaves when all of its rules are removed *together* (one removal per group, not a
sum of single-rule figures: a step that two rules of one owner both require, or that
follows from another of its steps, belongs to neither rule alone but to the owner). So the
rows of a table do not add up to the group figures, nor the groups to the catalog.

Only cases in which a removed rule fired can change (no rule tests for a step's absence),
and for those the journey without it is read off the case's trace (`Trace.without`), so
ranking costs a fraction of one evaluation per firing, not a replay.

Beside the metrics (summed over cases, each case once), the yearly figures (`YEARLY`:
staff and customer hours, cost a year) weight what each case loses by its volume, so a
rule's `staff_hours` is the hours a year the yearly report loses without it."""
from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from .batch import run_cases
from .errors import Problem
from .evaluate import CaseResult, Evaluator
from .lru import BoundedLRU
from .measure import tidy_number
from .capacity import capacity_configured
from .metrics import HEADLINE, SCORES, YEARLY, YEARLY_FIGURES
from .case import Case
from .trace import Trace

__all__ = ["Attribution", "Attributor", "Ranking", "rank", "attribution_of", "RANK_METRICS", "Tally", "CaseLosses", "tally", "rank_groups",
           "ranking_from", "cases_in"]

RANK_METRICS = HEADLINE   # the metrics rank's table shows
_KEYS = (*SCORES, *YEARLY_FIGURES)
# (position in SCORES of the per-case metric, divisor) of each yearly figure
_WEIGHTED = tuple((SCORES.index(y.metric), y.per) for y in YEARLY)


def _zero() -> dict[str, float]:
    return {k: 0 for k in _KEYS}


@dataclass
class Attribution:
    name: str                    # a rule id, an owner or a cause
    cases: int = 0               # cases in which it (any of its rules) fired
    rules: int = 1
    cause: str | None = None
    owner: str | None = None
    removed: dict[str, float] = field(default_factory=_zero)  # what goes away without it


@dataclass
class Ranking:
    by: str
    rules: list[Attribution]
    owners: list[Attribution]
    causes: list[Attribution]
    cases: int
    yearly: bool = False   # the set gives minutes or costs: the yearly figures mean something


Delta = tuple[float, ...]
Losses = tuple[list[tuple[int, Delta]], list[tuple[int, Delta]]]   # before the weighting


def attribution_of(evaluator: Evaluator, case: Case, groups: Sequence[frozenset[int]] = ()
                   ) -> tuple[list[tuple[int, Delta]], list[tuple[int, Delta]]]:
    """For one case: (rule index, what removing that rule takes away) for each rule that
    fired, and (group index, what removing the group's rules together takes away) for each
    of `groups` with a rule that fired. Read off the case's trace: no replay per rule. A
    delta holds SCORES, then the yearly figures (the case's volume × its metric's loss)."""
    return _weighted(_losses(evaluator, evaluator.replay(case), groups), case.volume)


def _losses(evaluator: Evaluator, trace: Trace, groups: Sequence[frozenset[int]]) -> Losses:
    """attribution_of before the volume weighting: what each removal takes away from the
    SCORES of one journey. A function of the outcome key alone (see Attributor)."""
    base = evaluator.values(trace)
    fired = trace.fired
    # Without `unless`, removing rules that did not fire changes nothing (Trace.without reads
    # only the firings; Evaluator.values keys by the firings left), so a removal is known by
    # the rules of it that fired: a group with one rule firing here loses what that rule does.
    # With `unless` the rules left out stay out when others are unblocked: known by all of them.
    plain = not evaluator.cps.negation
    seen: dict[frozenset[int], Delta] = {}

    def delta(removed: frozenset[int]) -> Delta:
        if plain:
            removed = removed & fired
        d = seen.get(removed)
        if d is None:
            d = seen[removed] = tuple([b - a for b, a in zip(base, evaluator.values(trace.without(removed)))])
        return d

    per_rule = [(i, delta(frozenset((i,)))) for i in sorted(fired)]
    per_group = [(g, delta(rules)) for g, rules in enumerate(groups) if not rules.isdisjoint(fired)]
    return per_rule, per_group


def _weighted(losses: Losses, volume: float) -> tuple[list[tuple[int, Delta]], list[tuple[int, Delta]]]:
    """Each loss with the yearly figures appended: the case's volume × its metric's loss."""
    per_rule, per_group = losses
    return [(i, _weigh(d, volume)) for i, d in per_rule], [(g, _weigh(d, volume)) for g, d in per_group]


def _weigh(d: Delta, volume: float, cases: int = 1) -> Delta:
    """A loss of `cases` cases with these volumes summed: the loss times the cases, then the
    yearly figures (the volume × its metric's loss)."""
    return (*(d if cases == 1 else [cases * x for x in d]), *[volume * d[i] / per for i, per in _WEIGHTED])


class Attributor:
    """attribution_of for case after case, memoised: before the volume weighting, a case's
    attribution depends on nothing but what its outcome does (the Evaluator's outcome key:
    rules fired, start channel, alternatives taken, and CompiledPolicySet.signature, which
    says which steps each rule fired on and, with `unless`, what fires once rules are left
    out), so cases sharing an outcome share it, and only the weighting is per case.

    The memo is bounded by entries and by about `memo_bytes`: with big rule sets each key
    (the rules fired) and each entry (a loss per rule fired) are long. A picklable callable
    (worker processes may be spawned): the memo is made again on the receiving side."""

    def __init__(self, evaluator: Evaluator, groups: Sequence[frozenset[int]], memo_size: int = 16384,
                 memo_bytes: int = 32 * 2**20):
        self.evaluator, self.groups = evaluator, groups
        self.memo_size, self.memo_bytes = memo_size, memo_bytes
        self._memo: BoundedLRU[Losses] = BoundedLRU(memo_size, memo_bytes)

    def __getstate__(self) -> dict:
        return {"evaluator": self.evaluator, "groups": self.groups, "memo_size": self.memo_size,
                "memo_bytes": self.memo_bytes}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def __call__(self, case: Case) -> tuple[list[tuple[int, Delta]], list[tuple[int, Delta]]]:
        return _weighted(self.losses(case), case.volume)

    def of_case(self, case: Case) -> "CaseLosses":
        """What Tally.add sums: the case's losses before the weighting (the memo's entry,
        shared by the cases with its outcome) and its volume."""
        return CaseLosses(self.losses(case), case.volume)

    def losses(self, case: Case) -> Losses:
        """attribution_of before the volume weighting, from the memo when the case's
        outcome key was met before."""
        ev = self.evaluator
        cps = ev.cps
        trace = ev.replay(case)
        key = (trace.fired, case.channel, cps.choices(case), cps.signature(case))
        losses = self._memo.get(key)
        if losses is None:
            losses = _losses(ev, trace, self.groups)
            n = len(losses[0]) + len(losses[1])
            # the key's set and the losses grow with the rules fired (a loss: a tuple of floats)
            self._memo.put(key, losses, sys.getsizeof(trace.fired) + n * (64 + 32 * len(SCORES)) + 512)
        return losses


class CaseLosses(NamedTuple):
    losses: Losses   # Attributor.losses: shared by the cases with the same outcome key
    volume: float


def rank_groups(cps) -> tuple[list[tuple[str, str]], list[frozenset[int]]]:
    """The groups rank removes together: ("owner", name) and ("cause", name), sorted, each
    with its rules (indices)."""
    members: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in cps.rules:
        members["owner", r.rule.owner].add(r.index)
        members["cause", r.cause.value].add(r.index)
    keys = sorted(members)
    return keys, [frozenset(members[k]) for k in keys]


@dataclass
class Tally:
    """Attribution summed over some cases: what one worker, or one block of a catalog on a
    cluster, sends back; tallies of disjoint cases merge by adding."""

    cases: int = 0
    rules: dict[int, list] = field(default_factory=dict)    # rule index -> [cases fired, sums per key]
    groups: dict[int, list] = field(default_factory=dict)   # group index -> likewise
    problems: list[Problem] = field(default_factory=list)
    # Cases sharing an outcome share one Losses object (Attributor's memo): each is counted
    # here, [losses, cases, their volumes' sum] by the object's id, and added to the sums
    # once, times its count, when settled (a loss's yearly figures are linear in the volume).
    _pending: dict[int, list] = field(default_factory=dict, repr=False, compare=False)
    _held: int = field(default=0, repr=False, compare=False)   # the losses pending hold: their memory

    def add(self, res: CaseLosses | tuple[list[tuple[int, Delta]], list[tuple[int, Delta]]] | Problem) -> None:
        """One case: its CaseLosses, or its weighted attribution (attribution_of), or the
        Problem that kept it from being evaluated."""
        if isinstance(res, Problem):
            self.problems.append(res)
            return
        self.cases += 1
        if isinstance(res, CaseLosses):
            if not (res.losses[0] or res.losses[1]):
                return   # no rule fired: nothing to add, and nothing kept (it would hold no losses)
            entry = self._pending.get(id(res.losses))
            if entry is None:
                size = len(res.losses[0]) + len(res.losses[1])
                if self._held + size > _PENDING:
                    self.settle()
                self._held += size
                self._pending[id(res.losses)] = [res.losses, 1, res.volume]
            else:
                entry[1] += 1
                entry[2] += res.volume
            return
        for table, deltas in zip((self.rules, self.groups), res):
            for i, delta in deltas:
                _accumulate(table, i, 1, delta)

    def settle(self) -> "Tally":
        """Add the pending cases into the sums."""
        for losses, n, volume in self._pending.values():
            for table, deltas in zip((self.rules, self.groups), losses):
                for i, d in deltas:
                    _accumulate(table, i, n, _weigh(d, volume, n))
        self._pending.clear()
        self._held = 0
        return self

    def merge(self, other: "Tally") -> "Tally":
        self.settle()
        other.settle()
        self.cases += other.cases
        self.problems.extend(other.problems)
        for mine, theirs in ((self.rules, other.rules), (self.groups, other.groups)):
            for i, (n, sums) in theirs.items():
                _accumulate(mine, i, n, sums)
        return self

    def __getstate__(self) -> dict:
        self.settle()   # a worker's tally crosses to the parent settled: no losses, no ids
        return self.__dict__


# losses (one per rule or group removed) a Tally keeps pending at most, ~0.6 KB each: about
# the span of Attributor's memo (32 MB), whose entries they mostly are, so pending keeps
# little alive that the memo would not; 3,600 outcomes of 18 losses at 200 rules, 500 of
# 130 at 2,000; a catalog of distinct outcomes settles as it goes
_PENDING = 65536


def _accumulate(table: dict[int, list], i: int, n: int, sums: Sequence[float]) -> None:
    entry = table.get(i)
    if entry is None:
        table[i] = [n, list(sums)]
    else:
        entry[0] += n
        entry[1] = [a + d for a, d in zip(entry[1], sums)]


def tally(evaluator: Evaluator, cases: Iterable[Case | CaseResult | Problem],
          groups: Sequence[frozenset[int]], workers: int = 1,
          watch: Callable[[Iterator], Iterator] = iter) -> Tally:
    """Attribution summed over the cases. `watch` wraps the stream of what arrives: per-case
    attributions with one worker, a Tally per chunk of cases with more (`cases_in` says how
    many cases an item stands for)."""
    items = cases if hasattr(cases, "prepare") else (x.case if isinstance(x, CaseResult) else x for x in cases)
    out = Tally()
    attribute = Attributor(evaluator, groups).of_case
    if workers <= 1:
        for res in watch(run_cases(attribute, items)):
            out.add(res)
        return out.settle()
    # Workers sum their chunks: one small Tally crosses the process boundary per chunk, not a
    # list of losses per case, and the parent only adds them up (in catalog order).
    for part in watch(run_cases(attribute, items, workers, combine=_summed)):
        out.merge(part)
    return out.settle()


def _summed(results: list) -> Tally:
    t = Tally()
    for res in results:
        t.add(res)
    return t.settle()


def cases_in(item: Tally | Problem | tuple) -> int:
    """How many cases an item of tally's stream stands for (a progress bar's count)."""
    return item.cases + len(item.problems) if isinstance(item, Tally) else 1


def ranking_from(cps, keys: Sequence[tuple[str, str]], groups: Sequence[frozenset[int]], t: Tally,
                 by: str) -> Ranking:
    """The ranking a tally of the whole catalog gives."""
    t.settle()

    def attribution(a: Attribution, entry: list | None) -> Attribution:
        if entry is not None:
            a.cases = entry[0]
            a.removed = {k: tidy_number(v) for k, v in zip(_KEYS, entry[1])}
        return a

    rules = [attribution(Attribution(r.id, cause=r.cause.value, owner=r.rule.owner), t.rules.get(r.index))
             for r in cps.rules]
    per_group = [attribution(Attribution(name, rules=len(g)), t.groups.get(i))
                 for i, ((_, name), g) in enumerate(zip(keys, groups))]
    owners = [a for (key, _), a in zip(keys, per_group) if key == "owner"]
    causes = [a for (key, _), a in zip(keys, per_group) if key == "cause"]
    return Ranking(by=by, rules=_sorted(rules, by), owners=_sorted(owners, by), causes=_sorted(causes, by),
                   cases=t.cases, yearly=capacity_configured(cps.manifest.capacity))


def rank(evaluator: Evaluator, cases: Iterable[Case | CaseResult | Problem], by: str = "effort",
         workers: int = 1, watch: Callable[[Iterator], Iterator] = iter) -> tuple[Ranking, list[Problem]]:
    """Every rule's, owner's and cause's attribution over the cases, ranked; with the
    problems of cases that could not be evaluated. `watch` wraps the stream of per-case
    results (a progress bar)."""
    keys, groups = rank_groups(evaluator.cps)
    t = tally(evaluator, cases, groups, workers, watch)
    return ranking_from(evaluator.cps, keys, groups, t, by), t.problems


def _sorted(items: list[Attribution], by: str) -> list[Attribution]:
    return sorted(items, key=lambda a: (-a.removed[by], -a.removed["steps"], a.name))
