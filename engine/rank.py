"""Attribution: what disappears from the catalog's totals when one rule alone is removed.

Only cases in which the rule fired can change (no rule tests for a step's absence), and
for those the journey without the rule is read off the case's trace (`Trace.without`),
so ranking every rule costs a fraction of one evaluation per firing, not a replay."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

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
    cases: int = 0               # cases in which it fired
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




def attribution_of(evaluator: Evaluator, case: Case) -> list[tuple[int, tuple[float, ...]]]:
    """For one case: (rule index, what removing that rule takes away) for each rule that fired.
    Read off the case's trace: no replay per rule."""
    trace = evaluator.replay(case)
    base = evaluator.values(trace)
    out = []
    for i in sorted(trace.fired):
        after = evaluator.values(trace.without(frozenset({i})))
        out.append((i, tuple(b - a for b, a in zip(base, after))))
    return out


def rank(evaluator: Evaluator, cases: Iterable[Case | CaseResult | Problem], by: str = "effort",
         workers: int = 1, watch: Callable[[Iterator], Iterator] = iter) -> tuple[Ranking, list[Problem]]:
    """Every rule's attribution over the cases, ranked; with the problems of cases that
    could not be evaluated. `watch` wraps the stream of per-case results (a progress bar)."""
    cps = evaluator.cps
    per_rule = {r.index: Attribution(r.id, cause=r.cause.value, owner=r.rule.owner) for r in cps.rules}
    items = cases if hasattr(cases, "prepare") else (x.case if isinstance(x, CaseResult) else x for x in cases)
    problems: list[Problem] = []
    n = 0
    for res in watch(run_cases(lambda case: attribution_of(evaluator, case), items, workers)):
        if isinstance(res, Problem):
            problems.append(res)
            continue
        n += 1
        for i, delta in res:
            a = per_rule[i]
            a.cases += 1
            for k, d in zip(_KEYS, delta):
                a.removed[k] += d
    rules = list(per_rule.values())
    for a in rules:
        a.removed = {k: tidy_number(v) for k, v in a.removed.items()}

    def roll(key: str) -> list[Attribution]:
        groups: dict[str, Attribution] = defaultdict(lambda: Attribution("", rules=0))
        for a in rules:
            g = groups[getattr(a, key)]
            g.name = getattr(a, key)
            g.rules += 1
            g.cases += a.cases
            for k in _KEYS:
                g.removed[k] += a.removed[k]
        out = list(groups.values())
        for g in out:
            g.removed = {k: tidy_number(v) for k, v in g.removed.items()}
        return _sorted(out, by)

    return Ranking(by=by, rules=_sorted(rules, by), owners=roll("owner"), causes=roll("cause"), cases=n), problems


def _sorted(items: list[Attribution], by: str) -> list[Attribution]:
    return sorted(items, key=lambda a: (-a.removed[by], -a.removed["steps"], a.name))
