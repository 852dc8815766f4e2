"""Cycles: rules that require each other's steps in a circle."""
from __future__ import annotations

from ..logic import components

from .context import Context, quote

__all__ = ["check"]


MAX_CYCLES = 100
CYCLE_SEARCH_BUDGET = 200_000


def check(ctx: Context) -> None:
    needs: dict[str, list[str]] = {}
    for r in ctx.rules:
        for s in sorted(r.when.steps()):
            needs.setdefault(s, []).append(r.id)
    edges: dict[str, dict[str, list[str]]] = {r.id: {} for r in ctx.rules}
    for r in ctx.rules:
        for s in ctx.then[r.id]:
            for target in needs.get(s, ()):
                edges[r.id].setdefault(target, []).append(s)
    cycles, complete = _elementary_cycles({k: sorted(v) for k, v in edges.items()})
    for cycle in cycles:
        hops = []
        for i, rid in enumerate(cycle):
            nxt = cycle[(i + 1) % len(cycle)]
            hops.append(f"{rid} -({quote(sorted(set(edges[rid][nxt])))})->")
        text = " ".join(hops) + f" {cycle[0]}"
        ctx.add("warning", "chain-cycle", cycle[0],
                f"rules chain in a cycle: {text}; replay stops since each step is required "
                "once, but the policy is circular")
    if not complete:
        first = cycles[0][0] if cycles else min(edges)
        ctx.add("warning", "chain-cycle", first,
                f"more chaining cycles than the {len(cycles)} listed; not all are reported")


def _strongly_connected(graph: dict[str, list[str]]) -> dict[str, int]:
    """Component number of each node (logic.components: iterative Tarjan)."""
    return components(sorted(graph), lambda node: graph.get(node, ()))


def _elementary_cycles(graph: dict[str, list[str]]) -> tuple[list[list[str]], bool]:
    """Every elementary cycle once, rotated to start at its smallest node, in a deterministic
    order; and whether the list is complete (the search is capped)."""
    comp = _strongly_connected(graph)
    cycles: list[list[str]] = []
    budget = CYCLE_SEARCH_BUDGET
    for start in sorted(graph):
        # Cycles through `start` whose other nodes are all larger, inside its component.
        path = [start]
        on_path = {start}
        work = [iter(graph[start])]
        while work:
            advanced = False
            for nxt in work[-1]:
                budget -= 1
                if budget <= 0:
                    return cycles, False
                if nxt == start:
                    if len(cycles) >= MAX_CYCLES:
                        return cycles, False
                    cycles.append(list(path))
                elif nxt > start and nxt not in on_path and comp[nxt] == comp[start]:
                    path.append(nxt)
                    on_path.add(nxt)
                    work.append(iter(graph[nxt]))
                    advanced = True
                    break
            if not advanced:
                work.pop()
                on_path.discard(path.pop())
    return cycles, True
