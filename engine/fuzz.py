"""Search the persona space for the case that breaks a declared limit, and shrink it.

Hypothesis draws cases from the manifest's attribute schema, steers towards high friction
with `target()` on each limited metric, and shrinks a counterexample until every attribute
it can move sits at its manifest default: what is left is the smallest story of a customer
the policy set fails. Counterexamples go into an example database (a folder), which the
next run tries first.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis.database import DirectoryBasedExampleDatabase

from .compile import CompiledPolicySet
from .errors import InputError, did_you_mean
from .evaluate import CaseResult, Evaluator
from .metrics import SCORES
from .model import Case, Manifest
from .testing import cases as case_strategy

__all__ = ["Limit", "FuzzResult", "parse_limit", "manifest_limits", "fuzz", "away_from_defaults",
           "catalog_entry"]

_LIMIT = re.compile(r"^\s*([A-Za-z_]+)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
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
    metric, op, bound = m.group(1), m.group(2), float(m.group(3))
    if metric not in LIMIT_KEYS:
        raise InputError(f"--limit {text!r}: unknown metric '{metric}'{did_you_mean(metric, LIMIT_KEYS)}")
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

    def prop(case: Case) -> None:
        out.tried += 1
        result = evaluator.evaluate(case)
        for lim in limits:
            target(lim.pressure(_value(result, lim.metric)), label=str(lim))
        broken = [lim for lim in limits if not lim.holds(_value(result, lim.metric))]
        if broken:
            if out.first is None:
                out.first = case
            pressure = max(lim.pressure(_value(result, lim.metric)) - lim.pressure(lim.bound) for lim in broken)
            if pressure > out.worst_pressure:
                out.worst, out.worst_result, out.worst_pressure = case, result, pressure
            # Hypothesis replays the shrunk example last: the last one kept is the smallest.
            out.found, out.result, out.broken = case, result, broken
            raise _LimitBroken(", ".join(map(str, broken)))

    test = given(case_strategy(manifest, events))(prop)
    test = settings(
        max_examples=examples, deadline=None, verbosity=Verbosity.quiet, print_blob=False,
        database=DirectoryBasedExampleDatabase(database) if database else None,
        derandomize=False, phases=list(Phase),
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
