"""The reference engine: durable_rules (a Rete network in C).

Every guard from shared/durable-rules-notes.md is applied here, and only here:
- facts, never events (`post` is consumed by the first matching rule);
- one session per case, its state deleted right after (the engine fails past 1024 live
  sessions) and a catch-all rule of the lowest priority on the case fact, because deleting
  the state of a case no rule matched segfaults;
- no background threads: a Host whose dispatch timers never start;
- actions take exactly one parameter and only record which rule fired; chaining is driven
  from here, asserting newly required steps as facts until nothing new is required, so no
  nested assert can fail silently inside an action;
- the returned state is checked after every assert: errors inside actions are swallowed
  by durable_rules and only show up there;
- fact ids are unique small integers per case (identity is a 32-bit hash of `id`);
- ruleset dicts are built fresh for each registration (the engine deletes `run` from
  them), names are unique per process, and big sets are split (~511 rules hang a node);
- values reach the engine already typed by the manifest (it compares across types as text),
  with ints in 64 bits and, on `number` attributes, within 2**53 (it clamps to int64 and
  compares ints with floats as doubles; see manifest.Attribute.check);
- numbers like 1e-05 are written 1.0e-05 for it (its JSON parser refuses the former).
"""
from __future__ import annotations

import itertools
import json
import os
import re
import warnings
from typing import Any

from ..compile import CompiledPolicySet, CompiledRule
from ..errors import EngineError
from ..language import Condition
from ..case import Case
from ..trace import Trace, build_trace

# Python 3.12+: durable_rules calls utcfromtimestamp on every action.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable(\.|$)")

from durable import engine as _durable  # noqa: E402


class _DurableJson:
    """durable_rules' JSON parser rejects a number with an exponent and no decimal point
    ('1e-05', as json.dumps writes that float): a ruleset with such a condition value is
    refused and such a fact cannot be asserted. Everything durable_rules serialises goes
    through here and gets '1.0e-05' instead; text inside strings is left alone."""

    _NUMBER = re.compile(r'("(?:[^"\\]|\\.)*")|(-?\d+)(\.\d+)?([eE][-+]?\d+)?')
    loads = staticmethod(json.loads)

    @classmethod
    def dumps(cls, obj: Any, **kw: Any) -> str:
        text = json.dumps(obj, **kw)
        if "e-" not in text and "e+" not in text:  # json.dumps always signs its exponents
            return text
        return cls._NUMBER.sub(cls._fix, text)

    @staticmethod
    def _fix(m: re.Match) -> str:
        if m.group(1) or not m.group(4) or m.group(3):
            return m.group(0)
        return f"{m.group(2)}.0{m.group(4)}"


_durable.json = _DurableJson  # the module's only use of json: dumps and loads

__all__ = ["ReteEngine", "ruleset_definitions", "RULES_PER_RULESET"]

RULES_PER_RULESET = 400
CATCH_ALL_PRIORITY = 1_000_000
_ATTR = "a_"  # case attributes live under a prefix so they never clash with kind/id/sid/event

_names = itertools.count()
_host: Any = None
_host_pid: int | None = None


class _QuietHost(_durable.Host):
    def _run(self) -> None:  # no dispatch/timer threads: we drive every assert ourselves
        pass


def _process_host() -> Any:
    global _host, _host_pid
    if _host is None or _host_pid != os.getpid():  # a forked worker gets its own host
        _host, _host_pid = _QuietHost(), os.getpid()
    return _host


# --------------------------------------------------------------------------- translation


# A condition is first built as a tree of ("and" | "or", [items]) and leaf dicts, nested
# groups of the same kind merged; durable_rules allows at most MAX_GROUPS $and/$or groups
# in one fact's pattern (more is "error code: 113"), so a bigger pattern is split into
# variants (distributing an `or` over its siblings), each its own durable_rules rule
# recording the same friction rule.
MAX_GROUPS = 15
MAX_VARIANTS = 4096


def _group(kind: str, items: list) -> Any:
    flat: list = []
    for x in items:
        flat.extend(x[1] if isinstance(x, tuple) and x[0] == kind else [x])
    return flat[0] if len(flat) == 1 else (kind, flat)


def _leaf(c: Condition) -> Any:
    key = _ATTR + c.attr
    if c.op == "present":
        return {"$ex" if c.value else "$nex": {key: 1}}
    if c.op == "eq":
        return {key: c.value}
    if c.op == "in":
        return _group("or", [{key: v} for v in c.value])
    if c.op == "not_in":
        return _group("and", [{"$neq": {key: v}} for v in c.value])
    op = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}[c.op]
    return {op: {key: c.value}}


def _tree(c: Condition) -> Any:
    if c.attr is not None:
        return _leaf(c)
    if c.event is not None:
        return _group("or", [{"event": e} for e in sorted(c.event)])
    if c.step is not None:
        raise ValueError("a step test in a guard")  # logic.alternatives takes every one out
    kind = "and" if c.all is not None else "or"
    return _group(kind, [_tree(x) for x in c.children])


def _groups(t: Any) -> int:
    return 1 + sum(_groups(x) for x in t[1]) if isinstance(t, tuple) else 0


def _split(t: Any, out: list, rule: str) -> None:
    """Variants of `t` (an "and" tree) with at most MAX_GROUPS groups each, whose `or` is `t`."""
    if _groups(t) <= MAX_GROUPS:
        out.append(t)
        if len(out) > MAX_VARIANTS:
            raise EngineError(f"rule {rule}: its conditions are too deeply nested for the rete engine "
                              f"(over {MAX_VARIANTS} variants); the compiled engine evaluates it")
        return
    items = t[1]
    k = max(range(len(items)), key=lambda i: (_groups(items[i]) if isinstance(items[i], tuple) and items[i][0] == "or" else -1, -i))
    ors = items[k]
    for choice in ors[1]:
        _split(_group("and", [*items[:k], choice, *items[k + 1:]]), out, rule)


def _json(t: Any) -> dict:
    if isinstance(t, tuple):
        return {"$" + t[0]: [_json(x) for x in t[1]]}
    return t


def _case_terms(rule: CompiledRule, guard: Condition | None) -> list[dict]:
    parts: list[Any] = [{"kind": "case"}]
    if rule.events:
        parts.append(_group("or", [{"event": e} for e in sorted(rule.events)]))
    if guard is not None:
        parts.append(_tree(guard))
    out: list = []
    _split(_group("and", parts), out, rule.id)
    return [_json(t) for t in out]


def _step_pattern(s: int) -> dict:
    return {"$and": [{"kind": "step"}, {"step": s}]}


def ruleset_definitions(cps: CompiledPolicySet, action_for: Any) -> list[tuple[dict, set[int], int]]:
    """Fresh durable_rules definitions, one group per stratum (logic.strata) split into
    chunks of at most RULES_PER_RULESET durable rules; with each, the step ids its rules
    match on (steps are asserted only where some rule can use them: an unmatched assert
    raises) and its stratum. Every alternative of a rule's condition (and every variant of
    a pattern too big for durable_rules) is its own durable rule recording the same rule;
    `unless` steps are `$not` patterns. Rule and alias names are generated (`r12_0`, `s3`):
    user text is never a name."""
    out: list[tuple[dict, set[int], int]] = []
    for stratum in sorted({r.stratum for r in cps.rules} or {0}):
        entries: list[tuple[str, dict, set[int]]] = []
        for r in cps.rules:
            if r.stratum != stratum:
                continue
            k = 0
            for steps, guard in zip(r.alternatives, r.guards):
                for case in _case_terms(r, guard):
                    terms = [{"case": case}]
                    terms += [{f"s{s}": _step_pattern(s)} for s in steps]
                    terms += [{f"n{s}$not": _step_pattern(s)} for s in r.unless]
                    entries.append((f"r{r.index}_{k}", {"all": terms, "run": action_for(r.index)},
                                    {*steps, *r.unless}))
                    k += 1
        for start in range(0, max(len(entries), 1), RULES_PER_RULESET):
            definition: dict[str, dict] = {}
            used: set[int] = set()
            for name, rule, steps in entries[start:start + RULES_PER_RULESET]:
                definition[name] = rule
                used |= steps
            definition["catch_all"] = {"all": [{"m": {"kind": "case"}}], "pri": CATCH_ALL_PRIORITY,
                                       "run": _ignore}
            out.append((definition, used, stratum))
    return out


def _ignore(c: Any) -> None:
    pass


# --------------------------------------------------------------------------- engine


class ReteEngine:
    name = "rete"

    def __init__(self, cps: CompiledPolicySet):
        self.cps = cps
        self._host = _process_host()
        self._fired: list[int] = []
        self._sids = itertools.count(1)
        self._strata: list[list[tuple[str, set[int]]]] = []   # rulesets of each stratum, in order
        last = None
        for definition, used, stratum in ruleset_definitions(cps, self._recorder):
            name = f"friction_{os.getpid()}_{next(_names)}"
            self._host.register_rulesets({name: definition})
            if stratum != last:
                self._strata.append([])
                last = stratum
            self._strata[-1].append((name, used))

    def _recorder(self, index: int):
        fired = self._fired

        def record(c: Any) -> None:  # exactly one parameter, or durable_rules treats it as async
            fired.append(index)
        return record

    def _check(self, state: Any, case: Case) -> None:
        if isinstance(state, dict) and state.get("exception"):
            raise EngineError(f"case {case.id}: durable_rules action failed: "
                              f"{str(state['exception']).splitlines()[0][:300]}")

    def fire(self, case: Case, excluded: frozenset[int] = frozenset()) -> list[int]:
        """Stratum by stratum: the steps required so far are asserted into the stratum's
        rulesets before the case fact (so `$not` patterns see them), then new steps are
        asserted as rules fire, until nothing new is required."""
        host, fired, rules = self._host, self._fired, self.cps.rules
        fired.clear()
        sid = f"{os.getpid()}-{next(self._sids)}"
        case_fact = {"kind": "case", "id": 0, "sid": sid, "event": case.event}
        case_fact.update({_ATTR + k: v for k, v in case.attrs.items()})
        kept: set[int] = set()
        have: set[int] = set()
        order: list[int] = []

        def facts(steps: Any, used: set[int]) -> list[dict]:
            return [{"kind": "step", "step": s, "id": s + 1, "sid": sid} for s in steps if s in used]

        try:
            for rulesets in self._strata:
                for name, used in rulesets:
                    before = facts(order, used)
                    if before:
                        self._check(host.assert_facts(name, before), case)
                    self._check(host.assert_fact(name, dict(case_fact)), case)
                seen = 0
                while seen < len(fired):
                    new: list[int] = []
                    for r in fired[seen:]:
                        if r in excluded or r in kept:
                            continue
                        kept.add(r)
                        for s in rules[r].requires:
                            if s not in have:
                                have.add(s)
                                new.append(s)
                    seen = len(fired)
                    order.extend(new)
                    for name, used in rulesets:
                        more = facts(new, used)
                        if more:
                            self._check(host.assert_facts(name, more), case)
        except EngineError:
            raise
        except Exception as e:  # durable_rules raises bare Exceptions
            raise EngineError(f"case {case.id}: durable_rules failed: {type(e).__name__}: {e}") from e
        finally:
            for rulesets in self._strata:
                for name, _ in rulesets:
                    try:
                        host.delete_state(name, sid)
                    except Exception:  # noqa: BLE001 - a failed cleanup must not hide the real error
                        pass
        return sorted(kept)

    def replay(self, case: Case, excluded: frozenset[int] = frozenset()) -> Trace:
        return build_trace(self.cps, case, self.fire(case, excluded), excluded)
