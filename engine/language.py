"""The policy language, as pydantic models: rules, their conditions (`when`) and the
steps they require (`then`).

Everything a user writes is validated here; cross-references (rule ids, steps named in
`after`, attributes named in conditions) are checked in `load`, which sees the whole set.
"""
from __future__ import annotations

import math
from typing import Annotated, Any, Mapping, Union

from pydantic import (
    Strict as StrictMode,
    Discriminator,
    Field,
    StrictStr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .vocabulary import (
    INTERNAL_CHANNEL, MAX_DAYS, MAX_FEE, MAX_MINUTES, Cause, Lane, Scalar, Strict, _as_tuple, _key_hint,
    _name, _names,
)

__all__ = ["ChannelChoice", "Condition", "DaysChoice", "LintOptions", "OPERATORS", "Rule", "Step", "When"]


# Condition operators: key in YAML -> meaning. `present: false` is "absent".
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "present")
ORDERED_OPERATORS = frozenset({"lt", "le", "gt", "ge"})
# What people write from other rule languages, and what we call it.
OPERATOR_SYNONYMS = {
    "gte": "ge", ">=": "ge", "lte": "le", "<=": "le", ">": "gt", "<": "lt", "neq": "ne", "!=": "ne",
    "equals": "eq", "==": "eq", "=": "eq", "one_of": "in", "nin": "not_in", "not_one_of": "not_in",
    "exists": "present", "absent": "present",
}
LIST_OPERATORS = frozenset({"in", "not_in"})


class Condition(Strict):
    """A test on the case or on the journey so far: one case attribute (`attr` + one
    operator), the life event (`event`), steps already required (`step`), or `all` / `any`
    of conditions."""

    attr: str | None = None
    op: str | None = None
    value: Scalar | tuple[Scalar, ...] | None = None
    all: tuple["Condition", ...] | None = None
    any: tuple["Condition", ...] | None = None
    step: tuple[str, ...] | None = None     # every one of these steps is already required
    event: tuple[str, ...] | None = None    # the case's life event is one of these

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:  # replaces Strict's: YAML keys differ from fields
        return data

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, Condition):
            return data
        if not isinstance(data, Mapping):
            raise PydanticCustomError(
                "condition", "a condition is a mapping such as `attr: products, gt: 2` "
                "(or `step: ...`, `event: ...`, `all: [...]`, `any: [...]`), got {got}",
                {"got": _kind(data) if isinstance(data, (list, tuple)) else repr(data)})
        allowed = {"attr", "all", "any", "step", "event", *OPERATORS}
        for key in data:
            if key not in allowed:
                raise PydanticCustomError("unknown_key", "unknown key '{key}'{hint}",
                                          {"key": str(key), "hint": _key_hint(key, allowed, OPERATOR_SYNONYMS)})
        ops = [k for k in data if k in OPERATORS]
        kinds = [k for k in ("all", "any", "step", "event") if k in data]
        if kinds:
            if len(kinds) > 1 or "attr" in data or ops:
                raise PydanticCustomError(
                    "condition", "a condition is one of: `attr` with one operator, `step`, `event`, "
                    "or one `all`/`any` list; got {keys} together (make them items of an `all` list)",
                    {"keys": ", ".join(f"`{k}`" for k in data)})
            kind = kinds[0]
            items = _names(data[kind]) if kind == "step" else _as_tuple(data[kind])
            if not items:
                raise PydanticCustomError("condition", "`{g}` needs at least one {what}",
                                          {"g": kind, "what": {"step": "step", "event": "life event"}.get(kind, "condition")})
            return {kind: items}
        if "attr" not in data:
            raise PydanticCustomError("condition", "a condition needs `attr` (or `step`, `event`, `all`, `any`)", {})
        if len(ops) != 1:
            raise PydanticCustomError(
                "condition", "condition on '{attr}' needs exactly one operator of {ops}",
                {"attr": str(data["attr"]), "ops": ", ".join(OPERATORS)})
        op = ops[0]
        value = data[op]
        if op in LIST_OPERATORS:
            value = _as_tuple(value)
        return {"attr": data["attr"], "op": op, "value": value}

    @model_validator(mode="after")
    def _check_value(self) -> "Condition":
        if self.op is None:
            return self
        if self.op in LIST_OPERATORS:
            if not isinstance(self.value, tuple) or not self.value:
                raise PydanticCustomError("condition", "`{op}` takes a non-empty list of values", {"op": self.op})
        elif self.op == "present":
            if not isinstance(self.value, bool):
                raise PydanticCustomError("condition", "`present` takes true or false", {})
        elif isinstance(self.value, tuple) or self.value is None:
            raise PydanticCustomError("condition", "`{op}` takes a single value", {"op": self.op})
        if self.op in ORDERED_OPERATORS and (isinstance(self.value, (bool, str))):
            raise PydanticCustomError("condition", "`{op}` compares numbers only, got {v}",
                                      {"op": self.op, "v": repr(self.value)})
        return self

    @property
    def children(self) -> tuple["Condition", ...]:
        return self.all if self.all is not None else self.any if self.any is not None else ()

    def attributes(self) -> set[str]:
        if self.attr is not None:
            return {self.attr}
        return set().union(*(c.attributes() for c in self.children))

    def steps(self) -> set[str]:
        """Every step this condition tests (all of them positively: required)."""
        if self.step is not None:
            return set(self.step)
        return set().union(*(c.steps() for c in self.children))

    def events(self) -> set[str]:
        """Every life event this condition names in an `event` test."""
        if self.event is not None:
            return set(self.event)
        return set().union(*(c.events() for c in self.children))


def _kind(v: Any) -> str:
    return "a list" if isinstance(v, (list, tuple)) else "a mapping" if isinstance(v, Mapping) else \
        "nothing" if v is None else f"{type(v).__name__} {v!r}"


class When(Strict):
    """When a rule fires: the life event, steps already required, case conditions, and
    steps that must not be required (`unless`, stratified: see compile.strata)."""

    event: tuple[str, ...] = ()
    step: tuple[str, ...] = ()
    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()
    unless: tuple[str, ...] = ()

    _tuples = field_validator("event", "all", "any", mode="before")(lambda v: _as_tuple(v))
    _steps = field_validator("step", "unless", mode="before")(lambda v: _names(v))

    _misplaced = {
        **{k: ": a test on an attribute is a condition inside `all` or `any`, "
              "e.g. `all: [{attr: products, gt: 2}]`" for k in ("attr", *OPERATORS)},
        **{k: f" (did you mean '{v}'? and put it in a condition under `all` or `any`)"
           for k, v in OPERATOR_SYNONYMS.items()},
    }

    def attributes(self) -> set[str]:
        return set().union(*(c.attributes() for c in self.all + self.any))

    def steps(self) -> set[str]:
        """Every step the rule needs in some way (top-level `step` and `step` tests inside
        `all`/`any`); `unless` steps are not among them."""
        return set(self.step).union(*(c.steps() for c in self.all + self.any))

    def condition(self, with_event: bool = True) -> Condition | None:
        """Everything but `unless` (and, without `with_event`, the top-level life event
        test) as one condition (None: always true)."""
        parts: list[Condition] = []
        if self.event and with_event:
            parts.append(Condition(event=self.event))
        if self.step:
            parts.append(Condition(step=self.step))
        parts.extend(self.all)
        if self.any:
            parts.append(self.any[0] if len(self.any) == 1 else Condition(any=self.any))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Condition(all=tuple(parts))

    @property
    def chains(self) -> bool:
        """Whether the rule tests steps at all (it waits for other rules)."""
        return bool(self.steps())


class ChannelChoice(Strict):
    """One alternative of a step's channel: taken when `when` holds (no `when`: otherwise)."""

    when: Condition | None = None
    """A condition on the case, as in a rule's `when.all`."""
    channel: str = Field(min_length=1)
    """The channel the step is in for such a case."""

    _strip = field_validator("channel")(lambda v: _name(v))


class DaysChoice(Strict):
    """One alternative of a step's days: taken when `when` holds (no `when`: otherwise)."""

    when: Condition | None = None
    """A condition on the case, as in a rule's `when.all`."""
    days: Annotated[float, StrictMode()] = Field(ge=0, le=MAX_DAYS)
    """The days the step takes for such a case."""

    @field_validator("days")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("days must be a finite number")
        return v


def _by_attribute(value: Any, key: str) -> Any:
    """`{by: digital, true: web, false: phone, else: post}` is the list of alternatives
    `[{when: {attr: digital, eq: true}, channel: web}, ..., {channel: post}]`."""
    if not (isinstance(value, Mapping) and "by" in value):
        return value
    by = value["by"]
    out = [{"when": {"attr": by, "eq": k}, key: v} for k, v in value.items() if k not in ("by", "else")]
    if not out:
        raise PydanticCustomError("choice", "`by: {by}` needs a value for at least one of its values",
                                  {"by": str(by)})
    if "else" in value:
        out.append({key: value["else"]})
    return out


def _one_or_choices(one: Any, choice: type) -> Any:
    """A value, or a list of alternatives; the discriminator keeps an error to the form written."""
    return Annotated[Union[Annotated[one, Tag("single")], Annotated[tuple[choice, ...], Tag("alternatives")]],
                     Discriminator(lambda v: "alternatives" if isinstance(v, (list, tuple)) else "single")]


def _check_choices(choices: Any, key: str) -> Any:
    if isinstance(choices, tuple):
        if not choices:
            raise PydanticCustomError("choice", "a list of {key} alternatives needs at least one", {"key": key})
        for c in choices[:-1]:
            if c.when is None:
                raise PydanticCustomError("choice", "only the last {key} alternative may leave out `when` "
                                          "(it is the otherwise)", {"key": key})
    return choices


class Step(Strict):
    """What a rule requires. Its identity is its action text."""

    action: str = Field(min_length=1)
    """What is done, in words: the step's identity (rules name steps by it)."""
    lane: Lane
    """Service-blueprint lane: customer, frontstage (seen by the customer), backstage (unseen) or support."""
    department: str = Field(min_length=1)
    """The department that does or receives it (one of the manifest's departments)."""
    channel: _one_or_choices(str, ChannelChoice) = INTERNAL_CHANNEL
    """Where it happens (one of the manifest's channels); `internal` for staff-only work. Or,
    when it depends on the customer, `{by: ATTRIBUTE, VALUE: CHANNEL, ..., else: CHANNEL}` or a
    list of `{when: CONDITION, channel: CHANNEL}` alternatives (the first that holds)."""
    asks: tuple[str, ...] = ()
    """Information items the step asks the customer for (counted by repeated_asks)."""
    days: _one_or_choices(Annotated[float, StrictMode(), Field(ge=0, le=MAX_DAYS)], DaysChoice) = 0
    """How many days it takes (at most 1,000,000, so no sum of them overflows). Or, when it
    depends on the customer, `{by: ATTRIBUTE, VALUE: DAYS, ...}` or a list of
    `{when: CONDITION, days: DAYS}` alternatives (the first that holds)."""
    after: tuple[str, ...] = ()
    """Steps (by action) this one comes after, when they are in the journey."""
    informs: Annotated[bool, StrictMode()] = False  # true/false only (`yes` and 1 are not booleans)
    """A status message or letter to the customer: the customer is told, not asked to act."""
    minutes: Annotated[float, StrictMode()] | None = Field(default=None, ge=0, le=MAX_MINUTES)
    """Staff handling time of its department, in minutes (default: the manifest's `capacity.minutes` for its lane)."""
    customer_minutes: Annotated[float, StrictMode()] | None = Field(default=None, ge=0, le=MAX_MINUTES)
    """The customer's own time, travel included, in minutes (default: `capacity.customer_minutes` for its lane)."""
    fee: Annotated[float, StrictMode()] = Field(default=0, ge=0, le=MAX_FEE)
    """What the customer pays for it, in the manifest's `currency` (summed as customer_fees)."""

    _tuples = field_validator("asks", mode="before")(lambda v: _as_tuple(v))
    _steps = field_validator("after", mode="before")(lambda v: _names(v))

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel it can be in."""
        return (self.channel,) if isinstance(self.channel, str) else tuple(c.channel for c in self.channel)

    @property
    def base_channel(self) -> str:
        """Its channel, or the first alternative's: where it is when no alternative holds."""
        return self.channel if isinstance(self.channel, str) else self.channel[0].channel

    @property
    def base_days(self) -> float:
        return self.days if not isinstance(self.days, tuple) else self.days[0].days

    @property
    def choices(self) -> dict[str, tuple]:
        """The fields that depend on the customer, with their alternatives."""
        return {k: v for k, v in (("channel", self.channel), ("days", self.days)) if isinstance(v, tuple)}

    @field_validator("channel", "days", mode="before")
    @classmethod
    def _alternatives(cls, v: Any, info: Any) -> Any:
        v = _by_attribute(v, info.field_name)
        return tuple(v) if isinstance(v, list) else v

    @field_validator("channel", "days")
    @classmethod
    def _one_otherwise(cls, v: Any, info: Any) -> Any:
        return _check_choices(v, info.field_name)

    @field_validator("action", "department", "channel")
    @classmethod
    def _strip(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v   # alternatives: each stripped on its own
        v = _name(v)
        if not v:
            raise ValueError("must not be blank")
        return v

    @field_validator("days", "fee")
    @classmethod
    def _finite(cls, v: Any, info: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{info.field_name} must be a finite number")
        return v


# A mapping is a step; text names a step defined elsewhere. The discriminator keeps errors
# to the branch the user meant, instead of one per union member.
StepOrName = Annotated[
    Union[Annotated[Step, Tag("Step")], Annotated[StrictStr, Tag("str")]],
    Discriminator(lambda v: "str" if isinstance(v, str) else "Step"),
]


class LintOptions(Strict):
    """What `friction lint` should not report on a rule, and why. Lint only: evaluation
    never reads it."""

    ignore: tuple[str, ...] = Field(min_length=1)
    """Lint codes not to report on this rule, e.g. shadowed-rule."""
    reason: str = Field(min_length=1)
    """Why those findings do not apply (required)."""

    _tuples = field_validator("ignore", mode="before")(lambda v: _as_tuple(v))

    @model_validator(mode="before")
    @classmethod
    def _needs_reason(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "ignore" in data and not data.get("reason"):
            raise PydanticCustomError("lint", "a suppression needs a reason: add `reason: ...` "
                                      "beside `ignore`, saying why the finding does not apply", {})
        return data


class Rule(Strict):
    _misplaced = {k: f": `{k}` goes under `when`" for k in ("event", "step", "all", "any", "unless", "attr")}

    id: str = Field(min_length=1)
    """Unique id of the rule, e.g. address.proof-required."""
    cause: Cause
    """Why the rule exists: policy (an internal choice), practice (habit), system (an IT or process limit) or regulation (law)."""
    owner: str = Field(min_length=1)
    """Who owns the rule and can change it."""
    rationale: str = Field(min_length=1)
    """Why the rule is there, in one sentence."""
    source: str | None = None
    """Where the rule comes from: a handbook section, a law."""
    when: When
    """When the rule fires."""
    # A full step, or the action text of a step another rule of the set defines.
    then: tuple[StepOrName, ...] = Field(min_length=1)
    """The steps the rule requires: a full step, or the action of a step another rule defines."""
    lint: LintOptions | None = None
    """What `friction lint` should not report on this rule, and why (evaluation ignores it)."""

    @field_validator("then", mode="before")
    @classmethod
    def _then_list(cls, v: Any) -> Any:
        v = (v,) if isinstance(v, (str, Mapping)) else v
        return tuple(_name(x) if isinstance(x, str) else x for x in v) if isinstance(v, (list, tuple)) else v


class RuleFile(Strict):
    rules: tuple[Any, ...] | None = ()  # each item validated as a Rule on its own, to report all
