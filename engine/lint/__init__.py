"""Static checks of a policy set: what `friction lint` reports.

`lint(folder)` never raises on bad input: every load problem becomes an error finding, and
every other check still runs on the usable part of the set. Checks:

| code | level | what |
|---|---|---|
| unknown-department, unknown-channel, unknown-event, unknown-attribute, unknown-step, unknown-key, duplicate-id, after-cycle, step-conflict, missing-channel, bad-condition, bad-yaml, no-policy-set, load | error | a load problem (`load.read_policy_set`) |
| dead-rule | error | a rule that can never fire: its conditions contradict each other or the manifest, or the steps it waits for are never required on its life events where its conditions hold (each step carries the conditions under which some chain of rules requires it) |
| catalog | error | a catalog given to lint does not load or holds a bad case |
| uncatalogued-event | warning | (catalogs given) none of a rule's life events is in any catalog |
| duplicate-rule | warning | same conditions (order-insensitive, or provably equivalent) and same steps as another rule (the one to keep: a system or regulation one when there is one, else the first) |
| shadowed-rule | warning | whenever the rule fires another rule fires too and requires every step it requires, and removing it changes no metric (policy_steps included) |
| shadowed-by-policy | info | shadowed, but only by policy or practice rules while it is system or regulation: removing it would make its steps policy-made |
| chain-cycle | warning | rules that require each other's steps in a circle |
| unused-department, unused-channel, unused-attribute, unused-event | info | a manifest entry no rule uses |

The checks come in families, one module each: names (load problems), reachability (dead
rules, uncatalogued life events), duplicates (duplicate and shadowed rules), cycles, unused
(manifest entries). Condition reasoning lives in `conditions`.

Library code: nothing here prints or exits.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..load import read_policy_set
from . import cycles, duplicates, reachability, unused
from .context import Context
from .findings import CODES, LEVELS, Finding, format_findings, has_errors
from .names import from_problem

__all__ = ["CODES", "LEVELS", "Finding", "format_findings", "has_errors", "lint"]

# Reachability first: the other families skip the rules it finds dead.
CHECKS = (reachability.check, duplicates.check, cycles.check, unused.check)


def lint(folder: str | Path, catalogs: Sequence[str | Path] = ()) -> list[Finding]:
    """Every finding on the policy set in `folder` (and, when given, on which of its life
    events the catalogs exercise), sorted by file, line, code and rule."""
    if isinstance(catalogs, (str, os.PathLike)):
        catalogs = [catalogs]
    policy_set, problems = read_policy_set(folder)
    findings = [from_problem(p) for p in problems]
    if policy_set is not None:
        ctx = Context(policy_set, Path(folder), catalogs)
        for check in CHECKS:
            check(ctx)
        if ctx.catalogs:
            reachability.check_catalogs(ctx)
        findings += ctx.findings
    return sorted(set(findings), key=Finding.sort_key)
