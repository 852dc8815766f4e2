"""Compile a policy set once: a table of rules over integer step ids, plus plain-Python
matchers (generated source, inspectable with `CompiledPolicySet.source`).

Both engines replay the same compiled set and report only *which rules fired*; the trace,
journey and metrics are built from that by shared code, so the two engines cannot differ
in anything but matching and chaining.

Generated source never contains user text except through `repr()` of a str, int, bool or
finite float: rule ids, actions and values are data, never code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .errors import InputError
from .logic import alternatives, chain_order, strata, then_actions
from .metrics import StepFacts
from .vocabulary import Cause
from .language import Condition, Rule, Step
from .manifest import Capacity, PolicySet
from .case import Case

__all__ = ["CompiledRule", "CompiledPolicySet", "compile_policy_set"]

MISSING = object()  # an attribute the case does not have


@dataclass(frozen=True)
class CompiledRule:
    index: int                  # position in CompiledPolicySet.rules (sorted by id)
    rule: Rule
    events: frozenset[str]      # empty: every life event (the top-level `when.event`)
    requires: tuple[int, ...]   # step ids it requires, in `then` order
    attributes: tuple[str, ...]  # case attributes its conditions read (sorted)
    # Its condition in normal form (logic.alternatives): it fires once, for one of these,
    # the guard holds on the case and every step (ids, sorted) is required.
    alternatives: tuple[tuple[int, ...], ...] = ()
    guards: tuple[Condition | None, ...] = ()
    unless: tuple[int, ...] = ()    # step ids that must not be required (sorted)
    stratum: int = 0
    tests: tuple[int, ...] = ()     # every step id its condition tests (sorted): the static view

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def cause(self) -> Cause:
        return self.rule.cause

    @property
    def chains(self) -> bool:
        """Whether it can wait for steps (some alternative tests steps)."""
        return bool(self.tests)


@dataclass
class CompiledPolicySet:
    policy_set: PolicySet
    rules: tuple[CompiledRule, ...]
    actions: tuple[str, ...]            # step id -> action (sorted, so ids are content-derived)
    steps: tuple[Step, ...]             # step id -> definition
    step_ids: dict[str, int]
    source: str                         # the generated matcher module
    # life event -> matcher(attributes) -> (rules ready at once, live units); a unit is one
    # alternative of one rule that tests steps (see unit_rule / unit_steps)
    matchers: dict[str, Callable[[Mapping[str, Any]], tuple[list[int], list[int]]]] = field(repr=False)
    rule_index: dict[str, int] = field(repr=False)
    # life event -> fire(attributes, excluded rules) -> the rules that fire (friction.fixpoint)
    firers: dict[str, Callable[[Mapping[str, Any], frozenset[int]], list[int]]] = field(repr=False,
                                                                                      default_factory=dict)
    unit_rule: tuple[int, ...] = field(repr=False, default=())
    unit_steps: tuple[tuple[int, ...], ...] = field(repr=False, default=())
    units_on_step: tuple[tuple[int, ...], ...] = field(repr=False, default=())   # step id -> units testing it
    unless_steps: frozenset[int] = field(repr=False, default=frozenset())         # steps some `unless` tests
    guarded: frozenset[int] = field(repr=False, default=frozenset())              # rules with `unless`
    unit_size: tuple[int, ...] = field(repr=False, default=())                    # unit -> how many steps
    rule_requires: tuple[tuple[int, ...], ...] = field(repr=False, default=())    # rule -> CompiledRule.requires
    # rule -> the steps it fires on when it has one alternative testing steps, else ():
    # when the set is not `ambiguous`, what any firing of it fired on (Trace.matched)
    rule_needs: tuple[tuple[int, ...], ...] = field(repr=False, default=())
    sibling_units: tuple[tuple[int, ...], ...] = field(repr=False, default=())    # unit -> other units of its rule
    # Precomputed per step id, so each journey is built from small ints and shared dicts.
    step_after: tuple[tuple[int, ...], ...] = field(repr=False, default=())
    step_facts: tuple[StepFacts, ...] = field(repr=False, default=())    # what measuring reads
    owner_of: dict[str, str] = field(repr=False, default_factory=dict)      # rule id -> owner
    # Steps whose channel or days depend on the case: (step id, field, value of each
    # alternative); `chooser` (generated) gives, for a case's attributes, the alternative
    # taken in each slot.
    choice_slots: tuple[tuple[int, str, tuple[Any, ...]], ...] = field(repr=False, default=())
    chooser: Callable[[Mapping[str, Any]], tuple[int, ...]] | None = field(repr=False, default=None)
    _facts_by_choice: dict[tuple[int, ...], tuple[StepFacts, ...]] = field(repr=False, default_factory=dict)
    # Whether the rules that fired leave open which alternative each fired on (or, with
    # `unless`, what fires once rules are left out): then outcomes are keyed by `live` too.
    ambiguous: bool = field(repr=False, default=False)
    # Each rule's place in step-dependency order over the whole set (logic.chain_order), and
    # the rules that chain in a cycle: taken in that order, fired rules settle in one pass
    # (what a rule needs is required by rules before it) unless some of them are cyclic.
    chain_rank: tuple[int, ...] = field(repr=False, default=())
    cyclic: frozenset[int] = field(repr=False, default=frozenset())

    @property
    def name(self) -> str:
        return self.policy_set.name

    @property
    def manifest(self):
        return self.policy_set.manifest

    @property
    def negation(self) -> bool:
        """Whether some rule tests for a step's absence (`unless`)."""
        return bool(self.unless_steps)

    def live(self, case: Case) -> tuple[list[int], list[int]]:
        """Rules whose case conditions hold with no step needed, and the units (rule
        alternatives that test steps) whose case conditions hold. Steps are not considered."""
        match = self.matchers.get(case.event)
        if match is None:
            return [], []
        return match(case.attrs)

    def signature(self, case: Case) -> tuple:
        """What, beside the rules that fired, the start channel and the alternatives taken
        (`choices`), a case's outcome depends on: nothing, unless a rule can fire by more
        than one alternative or some rule has `unless`; then which rules and units are live
        (which steps a rule fired on, and what fires once policy rules are left out)."""
        if not self.ambiguous:
            return ()
        ready, units = self.live(case)
        return tuple(ready), tuple(units)

    def candidates(self, case: Case) -> list[int]:
        """Rules whose event and case conditions hold for some alternative (steps not yet considered)."""
        ready, units = self.live(case)
        return sorted(set(ready).union(self.unit_rule[u] for u in units))

    def choices(self, case: Case) -> tuple[int, ...]:
        """The alternative each customer-dependent step takes for this case: part of what a
        journey is a function of, beside the rules that fired and the start channel."""
        return self.chooser(case.attrs) if self.choice_slots else ()

    def case_facts(self, case: Case) -> tuple[StepFacts, ...]:
        """Each step id's facts as this case has them (channel and days alternatives taken)."""
        if not self.choice_slots:
            return self.step_facts
        key = self.chooser(case.attrs)
        facts = self._facts_by_choice.get(key)
        if facts is None:
            out = list(self.step_facts)
            cap = self.manifest.capacity
            for (s, name, values), k in zip(self.choice_slots, key):
                out[s] = out[s]._replace(**{name: values[k]})
                if name == "channel":   # a contact is priced in the channel the case takes
                    f = out[s]
                    out[s] = f._replace(cost=cap.step_cost(f.lane, f.department, f.channel, f.minutes))
            facts = self._facts_by_choice[key] = tuple(out)
        return facts

    def rule_ids(self, causes: set[Cause]) -> frozenset[int]:
        return frozenset(r.index for r in self.rules if r.cause in causes)

    def __repr__(self) -> str:   # the generated source and tables are long
        return (f"CompiledPolicySet(name={self.name!r}, version={self.manifest.version!r}, "
                f"rules={len(self.rules)}, steps={len(self.actions)})")

    # Pickling (spawned worker processes, Dask workers): generated functions do not pickle,
    # so the matchers are left out and compiled again from `source` on the receiving side.
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("matchers", "chooser", "firers")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.matchers, self.chooser, self.firers = _matchers(self.source, self.policy_set.name)


def compile_policy_set(policy_set: PolicySet) -> CompiledPolicySet:
    actions = tuple(sorted(policy_set.steps))
    step_ids = {a: i for i, a in enumerate(actions)}
    stratum, cycles = strata(policy_set.rules)
    if cycles:  # the loader refuses these; a hand-built PolicySet may not have been checked
        raise InputError(f"rule {cycles[0].rule}: {cycles[0].describe()}")
    rules = []
    unit_rule: list[int] = []
    unit_steps: list[tuple[int, ...]] = []
    for i, rule in enumerate(policy_set.rules):
        # An alternative that needs a step `unless` forbids can never hold: dropped, so that
        # neither engine has to decide it (durable_rules would let one fact match both).
        unless = set(rule.when.unless)
        alts = [alt for alt in alternatives(rule.when.condition(with_event=False)) if not alt.steps & unless]
        rules.append(CompiledRule(
            index=i, rule=rule, events=frozenset(rule.when.event),
            requires=tuple(dict.fromkeys(step_ids[a] for a in then_actions(rule))),
            attributes=tuple(sorted(rule.when.attributes())),
            alternatives=tuple(tuple(sorted(step_ids[s] for s in alt.steps)) for alt in alts),
            guards=tuple(alt.guard for alt in alts),
            unless=tuple(sorted({step_ids[s] for s in rule.when.unless})),
            stratum=stratum.get(rule.id, 0),
            tests=tuple(sorted({step_ids[s] for s in rule.when.steps()})),
        ))
    units: list[list[int]] = []   # rule index -> its unit ids, parallel to its alternatives with steps
    for r in rules:
        mine = []
        for steps in r.alternatives:
            if steps:
                mine.append(len(unit_rule))
                unit_rule.append(r.index)
                unit_steps.append(steps)
        units.append(mine)
    units_on_step: list[list[int]] = [[] for _ in actions]
    for u, steps in enumerate(unit_steps):
        for s in steps:
            units_on_step[s].append(u)
    steps = tuple(policy_set.steps[a] for a in actions)
    choice_slots = [(i, name, choices) for i, s in enumerate(steps) for name, choices in s.choices.items()]
    source = generate_source(policy_set.name, policy_set.manifest.events, rules, units, choice_slots)
    matchers, chooser, firers = _matchers(source, policy_set.name)
    return CompiledPolicySet(
        policy_set=policy_set, rules=tuple(rules), actions=actions, steps=steps, step_ids=step_ids,
        source=source, matchers=matchers, chooser=chooser, firers=firers,
        choice_slots=tuple((i, name, tuple(getattr(c, name) for c in choices)) for i, name, choices in choice_slots),
        rule_index={r.id: r.index for r in rules},
        unit_rule=tuple(unit_rule), unit_steps=tuple(unit_steps),
        units_on_step=tuple(map(tuple, units_on_step)),
        unless_steps=frozenset(s for r in rules for s in r.unless),
        guarded=frozenset(r.index for r in rules if r.unless),
        unit_size=tuple(map(len, unit_steps)), rule_requires=tuple(r.requires for r in rules),
        rule_needs=tuple(r.alternatives[0] if len(r.alternatives) == 1 else () for r in rules),
        sibling_units=tuple(tuple(v for v in units[unit_rule[u]] if v != u) for u in range(len(unit_rule))),
        step_after=tuple(tuple(step_ids[a] for a in s.after) for s in steps),
        step_facts=tuple(_step_facts(s, policy_set.manifest.capacity) for s in steps),
        owner_of={r.id: r.rule.owner for r in rules},
        ambiguous=any(r.unless or (len(r.alternatives) > 1 and any(r.alternatives)) for r in rules),
        **_chain_ranks(rules),
    )


def _chain_ranks(rules: list[CompiledRule]) -> dict[str, Any]:
    rank = [0] * len(rules)
    cyclic: set[int] = set()
    order = chain_order(rules, lambda r: {s for alt in r.alternatives for s in alt} | set(r.unless),
                        lambda r: r.requires)
    for pos, (group, cycle) in enumerate(order):
        for r in group:
            rank[r.index] = pos
            if cycle:
                cyclic.add(r.index)
    return {"chain_rank": tuple(rank), "cyclic": frozenset(cyclic)}


def _step_facts(s: Step, cap: Capacity) -> StepFacts:
    """A step's facts with its minutes resolved (own, else its lane's default) and its cost."""
    minutes = s.minutes if s.minutes is not None else cap.minutes.get(s.lane, 0.0)
    customer = s.customer_minutes if s.customer_minutes is not None else cap.customer_minutes.get(s.lane, 0.0)
    return StepFacts(s.action, s.lane.value, s.department, s.base_channel, s.asks, s.base_days, s.informs, s.fee,
                     minutes=minutes, customer_minutes=customer,
                     cost=cap.step_cost(s.lane.value, s.department, s.base_channel, minutes))


def _matchers(source: str, name: str) -> tuple[dict[str, Callable], Callable, dict[str, Callable]]:
    """The matcher functions, the chooser and the replay functions of generated `source`
    (no builtins: it only compares values)."""
    namespace: dict[str, Any] = {"__builtins__": {}, "MISSING": MISSING}
    exec(compile(source, f"<friction policy set {name!r}>", "exec"), namespace)  # noqa: S102
    return namespace["MATCHERS"], namespace["CHOOSE"], namespace["FIRE"]


# --------------------------------------------------------------------------- code generation


def _lit(value: Any) -> str:
    """A Python literal for a validated scalar. Anything else is refused, never inlined."""
    if type(value) in (str, int, bool) or (type(value) is float and math.isfinite(value)):
        return repr(value)
    raise TypeError(f"not a plain value: {value!r}")


def _condition(c: Condition, local: dict[str, str], event: str | None = None) -> str:
    """A Python expression over attributes already read into locals (`local`: attribute ->
    variable; MISSING when the case lacks it). A missing attribute makes every comparison
    false, `ne` and `not_in` included, as in durable_rules. `event` tests are decided here,
    for the life event the matcher is generated for. Step tests never reach here (they
    are taken out by logic.alternatives)."""
    if c.all is not None:
        return "(" + " and ".join(_condition(x, local, event) for x in c.all) + ")"
    if c.any is not None:
        return "(" + " or ".join(_condition(x, local, event) for x in c.any) + ")"
    if c.event is not None:
        return "True" if event in c.event else "False"
    if c.step is not None:
        raise ValueError("a step test in a guard")  # logic.alternatives takes every one out
    v = local[c.attr]
    if c.op == "present":
        return f"({v} is not MISSING)" if c.value else f"({v} is MISSING)"
    if c.op == "eq":
        return f"({v} == {_lit(c.value)})"      # MISSING equals nothing
    if c.op == "in":
        return f"({v} in ({', '.join(map(_lit, c.value))},))"
    py = {"ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "not_in": "not in"}[c.op]
    right = f"({', '.join(map(_lit, c.value))},)" if c.op == "not_in" else _lit(c.value)
    return f"({v} is not MISSING and {v} {py} {right})"


def guard_expression(guard: Condition | None, local: dict[str, str], event: str | None) -> str:
    return "True" if guard is None else _condition(guard, local, event)


def generate_source(name: str, events: tuple[str, ...], rules: list[CompiledRule],
                    units: list[list[int]], choice_slots: list[tuple[int, str, tuple[Any, ...]]] = ()) -> str:
    lines = [
        f"# friction: matchers compiled from policy set {name!r}.",
        "# Two functions per life event. fire_N replays a case: every attribute read once into a",
        "# local, each rule one `if` over them and over step flags, rules in step-dependency order",
        "# (a rule after every rule that can require a step it tests, `unless` included), so one",
        "# pass reaches the fixed point; only rules that chain in a cycle loop until nothing new",
        "# fires. match_N gives the rules whose case conditions hold with no step needed, and the",
        "# units (a rule's alternative that tests steps) whose case conditions hold: what traces",
        "# read to say which steps a rule fired on.",
        "",
    ]
    table = []
    fire_table = []
    for n, event in enumerate(sorted(events)):
        mine = [r for r in rules if not r.events or event in r.events]
        used = sorted(set().union(*(r.rule.when.attributes() for r in mine)))
        local = {attr: f"v{k}" for k, attr in enumerate(used)}
        lines.extend(_fire_source(n, event, mine, local))
        fire_table.append(f"    {event!r}: fire_{n},")
        fn = f"match_{n}"
        lines.append(f"def {fn}(a):  # life event {event!r}")
        lines.append("    get = a.get")
        for attr, var in local.items():
            lines.append(f"    {var} = get({_lit(attr)}, MISSING)")
        lines.append("    ready, units = [], []")
        for r in mine:
            lines.append(f"    # rule {r.id!r}")
            mine_units = iter(units[r.index])
            indent = "    "
            for steps, guard in zip(r.alternatives, r.guards):
                test = guard_expression(guard, local, event)
                if not steps:  # at most one alternative without steps, and it comes first
                    lines.append(f"{indent}if {test}:")
                    lines.append(f"{indent}    ready.append({r.index})")
                    if len(r.alternatives) > 1:
                        lines.append(f"{indent}else:")
                        indent += "    "
                    continue
                lines.append(f"{indent}if {test}:")
                lines.append(f"{indent}    units.append({next(mine_units)})")
        lines.append("    return ready, units")
        lines.append("")
        table.append(f"    {event!r}: {fn},")
    lines.append("MATCHERS = {")
    lines.extend(table)
    lines.append("}")
    lines.append("FIRE = {")
    lines.extend(fire_table)
    lines.append("}")
    lines.append("")
    lines.extend(_chooser_source(choice_slots))
    return "\n".join(lines) + "\n"


def rule_test(r: CompiledRule, local: dict[str, str], event: str) -> str:
    """A rule's whole condition for one life event, as an expression over attribute locals
    and step flags `s<id>`: any of its alternatives (step flags first: they are cheap), and
    none of its `unless` steps."""
    alts: list[str] | None = []
    for steps, guard in zip(r.alternatives, r.guards):
        parts = [f"s{s}" for s in steps] + ([] if guard is None else [_condition(guard, local, event)])
        if not parts:   # an alternative that always holds
            alts = None
            break
        alts.append(" and ".join(parts))
    if alts is None:
        test = "True"
    elif not alts:
        test = "False"
    else:
        test = alts[0] if len(alts) == 1 else "(" + " or ".join(f"({x})" for x in alts) + ")"
    return " and ".join([test, *(f"not s{s}" for s in r.unless)])


def _fire_source(n: int, event: str, mine: list[CompiledRule], local: dict[str, str]) -> list[str]:
    """fire_N(a, x): the rules (indices) that fire for attributes `a` with the rules in `x`
    removed. Step flags exist only for steps some rule here tests."""
    tested = sorted({s for r in mine for alt in r.alternatives for s in alt} | {s for r in mine for s in r.unless})
    watched = set(tested)
    lines = [f"def fire_{n}(a, x):  # life event {event!r}", "    get = a.get"]
    lines += [f"    {var} = get({_lit(attr)}, MISSING)" for attr, var in local.items()]
    if tested:
        lines.append("    " + " = ".join(f"s{s}" for s in tested) + " = False")
    lines.append("    fired = []")
    order = chain_order(mine, lambda r: {s for alt in r.alternatives for s in alt} | set(r.unless),
                        lambda r: r.requires)
    for group, cycle in order:
        indent = "    "
        if cycle:
            lines.append("    # rules that chain in a cycle: passes until nothing new fires")
            lines.append("    " + " = ".join(f"f{r.index}" for r in group) + " = False")
            lines.append("    again = True")
            lines.append("    while again:")
            lines.append("        again = False")
            indent = "        "
        for r in group:
            test = rule_test(r, local, event)
            if test == "False":
                continue
            test = ("" if test == "True" else f"{test} and ") + f"{r.index} not in x"
            if cycle:
                test = f"not f{r.index} and {test}"
            lines.append(f"{indent}# rule {r.id!r}")
            lines.append(f"{indent}if {test}:")
            lines.append(f"{indent}    fired.append({r.index})")
            if cycle:
                lines.append(f"{indent}    f{r.index} = again = True")
            lines += [f"{indent}    s{s} = True" for s in r.requires if s in watched]
    lines += ["    return fired", ""]
    return lines


def _chooser_source(slots: list[tuple[int, str, tuple[Any, ...]]]) -> list[str]:
    """CHOOSE(attributes): for each step whose channel or days depend on the case, the index
    of the first alternative whose `when` holds (none holds: the first alternative)."""
    used = sorted(set().union(*(c.when.attributes() for _, _, choices in slots for c in choices
                                if c.when is not None)))
    local = {attr: f"v{k}" for k, attr in enumerate(used)}
    lines = ["def CHOOSE(a):  # the alternative each customer-dependent step takes", "    get = a.get"]
    lines += [f"    {var} = get({_lit(attr)}, MISSING)" for attr, var in local.items()]
    picks = []
    for step, name, choices in slots:
        expr = "0"
        for k in range(len(choices) - 1, -1, -1):   # the first that holds wins
            when = choices[k].when
            expr = str(k) if when is None else f"({k} if {_condition(when, local)} else {expr})"
        picks.append(f"        {expr},  # step {step} {name}")
    lines += ["    return (", *picks, "    )"]
    return lines
