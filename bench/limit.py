"""The yardstick for matching speed: the fastest plain Python a careful person would write
for one policy set, generated. One function per life event; every attribute read once into
a local; rules in step-dependency order, so that a single pass reaches the fixed point (a
rule comes after every rule that can produce a step it needs); only rules that chain in a
cycle (a strongly connected group) loop until nothing new fires. Each rule is one `if`
with its conditions inlined and its steps as local booleans.

It returns the set of rules that fire, which the benchmark checks equal to friction's
answer for every case before it times anything.
"""
from __future__ import annotations

from typing import Any, Callable

import friction
from friction.compile import guard_expression

__all__ = ["generated_limit"]


def _rule_order(cps: friction.CompiledPolicySet, rules: list[Any]) -> list[list[Any]]:
    """Rules grouped into strongly connected components (producer before consumer),
    in topological order (Tarjan's algorithm, iterative)."""
    producers: dict[int, list[int]] = {}
    for k, r in enumerate(rules):
        for s in r.requires:
            producers.setdefault(s, []).append(k)
    # edge: producer -> consumer; Tarjan on the consumer -> producer graph gives the
    # components in an order where producers come first.
    deps = [[p for s in r.tests for p in producers.get(s, ())] for r in rules]
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[Any]] = []
    counter = 0
    for root in range(len(rules)):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            recurse = False
            for j in range(i, len(deps[v])):
                w = deps[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append([rules[k] for k in sorted(comp)])
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return out


def _source(cps: friction.CompiledPolicySet) -> str:
    if any(len(r.alternatives) != 1 or r.unless for r in cps.rules):
        raise ValueError("the yardstick handles rules whose steps are one AND and no unless")
    lines = []
    for n, event in enumerate(sorted(cps.manifest.events)):
        mine = [r for r in cps.rules if not r.events or event in r.events]
        used = sorted(set().union(*(r.rule.when.attributes() for r in mine)))
        local = {attr: f"v{k}" for k, attr in enumerate(used)}
        steps = sorted({s for r in mine for s in (*r.tests, *r.requires)})
        lines.append(f"def limit_{n}(a):")
        lines.append("    get = a.get")
        for attr, var in local.items():
            lines.append(f"    {var} = get({attr!r}, MISSING)")
        if steps:
            lines.append("    " + " = ".join(f"s{s}" for s in steps) + " = False")
        lines.append("    fired = []")
        for comp in _rule_order(cps, mine):
            looped = len(comp) > 1 or any(s in comp[0].requires for s in comp[0].tests)
            indent = "    "
            if looped:
                for r in comp:
                    lines.append(f"    f{r.index} = False")
                lines.append("    again = True")
                lines.append("    while again:")
                lines.append("        again = False")
                indent = "        "
            for r in comp:
                guard = r.guards[0] if r.guards else None   # one alternative: the workload has no `any` of steps
                test = " and ".join([*(f"s{s}" for s in r.tests), f"({guard_expression(guard, local, event)})"])
                if looped:
                    test = f"not f{r.index} and {test}"
                lines.append(f"{indent}if {test}:")
                lines.append(f"{indent}    fired.append({r.index})")
                if looped:
                    lines.append(f"{indent}    f{r.index} = again = True")
                for s in r.requires:
                    lines.append(f"{indent}    s{s} = True")
        lines.append("    return fired")
        lines.append("")
    lines.append("LIMITS = {" + ", ".join(f"{e!r}: limit_{n}" for n, e in enumerate(sorted(cps.manifest.events))) + "}")
    return "\n".join(lines) + "\n"


def generated_limit(cps: friction.CompiledPolicySet) -> Callable[[str, dict], list[int]]:
    """`limit(event, attrs)`: the rules that fire, as the generated single pass finds them."""
    ns: dict[str, Any] = {"MISSING": object()}
    exec(compile(_source(cps), "<limit>", "exec"), ns)  # noqa: S102 - generated from a validated set, values via repr
    limits = ns["LIMITS"]

    def limit(event: str, attrs: dict) -> list[int]:
        fn = limits.get(event)
        return fn(attrs) if fn is not None else []
    return limit
