"""Attribution: what disappears from the catalog's totals when rules are removed.

A rule's attribution is what leaves when that one rule is removed; an owner's or a cause's
is what leaves when all of its rules are removed *together* (one removal per group, not a
sum of single-rule figures: a step that two rules of one owner both require, or that
follows from another of its steps, belongs to neither rule alone but to the owner). So the
rows of a table do not add up to the group figures, nor the groups to the catalog.

Only cases in which a removed rule fired can change (no rule tests for a step's absence),
and for those the journey without it is read off the case's trace (`Trace.without`), so
ranking costs a fraction of one evaluation per firing, not a replay."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

from .batch import run_cases
from .errors import Problem
from .evaluate import CaseResult, Evaluator
from .measure import tidy_number
from .metrics import HEADLINE, SCORES
from .model import Case

__all__ = ["Attribution", "Ranking", "rank", "attribution_of", "RANK_METRICS"]

RANK_METRICS = HEADLINE   # the metrics rank's table shows
_KEYS = SCORES


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


Delta = tuple[float, ...]


def attribution_of(evaluator: Evaluator, case: Case, groups: Sequence[frozenset[int]] = ()
                   ) -> tuple[list[tuple[int, Delta]], list[tuple[int, Delta]]]:
    """For one case: (rule index, what removing that rule takes away) for each rule that
    fired, and (group index, what removing the group's rules together takes away) for each
    of `groups` with a rule that fired. Read off the case's trace: no replay per rule."""
    trace = evaluator.replay(case)
    base = evaluator.values(trace)

    def delta(removed: frozenset[int]) -> Delta:
        return tuple(b - a for b, a in zip(base, evaluator.values(trace.without(removed))))

    per_rule = [(i, delta(frozenset({i}))) for i in sorted(trace.fired)]
    per_group = [(g, delta(rules)) for g, rules in enumerate(groups) if rules & trace.fired]
    return per_rule, per_group


class _Attribute:
    """The per-case task: a picklable callable (worker processes may be spawned)."""

    def __init__(self, evaluator: Evaluator, groups: Sequence[frozenset[int]]):
        self.evaluator, self.groups = evaluator, groups

    def __call__(self, case: Case):
        return attribution_of(self.evaluator, case, self.groups)


def rank(evaluator: Evaluator, cases: Iterable[Case | CaseResult | Problem], by: str = "effort",
         workers: int = 1, watch: Callable[[Iterator], Iterator] = iter) -> tuple[Ranking, list[Problem]]:
    """Every rule's, owner's and cause's attribution over the cases, ranked; with the
    problems of cases that could not be evaluated. `watch` wraps the stream of per-case
    results (a progress bar)."""
    cps = evaluator.cps
    per_rule = {r.index: Attribution(r.id, cause=r.cause.value, owner=r.rule.owner) for r in cps.rules}
    members: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in cps.rules:
        members["owner", r.rule.owner].add(r.index)
        members["cause", r.cause.value].add(r.index)
    keys = sorted(members)
    groups = [frozenset(members[k]) for k in keys]
    per_group = [Attribution(name, rules=len(members[key, name])) for key, name in keys]
    items = cases if hasattr(cases, "prepare") else (x.case if isinstance(x, CaseResult) else x for x in cases)
    problems: list[Problem] = []
    n = 0
    for res in watch(run_cases(_Attribute(evaluator, groups), items, workers)):
        if isinstance(res, Problem):
            problems.append(res)
            continue
        n += 1
        rule_deltas, group_deltas = res
        for table, deltas in ((per_rule, rule_deltas), (per_group, group_deltas)):
            for i, delta in deltas:
                a = table[i]
                a.cases += 1
                for k, d in zip(_KEYS, delta):
                    a.removed[k] += d
    for a in (*per_rule.values(), *per_group):
        a.removed = {k: tidy_number(v) for k, v in a.removed.items()}
    owners = [a for (key, _), a in zip(keys, per_group) if key == "owner"]
    causes = [a for (key, _), a in zip(keys, per_group) if key == "cause"]
    return Ranking(by=by, rules=_sorted(list(per_rule.values()), by), owners=_sorted(owners, by),
                   causes=_sorted(causes, by), cases=n), problems


def _sorted(items: list[Attribution], by: str) -> list[Attribution]:
    return sorted(items, key=lambda a: (-a.removed[by], -a.removed["steps"], a.name))
