"""What a catalog leaves untested: rules no case fires, life event × persona pairs no case
exercises; and life events of the catalog no rule handles. Read from the evaluation's
traces."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from .compile import CompiledPolicySet
from .evaluate import Evaluation
from .catalog import LoadedCatalog
from .case import Case

__all__ = ["Coverage", "CoverageTally", "coverage"]


@dataclass
class Coverage:
    rules_total: int
    rules_fired: int
    unfired: list[tuple[str, str]]          # (rule id, file:line)
    pairs_total: int
    pairs_covered: int
    missing_pairs: list[tuple[str, str]]    # (event, persona)
    # (event, cases): life events of the catalog on which no rule starts (no rule names the
    # event and waits for no step), so every journey of theirs is empty
    unhandled_events: list[tuple[str, int]] = field(default_factory=list)

    @property
    def rule_percent(self) -> float:
        return round(100.0 * self.rules_fired / self.rules_total, 1) if self.rules_total else 100.0

    @property
    def pair_percent(self) -> float:
        return round(100.0 * self.pairs_covered / self.pairs_total, 1) if self.pairs_total else 100.0


def coverage(cps: CompiledPolicySet, evaluation: Evaluation, catalog: LoadedCatalog | None) -> Coverage:
    """`catalog` None (JSON Lines) has no persona table: pairs are counted over the personas
    that its cases name."""
    tally = CoverageTally()
    for r in evaluation.results:
        tally.add(r.trace.fired, r.case)
    return tally.coverage(cps, catalog)


class CoverageTally:
    """What coverage needs from each case, gathered one result at a time (a catalog read as
    a stream is never held in memory)."""

    def __init__(self) -> None:
        self.fired: set[int] = set()
        self.seen: set[tuple[str, str]] = set()
        self.personas: set[str] = set()
        self.events: Counter[str] = Counter()

    def add(self, fired: Iterable[int], case: Case) -> None:
        """One case: the rules that fired for it."""
        self.fired.update(fired)
        self.events[case.event] += 1
        if case.persona:
            self.seen.add((case.event, case.persona))
            self.personas.add(case.persona)

    def coverage(self, cps: CompiledPolicySet, catalog: LoadedCatalog | None) -> Coverage:
        unfired = []
        for r in cps.rules:
            if r.index not in self.fired:
                file, line = cps.policy_set.where.get(r.id, ("?", 0))
                unfired.append((r.id, f"{file}:{line}"))
        personas = catalog.catalog.personas if catalog is not None else self.personas
        pairs = [(e, p) for e in sorted(cps.manifest.events) for p in sorted(personas)]
        missing = [p for p in pairs if p not in self.seen]
        # Rules that can start a journey: they wait for no step (a rule with steps only in
        # some `any` branch counts too, so an event is called unhandled only when certain).
        starters = [r.events for r in cps.rules if not r.rule.when.step]
        unhandled = [] if any(not evs for evs in starters) else \
            [(e, n) for e, n in sorted(self.events.items()) if not any(e in evs for evs in starters)]
        return Coverage(len(cps.rules), len(self.fired), unfired, len(pairs), len(pairs) - len(missing), missing,
                        unhandled)
