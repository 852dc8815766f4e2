"""Reachability: rules that can never fire (contradictory conditions, or a step only
rules that can never fire require), and rules no catalogued case exercises."""
from __future__ import annotations

from ..errors import InputError, Problem
from ..catalog import open_catalog
from ..language import Rule
from .conditions import Terms, alternative_steps, as_terms, atoms_of, plain, terms_and, terms_or
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
    sat = ctx.reasoner.sat
    own = {r.id: frozenset(filter(sat, as_terms(ctx.terms[r.id]))) for r in ctx.rules}
    when: dict[str, dict[str, Terms]] = {}     # life event -> step -> when some rule requires it
    live: set[str] = set()
    for event in events:
        made, fires = _producible(ctx, event, own)
        when[event] = made
        ctx.produced[event] = set(made)
        live |= set(fires)
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
            ctx.add("error", "dead-rule", r.id,
                    "can never fire: " + _step_reason(ctx, r, producers, own[r.id], when))


def _producible(ctx: Context, event: str, own: dict[str, Terms]) -> tuple[dict[str, Terms], dict[str, Terms]]:
    """On one life event: when each step can be required (the alternatives of the case's
    attributes under which some chain of rules requires it) and when each rule can fire.

    A rule fires when its own conditions hold and every step it waits for is required; a
    step is required when any rule requiring it fires. Solved as a least fixed point, so
    chains that loop add nothing of their own. Every set only grows and there are finitely
    many, so it ends."""
    sat = ctx.reasoner.sat
    rules = [r for r in ctx.rules if r.id not in ctx.cond_dead and event in ctx.rule_events[r.id]]
    made: dict[str, Terms] = {}
    fires: dict[str, Terms] = {}
    changed = True
    while changed:
        changed = False
        for r in rules:
            if not plain(r):
                # steps inside `any`/`all` or `unless`: it may fire once one alternative's
                # steps can be required, under its own conditions (an over-approximation)
                if not any(all(s in made for s in alt) for alt in alternative_steps(r)):
                    continue
                holds = own[r.id]
            else:
                if not all(s in made for s in r.when.step):
                    continue
                holds = own[r.id]
            for s in r.when.step:
                holds = terms_and(holds, made[s], sat)
                if not holds:
                    break
            if not holds or fires.get(r.id) == holds:
                continue
            fires[r.id] = holds
            for s in ctx.then[r.id]:
                grown = terms_or(made.get(s, frozenset()), holds)
                if grown != made.get(s):
                    made[s] = grown
                    changed = True
    return made, fires


def _show_terms(terms: Terms) -> str:
    alternatives = sorted(" and ".join(f"`{a}`" for a in atoms_of(t)) for t in terms)
    return " or ".join(alternatives[:3]) + (" or ..." if len(alternatives) > 3 else "")


def _step_reason(ctx: Context, r: Rule, producers: dict[str, list[str]], own: Terms,
                 when: dict[str, dict[str, Terms]]) -> str:
    evs = ctx.rule_events[r.id]
    if not plain(r):
        return f"none of its alternatives' steps can all be required on life event {quote(evs)}"
    for s in r.when.step:
        makers = producers.get(s, [])
        if makers and all(m in ctx.dead for m in makers):
            return (f"it needs step '{s}', which only rules that can never fire require "
                    f"({', '.join(sorted(makers))})")
    for s in r.when.step:
        if all(s not in ctx.produced[e] for e in evs):
            return (f"it needs step '{s}', which no rule that can fire on life event "
                    f"{quote(evs)} requires")
    sat = ctx.reasoner.sat
    for s in r.when.step:
        made = [when[e][s] for e in evs if s in when[e]]
        if all(not terms_and(own, m, sat) for m in made):
            needed = frozenset().union(*made)
            why = ""
            if len(own) == 1 and len(needed) == 1:
                reason = ctx.reasoner.why_not(atoms_of(next(iter(own)) | next(iter(needed))))
                why = f" ({reason})" if reason else ""
            return (f"it needs step '{s}', which is only required when {_show_terms(needed)}, "
                    f"and its own conditions rule that out{why}")
    return (f"its steps {quote(r.when.step)} are never all required on one life event "
            f"({quote(evs)}) where its own conditions hold")


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

