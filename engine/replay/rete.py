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
  compares ints with floats as doubles; see model.Attribute.check);
- numbers like 1e-05 are written 1.0e-05 for it (its JSON parser refuses the former).
"""
from __future__ import annotations

import itertools
import json
import os
import re
import warnings
from typing import Any

from ..compile import CompiledPolicySet
from ..errors import EngineError
from ..model import Case, Condition, When
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


def _leaf(c: Condition) -> dict:
    key = _ATTR + c.attr
    if c.op == "present":
        return {"$ex" if c.value else "$nex": {key: 1}}
    if c.op == "eq":
        return {key: c.value}
    if c.op == "in":
        return {"$or": [{key: v} for v in c.value]} if len(c.value) > 1 else {key: c.value[0]}
    if c.op == "not_in":
        return {"$and": [{"$neq": {key: v}} for v in c.value]}
    op = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}[c.op]
    return {op: {key: c.value}}


def _condition(c: Condition) -> dict:
    if c.attr is not None:
        return _leaf(c)
    group, items = ("$and", c.all) if c.all is not None else ("$or", c.any)
    return {group: [_condition(x) for x in items]}


def _case_term(when: When) -> dict:
    terms: list[dict] = [{"kind": "case"}]
    if when.event:
        events = [{"event": e} for e in sorted(when.event)]
        terms.append(events[0] if len(events) == 1 else {"$or": events})
    terms.extend(_condition(c) for c in when.all)
    if when.any:
        terms.append({"$or": [_condition(c) for c in when.any]})
    return {"$and": terms}


def ruleset_definitions(cps: CompiledPolicySet, action_for: Any) -> list[tuple[dict, set[int]]]:
    """Fresh durable_rules definitions, split into chunks; with each, the step ids its rules
    match on (steps are asserted only where some rule can use them: an unmatched assert raises).
    Rule and alias names are generated (`r12`, `s3`): user text is never a name."""
    out = []
    rules = cps.rules
    for start in range(0, max(len(rules), 1), RULES_PER_RULESET):
        definition: dict[str, dict] = {}
        used: set[int] = set()
        for r in rules[start:start + RULES_PER_RULESET]:
            terms = [{"case": _case_term(r.rule.when)}]
            for s in r.needs:
                terms.append({f"s{s}": {"$and": [{"kind": "step"}, {"step": s}]}})
                used.add(s)
            definition[f"r{r.index}"] = {"all": terms, "run": action_for(r.index)}
        definition["catch_all"] = {"all": [{"m": {"kind": "case"}}], "pri": CATCH_ALL_PRIORITY,
                                   "run": _ignore}
        out.append((definition, used))
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
        self._excluded: frozenset[int] = frozenset()
        self._sids = itertools.count(1)
        self._rulesets: list[tuple[str, set[int]]] = []
        for definition, used in ruleset_definitions(cps, self._recorder):
            name = f"friction_{os.getpid()}_{next(_names)}"
            self._host.register_rulesets({name: definition})
            self._rulesets.append((name, used))

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
        host, fired, requires = self._host, self._fired, self.cps.rules
        fired.clear()
        sid = f"{os.getpid()}-{next(self._sids)}"
        case_fact = {"kind": "case", "id": 0, "sid": sid, "event": case.event}
        case_fact.update({_ATTR + k: v for k, v in case.attrs.items()})
        kept: list[int] = []
        have: set[int] = set()
        try:
            for name, _ in self._rulesets:
                self._check(host.assert_fact(name, dict(case_fact)), case)
            seen = 0
            while seen < len(fired):
                new: list[int] = []
                for r in fired[seen:]:
                    if r in excluded:
                        continue
                    kept.append(r)
                    for s in requires[r].requires:
                        if s not in have:
                            have.add(s)
                            new.append(s)
                seen = len(fired)
                for name, used in self._rulesets:
                    facts = [{"kind": "step", "step": s, "id": s + 1, "sid": sid} for s in new if s in used]
                    if facts:
                        self._check(host.assert_facts(name, facts), case)
        except EngineError:
            raise
        except Exception as e:  # durable_rules raises bare Exceptions
            raise EngineError(f"case {case.id}: durable_rules failed: {type(e).__name__}: {e}") from e
        finally:
            for name, _ in self._rulesets:
                try:
                    host.delete_state(name, sid)
                except Exception:  # noqa: BLE001 - a failed cleanup must not hide the real error
                    pass
        return kept

    def replay(self, case: Case, excluded: frozenset[int] = frozenset()) -> Trace:
        return build_trace(self.cps, case, self.fire(case, excluded), excluded)
