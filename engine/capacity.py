"""Both sides of the stage over a year: time-driven activity-based costing (Kaplan and
Anderson, HBR 2004; their 2007 book) over a catalog.

A case's journey puts minutes on departments (the steps' `minutes`: TDABC's time
equations, since the rules choose the steps from the case) and contacts on channels.
Weighted by the case's volume (cases a year) and summed over the catalog, that is each
department's yearly load, set against its *practical* capacity, and each channel's
contacts, priced at the capacity cost rate and the cost per contact.

A `CaseLoad` is a function of the journey alone, so it is memoised with the outcome it
belongs to; volume is per case and is applied only when totalling (`YearlyLoad.add`)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple, Sequence

from .measure import tidy_number
from .metrics import StepFacts
from .vocabulary import CUSTOMER_VISIBLE, INTERNAL_CHANNEL
from .manifest import Capacity

__all__ = ["CaseLoad", "YearlyLoad", "case_load", "capacity_configured", "over_capacity", "burden_shift",
           "yearly_load", "TOP_RULES"]

TOP_RULES = 3   # rules named in an over-capacity finding
_VISIBLE = frozenset(l.value for l in CUSTOMER_VISIBLE)


class CaseLoad(NamedTuple):
    """What one journey puts on the organisation and the customer, before volume."""

    department_minutes: tuple[tuple[str, float], ...]    # (department, staff minutes), sorted
    channel_contacts: tuple[tuple[str, int], ...]        # (channel, contacts), sorted
    rule_minutes: tuple[tuple[str, str, float], ...]     # (department, rule, minutes of the steps it requires)
    customer_minutes: float


def case_load(steps: Sequence[StepFacts], rules: Sequence[Sequence[str]]) -> CaseLoad:
    """`steps`: the journey's step facts; `rules[i]`: the rules that required step i. A
    contact is a customer-visible step (lane customer or frontstage) outside `internal`."""
    depts: dict[str, float] = defaultdict(float)
    contacts: dict[str, int] = defaultdict(int)
    by_rule: dict[tuple[str, str], float] = defaultdict(float)
    for s, required_by in zip(steps, rules):
        if s.minutes:
            depts[s.department] += s.minutes
            for r in required_by:
                by_rule[s.department, r] += s.minutes
        if s.lane in _VISIBLE and s.channel != INTERNAL_CHANNEL:
            contacts[s.channel] += 1
    return CaseLoad(tuple(sorted(depts.items())), tuple(sorted(contacts.items())),
                    tuple((d, r, m) for (d, r), m in sorted(by_rule.items())),
                    sum(s.customer_minutes for s in steps))


def capacity_configured(cap: Capacity) -> bool:
    """Whether a set says anything about time or cost (else its outputs stay as they were)."""
    return cap != Capacity()


@dataclass
class YearlyLoad:
    """Volume-weighted sums over a catalog: minutes per department, contacts per channel,
    customer minutes, effort and cases. Tallies of parts merge by adding."""

    department_minutes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    channel_contacts: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rule_minutes: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    customer_minutes: float = 0.0
    effort: float = 0.0       # Σ volume × effort score
    volume: float = 0.0       # cases a year
    cases: int = 0

    def add(self, load: CaseLoad, volume: float, effort: float = 0.0) -> None:
        for d, m in load.department_minutes:
            self.department_minutes[d] += volume * m
        for c, n in load.channel_contacts:
            self.channel_contacts[c] += volume * n
        for d, r, m in load.rule_minutes:
            self.rule_minutes[d, r] += volume * m
        self.customer_minutes += volume * load.customer_minutes
        self.effort += volume * effort
        self.volume += volume
        self.cases += 1

    def merge(self, other: "YearlyLoad") -> "YearlyLoad":
        """Add the tally of other cases (a block of a catalog evaluated elsewhere)."""
        for mine, theirs in ((self.department_minutes, other.department_minutes),
                             (self.channel_contacts, other.channel_contacts), (self.rule_minutes, other.rule_minutes)):
            for k, v in theirs.items():
                mine[k] += v
        self.customer_minutes += other.customer_minutes
        self.effort += other.effort
        self.volume += other.volume
        self.cases += other.cases
        return self

    def department_hours(self) -> dict[str, float]:
        return {d: m / 60 for d, m in sorted(self.department_minutes.items())}

    def report(self, cap: Capacity) -> dict[str, Any]:
        """The yearly figures as plain data (JSON's `yearly`): per department hours, practical
        capacity, utilisation and cost; per channel contacts and cost; customer hours."""
        departments = {}
        for d in sorted(set(self.department_minutes) | set(cap.departments)):
            hours = self.department_minutes.get(d, 0.0) / 60
            capacity = cap.capacity_hours(d)
            departments[d] = {
                "hours": _round(hours), "capacity_hours": None if capacity is None else _round(capacity),
                "utilisation": None if not capacity else _round(hours / capacity, 4),
                "cost": _round(hours * 60 * cap.cost_per_minute(d)),
            }
        channels = {c: {"contacts": _round(n), "cost": _round(n * cap.cost_per_contact(c))}
                    for c, n in sorted(self.channel_contacts.items())}
        return {
            "cases_per_year": _round(self.volume),
            "customer_hours": _round(self.customer_minutes / 60),
            "staff_hours": _round(sum(self.department_minutes.values()) / 60),
            "cost": _round(sum(v["cost"] for v in departments.values()) + sum(v["cost"] for v in channels.values())),
            "effort": _round(self.effort),
            "departments": departments, "channels": channels,
            "findings": over_capacity(self, cap),
        }


def _round(x: float, digits: int = 2) -> float:
    return tidy_number(round(x, digits))


def over_capacity(load: YearlyLoad, cap: Capacity) -> list[dict[str, Any]]:
    """An `over-capacity` finding per department whose yearly hours exceed its practical
    capacity, naming the rules whose steps put most hours there."""
    out = []
    for d, minutes in sorted(load.department_minutes.items()):
        capacity = cap.capacity_hours(d)
        if capacity is None or minutes / 60 <= capacity:
            continue
        top = sorted(((m, r) for (dd, r), m in load.rule_minutes.items() if dd == d), key=lambda x: (-x[0], x[1]))
        rules = [{"rule": r, "hours": _round(m / 60)} for m, r in top[:TOP_RULES]]
        out.append({
            "kind": "over-capacity", "department": d, "hours": _round(minutes / 60), "capacity_hours": _round(capacity),
            "rules": rules,
            "message": (f"{d} needs {minutes / 60:,.0f} staff hours a year, over its practical capacity of "
                        f"{capacity:,.0f}; most from " + ", ".join(f"{x['rule']} ({x['hours']:,.0f} h)" for x in rules)),
        })
    return out


def burden_shift(before: YearlyLoad, after: YearlyLoad, cap: Capacity) -> list[dict[str, Any]]:
    """`burden-shift` findings: the draft (`after`, with its manifest's `cap`) lowers the
    customer's yearly effort or minutes while a department's yearly hours rise by more than
    `burden_shift_hours`, or past its practical capacity."""
    lower_effort = after.effort < before.effort
    lower_minutes = after.customer_minutes < before.customer_minutes
    if not (lower_effort or lower_minutes):
        return []
    hb, ha = before.department_hours(), after.department_hours()
    out = []
    for d in sorted(set(hb) | set(ha)):
        b, a = hb.get(d, 0.0), ha.get(d, 0.0)
        capacity = cap.capacity_hours(d)
        past = capacity is not None and a > capacity >= b
        if a - b > cap.burden_shift_hours or past:
            why = (f"past its practical capacity of {capacity:,.0f}" if past
                   else f"more than the threshold of {cap.burden_shift_hours:,.0f}")
            customer = ("customer effort " + f"{before.effort:,.0f} → {after.effort:,.0f}" if lower_effort
                        else "customer hours " + f"{before.customer_minutes / 60:,.0f} → {after.customer_minutes / 60:,.0f}")
            out.append({
                "kind": "burden-shift", "department": d, "hours_before": _round(b), "hours_after": _round(a),
                "capacity_hours": None if capacity is None else _round(capacity),
                "message": (f"the draft lowers {customer} a year but raises {d} from {b:,.0f} to {a:,.0f} "
                            f"staff hours a year ({why})"),
            })
    return out


def yearly_load(items: Iterable[tuple[CaseLoad, float, float]]) -> YearlyLoad:
    """The tally of (load, volume, effort) triples."""
    y = YearlyLoad()
    for load, volume, effort in items:
        y.add(load, volume, effort)
    return y
