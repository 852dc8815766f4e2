"""The yardstick for matching speed: the fastest plain Python a careful person would write
for one policy set, generated. One function per life event; every attribute read once into
a local; rules in step-dependency order, so that a single pass reaches the fixed point (a
rule comes after every rule that can produce a step it tests, for presence or with
`unless` for absence: friction.logic.chain_order); only rules that chain in a cycle (a
strongly connected group) loop until nothing new fires. Each rule is one `if` with its
conditions inlined and its steps as local booleans: any of its alternatives (steps in
`any`/`all`) and none of its `unless` steps (decided by then: negation is stratified).
It covers every set the loader accepts.

It returns the set of rules that fire, which the benchmark checks equal to friction's
answer for every case before it times anything.
"""
from __future__ import annotations

from typing import Any, Callable

import friction
from friction.compile import guard_expression
from friction.logic import chain_order

__all__ = ["generated_limit"]


def _source(cps: friction.CompiledPolicySet) -> str:
    lines = []
    for n, event in enumerate(sorted(cps.manifest.events)):
        mine = [r for r in cps.rules if not r.events or event in r.events]
        used = sorted(set().union(*(r.rule.when.attributes() for r in mine)))
        local = {attr: f"v{k}" for k, attr in enumerate(used)}
        steps = sorted({s for r in mine for s in (*r.tests, *r.unless, *r.requires)})
        lines.append(f"def limit_{n}(a):")
        lines.append("    get = a.get")
        for attr, var in local.items():
            lines.append(f"    {var} = get({attr!r}, MISSING)")
        if steps:
            lines.append("    " + " = ".join(f"s{s}" for s in steps) + " = False")
        lines.append("    fired = []")
        order = chain_order(mine, lambda r: (*r.tests, *r.unless), lambda r: r.requires)
        for group, looped in order:
            indent = "    "
            if looped:
                for r in group:
                    lines.append(f"    f{r.index} = False")
                lines.append("    again = True")
                lines.append("    while again:")
                lines.append("        again = False")
                indent = "        "
            for r in group:
                # any alternative (its steps all required and its guard true), and no unless step
                alts = [" and ".join([*(f"s{s}" for s in steps), f"({guard_expression(guard, local, event)})"])
                        for steps, guard in zip(r.alternatives, r.guards)]
                test = " or ".join(f"({x})" for x in alts) or "False"
                test = " and ".join([f"({test})", *(f"not s{s}" for s in r.unless)])
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
