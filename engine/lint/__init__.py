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
| uncovered-alternatives | warning | a step's channel or days alternatives may fit no alternative for some case (such cases get the first): a `by` list that leaves out a value of the attribute, or alternatives all with `when` that cannot be shown to cover every case |
| confusable-id | warning | rule ids that differ only by case or look-alike characters (NFKC, case folding, invisible format characters, and common Cyrillic/Greek look-alikes of Latin letters, plus 0/o and 1/l; not the whole Unicode confusables table) |
| unused-department, unused-channel, unused-attribute, unused-event | info | a manifest entry no rule uses |
| config | error | the lint config cannot be read, or names an unknown code or one that cannot be suppressed |
| bad-suppression | error | a rule's `lint.ignore` names an unknown code or a load problem |
| unused-suppression | info | a rule's `lint.ignore` names a code lint does not report on that rule |

A rule's `lint: {ignore: [code, ...], reason: "..."}` keeps those findings on that rule out
of the report; the project's lint config (`suppress`) disables codes or changes their level.
Both are listed, with their reasons, in `LintReport.suppressed`.

The checks come in families, one module each: names (load problems, confusable ids), reachability (dead
rules, uncatalogued life events), duplicates (duplicate and shadowed rules), cycles, unused
(manifest entries); then suppressions apply (`suppress`). Condition reasoning lives in
`conditions`.

Library code: nothing here prints or exits.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from ..load import read_policy_set
from . import choices, cycles, duplicates, names, reachability, unused
from .context import Context
from .findings import CODES, LEVELS, Finding, format_findings, has_errors
from .names import from_problem
from .suppress import LintConfig, Suppressed, apply, find_config, read_config

__all__ = ["CODES", "LEVELS", "Finding", "LintReport", "Suppressed", "format_findings", "has_errors",
           "lint", "lint_report"]

# Reachability first: the other families skip the rules it finds dead.
CHECKS = (reachability.check, duplicates.check, cycles.check, unused.check, names.check, choices.check)


@dataclass(frozen=True)
class LintReport:
    findings: list[Finding]        # what to report, sorted by file, line, code and rule
    suppressed: list[Suppressed]   # what a rule's `lint.ignore` or the config kept out, and why
    config: str | None             # the lint config applied, if any


def lint_report(folder: str | Path, catalogs: Sequence[str | Path] = (),
                config: str | os.PathLike | Literal[False] | None = None) -> LintReport:
    """Every finding on the policy set in `folder` (and, when given, on which of its life
    events the catalogs exercise), with what suppressions kept out. `config`: a lint config
    file; None finds one from `folder` upward; False applies none."""
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
    path = find_config(folder) if config is None else config or None
    settings, config_problems = read_config(path) if path is not None else (LintConfig(), [])
    kept, suppressed = apply(sorted(set(findings), key=Finding.sort_key), policy_set, settings,
                             bool(catalogs))
    return LintReport(sorted(set(kept + config_problems), key=Finding.sort_key),
                      sorted(suppressed, key=lambda s: s.finding.sort_key()), settings.path)


def lint(folder: str | Path, catalogs: Sequence[str | Path] = (),
         config: str | os.PathLike | Literal[False] | None = None) -> list[Finding]:
    """The findings of `lint_report`: what to report."""
    return lint_report(folder, catalogs, config).findings
