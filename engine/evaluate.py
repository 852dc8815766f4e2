"""The pipeline for a catalog: resolve cases, replay, journey, measure, judge.

A case that fails validation or evaluation becomes a problem row; every other case is
still evaluated."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from .compile import CompiledPolicySet, compile_policy_set
from .errors import EngineError, Problem
from .journey import Journey, JourneyStep, build_journey
from .judge import POLICY_CAUSES, Flag, judge
from .load import LoadedCatalog, load_catalog, load_policy_set, resolve_cases
from .measure import Metrics, effort_score, measure, totals
from .model import Case, Cause
from .replay import Engine, make_engine
from .trace import Trace

__all__ = ["CaseResult", "Evaluation", "Evaluator", "evaluate_catalog", "evaluate_paths"]


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

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: every metric, the ordered journey (each step with lane, department,
        channel, cause and rules) and the flags."""
        c, made = self.case, self.policy_made
        return {
            "id": c.id, "event": c.event, "persona": c.persona, "channel": c.channel,
            "attributes": dict(c.attrs), "metrics": self.metrics.as_dict(), "effort": self.effort,
            "journey": [{
                "action": s.action, "lane": s.step.lane.value, "department": s.step.department,
                "channel": s.step.channel, "asks": list(s.step.asks), "days": s.step.days,
                "after": list(s.after), "informs": s.step.informs, "cause": step_cause(s),
                "causes": [x.value for x in s.causes], "rules": list(s.rules),
                "policy_made": s.action in made, "depth": s.depth,
            } for s in self.journey.steps],
            "flags": [f.as_dict() for f in self.flags],
        }


# The strongest reason a step exists: law outranks systems, systems outrank choices.
_STRENGTH = (Cause.regulation, Cause.system, Cause.practice, Cause.policy)


def step_cause(step: JourneyStep) -> str:
    return next(c.value for c in _STRENGTH if c in step.causes)


@dataclass
class Evaluation:
    policy_set: str
    version: str
    engine: str
    catalog: str
    results: list[CaseResult]
    problems: list[Problem] = field(default_factory=list)   # cases that could not be evaluated

    @property
    def totals(self) -> dict[str, float]:
        t = totals(r.metrics for r in self.results)
        t["effort"] = sum(r.effort for r in self.results)
        return t


class Evaluator:
    """Replays cases of one compiled policy set on one engine."""

    def __init__(self, cps: CompiledPolicySet, engine: str = "compiled"):
        self.cps = cps
        self.engine: Engine = make_engine(engine, cps)
        self._policy_rules = cps.rule_ids(set(POLICY_CAUSES))

    def replay(self, case: Case, excluded: frozenset[int] = frozenset()) -> Trace:
        return self.engine.replay(case, excluded)

    def policy_made(self, trace: Trace) -> frozenset[str]:
        """Steps that disappear when every policy and practice rule is removed."""
        return trace.actions - trace.without(self._policy_rules).actions

    def evaluate(self, case: Case) -> CaseResult:
        trace = self.engine.replay(case)
        return self.result(trace)

    def row(self, case: Case) -> dict[str, Any]:
        """One case as an output row (what workers send back: plain data)."""
        return self.evaluate(case).as_dict()

    def result(self, trace: Trace) -> CaseResult:
        journey = build_journey(self.cps, trace)
        made = self.policy_made(trace)
        metrics = measure(journey, trace.case, made)
        return CaseResult(
            case=trace.case, journey=journey, metrics=metrics,
            effort=effort_score(metrics, self.cps.manifest.weights),
            flags=judge(self.cps, journey, metrics, set(made)), policy_made=made,
        )

    def evaluate_all(self, cases: Iterable[Case]) -> Iterator[CaseResult | Problem]:
        for case in cases:
            try:
                yield self.evaluate(case)
            except EngineError as e:
                yield Problem("<engine>", None, f"case {case.id}", str(e))


def evaluate_catalog(cps: CompiledPolicySet, loaded: LoadedCatalog, engine: str = "compiled") -> Evaluation:
    cases, problems = resolve_cases(loaded, cps.manifest)
    evaluation = Evaluation(policy_set=cps.name, version=cps.manifest.version, engine=engine,
                            catalog=loaded.path, results=[], problems=list(problems))
    for item in Evaluator(cps, engine).evaluate_all(cases):
        if isinstance(item, Problem):
            evaluation.problems.append(item)
        else:
            evaluation.results.append(item)
    return evaluation


def evaluate_paths(policy_dir: str, catalog_path: str, engine: str = "compiled") -> Evaluation:
    """Load, compile and evaluate in one call: the library's front door."""
    cps = compile_policy_set(load_policy_set(policy_dir))
    return evaluate_catalog(cps, load_catalog(catalog_path), engine)
