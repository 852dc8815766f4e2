"""The one metric registry: every metric's name, table column, side, definition, default
weight and how it totals over a catalog. Everything that lists metrics reads it: the
`Metrics` type (measure.py), the manifest's `limits` and `weights`, report columns,
expectations, snapshots, diff, rank and fuzz. A new metric is added here, and computed in
measure.py; nothing else lists metrics by hand."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from .errors import InputError, did_you_mean

__all__ = ["Metric", "REGISTRY", "METRICS", "METRIC_INDEX", "SCORES", "EFFORT", "COLUMNS", "METRIC_ALIASES",
           "DEFAULT_WEIGHTS", "HEADLINE", "StepFacts", "metric_named", "column_of", "Yearly", "YEARLY",
           "YEARLY_FIGURES", "SNAPSHOT_YEAR"]

Side = Literal["customer", "staff", "both"]


@dataclass(frozen=True)
class Metric:
    name: str           # as in JSON, CSV, expectations, limits and weights
    column: str         # the short title of the terminal table, also accepted wherever a name is
    side: Side          # whose effort it measures
    definition: str     # one line, as the README's table says it
    kind: type = int    # int counts; float for days and money
    weight: float = 0.0  # default weight in the effort score (the manifest's `weights` replace them all)
    headline: bool = False  # shown where space is short (rank's table)
    total: Literal["sum"] = "sum"   # over a catalog every metric is a sum over cases (so attribution adds up)


REGISTRY: tuple[Metric, ...] = (
    Metric("steps", "steps", "both", "steps in the journey", headline=True),
    Metric("customer_steps", "cust", "customer", "steps in lane `customer`", weight=1.0, headline=True),
    Metric("backstage_steps", "back", "staff", "steps in lanes `backstage` and `support`"),
    Metric("departments", "depts", "both", "distinct departments over all steps", headline=True),
    Metric("customer_departments", "cust-depts", "customer",
           "distinct departments over the customer path: the teams the customer deals with", headline=True),
    Metric("channels", "chans", "customer", "distinct channels over the customer path (never `internal`)",
           weight=2.0, headline=True),
    Metric("handoffs", "hand-offs", "customer",
           "adjacent pairs on the customer path whose departments differ", weight=1.0, headline=True),
    Metric("staff_handoffs", "staff-hand-offs", "staff",
           "dependency edges between departments whose later step is `backstage` or `support`", headline=True),
    Metric("channel_switches", "switches", "customer",
           "adjacent steps the customer acts in whose channels differ, plus 1 if the first is not the start channel",
           weight=2.0),
    Metric("repeated_asks", "re-asks", "customer",
           "over steps the customer acts in: per information item, steps asking for it − 1", weight=1.0),
    Metric("staff_rekeys", "re-keys", "staff",
           "information staff-only steps handle again: per item, such steps − 1, or all of them "
           "when the customer already gave it"),
    Metric("elapsed_days", "days", "customer", "longest path of step durations through `after`", kind=float,
           weight=0.5, headline=True),
    Metric("customer_fees", "fees", "customer", "what the customer pays: the sum of the steps' `fee`",
           kind=float),
    Metric("policy_steps", "policy", "both",
           "steps that disappear when every `policy` and `practice` rule is removed"),
    # Time-driven activity-based costing (Kaplan & Anderson): minutes per step, set by the rules.
    Metric("staff_minutes", "staff-min", "staff",
           "Σ over steps of `minutes`, staff handling time (lane default from `capacity.minutes`)", kind=float),
    Metric("customer_minutes", "cust-min", "customer",
           "Σ over steps of `customer_minutes` (lane default from `capacity.customer_minutes`)", kind=float),
    Metric("cost", "cost", "staff",
           "Σ over steps of minutes × the department's cost per minute, plus each contact's `cost_per_contact`",
           kind=float),
)



class Yearly(NamedTuple):
    """A figure over a year: a per-case metric weighted by the case's volume (cases a year),
    divided by `per` (60 turns minutes into hours). Rank attributes them like metrics."""

    name: str
    column: str
    side: Side
    metric: str          # the per-case metric it weights
    per: float
    definition: str


YEARLY: tuple[Yearly, ...] = (
    Yearly("staff_hours", "staff-h/yr", "staff", "staff_minutes", 60, "Σ volume × staff_minutes / 60"),
    Yearly("customer_hours", "cust-h/yr", "customer", "customer_minutes", 60, "Σ volume × customer_minutes / 60"),
    Yearly("yearly_cost", "cost/yr", "staff", "cost", 1, "Σ volume × cost"),
)
YEARLY_FIGURES: tuple[str, ...] = tuple(y.name for y in YEARLY)
SNAPSHOT_YEAR = "a year"   # what a yearly figure's snapshot regression names in place of a case

EFFORT = "effort"   # Σ weight × metric: not a metric of its own, but compared like one
METRICS: tuple[str, ...] = tuple(m.name for m in REGISTRY)
METRIC_INDEX: dict[str, int] = {m: i for i, m in enumerate(METRICS)}   # a metric's place in a values tuple
SCORES: tuple[str, ...] = (*METRICS, EFFORT)     # what reports, diffs, snapshots and checks compare
COLUMNS: dict[str, str] = {**{m.name: m.column for m in REGISTRY}, EFFORT: EFFORT,
                           **{y.name: y.column for y in YEARLY}}
HEADLINE: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.headline)
DEFAULT_WEIGHTS: dict[str, float] = {m.name: m.weight for m in REGISTRY if m.weight}
# Every name a user may write for a score: its name or its table column.
METRIC_ALIASES: dict[str, str] = {**{m.column: m.name for m in REGISTRY}, **{s: s for s in SCORES}}
_YEARLY_ALIASES: dict[str, str] = {**{y.column: y.name for y in YEARLY}, **{y: y for y in YEARLY_FIGURES}}

assert len(set(COLUMNS.values())) == len(COLUMNS), "table columns must be distinct"


def metric_named(text: str, what: str = "metric", allow_effort: bool = True, allow_yearly: bool = False) -> str:
    """The metric a user means by `text` (a name or a table column: `cust` is
    customer_steps), or with `allow_yearly` a yearly figure (`staff_hours`); an InputError
    with a suggestion otherwise."""
    aliases = {**METRIC_ALIASES, **_YEARLY_ALIASES} if allow_yearly else METRIC_ALIASES
    name = aliases.get(text.strip())
    if name is None or (name == EFFORT and not allow_effort):
        choices = [k for k in aliases if allow_effort or k != EFFORT]
        raise InputError(f"{what}: unknown metric '{text}'{did_you_mean(text, choices)}")
    return name


def column_of(name: str) -> str:
    return COLUMNS.get(name, name)


class StepFacts(NamedTuple):
    """What measuring needs of one step: nothing refers back to a rule or a compiled set."""

    action: str
    lane: str               # a Lane (or its value)
    department: str
    channel: str = "internal"
    asks: tuple[str, ...] = ()
    days: float = 0.0
    informs: bool = False   # the organisation tells the customer something (a letter, a message)
    fee: float = 0.0        # what the customer pays for it
    minutes: float = 0.0    # staff handling time of its department
    customer_minutes: float = 0.0
    cost: float = 0.0       # minutes × the department's cost per minute + the channel's cost per contact
