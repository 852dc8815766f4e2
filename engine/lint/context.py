"""What every family of checks shares: the policy set, its conditions in reasoning form,
and where findings go."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from ..language import Rule, Step
from ..manifest import PolicySet
from .conditions import Reasoner, dnf, when_expr
from .findings import Finding

__all__ = ["Context", "quote", "rel"]


def _actions(rule: Rule) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.action if isinstance(t, Step) else t for t in rule.then))


def rel(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def quote(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


class Context:
    """One lint run over one policy set. Reachability runs first and fills `dead`, which
    the later families read (a dead rule is reported once, as dead, and nothing else)."""

    def __init__(self, policy_set: PolicySet, folder: Path, catalogs: Sequence[str | Path]):
        self.ps = policy_set
        self.manifest = policy_set.manifest
        self.folder = folder
        self.catalogs = list(catalogs)
        self.rules = list(policy_set.rules)           # sorted by id
        self.by_id = {r.id: r for r in self.rules}
        self.reasoner = Reasoner(self.manifest)
        self.expr = {r.id: when_expr(r) for r in self.rules}
        self.terms = {r.id: dnf(self.expr[r.id]) for r in self.rules}
        self.then = {r.id: _actions(r) for r in self.rules}
        # Filled by reachability:
        self.cond_dead: dict[str, str] = {}         # rule -> why its conditions never hold
        self.rule_events: dict[str, list[str]] = {}  # rule -> known life events it starts on
        self.produced: dict[str, set[str]] = {}     # life event -> steps some live rule requires
        self.dead: set[str] = set()
        self.findings: list[Finding] = []

    def add(self, level: str, code: str, rule_id: str | None, message: str,
            where: tuple[str, int | None] | None = None) -> None:
        file, line = where if where is not None else self.ps.where[rule_id]
        self.findings.append(Finding(level, code, file, line, rule_id, message))

    def order(self, rule_id: str) -> tuple:
        file, line = self.ps.where[rule_id]
        return (file, line, rule_id)

    def at(self, rule_id: str) -> str:
        file, line = self.ps.where[rule_id]
        return f"{rule_id} ({file}:{line})"
