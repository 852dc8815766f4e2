"""Reachability: rules that can never fire (contradictory conditions, or a step only
rules that can never fire require), and rules no catalogued case exercises."""
from __future__ import annotations

from ..errors import InputError, Problem
from ..load import open_catalog
from ..model import Rule
from .context import Context, quote
from .names import from_problem

__all__ = ["check", "check_catalogs"]


def check(ctx: Context) -> None:
    for r in ctx.rules:
        terms = ctx.terms[r.id]
        if terms is None:
            continue
        reasons = [ctx.reasoner.why_not(t) for t in terms]
        if all(reasons):
            unique = list(dict.fromkeys(reasons))
            if len(unique) == 1:
                why = unique[0]
            else:
                shown = "; ".join(unique[:3]) + ("; ..." if len(unique) > 3 else "")
                why = f"no branch of its `any` can hold ({shown})"
            ctx.cond_dead[r.id] = why

    events = list(ctx.manifest.events)
    ctx.rule_events = {r.id: [e for e in (r.when.event or events) if e in events] for r in ctx.rules}
    live: set[str] = set()
    for event in events:
        steps: set[str] = set()
        fired: set[str] = set()
        changed = True
        while changed:
            changed = False
            for r in ctx.rules:
                if (r.id in fired or r.id in ctx.cond_dead or event not in ctx.rule_events[r.id]
                        or not all(s in steps for s in r.when.step)):
                    continue
                fired.add(r.id)
                steps.update(ctx.then[r.id])
                changed = True
        ctx.produced[event] = steps
        live |= fired
    ctx.dead = {r.id for r in ctx.rules if r.id not in live}

    producers: dict[str, list[str]] = {}
    for r in ctx.rules:
        for a in ctx.then[r.id]:
            producers.setdefault(a, []).append(r.id)
    for r in ctx.rules:
        if r.id in ctx.cond_dead:
            ctx.add("error", "dead-rule", r.id, f"can never fire: {ctx.cond_dead[r.id]}")
        elif r.id in ctx.dead:
            if not ctx.rule_events[r.id]:
                continue  # only unknown life events: already a load error
            ctx.add("error", "dead-rule", r.id, "can never fire: " + _step_reason(ctx, r, producers))


def _step_reason(ctx: Context, r: Rule, producers: dict[str, list[str]]) -> str:
    evs = ctx.rule_events[r.id]
    for s in r.when.step:
        makers = producers.get(s, [])
        if makers and all(m in ctx.dead for m in makers):
            return (f"it needs step '{s}', which only rules that can never fire require "
                    f"({', '.join(sorted(makers))})")
    for s in r.when.step:
        if all(s not in ctx.produced[e] for e in evs):
            return (f"it needs step '{s}', which no rule that can fire on life event "
                    f"{quote(evs)} requires")
    return (f"its steps {quote(r.when.step)} are never all required on one life event "
            f"({quote(evs)})")


def check_catalogs(ctx: Context) -> None:
    events: set[str] = set()
    for path in ctx.catalogs:
        try:
            stream = open_catalog(path, ctx.manifest)   # YAML, or JSON Lines read line by line
            for item in stream:
                if isinstance(item, Problem):
                    ctx.findings.append(from_problem(item, "catalog"))
                else:
                    events.add(item.event)
        except InputError as e:
            ctx.findings.extend(from_problem(p, "catalog") for p in e.problems)
    for r in ctx.rules:
        if r.id in ctx.dead or not r.when.event or set(r.when.event) & events:
            continue
        evs = [e for e in r.when.event if e in ctx.manifest.events]
        if not evs:
            continue  # unknown life events: already a load error
        ctx.add("warning", "uncatalogued-event", r.id,
                f"life event {quote(evs)} {'is' if len(evs) == 1 else 'are'} in no catalog, "
                "so no case exercises this rule")

