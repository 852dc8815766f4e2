"""friction: replay customer life events through an organisation's policies and measure
the friction they make, on the customer's side and the staff's.

    from friction import load_policy_set, compile_policy_set, load_catalog, evaluate_catalog
    cps = compile_policy_set(load_policy_set("policies/bank"))
    ev = evaluate_catalog(cps, load_catalog("cases/life-events.yaml"))
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Every public name and the module it lives in. They are imported on first use (PEP 562):
# a command pays only for the modules it needs, not the whole library (the CLI's start).
_EXPORTS = {
    "compile": ["CompiledPolicySet", "compile_policy_set"],
    "errors": ["EngineError", "FrictionError", "InputError", "Problem"],
    "evaluate": ["CaseResult", "Evaluation", "Evaluator", "evaluate_catalog", "evaluate_paths"],
    "journey": ["Journey", "JourneyStep", "build_journey"],
    "judge": ["FLAG_KINDS", "Flag"],
    "batch": ["default_workers", "run_cases"],
    "cases": ["make_case"],
    "lint": ["Finding", "format_findings", "has_errors", "lint_policy_set"],
    "load": ["load_policy_set"],
    "catalog": ["iter_cases", "load_catalog", "open_catalog", "resolve_cases"],
    "measure": ["Metrics", "StepFacts", "measure_steps"],
    "metrics": ["METRIC_ALIASES", "METRICS", "REGISTRY", "SCORES", "metric_named"],
    "model": ["Case", "Cause", "Lane", "Manifest", "PolicySet", "Rule", "Step"],
    "replay": ["ENGINES", "make_engine"],
    "report": ["FORMATS", "evaluation_to_dict", "render"],
    "trace": ["Firing", "Trace"],
}
# `friction.lint` stays the module; its function is exported as lint_policy_set.
_RENAMED = {"lint_policy_set": "lint"}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "Case", "CaseResult", "Cause", "CompiledPolicySet", "ENGINES", "EngineError", "Evaluation",
    "Evaluator", "FLAG_KINDS", "FORMATS", "Firing", "Flag", "FrictionError", "InputError",
    "Journey", "JourneyStep", "Lane", "METRICS", "METRIC_ALIASES", "REGISTRY", "SCORES", "Manifest", "Metrics", "PolicySet", "Problem",
    "Rule", "Step", "Trace", "build_journey", "compile_policy_set", "evaluate_catalog",
    "evaluate_paths", "evaluation_to_dict", "load_catalog", "load_policy_set", "make_case", "make_engine",
    "render", "resolve_cases", "StepFacts", "measure_steps", "metric_named", "Finding", "lint_policy_set", "format_findings", "has_errors", "iter_cases", "open_catalog", "run_cases", "default_workers",
]


def __getattr__(name: str) -> Any:
    """A public name, or a submodule (`friction.capacity`), imported on first use."""
    module = _HOME.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), _RENAMED.get(name, name))
        globals()[name] = value   # once found, an ordinary attribute
        return value
    if not name.startswith("_"):
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise   # the submodule exists but something it imports is missing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:   # what type checkers and editors see: the same names, imported eagerly
    from .batch import default_workers, run_cases
    from .cases import make_case
    from .catalog import iter_cases, load_catalog, open_catalog, resolve_cases
    from .compile import CompiledPolicySet, compile_policy_set
    from .errors import EngineError, FrictionError, InputError, Problem
    from .evaluate import CaseResult, Evaluation, Evaluator, evaluate_catalog, evaluate_paths
    from .journey import Journey, JourneyStep, build_journey
    from .judge import FLAG_KINDS, Flag
    from .lint import Finding, format_findings, has_errors, lint as lint_policy_set
    from .load import load_policy_set
    from .measure import Metrics, StepFacts, measure_steps
    from .metrics import METRIC_ALIASES, METRICS, REGISTRY, SCORES, metric_named
    from .model import Case, Cause, Lane, Manifest, PolicySet, Rule, Step
    from .replay import ENGINES, make_engine
    from .report import FORMATS, evaluation_to_dict, render
    from .trace import Firing, Trace
