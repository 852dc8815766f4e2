"""The policy language and the catalog format, as pydantic models.

Everything a user writes is validated here; cross-references (rule ids, steps named in
`after`, attributes named in conditions) are checked in `load`, which sees the whole set.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, Mapping, Union

from pydantic import (
    BaseModel,
    Strict as StrictMode,
    ConfigDict,
    Discriminator,
    Field,
    StrictStr,
    Tag,
    field_validator,
    model_validator,
    PlainValidator,
)
from pydantic_core import PydanticCustomError

from .errors import did_you_mean
from .metrics import DEFAULT_WEIGHTS, METRICS, SCORES

__all__ = [
    "Attribute", "Case", "CaseSpec", "Catalog", "Cause", "Condition", "Lane", "LintOptions", "Manifest",
    "METRICS", "OPERATORS", "PolicySet", "Rule", "Scalar", "Step", "Thresholds", "When",
    "CUSTOMER_VISIBLE", "STAFF_ONLY", "INTERNAL_CHANNEL", "Capacity", "DepartmentCapacity", "ChannelCost", "ChannelChoice", "DaysChoice",
]

def _scalar(v: Any) -> Any:
    if isinstance(v, (bool, int, float, str)):
        return v
    raise PydanticCustomError("scalar", "expected true/false, a number or text, got {got}",
                              {"got": "a list" if isinstance(v, (list, tuple)) else
                               "a mapping" if isinstance(v, Mapping) else type(v).__name__})


# One value of a case attribute: one validator, so a wrong value gets one clear error.
Scalar = Annotated[Union[bool, int, float, str], PlainValidator(_scalar)]


class Cause(str, Enum):
    policy = "policy"          # an internal rule the organisation chose
    practice = "practice"      # how staff and systems habitually act
    system = "system"          # a limit of IT or process
    regulation = "regulation"  # law or an external mandate


class Lane(str, Enum):
    customer = "customer"
    frontstage = "frontstage"
    backstage = "backstage"
    support = "support"


CUSTOMER_VISIBLE = frozenset({Lane.customer, Lane.frontstage})
STAFF_ONLY = frozenset({Lane.backstage, Lane.support})
INTERNAL_CHANNEL = "internal"

# Metric names come from the one registry (metrics.py).
MetricName = Literal[METRICS]

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

# Bounds that keep every sum finite: a journey's days along a path of up to a million
# steps, and effort (weights x metrics) over a catalog of a billion cases.
MAX_DAYS = 1e6
MAX_FEE = 1e12   # a fee, in the manifest's currency: no sum of them overflows
MAX_WEIGHT = 1e6
MAX_MINUTES = 1e6        # a step's handling time (about two years)
MAX_VOLUME = 1e12        # cases a year, and any capacity or money figure

INT_LIMIT = 2 ** 63 - 1      # int attributes: 64-bit integers
EXACT_LIMIT = 2 ** 53        # int values of number attributes: exact as doubles

RESERVED_ATTRIBUTES = frozenset({"id", "kind", "sid", "event", "channel", "persona"})
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class Strict(BaseModel):
    """Frozen, and rejects unknown keys with a 'did you mean' suggestion."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)  # docs: JSON Schema

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            allowed = cls._allowed_keys()
            for key in data:
                if key not in allowed:
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint}",
                        {"key": str(key), "hint": cls._misplaced.get(key) or _key_hint(key, allowed)},
                    )
        return data

    # key -> ": where it goes instead", for keys that belong elsewhere (see WHERE_KEYS_GO)
    _misplaced: ClassVar[dict[str, str]] = {}

    @classmethod
    def _allowed_keys(cls) -> set[str]:
        return {f.alias or name for name, f in cls.model_fields.items()}


def _name(text: str) -> str:
    """Step names compare with runs of white space folded, as a reader would."""
    return " ".join(text.split())


def _names(value: Any) -> Any:
    value = _as_tuple(value)
    return tuple(_name(v) if isinstance(v, str) else v for v in value) if isinstance(value, (list, tuple)) else value


def _as_tuple(value: Any) -> Any:
    """YAML lets a single item stand for a one-item list."""
    if value is None:
        return ()
    if isinstance(value, (str, bool, int, float)):
        return (value,)
    return value


# --------------------------------------------------------------------------- rules


# Keys people put in the wrong place, and where they go: the error says so.
WHERE_KEYS_GO = {
    "unless": "`unless` goes directly under `when` (a list of steps that must not be required)",
    "then": "`then` goes beside `when` in the rule, not inside it",
    "after": "`after` belongs to a step under `then`",
    "action": "a step (`action`, `lane`, ...) goes under `then`",
    "lane": "a step (`action`, `lane`, ...) goes under `then`",
    "when": "`when` goes directly under the rule",
    "id": "`id` belongs to the rule, not to its conditions",
    "not": "there is no `not`: use `ne`, `not_in` or `present: false` on an attribute, "
           "or `unless` under `when` for a step that must not be required",
    "none": "there is no `none`: use `unless` under `when` for steps that must not be required",
}


def _key_hint(key: Any, allowed: set[str], synonyms: Mapping[str, str] | None = None) -> str:
    if synonyms and key in synonyms:
        return f" (did you mean '{synonyms[key]}'?)"
    if key in WHERE_KEYS_GO:
        return f": {WHERE_KEYS_GO[key]}"
    return did_you_mean(key, allowed)


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


# --------------------------------------------------------------------------- manifest


class Attribute(Strict):
    """A case attribute the policy set reads: drives case validation and case generation."""

    type: Literal["bool", "int", "number", "str"]
    """The attribute's type."""
    values: tuple[Scalar, ...] | None = None
    """The only values allowed."""
    min: Annotated[float, StrictMode()] | None = None
    """Smallest value allowed."""
    max: Annotated[float, StrictMode()] | None = None
    """Largest value allowed."""
    default: Scalar | None = None
    """The value of a case that does not set it."""
    description: str | None = None
    """What the attribute means, for people."""

    @field_validator("min", "max")
    @classmethod
    def _finite_bound(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Attribute":
        if self.type in ("bool", "str") and (self.min is not None or self.max is not None):
            raise PydanticCustomError("attribute", "min/max only apply to int and number attributes", {})
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError("attribute", "min is greater than max", {})
        for v in self.values or ():
            problem = self.check(v)
            if problem:
                raise PydanticCustomError("attribute", "allowed value {v}: {p}", {"v": repr(v), "p": problem})
        if self.default is not None:
            problem = self.check(self.default)
            if problem:
                raise PydanticCustomError("attribute", "default {v}: {p}", {"v": repr(self.default), "p": problem})
        return self

    def check(self, value: Any) -> str | None:
        """Why `value` is not valid for this attribute, or None."""
        ok = {
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "str": isinstance(value, str),
        }[self.type]
        if not ok:
            return f"expected {self.type}, got {type(value).__name__} {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return "expected a finite number"
        if isinstance(value, int) and not isinstance(value, bool):
            # Where the engines agree: durable_rules keeps ints in 64 bits and compares an int
            # with a float as doubles, exact up to 2**53.
            limit = INT_LIMIT if self.type == "int" else EXACT_LIMIT
            if not -limit - (self.type == "int") <= value <= limit:
                return f"{value} is beyond ±{limit} (the largest {'64-bit integer' if self.type == 'int' else 'integer a number attribute compares exactly'})"
        if self.values is not None and value not in self.values:
            allowed = ", ".join(map(repr, self.values))
            return f"{value!r} is not one of {allowed}{did_you_mean(value, map(str, self.values))}"
        if self.min is not None and value < self.min:
            return f"{value!r} is below the minimum {self.min:g}"
        if self.max is not None and value > self.max:
            return f"{value!r} is above the maximum {self.max:g}"
        return None


# A number as written: true/false are not numbers (pydantic's lax mode would take them as 1/0).
FiniteFloat = Annotated[float, StrictMode(), Field(allow_inf_nan=False)]
# Weights multiply metrics and are summed over catalogs: bounded so no total overflows.
Weight = Annotated[float, StrictMode(), Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT, allow_inf_nan=False)]


class Thresholds(Strict):
    handoffs: Annotated[int, StrictMode()] = Field(default=3, ge=0)
    """Flag a journey with more handoffs than this."""
    silent_wait_days: FiniteFloat = Field(default=2, ge=0)
    """Flag a step that takes longer than this with no word to the customer."""


Amount = Annotated[float, StrictMode(), Field(ge=0, le=MAX_VOLUME, allow_inf_nan=False)]
Minutes = Annotated[float, StrictMode(), Field(ge=0, le=MAX_MINUTES, allow_inf_nan=False)]


class DepartmentCapacity(Strict):
    """A department's practical capacity (TDABC) and its capacity cost rate."""

    capacity_hours: Amount | None = None
    """Practical capacity: staff hours a year available for the work (not paid hours)."""
    fte: Amount | None = None
    """Full-time equivalents; capacity is fte × the manifest's `practical_hours_per_fte`."""
    cost_per_hour: Amount = 0
    """Cost of one hour of the department's practical capacity (the capacity cost rate × 60)."""
    source: str | None = None
    """Where the figures come from, or the assumption they rest on."""

    @model_validator(mode="after")
    def _one_capacity(self) -> "DepartmentCapacity":
        if self.capacity_hours is not None and self.fte is not None:
            raise PydanticCustomError("capacity", "give capacity_hours or fte, not both", {})
        return self


class ChannelCost(Strict):
    """What one contact in a channel costs apart from staff time (postage, telephony, a branch)."""

    cost_per_contact: Amount = 0
    """Cost of one contact: a customer-visible step in this channel."""
    source: str | None = None
    """Where the figure comes from, or the assumption it rests on."""


class Capacity(Strict):
    """Time-driven activity-based costing: minutes per step, cost rates and practical
    capacity. Everything is optional: a set without it has zero minutes and costs."""

    minutes: dict[Lane, Minutes] = {}
    """Staff minutes of a step of this lane that does not give its own `minutes`."""
    customer_minutes: dict[Lane, Minutes] = {}
    """Customer minutes of a step of this lane that does not give its own `customer_minutes`."""
    practical_hours_per_fte: Amount | None = None
    """Practical hours one FTE gives a year (TDABC: about 80% of paid hours)."""
    departments: dict[str, DepartmentCapacity] = {}
    """Practical capacity and cost per staff hour, by department."""
    channels: dict[str, ChannelCost] = {}
    """Cost per contact, by channel."""
    burden_shift_hours: Amount = 0
    """`diff` flags burden-shift when a draft lowers customer effort or minutes and raises a
    department's yearly hours by more than this (or past its practical capacity)."""
    source: str | None = None
    """Where the figures come from, or the assumptions they rest on."""

    def capacity_hours(self, department: str) -> float | None:
        d = self.departments.get(department)
        if d is None:
            return None
        if d.capacity_hours is not None:
            return d.capacity_hours
        if d.fte is not None and self.practical_hours_per_fte is not None:
            return d.fte * self.practical_hours_per_fte
        return None

    def cost_per_minute(self, department: str) -> float:
        d = self.departments.get(department)
        return d.cost_per_hour / 60 if d else 0.0

    def cost_per_contact(self, channel: str) -> float:
        c = self.channels.get(channel)
        return c.cost_per_contact if c else 0.0

    def step_cost(self, lane: str, department: str, channel: str, minutes: float) -> float:
        """A step's cost as a case takes it: its minutes at its department's capacity cost
        rate, plus its channel's `cost_per_contact` when it is a contact (a customer-visible
        step outside `internal`), in the channel the case actually takes."""
        contact = Lane(lane) in CUSTOMER_VISIBLE and channel != INTERNAL_CHANNEL
        return minutes * self.cost_per_minute(department) + (self.cost_per_contact(channel) if contact else 0.0)


class Manifest(Strict):
    name: str = Field(min_length=1)
    """Name of the policy set."""
    version: str = "0"
    """Version of the policy set."""
    description: str = ""
    """What the policy set is, for people."""
    events: tuple[str, ...] = Field(min_length=1)
    """Life events the rules may name."""
    departments: tuple[str, ...] = Field(min_length=1)
    """Departments steps may name."""
    channels: tuple[str, ...] = Field(min_length=1)
    """Channels customer-visible steps may use (`internal` is implicit)."""
    start_channel: str | None = None  # where a case starts when it does not say
    """Where a case starts when it does not say (required when more than one channel is listed and cases do not say)."""
    currency: str | None = None
    """The currency of the steps' `fee` (e.g. GBP)."""
    attributes: dict[str, Attribute] = {}
    """Case attributes the rules read, with their types and defaults."""
    thresholds: Thresholds = Thresholds()
    """When the handoffs and silent-wait flags are raised."""
    limits: dict[MetricName, FiniteFloat] = {}   # the set's own limits: a flag when a case goes over
    """The set's own limits: a case over one gets a limit flag."""
    weights: dict[MetricName, Weight] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    """Weight of each metric in the effort score (these replace the defaults; within ±1,000,000)."""
    capacity: Capacity = Capacity()
    """Minutes per lane, practical capacity and costs (time-driven activity-based costing)."""

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, v: dict[str, Attribute]) -> dict[str, Attribute]:
        for name in v:
            if name in RESERVED_ATTRIBUTES:
                raise ValueError(f"'{name}' is reserved and cannot be an attribute name")
            if not IDENTIFIER.match(name):
                raise ValueError(f"attribute name '{name}' must be lower_snake_case")
        return v

    @field_validator("departments", "channels", "events")
    @classmethod
    def _names(cls, v: tuple[str, ...], info: Any) -> tuple[str, ...]:
        if info.field_name != "events":
            v = tuple(" ".join(x.split()) for x in v)  # as in steps: "Back  office" is "Back office"
        if len(set(v)) != len(v):
            raise ValueError(f"listed twice: {', '.join(sorted({x for x in v if v.count(x) > 1}))}")
        if info.field_name == "channels" and INTERNAL_CHANNEL in v:
            raise ValueError("'internal' is implicit (staff-only steps); do not list it in channels")
        return v

    @field_validator("start_channel")
    @classmethod
    def _start_channel(cls, v: str | None, info: Any) -> str | None:
        channels = info.data.get("channels")
        if v is not None and channels is not None and v not in channels:
            raise ValueError(f"'{v}' is not one of the channels{did_you_mean(v, channels)}")
        return v

    @model_validator(mode="after")
    def _capacity_names(self) -> "Manifest":
        cap = self.capacity
        for what, names, known in (("department", cap.departments, self.departments),
                                   ("channel", cap.channels, self.channels)):
            for name in names:
                if name not in known:
                    raise PydanticCustomError("capacity", "capacity: unknown {what} '{name}'{hint}",
                                              {"what": what, "name": name, "hint": did_you_mean(name, known)})
        for name, d in cap.departments.items():
            if d.fte is not None and cap.practical_hours_per_fte is None:
                raise PydanticCustomError(
                    "capacity", "capacity: department '{name}' gives fte, so practical_hours_per_fte is needed",
                    {"name": name})
        return self

    @property
    def default_channel(self) -> str | None:
        """Where a case starts when neither it, its persona nor its catalog says: the
        `start_channel`, or the only channel. Never the first of a list (order must not count)."""
        return self.start_channel or (self.channels[0] if len(self.channels) == 1 else None)


class PolicySet(BaseModel):
    """A loaded, cross-checked policy set. Built by `load.load_policy_set`."""

    model_config = ConfigDict(frozen=True)

    path: str
    manifest: Manifest
    rules: tuple[Rule, ...]                 # sorted by id
    steps: dict[str, Step]                  # action -> its one definition
    where: dict[str, tuple[str, int]]       # rule id -> (file, line)

    @property
    def name(self) -> str:
        return self.manifest.name



# --------------------------------------------------------------------------- catalogs


class CaseSpec(Strict):
    id: str | None = None
    """Case id (default: event/persona)."""
    event: str
    """The life event (one of the manifest's events)."""
    persona: str | None = None
    """A persona of this catalog whose attributes the case takes."""
    channel: str | None = None
    """The channel the customer starts in."""
    attrs: dict[str, Scalar] = {}
    """Attributes set for this case (over the persona's and the manifest's defaults)."""
    volume: Amount | None = None
    """How many such cases a year (overrides the event's per_year × the persona's share)."""


PERSONA_KEYS = frozenset({"channel", "description", "share", "source"})  # the rest of a persona are attributes


class Catalog(Strict):
    personas: dict[str, dict[str, Any]] = {}   # values checked per persona, against the manifest
    """Named sets of case attributes (plus `channel` and `description`)."""
    events: tuple[str, ...] = ()
    """Life events to expand over every persona (default: the manifest's)."""
    cases: tuple[Any, ...] = ()   # each validated as a CaseSpec on its own
    """Explicit cases."""
    expand: Annotated[bool, StrictMode()] = False   # also every event x every persona
    """Also make a case of every event x every persona."""
    channel: str | None = None    # start channel for expanded cases without one
    """Start channel for expanded cases without one."""
    per_year: dict[str, Amount] = {}
    """Life events a year, by event: a case's volume is its event's per_year × its persona's share."""


@dataclass(frozen=True, slots=True)
class Case:
    """One life event for one persona, resolved against a manifest: the unit replayed.
    A plain dataclass: cases are built once per catalog line and must be cheap; every value
    in it was validated against the manifest on the way in (catalog.CaseResolver)."""

    id: str
    event: str
    channel: str
    attrs: dict[str, Any]
    persona: str | None = None
    volume: float = 1   # cases a year this case stands for (1: unweighted)
