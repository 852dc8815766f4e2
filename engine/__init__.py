"""friction: replay customer life events through an organisation's policies and measure
the friction they make, on the customer's side and the staff's.

    from friction import load_policy_set, compile_policy_set, load_catalog, evaluate_catalog
    cps = compile_policy_set(load_policy_set("policies/bank"))
    ev = evaluate_catalog(cps, load_catalog("cases/life-events.yaml"))
"""
from . import capacity
from .compile import CompiledPolicySet, compile_policy_set
from .errors import EngineError, FrictionError, InputError, Problem
from .evaluate import CaseResult, Evaluation, Evaluator, evaluate_catalog, evaluate_paths
from .journey import Journey, JourneyStep, build_journey
from .judge import FLAG_KINDS, Flag
from .batch import default_workers, run_cases
from .cases import make_case
# `friction.lint` stays the module; the function is exported as lint_policy_set.
from .lint import Finding, format_findings, has_errors, lint as lint_policy_set
from .load import load_policy_set
from .catalog import iter_cases, load_catalog, open_catalog, resolve_cases
from .measure import Metrics, StepFacts, measure_steps
from .metrics import METRIC_ALIASES, METRICS, REGISTRY, SCORES, metric_named
from .model import Case, Cause, Lane, Manifest, PolicySet, Rule, Step
from .replay import ENGINES, make_engine
from .report import FORMATS, evaluation_to_dict, render
from .trace import Firing, Trace

__all__ = [
    "Case", "CaseResult", "Cause", "CompiledPolicySet", "ENGINES", "EngineError", "Evaluation",
    "Evaluator", "FLAG_KINDS", "FORMATS", "Firing", "Flag", "FrictionError", "InputError",
    "Journey", "JourneyStep", "Lane", "METRICS", "METRIC_ALIASES", "REGISTRY", "SCORES", "Manifest", "Metrics", "PolicySet", "Problem",
    "Rule", "Step", "Trace", "build_journey", "compile_policy_set", "evaluate_catalog",
    "evaluate_paths", "evaluation_to_dict", "load_catalog", "load_policy_set", "make_case", "make_engine",
    "render", "resolve_cases", "StepFacts", "measure_steps", "metric_named", "Finding", "lint_policy_set", "format_findings", "has_errors", "iter_cases", "open_catalog", "run_cases", "default_workers",
]
