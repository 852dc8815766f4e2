"""The manifest, as pydantic models: what a policy set declares (life events, departments,
channels, case attributes, thresholds, limits, weights, capacity and costs), and
`PolicySet`, a manifest with its cross-checked rules.
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Strict as StrictMode, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .errors import did_you_mean
from .language import Rule, Step
from .metrics import DEFAULT_WEIGHTS, METRICS
from .vocabulary import (
    CUSTOMER_VISIBLE, EXACT_LIMIT, INT_LIMIT, INTERNAL_CHANNEL, MAX_MINUTES, MAX_VOLUME, MAX_WEIGHT, Lane,
    Scalar, Strict,
)

__all__ = ["Attribute", "Capacity", "ChannelCost", "DepartmentCapacity", "Manifest", "PolicySet", "Thresholds"]


# Metric names come from the one registry (metrics.py).
MetricName = Literal[METRICS]

RESERVED_ATTRIBUTES = frozenset({"id", "kind", "sid", "event", "channel", "persona"})
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


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
