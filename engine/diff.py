"""Baseline against draft: what a draft policy set changes, case by case and in total."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from .capacity import burden_shift, capacity_configured
from .evaluate import CaseResult, Evaluation
from .judge import Flag
from .measure import tidy_number
from .metrics import SCORES

__all__ = ["CaseDiff", "Diff", "case_diff", "diff", "increases", "DIFF_KEYS"]

DIFF_KEYS = SCORES


@dataclass
class CaseDiff:
    case: str
    before: dict[str, float] | None     # None: the case is only in the draft's evaluation
    after: dict[str, float] | None      # None: only in the baseline's
    removed_steps: list[str] = field(default_factory=list)
    added_steps: list[str] = field(default_factory=list)
    flags_gone: list[str] = field(default_factory=list)
    flags_new: list[str] = field(default_factory=list)
    flag_change: dict[str, int] = field(default_factory=dict)   # kind -> count after - before

    @property
    def delta(self) -> dict[str, float]:
        if self.before is None or self.after is None:
            return {}
        return {k: tidy_number(self.after[k] - self.before[k]) for k in DIFF_KEYS}

    @property
    def changed(self) -> bool:
        return (self.before != self.after or bool(self.removed_steps or self.added_steps
                                                  or self.flags_gone or self.flags_new))


@dataclass
class Diff:
    baseline: str
    draft: str
    catalog: str
    cases: list[CaseDiff]
    totals_before: dict[str, float]
    totals_after: dict[str, float]
    problems: list = field(default_factory=list)
    yearly_before: dict | None = None   # each side's yearly figures (capacity.YearlyLoad.report)
    yearly_after: dict | None = None
    findings: list[dict] = field(default_factory=list)   # burden-shift findings

    @property
    def totals_delta(self) -> dict[str, float]:
        return {k: tidy_number(self.totals_after[k] - self.totals_before[k]) for k in DIFF_KEYS}


def _values(r: CaseResult) -> dict[str, float]:
    return r.metrics.as_dict() | {"effort": r.effort}


def _flag_key(f: Flag) -> tuple:
    """Everything that tells two flags apart: two repeated asks on the same steps differ only
    by the information item, which only the message names."""
    return (f.kind, f.metric, f.steps, f.message)


def _flags_apart(a: Iterable[Flag], b: Iterable[Flag]) -> list[str]:
    """Messages of the flags of `a` that `b` does not have (as many times as `a` has more)."""
    left = Counter(_flag_key(f) for f in a) - Counter(_flag_key(f) for f in b)
    out = []
    for f in a:
        k = _flag_key(f)
        if left[k] > 0:
            left[k] -= 1
            out.append(f.message)
    return out


def case_diff(cid: str, a: CaseResult | None, b: CaseResult | None) -> CaseDiff:
    """One case's baseline result `a` against its draft result `b` (None: not in that set)."""
    cd = CaseDiff(cid, _values(a) if a else None, _values(b) if b else None)
    if a and b:
        steps_a, steps_b = a.journey.actions, b.journey.actions
        cd.removed_steps = [s for s in steps_a if s not in steps_b]
        cd.added_steps = [s for s in steps_b if s not in steps_a]
        cd.flags_gone = _flags_apart(a.flags, b.flags)
        cd.flags_new = _flags_apart(b.flags, a.flags)
        kinds = sorted({f.kind for f in a.flags} | {f.kind for f in b.flags})
        cd.flag_change = {k: n for k in kinds
                          if (n := sum(f.kind == k for f in b.flags) - sum(f.kind == k for f in a.flags))}
    return cd


def _keyed(results: Iterable[CaseResult]) -> dict[tuple[str, int], CaseResult]:
    """Results by (case id, how many cases of that id came before): a JSON Lines catalog may
    repeat an id, and each case must still be compared with its own twin, none dropped."""
    seen: Counter = Counter()
    out = {}
    for r in results:
        out[r.case.id, seen[r.case.id]] = r
        seen[r.case.id] += 1
    return out


def diff(baseline: Evaluation, draft: Evaluation) -> Diff:
    before, after = _keyed(baseline.results), _keyed(draft.results)
    order = list(before) + [k for k in after if k not in before]
    cases = [case_diff(k[0], before.get(k), after.get(k)) for k in order]
    tb, ta = baseline.totals, draft.totals
    yearly: dict = {}
    if any(ev.cps is not None and capacity_configured(ev.cps.manifest.capacity) for ev in (baseline, draft)):
        cap = draft.cps.manifest.capacity
        yb, ya = baseline.yearly, draft.yearly
        yearly = {"yearly_before": yb.report(baseline.cps.manifest.capacity), "yearly_after": ya.report(cap),
                  "findings": burden_shift(yb, ya, cap)}
    return Diff(
        baseline=f"{baseline.policy_set} {baseline.version}", draft=f"{draft.policy_set} {draft.version}",
        catalog=baseline.catalog, cases=cases,
        totals_before={k: tb[k] for k in DIFF_KEYS}, totals_after={k: ta[k] for k in DIFF_KEYS},
        problems=list(dict.fromkeys([*baseline.problems, *draft.problems])),  # a bad case once, not per set
        **yearly,
    )


def increases(d: Diff, metrics: Iterable[str]) -> list[tuple[str, str, float, float]]:
    """(case, metric, before, after) for every case where one of `metrics` rose."""
    metrics = list(metrics)
    return [(c.case, m, c.before[m], c.after[m]) for c in d.cases if c.before and c.after
            for m in metrics if c.after[m] > c.before[m]]
