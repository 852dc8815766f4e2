"""Duplicates and shadowing: rules that another rule makes redundant."""
from __future__ import annotations

from itertools import combinations

from ..language import Rule
from .conditions import canonical, plain
from ..judge import POLICY_CAUSES
from .context import Context, quote

__all__ = ["check"]


def _fires_with(ctx: Context, a: Rule, b: Rule) -> bool:
    """Whenever `a` fires, `b` fires too (sound, not complete)."""
    if b.when.event and (not a.when.event or not set(a.when.event) <= set(b.when.event)):
        return False
    if not set(b.when.step) <= set(a.when.step):
        return False
    terms = ctx.terms[a.id]
    if terms is None:
        return False
    return all(ctx.reasoner.term_implies(t, ctx.expr[b.id])
               for t in terms if ctx.reasoner.satisfiable(t))


def _shadows(ctx: Context, a: Rule, b: Rule) -> bool:
    """Whenever `a` fires, `b` fires too and requires every step `a` requires."""
    return set(ctx.then[a.id]) <= set(ctx.then[b.id]) and _fires_with(ctx, a, b)


def _policy_made(ctx: Context, rule_id: str) -> bool:
    return ctx.by_id[rule_id].cause in POLICY_CAUSES


def _neutral(ctx: Context, a: str, b: str) -> bool:
    """Removing `a` changes nothing the metrics see while `b` stays: `b` already requires
    `a`'s steps, and policy_steps (steps gone without policy and practice rules) stays the
    same unless `a` is the system or regulation rule and `b` a policy or practice one."""
    return _policy_made(ctx, a) or not _policy_made(ctx, b)


def _needs_policy(ctx: Context, rule: Rule) -> bool:
    """`rule` waits for a step only policy or practice rules require: without them it never
    fires, so it keeps nothing out of policy_steps."""
    return any(all(_policy_made(ctx, r.id) for r in ctx.rules if s in ctx.then[r.id])
               for s in rule.when.step)


def _cause(ctx: Context, rule_id: str) -> str:
    return ctx.by_id[rule_id].cause.value


def check(ctx: Context) -> None:
    candidates = [r for r in ctx.rules if r.id not in ctx.dead and plain(r)]
    key = {r.id: (frozenset(r.when.event), frozenset(r.when.step), canonical(ctx.expr[r.id]),
                  frozenset(ctx.then[r.id])) for r in candidates}
    by_step: dict[str, set[str]] = {}
    for r in candidates:
        for a in ctx.then[r.id]:
            by_step.setdefault(a, set()).add(r.id)

    shadowed_by: dict[str, set[str]] = {}
    for a in candidates:
        others = set.intersection(*(by_step[s] for s in ctx.then[a.id])) - {a.id}
        for bid in sorted(others):
            if _shadows(ctx, a, ctx.by_id[bid]):
                shadowed_by.setdefault(a.id, set()).add(bid)

    # Duplicates: same normalised rule, or each shadows the other (equivalent conditions).
    parent = {r.id: r.id for r in candidates}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    same: set[frozenset] = set()
    for a, b in combinations(candidates, 2):
        if key[a.id] == key[b.id]:
            same.add(frozenset((a.id, b.id)))
            parent[find(a.id)] = find(b.id)
    for a, bs in shadowed_by.items():
        for b in bs:
            if a in shadowed_by.get(b, ()):
                parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for r in candidates:
        groups.setdefault(find(r.id), []).append(r.id)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=ctx.order)
        # Keep a system or regulation rule when there is one: removing it instead would make
        # the steps policy-made.
        keep = next((m for m in members if not _policy_made(ctx, m)), members[0])
        for other in members:
            if other == keep:
                continue
            how = "the same" if frozenset((keep, other)) in same else "equivalent"
            advice = "keep one" if _policy_made(ctx, keep) == _policy_made(ctx, other) else (
                f"remove this one ({_cause(ctx, other)}), not that one ({_cause(ctx, keep)}): "
                "without that one these steps would be policy-made")
            ctx.add("warning", "duplicate-rule", other,
                    f"duplicates rule {ctx.at(keep)}: {how} conditions and the same steps "
                    f"({quote(sorted(ctx.then[other]))}); {advice}")

    for a, bs in sorted(shadowed_by.items()):
        bs = sorted((b for b in bs if find(b) != find(a)), key=ctx.order)
        if not bs:
            continue
        neutral = [b for b in bs if _neutral(ctx, a, b)]
        lost: list[str] = []
        if not neutral and not _needs_policy(ctx, ctx.by_id[a]):
            # Only policy or practice rules shadow this system or regulation rule: its steps
            # stay, but those no other system or regulation rule is sure to require with it
            # would become policy-made.
            rule = ctx.by_id[a]
            kept = {s for c in candidates if c.id != a and not _policy_made(ctx, c.id)
                    and set(ctx.then[a]) & set(ctx.then[c.id]) and _fires_with(ctx, rule, c)
                    for s in ctx.then[c.id]}
            lost = [s for s in ctx.then[a] if s not in kept]
        if not lost:
            shown = neutral or bs
            names = ", ".join(ctx.at(b) for b in shown)
            ctx.add("warning", "shadowed-rule", a,
                    f"shadowed by rule{'s' if len(shown) > 1 else ''} {names}: whenever it fires, "
                    f"{'they fire' if len(shown) > 1 else 'that rule fires'} too and "
                    f"require{'' if len(shown) > 1 else 's'} every step it requires "
                    f"({quote(ctx.then[a])}), so removing it changes no journey's steps, nor policy_steps")
            continue
        names = ", ".join(f"{ctx.at(b)} ({_cause(ctx, b)})" for b in bs)
        ctx.add("info", "shadowed-by-policy", a,
                f"shadowed by {'rules' if len(bs) > 1 else 'rule'} {names}, so removing it "
                f"changes no journey's steps; but it is {_cause(ctx, a)}, and without it "
                f"{quote(lost)} would be policy-made wherever it fires (policy_steps rises)")
