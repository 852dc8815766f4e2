"""Why is each step of a case there? Read from the case's trace: the rules that required
it, the conditions they matched with the case's actual values, and the chain of steps
that led there."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Collection, Mapping

from .compile import CompiledPolicySet
from .evaluate import CaseResult
from .measure import tidy_number
from .language import Condition, When

__all__ = ["Check", "Reason", "StepWhy", "Explanation", "explain", "describe", "holds", "structure"]

_SYMBOL = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "in": "in", "not_in": "not in"}
NOT_SET = "not set"


def holds(c: Condition, facts: Mapping[str, Any], steps: Collection[str] = ()) -> bool:
    """The condition on recorded facts (attributes and "event") and the required `steps`,
    with the engines' rule: a missing attribute makes every comparison false."""
    if c.all is not None:
        return all(holds(x, facts, steps) for x in c.all)
    if c.any is not None:
        return any(holds(x, facts, steps) for x in c.any)
    if c.step is not None:
        return all(s in steps for s in c.step)
    if c.event is not None:
        return facts.get("event") in c.event
    if c.op == "present":
        return (c.attr in facts) == c.value
    if c.attr not in facts:
        return False
    v = facts[c.attr]
    return {
        "eq": lambda: v == c.value, "ne": lambda: v != c.value, "lt": lambda: v < c.value,
        "le": lambda: v <= c.value, "gt": lambda: v > c.value, "ge": lambda: v >= c.value,
        "in": lambda: v in c.value, "not_in": lambda: v not in c.value,
    }[c.op]()


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "[" + ", ".join(map(_value, v)) + "]"
    return str(v)


def describe(c: Condition) -> str:
    if c.step is not None:
        return "step " + " and ".join(f"'{s}'" for s in c.step) + " required"
    if c.event is not None:
        return "life event " + " or ".join(f"'{e}'" for e in c.event)
    if c.all is not None:
        return "all of (" + "; ".join(map(describe, c.all)) + ")"
    if c.any is not None:
        return "any of (" + "; ".join(map(describe, c.any)) + ")"
    if c.op == "present":
        return f"{c.attr} is {'set' if c.value else 'not set'}"
    return f"{c.attr} {_SYMBOL[c.op]} {_value(c.value)}"


def structure(c: Condition) -> dict[str, Any]:
    """A condition as JSON types: {"attribute", "operator", "value"} (a list for in/not_in),
    or {"all": [...]} / {"any": [...]} of those; tools read this, people read `describe`."""
    if c.all is not None:
        return {"all": [structure(x) for x in c.all]}
    if c.any is not None:
        return {"any": [structure(x) for x in c.any]}
    for key in ("step", "event"):   # conditions on steps and life events, where the language has them
        if getattr(c, key, None) is not None:
            return {key: list(getattr(c, key))}
    return {"attribute": c.attr, "operator": c.op, "value": list(c.value) if isinstance(c.value, tuple) else c.value}


@dataclass(frozen=True)
class Check:
    condition: str
    actual: dict[str, str]   # attribute -> its value in the case as text ("not set" if missing)
    holds: bool
    when: dict[str, Any] = field(default_factory=dict)     # the condition, structured (see `structure`)
    values: dict[str, Any] = field(default_factory=dict)   # attribute -> its typed value; None if missing


@dataclass(frozen=True)
class Reason:
    rule: str
    cause: str
    owner: str
    rationale: str
    source: str | None
    where: str               # file:line
    event: str | None        # the life event test, if the rule has one
    on_steps: tuple[str, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class StepWhy:
    position: int
    action: str
    lane: str
    department: str
    channel: str
    days: float
    policy_made: bool
    reasons: tuple[Reason, ...]
    chain: tuple[tuple[str, str], ...]   # (step, rule) from the case down to this step


@dataclass
class Explanation:
    case_id: str
    event: str
    persona: str | None
    channel: str
    attributes: dict[str, Any]
    steps: list[StepWhy] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: values keep their types (numbers, booleans, null for an attribute
        the case does not have) and each check carries its condition structured."""
        d = asdict(self)
        for step in d["steps"]:
            for reason in step["reasons"]:
                reason["checks"] = [{"condition": c["condition"], "holds": c["holds"], "when": c["when"],
                                     "actual": c["values"]} for c in reason["checks"]]
        return d


def _checks(when: When, facts: Mapping[str, Any], steps: Collection[str]) -> tuple[Check, ...]:
    out = []
    conds = list(when.all) + ([Condition(any=when.any)] if when.any else [])
    for c in conds:
        attrs = sorted(c.attributes())
        if not attrs and not c.events():
            continue  # steps alone: shown as the steps the rule fired on
        out.append(Check(describe(c), {a: _value(facts[a]) if a in facts else NOT_SET for a in attrs},
                         holds(c, facts, steps), structure(c), {a: facts.get(a) for a in attrs}))
    if when.unless:
        out.append(Check("unless " + " or ".join(f"'{s}'" for s in when.unless) + " required", {},
                         not any(s in steps for s in when.unless), {"unless": list(when.unless)}))
    return tuple(out)


def explain(cps: CompiledPolicySet, result: CaseResult) -> Explanation:
    trace, case = result.trace, result.case
    requiring: dict[str, list] = {}
    for f in trace.firings:
        for a in f.requires:
            requiring.setdefault(a, []).append(f)
    depth = {s.action: s.depth for s in result.journey.steps}

    memo: dict[str, tuple[tuple[str, str], ...]] = {}

    def chain(action: str) -> tuple[tuple[str, str], ...]:
        # Follow the shallowest derivation: the shortest story of how the step came to be.
        # Its steps are strictly shallower, so this recursion ends; memoised, it is linear.
        if action not in memo:
            f = min(requiring[action],
                    key=lambda f: (max((depth[s] for s in f.on_steps), default=-1), f.rule_id))
            before: dict[tuple[str, str], None] = {}
            for s in f.on_steps:
                before.update(dict.fromkeys(chain(s)))
            memo[action] = (*before, (action, f.rule_id))
        return memo[action]

    ex = Explanation(case.id, case.event, case.persona, case.channel, dict(case.attrs))
    for pos, s in enumerate(result.journey.steps, 1):
        reasons = []
        for f in requiring[s.action]:
            rule = cps.rules[f.rule].rule
            file, line = cps.policy_set.where.get(rule.id, ("?", 0))
            facts = dict(f.facts)
            reasons.append(Reason(
                rule=rule.id, cause=rule.cause.value, owner=rule.owner, rationale=rule.rationale,
                source=rule.source, where=f"{file}:{line}",
                event=case.event if rule.when.event else None, on_steps=f.on_steps,
                checks=_checks(rule.when, facts, trace.actions),
            ))
        ex.steps.append(StepWhy(
            position=pos, action=s.action, lane=s.lane.value, department=s.department,
            channel=s.channel, days=tidy_number(s.days), policy_made=s.action in result.policy_made,
            reasons=tuple(reasons), chain=chain(s.action),
        ))
    return ex
