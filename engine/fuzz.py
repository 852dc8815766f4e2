"""Search the persona space for the case that breaks a declared limit, and shrink it.

Hypothesis draws cases from the manifest's attribute schema, seeded with the values rule
conditions compare against (each constant and its boundaries: `gt: 40` suggests 40, 41
and 39), steers towards high friction with `target()` on each limited metric, and shrinks
a counterexample towards the manifest defaults. Shrinking alone can stop at two attributes
when one suffices, so afterwards every failing case seen is reduced exhaustively: its
attributes away from their defaults are reset in every combination, fewest kept first,
and the case keeping the fewest that still breaks a limit is the answer. Counterexamples
go into an example database (a folder), which the next run tries first.
"""
from __future__ import annotations

import hashlib
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis.database import DirectoryBasedExampleDatabase

from .compile import CompiledPolicySet, CompiledRule
from .errors import InputError, did_you_mean
from .evaluate import CaseResult, Evaluator
from .metrics import METRIC_ALIASES, SCORES
from .language import LIST_OPERATORS, ORDERED_OPERATORS, Condition
from .manifest import Manifest
from .case import Case
from .testing import cases as case_strategy

__all__ = ["Limit", "FuzzResult", "parse_limit", "manifest_limits", "fuzz", "away_from_defaults",
           "catalog_entry", "condition_values", "fewest_attributes", "rule_probes"]

# Exhaustive reduction after Hypothesis: at most this many failing cases, and evaluations.
REDUCE_CASES = 64
REDUCE_BUDGET = 20_000

_LIMIT = re.compile(r"^\s*([A-Za-z_][A-Za-z_-]*)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
_OPS = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b, "==": lambda a, b: a == b}
LIMIT_KEYS = SCORES


@dataclass(frozen=True)
class Limit:
    metric: str
    op: str
    bound: float

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.bound)

    def pressure(self, value: float) -> float:
        """How far towards breaking: what Hypothesis's target() maximises."""
        return float(-value if self.op in (">=", ">") else value)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"


def parse_limit(text: str) -> Limit:
    m = _LIMIT.match(text)
    if not m:
        raise InputError(f"--limit {text!r}: write it as METRIC<=N (or <, >=, >, ==), e.g. channels<=2")
    metric, op, bound = METRIC_ALIASES.get(m.group(1), m.group(1)), m.group(2), float(m.group(3))   # `chans` too
    if metric not in LIMIT_KEYS:
        names = [k for k, v in METRIC_ALIASES.items() if v in LIMIT_KEYS]
        raise InputError(f"--limit {text!r}: unknown metric '{metric}'{did_you_mean(metric, names)}")
    return Limit(metric, op, bound)


def manifest_limits(manifest: Manifest) -> list[Limit]:
    return [Limit(metric, "<=", bound) for metric, bound in sorted(manifest.limits.items())]


def _value(result: CaseResult, metric: str) -> float:
    return result.effort if metric == "effort" else result.metrics[metric]


@dataclass
class FuzzResult:
    limits: list[Limit]
    tried: int = 0                          # cases evaluated, shrinking included
    first: Case | None = None               # the first counterexample found
    found: Case | None = None               # the shrunk one
    result: CaseResult | None = None        # its evaluation
    broken: list[Limit] = field(default_factory=list)
    worst: Case | None = None               # the counterexample furthest past a limit
    worst_result: CaseResult | None = None
    worst_pressure: float = float("-inf")


class _LimitBroken(Exception):
    pass


def _conditions(conds: Iterable[Condition]) -> Iterable[Condition]:
    for c in conds:
        yield c
        yield from _conditions(getattr(c, "all", None) or ())
        yield from _conditions(getattr(c, "any", None) or ())


def condition_values(cps: CompiledPolicySet) -> dict[str, list[Any]]:
    """Per attribute, the values rule conditions compare it with, and for ordered
    comparisons the values just either side: where a rule starts or stops firing."""
    found: dict[str, set[Any]] = {}
    for r in cps.rules:
        when = r.rule.when
        for c in _conditions((*when.all, *when.any)):
            if getattr(c, "attr", None) is None or c.op == "present":
                continue
            values = c.value if c.op in LIST_OPERATORS else (c.value,)
            out = found.setdefault(c.attr, set())
            for v in values:
                out.add(v)
                if c.op in ORDERED_OPERATORS and isinstance(v, (int, float)) and not isinstance(v, bool):
                    out.update((v - 1, v + 1))
                    if isinstance(v, float) or cps.manifest.attributes[c.attr].type == "number":
                        out.update((math.nextafter(v, -math.inf), math.nextafter(v, math.inf)))
    return {k: sorted(v, key=lambda x: (type(x).__name__, x)) for k, v in sorted(found.items())}


_CHANNEL = "<start channel>"   # the start channel is reset like an attribute, to the manifest's


def _away(case: Case, manifest: Manifest) -> list[str]:
    return sorted(away_from_defaults(case, manifest)) + ([_CHANNEL] * (case.channel != manifest.default_channel))


_OPS_HOLD = {"eq": lambda v, x: v == x, "ne": lambda v, x: v != x, "lt": lambda v, x: v < x,
             "le": lambda v, x: v <= x, "gt": lambda v, x: v > x, "ge": lambda v, x: v >= x,
             "in": lambda v, x: v in x, "not_in": lambda v, x: v not in x}


def _satisfy(c: Condition, attrs: dict[str, Any], manifest: Manifest, hints: dict[str, list[Any]]) -> None:
    """Set `attrs` so that condition `c` holds, if a default or hinted value does it."""
    if getattr(c, "attr", None) is None:
        group = getattr(c, "all", None) or ()
        for sub in group:
            _satisfy(sub, attrs, manifest, hints)
        if getattr(c, "any", None):
            _satisfy(c.any[0], attrs, manifest, hints)
        return
    spec = manifest.attributes.get(c.attr)
    if spec is None:
        return
    if c.op == "present":
        if not c.value:
            attrs.pop(c.attr, None)
        elif c.attr not in attrs and hints.get(c.attr):
            attrs[c.attr] = hints[c.attr][0]
        return
    for v in (attrs.get(c.attr, spec.default), *hints.get(c.attr, ()), *(spec.values or ())):
        if v is not None and type(v) is not bool or spec.type == "bool":
            try:
                if v is not None and _OPS_HOLD[c.op](v, c.value) and spec.check(v) is None:
                    attrs[c.attr] = v
                    return
            except TypeError:   # an ordered comparison across types
                continue


def rule_probes(cps: CompiledPolicySet, events: Sequence[str] | None = None) -> list[Case]:
    """For each rule, the case closest to the defaults that makes it fire: its conditions
    and those of a rule producing each step it waits for, met by values from the rules'
    own conditions. Tried before the random search, so a limit broken only when several
    attributes take particular values at once is not left to chance."""
    manifest = cps.manifest
    hints = condition_values(cps)
    defaults = {k: a.default for k, a in manifest.attributes.items() if a.default is not None}
    producers: dict[int, CompiledRule] = {}
    for r in cps.rules:
        for s in r.requires:
            producers.setdefault(s, r)
    wanted = list(events or manifest.events)
    probes: dict[tuple, Case] = {}
    for r in cps.rules:
        chain, todo, seen = [], [r], {r.index}
        while todo:
            x = todo.pop()
            chain.append(x)
            for s in (x.alternatives[0] if x.alternatives else ()):   # its way with fewest steps
                p = producers.get(s)
                if p is not None and p.index not in seen:
                    seen.add(p.index)
                    todo.append(p)
        attrs = dict(defaults)
        for x in reversed(chain):   # the rule's own conditions last: they win a conflict
            for c in (*x.rule.when.all, *x.rule.when.any[:1]):
                _satisfy(c, attrs, manifest, hints)
        restricted = set().union(*(x.events for x in chain if x.events))
        for event in (e for e in wanted if not restricted or e in restricted):
            case = Case(id=f"probe/{r.id}", event=event, channel=manifest.default_channel,
                        attrs=dict(sorted(attrs.items())))
            probes.setdefault((event, tuple(case.attrs.items())), case)
    return list(probes.values())


def _reset(case: Case, manifest: Manifest, keep: Iterable[str]) -> Case:
    """`case` with every attribute not in `keep` back at its default (absent without one),
    and its start channel too unless kept."""
    keep = set(keep)
    attrs = {}
    for name, value in case.attrs.items():
        spec = manifest.attributes.get(name)
        if name in keep:
            attrs[name] = value
        elif spec is not None and spec.default is not None:
            attrs[name] = spec.default
    channel = case.channel if _CHANNEL in keep else manifest.default_channel
    return Case(id=case.id, event=case.event, channel=channel, attrs=dict(sorted(attrs.items())),
                persona=case.persona)


def fewest_attributes(failing: Sequence[Case], manifest: Manifest, breaks, budget: int = REDUCE_BUDGET
                      ) -> tuple[Case | None, int]:
    """The case with the fewest attributes (and start channel) away from their defaults
    among the failing cases and every way of resetting some of theirs (fewest kept first,
    then in the order of `failing` and of attribute names). `breaks` tells whether a case
    breaks a limit. Returns (that case, evaluations used): the first failing case with the
    fewest when no reset one has fewer, or when the budget runs out."""
    away = [(c, _away(c, manifest)) for c in failing]
    away.sort(key=lambda x: len(x[1]))   # stable: ties keep the caller's order
    if not away:
        raise ValueError("no failing case to reduce")
    best = len(away[0][1])
    used = 0
    seen: set = set()
    for k in range(best):
        for case, names in away:
            if len(names) <= k:
                continue
            for keep in itertools.combinations(names, k):
                candidate = _reset(case, manifest, keep)
                key = (candidate.event, candidate.channel, tuple(candidate.attrs.items()))
                if key in seen:
                    continue
                seen.add(key)
                if used >= budget:
                    return away[0][0], used
                used += 1
                if breaks(candidate):
                    return candidate, used
    return away[0][0], used


def fuzz(cps: CompiledPolicySet, limits: Sequence[Limit], *, events: Sequence[str] | None = None,
         examples: int = 300, seed: int | None = None, database: str | None = None,
         engine: str = "compiled") -> FuzzResult:
    """Look for a case that breaks any of `limits`; shrink it. `database`: a folder where
    counterexamples are kept and tried first next time (None: keep nothing)."""
    if not limits:
        raise InputError("no limits: give --limit METRIC<=N or declare `limits:` in the manifest")
    manifest = cps.manifest
    for e in events or ():
        if e not in manifest.events:
            raise InputError(f"--event: unknown life event '{e}'{did_you_mean(e, manifest.events)}")
    evaluator = Evaluator(cps, engine)
    out = FuzzResult(list(limits))
    failing: dict[tuple, Case] = {}   # every failing case seen, for the reduction after

    def check(case: Case) -> tuple[CaseResult, list[Limit]]:
        out.tried += 1
        result = evaluator.evaluate(case)
        broken = [lim for lim in limits if not lim.holds(_value(result, lim.metric))]
        if broken:
            if len(failing) < REDUCE_CASES:
                failing.setdefault((case.event, case.channel, repr(sorted(case.attrs.items()))), case)
            if out.first is None:
                out.first = case
            pressure = max(lim.pressure(_value(result, lim.metric)) - lim.pressure(lim.bound) for lim in broken)
            if pressure > out.worst_pressure:
                out.worst, out.worst_result, out.worst_pressure = case, result, pressure
        return result, broken

    def prop(case: Case) -> None:
        result, broken = check(case)
        for lim in limits:
            target(lim.pressure(_value(result, lim.metric)), label=str(lim))
        if broken:
            # Hypothesis replays the shrunk example last: the last one kept is the smallest.
            out.found, out.result, out.broken = case, result, broken
            raise _LimitBroken(", ".join(map(str, broken)))

    probed = [case for case in rule_probes(cps, events) if check(case)[1]]

    test = given(case_strategy(manifest, events, hints=condition_values(cps),
                               rete_safe=engine == "rete"))(prop)
    test = settings(
        max_examples=examples, deadline=None, verbosity=Verbosity.quiet, print_blob=False,
        database=DirectoryBasedExampleDatabase(database) if database else None,
        # every phase but `explain`: it only words a pytest failure ("the test passes if ..."),
        # which fuzz never prints, and it took most of the time after a limit broke
        derandomize=False, phases=[p for p in Phase if p.name != "explain"],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )(test)
    if seed is not None:
        test = hypothesis_seed(seed)(test)
    # Keep saved examples apart per policy set, limits and events (Hypothesis keys its
    # database by the test function, which is the same for every fuzz run).
    key = repr((cps.name, cps.manifest.version, sorted(map(str, limits)), sorted(events or ())))
    test.hypothesis.inner_test._hypothesis_internal_add_digest = hashlib.sha256(key.encode()).digest()
    try:
        test()
    except _LimitBroken:
        pass
    if out.found is not None or probed:
        # Hypothesis's own answer first: it stays the answer unless a reset case has fewer
        # (and it is the one its database replays next time).
        if out.found is not None:
            failing = {"found": out.found, **failing}

        def breaks(case: Case) -> bool:
            result = evaluator.evaluate(case)
            broken = [lim for lim in limits if not lim.holds(_value(result, lim.metric))]
            if broken:
                out.found, out.result, out.broken = case, result, broken
            return bool(broken)

        fewest, used = fewest_attributes(list(failing.values()), manifest, breaks)
        breaks(fewest)   # its result and broken limits become the answer
        out.tried += used + 1
    return out


def away_from_defaults(case: Case, manifest: Manifest) -> dict[str, Any]:
    """The attributes a catalog entry must set: those not at the manifest's default."""
    out = {}
    for name, value in sorted(case.attrs.items()):
        spec = manifest.attributes.get(name)
        default = spec.default if spec is not None else None
        if default is None or value != default or type(value) is not type(default):
            out[name] = value
    return out


def catalog_entry(case: Case, manifest: Manifest, case_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": case_id, "event": case.event, "channel": case.channel}
    attrs = away_from_defaults(case, manifest)
    if attrs:
        entry["attrs"] = attrs
    return entry
