"""Duplicates and shadowing: rules that another rule makes redundant."""
from __future__ import annotations

from itertools import combinations

from ..model import Rule
from .conditions import canonical
from .context import Context, quote

__all__ = ["check"]


def _shadows(ctx: Context, a: Rule, b: Rule) -> bool:
    """Whenever `a` fires, `b` fires too and requires every step `a` requires."""
    if not set(ctx.then[a.id]) <= set(ctx.then[b.id]):
        return False
    if b.when.event and (not a.when.event or not set(a.when.event) <= set(b.when.event)):
        return False
    if not set(b.when.step) <= set(a.when.step):
        return False
    terms = ctx.terms[a.id]
    if terms is None:
        return False
    return all(ctx.reasoner.term_implies(t, ctx.expr[b.id])
               for t in terms if ctx.reasoner.satisfiable(t))


def check(ctx: Context) -> None:
    candidates = [r for r in ctx.rules if r.id not in ctx.dead]
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
        first = members[0]
        for other in members[1:]:
            how = "the same" if frozenset((first, other)) in same else "equivalent"
            ctx.add("warning", "duplicate-rule", other,
                     f"duplicates rule {ctx.at(first)}: {how} conditions and the same steps "
                     f"({quote(sorted(ctx.then[other]))}); keep one")

    for a, bs in sorted(shadowed_by.items()):
        bs = sorted((b for b in bs if find(b) != find(a)), key=ctx.order)
        if not bs:
            continue
        names = ", ".join(ctx.at(b) for b in bs)
        ctx.add("warning", "shadowed-rule", a,
                f"shadowed by rule{'s' if len(bs) > 1 else ''} {names}: whenever it fires, "
                f"{'they fire' if len(bs) > 1 else 'that rule fires'} too and "
                f"require{'' if len(bs) > 1 else 's'} every step it requires "
                f"({quote(ctx.then[a])}), so it changes no journey")

