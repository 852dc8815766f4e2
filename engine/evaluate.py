"""The pipeline for a catalog: resolve cases, replay, journey, measure, judge.

A case that fails validation or evaluation becomes a problem row; every other case is
still evaluated."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, NamedTuple, Sequence

from .capacity import CaseLoad, YearlyLoad, capacity_configured, case_load, yearly_load
from .compile import CompiledPolicySet, compile_policy_set
from .errors import EngineError, Problem
from .journey import Journey, build_journey, order_steps
from .judge import FLAG_KINDS, POLICY_CAUSES, Flag, FlagTally, flag_counts, judge, tally_kinds
from .kernel import Kernel
from .load import load_policy_set
from .lru import BoundedLRU
from .catalog import LoadedCatalog, iter_cases, open_catalog
from .measure import Effort, Metrics, effort_score, measure, measure_ids, tidy_number, totals
from .metrics import METRICS, StepFacts
from .case import Case
from .replay import Engine, make_engine
from .trace import Trace, build_trace

__all__ = ["CaseResult", "DETAILS", "Evaluation", "Evaluator", "Outcome", "Row", "evaluate_catalog", "evaluate_items",
           "evaluate_paths"]


@dataclass(frozen=True)
class CaseResult:
    case: Case
    journey: Journey
    metrics: Metrics
    effort: float
    flags: tuple[Flag, ...]
    policy_made: frozenset[str]   # actions that vanish without policy and practice rules

    @property
    def trace(self) -> Trace:
        return self.journey.trace

    @property
    def load(self) -> CaseLoad:
        """Minutes per department and contacts per channel of this journey, before volume
        (each step as this case takes it: contacts count in the channel it actually uses)."""
        facts = self.journey.cps.case_facts(self.case)
        return case_load([s.facts or facts[s.id] for s in self.journey.steps], [s.rules for s in self.journey.steps])

    def __repr__(self) -> str:   # the dataclass repr holds the whole trace and journey
        return (f"CaseResult(case={self.case.id!r}, steps={self.metrics.steps}, effort={self.effort:g}, "
                f"flags={len(self.flags)})")

    def record(self) -> dict[str, Any]:
        """One flat row (scalars only) for tables and DataFrames: the case, its attributes
        as `attr.<name>`, every metric, effort, the journey as text, and flag counts
        (`flags` in all, `flags.<kind>` per kind, every kind present)."""
        c = self.case
        row: dict[str, Any] = {"id": c.id, "event": c.event, "persona": c.persona, "channel": c.channel}
        row.update((f"attr.{k}", v) for k, v in sorted(c.attrs.items()))
        row.update(self.metrics.as_dict())
        row["effort"] = self.effort
        row["journey"] = " → ".join(self.journey.actions)
        row["flags"] = len(self.flags)
        row.update((f"flags.{kind}", sum(f.kind == kind for f in self.flags)) for kind in FLAG_KINDS)
        return row

    def summary(self) -> dict[str, Any]:
        """The compact row for big batches: metrics, the journey as its ordered actions, and
        how many flags of each kind (`as_dict` has every step's detail and every flag)."""
        kinds: dict[str, int] = {}
        for f in self.flags:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        return {"metrics": self.metrics.as_dict(), "effort": self.effort,
                "journey": [s.action for s in self.journey.steps], "flags": dict(sorted(kinds.items()))}

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: every metric, the ordered journey (each step with lane, department,
        channel, cause and rules) and the flags."""
        c, made = self.case, self.policy_made
        journey = []
        for s in self.journey.steps:
            causes = [x.value for x in s.causes]
            journey.append({
                "action": s.action, "lane": s.step.lane.value, "department": s.step.department,
                "channel": s.channel, "asks": list(s.step.asks), "days": tidy_number(s.days),
                "fee": tidy_number(s.step.fee), "after": list(s.after), "informs": s.step.informs,
                "cause": next(x for x in _STRENGTH if x in causes), "causes": causes,
                "rules": list(s.rules), "policy_made": s.action in made, "depth": s.depth,
            })
        return {
            "id": c.id, "event": c.event, "persona": c.persona, "channel": c.channel,
            "attributes": dict(c.attrs), "metrics": self.metrics.as_dict(), "effort": self.effort,
            "journey": journey, "flags": [f.as_dict() for f in self.flags],
        }


# The strongest reason a step exists: law outranks systems, systems outrank choices.
_STRENGTH = ("regulation", "system", "practice", "policy")



@dataclass
class Evaluation:
    policy_set: str
    version: str
    engine: str
    catalog: str
    results: list[CaseResult]
    problems: list[Problem] = field(default_factory=list)   # cases that could not be evaluated
    cps: CompiledPolicySet | None = field(default=None, repr=False, compare=False)  # the set it ran

    @property
    def totals(self) -> dict[str, float]:
        t = totals(r.metrics for r in self.results)
        t["effort"] = sum(r.effort for r in self.results)
        return t

    @property
    def yearly(self) -> YearlyLoad:
        """Volume-weighted load over the catalog (time-driven activity-based costing)."""
        return yearly_load((r.load, r.case.volume, r.effort) for r in self.results)

    def yearly_report(self) -> dict[str, Any] | None:
        """The yearly figures (see capacity.YearlyLoad.report); None when the set gives no
        minutes, capacities or costs."""
        if self.cps is None or not capacity_configured(self.cps.manifest.capacity):
            return None
        return self.yearly.report(self.cps.manifest.capacity)

    def records(self) -> list[dict[str, Any]]:
        """Every case as a flat row (see CaseResult.record): `pandas.DataFrame(ev.records())`."""
        return [r.record() for r in self.results]

    def __repr__(self) -> str:   # the dataclass repr would print every result
        return (f"Evaluation(policy_set={self.policy_set!r}, version={self.version!r}, engine={self.engine!r}, "
                f"catalog={self.catalog!r}, cases={len(self.results)}, problems={len(self.problems)})")


class Outcome(NamedTuple):
    """What a journey costs, apart from which case it is: a function of the rules that
    fired and the channel the case started in, so cases that fire the same rules share it.
    Kept compact (the JSON of the journey and flags as text) so that many fit in memory.
    (A named tuple, not a dataclass: one is made per new outcome, and a frozen dataclass
    costs several times as much to make.)"""

    values: tuple[float, ...]        # METRICS then effort, for writers' totals
    flag_kinds: tuple[str, ...]
    fragment: str   # '"metrics": ..., "effort": ..., "journey": [...], "flags": [...]'
    load: CaseLoad | None = None    # minutes per department and contacts per channel, before volume

    @property
    def shared(self) -> dict[str, Any]:
        return json.loads("{" + self.fragment + "}")


class Row(NamedTuple):
    """One case as output: its own fields plus the shared outcome (made once per case)."""

    case: dict[str, Any]
    outcome: Outcome
    volume: float = 1   # cases a year: applied when totalling, never inside the shared outcome

    def as_dict(self) -> dict[str, Any]:
        return {**self.case, **self.outcome.shared}


_CASE_FIELDS = ("id", "event", "persona", "channel", "attributes")
# a summary row's metrics, effort and the start of its journey, for `%` with the metric
# values and effort (ints and finite floats: %r gives what json.dumps gives)
_SUMMARY_HEAD = ('"metrics": {' + ", ".join(json.dumps(m).replace("%", "%%") + ": %r" for m in METRICS)
                 + '}, "effort": %r, "journey": [')
DETAILS = ("full", "summary")
_KINDS_SORTED = sorted(range(len(FLAG_KINDS)), key=FLAG_KINDS.__getitem__)   # a row's flags, by name


def _case_fields(c: Case) -> dict[str, Any]:
    return {"id": c.id, "event": c.event, "persona": c.persona, "channel": c.channel, "attributes": dict(c.attrs)}


class Evaluator:
    """Replays cases of one compiled policy set on one engine.

    Outcomes are memoised by (rules fired, start channel, the alternatives its
    customer-dependent steps take, and CompiledPolicySet.signature), in a bounded cache: in real
    catalogs most cases fire a set of rules some earlier case fired, and then the journey,
    metrics and flags are the same and need not be built again."""

    def __init__(self, cps: CompiledPolicySet, engine: str = "compiled", cache_size: int = 16384,
                 detail: str = "full", loads: bool = True, cache_bytes: int = 64 * 2**20):
        """`loads`: keep each outcome's CaseLoad (for yearly tallies) when the set gives
        minutes or costs; off for outputs that never show yearly figures. The outcome cache
        holds at most `cache_size` outcomes and about `cache_bytes` of them: with big rule
        sets each key (the rules fired) and row is long, and a count alone let 16k of them
        take ~170 MB at 2,000 rules."""
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {DETAILS}")
        self.detail = detail   # what Outcome.fragment holds: every step and flag, or a summary
        self.cps = cps
        self.engine_name = engine
        self.engine: Engine = make_engine(engine, cps)
        self._policy_rules = cps.rule_ids(set(POLICY_CAUSES))
        self._cache: BoundedLRU[Outcome] = BoundedLRU(cache_size, cache_bytes)
        self._values: dict[tuple, tuple[float, ...]] = {}   # small entries: may grow 4x the outcomes
        self._values_bytes = 0   # what its keys' sets of rules take: big rule sets, big keys
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        # Minutes per department are kept with an outcome only when the set gives any.
        self._with_load = loads and capacity_configured(cps.manifest.capacity)
        self._loads = loads
        self._action_json = [json.dumps(a, ensure_ascii=False) for a in cps.actions]
        self._kernel = Kernel(cps, self._policy_rules, cps.manifest.thresholds.silent_wait_days)
        self._effort = Effort(cps.manifest.weights)
        self._flag_tally = FlagTally(cps.manifest)
        # a flag tally's kinds, and the end of a summary row (its flags' JSON)
        self._flags: dict[tuple[int, ...], tuple[tuple[str, ...], str]] = {}

    # Pickled for worker processes: the set and settings travel, the engine (a durable_rules
    # host is per process) and the caches are made again on the receiving side.
    def __getstate__(self) -> dict[str, Any]:
        return {"cps": self.cps, "engine": self.engine_name, "cache_size": self._cache_size, "detail": self.detail,
                "loads": self._loads, "cache_bytes": self._cache_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["cps"], state["engine"], state["cache_size"], state["detail"], state.get("loads", True),
                      state.get("cache_bytes", 64 * 2**20))

    def replay(self, case: Case, excluded: frozenset[int] = frozenset()) -> Trace:
        return self.engine.replay(case, excluded)

    def policy_made(self, trace: Trace) -> frozenset[str]:
        """Steps that disappear when every policy and practice rule is removed."""
        return trace.actions - trace.without(self._policy_rules).actions

    def evaluate(self, case: Case) -> CaseResult:
        trace = self.engine.replay(case)
        return self.result(trace)

    def result(self, trace: Trace) -> CaseResult:
        journey = build_journey(self.cps, trace)
        made = self.policy_made(trace)
        metrics = measure(journey, trace.case, made)
        return CaseResult(
            case=trace.case, journey=journey, metrics=metrics,
            effort=effort_score(metrics, self.cps.manifest.weights),
            flags=judge(self.cps, journey, metrics, set(made)), policy_made=made,
        )

    def values(self, trace: Trace) -> tuple[float, ...]:
        """METRICS then effort of a trace: no flags, no JSON. Memoised by (rules fired,
        start channel, alternatives taken), for attribution, which asks once per rule removed."""
        cps = self.cps
        key = (trace.fired, trace.excluded if cps.negation else None, trace.case.channel,
               cps.choices(trace.case), cps.signature(trace.case))
        hit = self._values.get(key)
        if hit is None:
            values = self._measured(trace.case, trace.fired, cps.case_facts(trace.case), trace)[1]
            hit = (*values, self._effort(values))
            size = sys.getsizeof(key[0]) + 256
            if len(self._values) >= 4 * self._cache_size or self._values_bytes + size > self._cache_bytes // 2:
                self._values.clear()
                self._values_bytes = 0
            self._values[key] = hit
            self._values_bytes += size
        return hit

    def row(self, case: Case) -> Row:
        """One case as an output row, from the cache when these rules fired before."""
        return Row(_case_fields(case), self.outcome(case)[1], case.volume)

    def outcome(self, case: Case) -> tuple[frozenset[int], Outcome]:
        """The rules that fired for a case and its outcome, from the cache when these rules
        fired before (with the same start channel and alternatives taken)."""
        fired = frozenset(self.engine.fire(case))
        key = (fired, case.channel, self.cps.choices(case), self.cps.signature(case))
        hit = self._cache.get(key)
        if hit is None:
            hit = self._remember(key, self.build_outcome(case, fired))
        return fired, hit

    def build_outcome(self, case: Case, fired: frozenset[int]) -> Outcome:
        """The outcome of a case whose rules `fired`, built from scratch (what the cache
        holds): in summary detail, no Trace unless the general path needs one."""
        if self.detail == "summary":
            return self._summary(case, fired)
        return self.new_outcome(build_trace(self.cps, case, fired))

    def new_outcome(self, trace: Trace) -> Outcome:
        """The outcome of a trace, built from scratch (what the cache holds)."""
        if self.detail == "summary":
            return self._summary(trace.case, trace.fired, trace)
        result = self.result(trace)
        d = result.as_dict()
        shared = {k: v for k, v in d.items() if k not in _CASE_FIELDS}
        return Outcome((*(result.metrics[m] for m in METRICS), result.effort),
                       tuple(f.kind for f in result.flags), json.dumps(shared, ensure_ascii=False)[1:-1],
                       result.load if self._with_load else None)

    def _summary(self, case: Case, fired: frozenset[int], trace: Trace | None = None) -> Outcome:
        """CaseResult.summary's row and the flag kinds, from the journey's step ids alone: no
        JourneyStep, Flag or Journey objects (the hot path of a batch run), and no Trace
        unless the kernel leaves the journey to the general path."""
        cps = self.cps
        facts = cps.case_facts(case)
        ordered, values, repeated, silent = self._measured(case, fired, facts, trace)
        values = (*values, self._effort(values))
        tally = self._flag_tally(values, repeated, silent)
        flags = self._flags.get(tally)
        if flags is None:   # a handful of small counts: few distinct tallies in a catalog
            if len(self._flags) >= 4096:
                self._flags.clear()
            flags = self._flags[tally] = (tally_kinds(tally), '], "flags": {' + ", ".join(
                [f'"{FLAG_KINDS[i]}": {tally[i]}' for i in _KINDS_SORTED if tally[i]]) + "}")
        load = None
        if self._with_load:
            load = case_load([facts[s] for s in ordered], self._required_by(fired, ordered))
        # json.dumps(CaseResult.summary())[1:-1], from pieces encoded once per set
        return Outcome(values, flags[0], "".join((
            _SUMMARY_HEAD % values, ", ".join(map(self._action_json.__getitem__, ordered)), flags[1])), load)

    def _measured(self, case: Case, fired: frozenset[int], facts: Sequence[StepFacts], trace: Trace | None = None
                  ) -> tuple[list[int], tuple[float, ...], int, int]:
        """The journey order (step ids), the metric values (METRICS order), and the flag
        counts the metrics do not hold (judge.flag_tally): in one pass when the set allows
        (friction.kernel), else by the general path it must equal (from `trace`, the
        case's with `fired`, made when not given)."""
        fast = self._kernel.summarize(fired, case.channel, facts)
        if fast is not None:
            return fast
        cps = self.cps
        trace = trace or build_trace(cps, case, fired)
        o = order_steps(cps, trace, facts)
        made = trace.step_ids - trace.without(self._policy_rules).step_ids
        metrics = measure_ids(cps, o, trace.case.channel, made, facts)
        repeated, silent = flag_counts(cps.manifest, [facts[s] for s in o.ordered])
        return o.ordered, metrics.values(), repeated, silent

    def _required_by(self, fired: frozenset[int], ordered: list[int]) -> list[tuple[str, ...]]:
        """The ids of the rules that required each step (sorted), in journey order."""
        rules = self.cps.rules
        by: dict[int, list[str]] = {}
        for i in sorted(fired):   # rule indices sort as rule ids do
            rid = rules[i].id
            for s in rules[i].requires:   # a rule's `requires` holds each step once
                by.setdefault(s, []).append(rid)
        return [tuple(by[s]) for s in ordered]

    def _remember(self, key: tuple, out: Outcome) -> Outcome:
        # the key's set of rules and the row's text are what grow with the set; the rest of
        # an entry (tuples, the Outcome, dict slots) is about a kilobyte
        return self._cache.put(key, out, sys.getsizeof(key[0]) + sys.getsizeof(out.fragment) + 1024)

    def evaluate_all(self, cases: Iterable[Case]) -> Iterator[CaseResult | Problem]:
        for case in cases:
            try:
                yield self.evaluate(case)
            except EngineError as e:
                yield Problem("<engine>", None, f"case {case.id}", str(e))


def evaluate_items(cps: CompiledPolicySet, catalog: str, items: Iterable[Case | Problem],
                   engine: str = "compiled") -> Evaluation:
    """Every case of a stream (cases with problems between them), kept in memory."""
    evaluation = Evaluation(policy_set=cps.name, version=cps.manifest.version, engine=engine,
                            catalog=catalog, results=[], cps=cps)
    cases = []
    for item in items:
        (evaluation.problems if isinstance(item, Problem) else cases).append(item)
    for item in Evaluator(cps, engine).evaluate_all(cases):
        (evaluation.problems if isinstance(item, Problem) else evaluation.results).append(item)
    return evaluation


def evaluate_catalog(cps: CompiledPolicySet, loaded: LoadedCatalog, engine: str = "compiled") -> Evaluation:
    return evaluate_items(cps, loaded.path, iter_cases(loaded, cps.manifest), engine)


def evaluate_paths(policy_dir: str, catalog_path: str, engine: str = "compiled") -> Evaluation:
    """Load, compile and evaluate in one call: the library's front door. The catalog is a
    YAML catalog or JSON Lines (.jsonl)."""
    cps = compile_policy_set(load_policy_set(policy_dir))
    stream = open_catalog(catalog_path, cps.manifest)
    return evaluate_items(cps, stream.name, stream, engine)
