"""Static checks of a policy set: what `friction lint` reports.

`lint(folder)` never raises on bad input: every load problem becomes an error finding, and
every other check still runs on the usable part of the set. Checks:

| code | level | what |
|---|---|---|
| unknown-department, unknown-channel, unknown-event, unknown-attribute, unknown-step, unknown-key, duplicate-id, after-cycle, step-conflict, missing-channel, bad-condition, bad-yaml, no-policy-set, load | error | a load problem (`load.read_policy_set`) |
| dead-rule | error | a rule that can never fire: its conditions contradict each other or the manifest, or a step it needs is only required by rules that can never fire (on its life events) |
| catalog | error | a catalog given to lint does not load or holds a bad case |
| uncatalogued-event | warning | (catalogs given) none of a rule's life events is in any catalog |
| duplicate-rule | warning | same conditions (order-insensitive, or provably equivalent) and same steps as an earlier rule |
| shadowed-rule | warning | whenever the rule fires another rule fires too and requires every step it requires |
| chain-cycle | warning | rules that require each other's steps in a circle |
| unused-department, unused-channel, unused-attribute, unused-event | info | a manifest entry no rule uses |

Condition reasoning follows the engines' semantics: a comparison on an attribute the case
does not have is false (`ne` and `not_in` too), `present: false` means absent, and an
attribute with a manifest default is in every case (cases are resolved with defaults).
Reasoning is sound but incomplete: a rule is only called dead, or shadowed, when that is
certain; some contradictions (across `any` branches in complex ways) go unreported.

Library code: nothing here prints or exits.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, Iterable, Sequence

from .errors import InputError, Problem
from .load import MANIFEST_FILE, open_catalog, read_policy_set, read_yaml
from .model import LIST_OPERATORS, ORDERED_OPERATORS, Attribute, Condition, Manifest, PolicySet, Rule, Step

__all__ = ["CODES", "LEVELS", "Finding", "format_findings", "has_errors", "lint"]

LEVELS = ("error", "warning", "info")

# Every code lint emits, with its level.
CODES: dict[str, str] = {
    **{c: "error" for c in (
        "unknown-department", "unknown-channel", "unknown-event", "unknown-attribute", "unknown-step",
        "unknown-key", "duplicate-id", "after-cycle", "step-conflict", "missing-channel",
        "bad-condition", "bad-yaml", "no-policy-set", "load", "dead-rule", "catalog")},
    "uncatalogued-event": "warning", "duplicate-rule": "warning", "shadowed-rule": "warning",
    "chain-cycle": "warning",
    "unused-department": "info", "unused-channel": "info", "unused-attribute": "info",
    "unused-event": "info",
}

MAX_TERMS = 256          # a `when` whose disjunctive normal form is larger is not reasoned about
MAX_ENUMERATED_INTS = 10_000
MAX_CYCLES = 100
CYCLE_SEARCH_BUDGET = 200_000


@dataclass(frozen=True)
class Finding:
    level: str          # "error" | "warning" | "info"
    code: str           # short kebab-case id, see CODES
    file: str
    line: int | None
    rule: str | None    # rule id, when the finding is about a rule
    message: str        # one line

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        subject = f"rule {self.rule}: " if self.rule else ""
        return f"{where}: {self.level}: {subject}{self.message} [{self.code}]"

    def as_dict(self) -> dict:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.code, self.rule or "", self.message)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.level == "error" for f in findings)


def format_findings(findings: Sequence[Finding]) -> str:
    """One line per finding, then a summary line ("2 errors, 3 warnings, 1 info")."""
    counts = {level: sum(1 for f in findings if f.level == level) for level in LEVELS}
    summary = (f"{counts['error']} error{'' if counts['error'] == 1 else 's'}, "
               f"{counts['warning']} warning{'' if counts['warning'] == 1 else 's'}, "
               f"{counts['info']} info")
    return "".join(f"{f}\n" for f in findings) + summary + "\n"


def lint(folder: str | Path, catalogs: Sequence[str | Path] = ()) -> list[Finding]:
    """Every finding on the policy set in `folder` (and, when given, on which of its life
    events the catalogs exercise), sorted by file, line, code and rule."""
    if isinstance(catalogs, (str, os.PathLike)):
        catalogs = [catalogs]
    policy_set, problems = read_policy_set(folder)
    findings = [_from_problem(p) for p in problems]
    if policy_set is not None:
        findings += _Linter(policy_set, Path(folder), catalogs).run()
    return sorted(set(findings), key=Finding.sort_key)


# --------------------------------------------------------------------------- load problems

_LOAD_CODES = (  # (text in the message, code); first match wins
    ("unknown department", "unknown-department"),
    ("unknown channel", "unknown-channel"),
    ("unknown start channel", "unknown-channel"),
    ("unknown life event", "unknown-event"),
    ("is not declared in the manifest", "unknown-attribute"),
    ("which no rule defines", "unknown-step"),
    ("is a step no rule requires", "unknown-step"),
    ("which no rule requires", "unknown-step"),
    ("duplicate rule id", "duplicate-id"),
    ("in a cycle", "after-cycle"),
    ("is defined differently", "step-conflict"),
    ("needs a channel", "missing-channel"),
    ("unknown key", "unknown-key"),
    ("bad YAML", "bad-yaml"),
    ("not a policy set", "no-policy-set"),
    ("no such policy set folder", "no-policy-set"),
    ("only numbers are ordered", "bad-condition"),
    ("condition on '", "bad-condition"),
)


def _classify(message: str) -> str:
    for text, code in _LOAD_CODES:
        if text in message:
            return code
    return "load"


def _split_subject(problem: Problem) -> tuple[str | None, str]:
    """(rule id, message): a 'rule X' subject names the rule; any other subject stays in the text."""
    subject, message = problem.subject, problem.message
    if subject and subject.startswith("rule ") and not subject.startswith("rule #"):
        return subject[len("rule "):], message
    return None, f"{subject}: {message}" if subject else message


def _from_problem(problem: Problem, code: str | None = None) -> Finding:
    rule, message = _split_subject(problem)
    return Finding("error", code or _classify(problem.message), problem.file, problem.line, rule,
                   " ".join(message.split()))


# --------------------------------------------------------------------------- conditions

@dataclass(frozen=True)
class Atom:
    """One test on one attribute; `value` is a tuple for `in` / `not_in`."""

    attr: str
    op: str
    value: Any

    @property
    def key(self) -> tuple:
        """Identity that keeps True and 1 apart (Python hashes them alike)."""
        if self.op in LIST_OPERATORS:
            return (self.attr, self.op, frozenset(_tag(v) for v in self.value))
        return (self.attr, self.op, _tag(self.value))

    def __str__(self) -> str:
        return f"{self.attr} {self.op} {_show(self.value)}"


def _tag(value: Any) -> tuple:
    return (type(value).__name__, value)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(_show, value)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _holds(atom: Atom, x: Any) -> bool:
    """The atom on a case that has the attribute with value x (as the engines compare)."""
    op, v = atom.op, atom.value
    try:
        if op == "present":
            return bool(v)
        if op == "eq":
            return x == v
        if op == "ne":
            return x != v
        if op == "in":
            return x in v
        if op == "not_in":
            return x not in v
        if op == "lt":
            return x < v
        if op == "le":
            return x <= v
        if op == "gt":
            return x > v
        if op == "ge":
            return x >= v
    except TypeError:
        return False
    raise ValueError(f"unknown operator {op!r}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# Expression trees: ("atom", Atom) | ("all", (expr, ...)) | ("any", (expr, ...)).

def _expr(c: Condition) -> tuple:
    if c.attr is not None:
        return ("atom", Atom(c.attr, c.op, c.value))
    kind = "all" if c.all is not None else "any"
    return (kind, tuple(_expr(x) for x in (c.all if c.all is not None else c.any)))


def _when_expr(rule: Rule) -> tuple:
    parts = [_expr(c) for c in rule.when.all]
    if rule.when.any:
        parts.append(("any", tuple(_expr(c) for c in rule.when.any)))
    return _simplify(("all", tuple(parts)))


def _simplify(e: tuple) -> tuple:
    """Flatten nested all-in-all / any-in-any and collapse one-item groups."""
    if e[0] == "atom":
        return e
    kind, items = e
    flat: list[tuple] = []
    for item in map(_simplify, items):
        if item[0] == kind:
            flat.extend(item[1])
        else:
            flat.append(item)
    if len(flat) == 1:
        return flat[0]
    return (kind, tuple(flat))


def _canonical(e: tuple) -> Any:
    """Order-insensitive form of an expression, for comparing rules."""
    if e[0] == "atom":
        return ("atom", e[1].key)
    return (e[0], frozenset(_canonical(x) for x in e[1]))


def _dnf(e: tuple) -> list[tuple[Atom, ...]] | None:
    """Disjunctive normal form: a list of conjunctions; None when too large to reason about."""
    if e[0] == "atom":
        return [(e[1],)]
    parts = [_dnf(x) for x in e[1]]
    if any(p is None for p in parts):
        return None
    if e[0] == "any":
        out = [t for p in parts for t in p]
        return out if len(out) <= MAX_TERMS else None
    terms: list[tuple[Atom, ...]] = [()]
    for p in parts:
        terms = [t + u for t in terms for u in p]
        if len(terms) > MAX_TERMS:
            return None
    return terms


class Domain:
    """What one attribute can be in a case where a conjunction of atoms holds."""

    def __init__(self, attr: str, spec: Attribute | None, atoms: Sequence[Atom]):
        self.attr, self.spec = attr, spec
        self.atoms = list(atoms)
        self.kind = spec.type if spec else "any"
        self.always_present = spec is not None and spec.default is not None
        self.value_atoms = [a for a in self.atoms if a.op != "present"]
        self.needs_present = bool(self.value_atoms) or any(a.op == "present" and a.value for a in self.atoms)
        self.needs_absent = any(a.op == "present" and not a.value for a in self.atoms)
        self.opaque = self.kind in ("str", "bool") and any(a.op in ORDERED_OPERATORS for a in self.value_atoms)
        self._bounds()
        self.values = self._finite()

    # numeric bounds (from the manifest and from lt/le/gt/ge)
    def _bounds(self) -> None:
        lo, lo_open, hi, hi_open = -math.inf, False, math.inf, False
        if self.spec is not None:
            if self.spec.min is not None:
                lo = self.spec.min
            if self.spec.max is not None:
                hi = self.spec.max
        for a in self.value_atoms:
            if a.op not in ORDERED_OPERATORS or not _is_number(a.value):
                continue
            v = a.value
            if a.op in ("gt", "ge"):
                strict = a.op == "gt"
                if v > lo or (v == lo and strict):
                    lo, lo_open = v, strict
            else:
                strict = a.op == "lt"
                if v < hi or (v == hi and strict):
                    hi, hi_open = v, strict
        if self.kind == "int":
            lo = (math.floor(lo) + 1 if lo_open else math.ceil(lo)) if math.isfinite(lo) else lo
            hi = (math.ceil(hi) - 1 if hi_open else math.floor(hi)) if math.isfinite(hi) else hi
            lo_open = hi_open = False
        self.lo, self.lo_open, self.hi, self.hi_open = lo, lo_open, hi, hi_open

    def _valid(self, v: Any) -> bool:
        return self.spec is None or self.spec.check(v) is None

    def _finite(self) -> list | None:
        """Every value the attribute can take, or None when there are too many to list."""
        base: list | None = None
        if self.spec is not None and self.spec.values is not None:
            base = list(self.spec.values)
        elif self.kind == "bool":
            base = [False, True]
        elif self.kind == "int" and math.isfinite(self.lo) and math.isfinite(self.hi) \
                and self.hi - self.lo < MAX_ENUMERATED_INTS:
            base = list(range(int(self.lo), int(self.hi) + 1))
        elif self.kind == "number" and self.lo == self.hi and not (self.lo_open or self.hi_open):
            base = [self.lo]
        if base is None:
            for a in self.value_atoms:
                if a.op in ("eq", "in"):
                    base = [a.value] if a.op == "eq" else list(a.value)
                    break
        if base is None:
            return None
        seen, out = set(), []
        for x in base:
            if _tag(x) in seen or not self._valid(x):
                continue
            seen.add(_tag(x))
            if all(_holds(a, x) for a in self.value_atoms):
                out.append(x)
        return out

    @property
    def presence_ok(self) -> bool:
        if self.needs_absent and (self.needs_present or self.always_present):
            return False
        return True

    @property
    def forces_present(self) -> bool:
        return self.needs_present or self.always_present

    def satisfiable(self) -> bool:
        if not self.presence_ok:
            return False
        if not self.value_atoms or self.opaque:
            return True
        if self.values is not None:
            return bool(self.values)
        if self.kind == "str":
            return True  # infinitely many strings, finitely many excluded
        if self.kind == "any" and not any(a.op in ORDERED_OPERATORS for a in self.value_atoms):
            return True
        if self.lo < self.hi:
            return True
        return self.lo == self.hi and not (self.lo_open or self.hi_open) and \
            all(_holds(a, self.lo) for a in self.value_atoms)

    def implies(self, atom: Atom) -> bool:
        """Whenever this domain's atoms hold (and are satisfiable), `atom` holds too."""
        if any(a.key == atom.key for a in self.atoms):
            return True
        if atom.op == "present":
            return self.forces_present if atom.value else self.needs_absent
        if not self.forces_present or self.opaque:
            return False
        if self.values is not None:
            return all(_holds(atom, x) for x in self.values)
        excluded = [v for a in self.value_atoms if a.op in ("ne", "not_in")
                    for v in (a.value if a.op == "not_in" else (a.value,))]
        if atom.op in ("ne", "not_in"):
            out = atom.value if atom.op == "not_in" else (atom.value,)
            return all(any(_tag(v) == _tag(e) for e in excluded) or
                       (self.kind in ("int", "number") and _is_number(v) and not self._inside(v))
                       for v in out)
        if atom.op in ORDERED_OPERATORS and self.kind in ("int", "number") and _is_number(atom.value):
            v = atom.value
            if atom.op == "lt":
                return self.hi < v or (self.hi == v and self.hi_open)
            if atom.op == "le":
                return self.hi <= v
            if atom.op == "gt":
                return self.lo > v or (self.lo == v and self.lo_open)
            return self.lo >= v
        return False

    def _inside(self, v: float) -> bool:
        above = v > self.lo or (v == self.lo and not self.lo_open)
        below = v < self.hi or (v == self.hi and not self.hi_open)
        return above and below


class Reasoner:
    """Satisfiability and implication of rule conditions against one manifest."""

    def __init__(self, manifest: Manifest):
        self.manifest = manifest

    def _domains(self, term: Sequence[Atom]) -> dict[str, Domain]:
        by_attr: dict[str, list[Atom]] = {}
        for a in term:
            by_attr.setdefault(a.attr, []).append(a)
        return {attr: Domain(attr, self.manifest.attributes.get(attr), atoms)
                for attr, atoms in sorted(by_attr.items())}

    def satisfiable(self, term: Sequence[Atom]) -> bool:
        return all(d.satisfiable() for d in self._domains(term).values())

    def why_not(self, term: Sequence[Atom]) -> str | None:
        """Why a conjunction can never hold (the smallest reason found), or None if it can."""
        for attr, d in self._domains(term).items():
            if d.satisfiable():
                continue
            spec = self.manifest.attributes.get(attr)
            atoms = list(dict.fromkeys(d.atoms))
            for a in atoms:
                if not Domain(attr, spec, [a]).satisfiable():
                    return self._alone(a, spec)
            for a, b in combinations(atoms, 2):
                if not Domain(attr, spec, [a, b]).satisfiable():
                    return f"`{a}` contradicts `{b}`"
            return " and ".join(f"`{a}`" for a in atoms) + " cannot all hold"
        return None

    @staticmethod
    def _alone(a: Atom, spec: Attribute | None) -> str:
        if a.op == "present":
            return f"`{a.attr} present false` never holds: '{a.attr}' has a default, so every case has it"
        if spec is not None and a.op in ("eq", "in"):
            values = a.value if a.op == "in" else (a.value,)
            why = "; ".join(filter(None, (spec.check(v) for v in values)))
            if why:
                return f"`{a}` never holds: {why}"
        if spec is not None and (spec.min is not None or spec.max is not None):
            rng = f"{_show(spec.min) if spec.min is not None else '-inf'}..{_show(spec.max) if spec.max is not None else 'inf'}"
            return f"`{a}` never holds: '{a.attr}' is in {rng}"
        return f"`{a}` never holds"

    def term_implies(self, term: Sequence[Atom], e: tuple) -> bool:
        """Sound (not complete) test that every case where `term` holds satisfies `e`."""
        if e[0] == "atom":
            atom = e[1]
            return Domain(atom.attr, self.manifest.attributes.get(atom.attr),
                          [a for a in term if a.attr == atom.attr]).implies(atom)
        if e[0] == "all":
            return all(self.term_implies(term, x) for x in e[1])
        return any(self.term_implies(term, x) for x in e[1])


# --------------------------------------------------------------------------- the checks


def _actions(rule: Rule) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.action if isinstance(t, Step) else t for t in rule.then))


def _rel(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _quote(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


class _Linter:
    def __init__(self, policy_set: PolicySet, folder: Path, catalogs: Sequence[str | Path]):
        self.ps = policy_set
        self.manifest = policy_set.manifest
        self.folder = folder
        self.catalogs = list(catalogs)
        self.rules = list(policy_set.rules)           # sorted by id
        self.by_id = {r.id: r for r in self.rules}
        self.reasoner = Reasoner(self.manifest)
        self.expr = {r.id: _when_expr(r) for r in self.rules}
        self.terms = {r.id: _dnf(self.expr[r.id]) for r in self.rules}
        self.then = {r.id: _actions(r) for r in self.rules}
        self.findings: list[Finding] = []

    def run(self) -> list[Finding]:
        self.check_dead()
        self.check_duplicates_and_shadows()
        self.check_cycles()
        self.check_unused()
        if self.catalogs:
            self.check_catalogs()
        return self.findings

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

    # ---- 2. rules that can never fire

    def check_dead(self) -> None:
        self.cond_dead: dict[str, str] = {}
        for r in self.rules:
            terms = self.terms[r.id]
            if terms is None:
                continue
            reasons = [self.reasoner.why_not(t) for t in terms]
            if all(reasons):
                unique = list(dict.fromkeys(reasons))
                if len(unique) == 1:
                    why = unique[0]
                else:
                    shown = "; ".join(unique[:3]) + ("; ..." if len(unique) > 3 else "")
                    why = f"no branch of its `any` can hold ({shown})"
                self.cond_dead[r.id] = why

        events = list(self.manifest.events)
        self.rule_events = {r.id: [e for e in (r.when.event or events) if e in events] for r in self.rules}
        self.produced: dict[str, set[str]] = {}    # life event -> steps some live rule requires
        self.live: set[str] = set()
        for event in events:
            steps: set[str] = set()
            fired: set[str] = set()
            changed = True
            while changed:
                changed = False
                for r in self.rules:
                    if (r.id in fired or r.id in self.cond_dead or event not in self.rule_events[r.id]
                            or not all(s in steps for s in r.when.step)):
                        continue
                    fired.add(r.id)
                    steps.update(self.then[r.id])
                    changed = True
            self.produced[event] = steps
            self.live |= fired
        self.dead = {r.id for r in self.rules if r.id not in self.live}

        producers: dict[str, list[str]] = {}
        for r in self.rules:
            for a in self.then[r.id]:
                producers.setdefault(a, []).append(r.id)
        for r in self.rules:
            if r.id in self.cond_dead:
                self.add("error", "dead-rule", r.id, f"can never fire: {self.cond_dead[r.id]}")
            elif r.id in self.dead:
                if not self.rule_events[r.id]:
                    continue  # only unknown life events: already a load error
                self.add("error", "dead-rule", r.id, "can never fire: " + self._step_reason(r, producers))

    def _step_reason(self, r: Rule, producers: dict[str, list[str]]) -> str:
        evs = self.rule_events[r.id]
        for s in r.when.step:
            makers = producers.get(s, [])
            if makers and all(m in self.dead for m in makers):
                return (f"it needs step '{s}', which only rules that can never fire require "
                        f"({', '.join(sorted(makers))})")
        for s in r.when.step:
            if all(s not in self.produced[e] for e in evs):
                return (f"it needs step '{s}', which no rule that can fire on life event "
                        f"{_quote(evs)} requires")
        return (f"its steps {_quote(r.when.step)} are never all required on one life event "
                f"({_quote(evs)})")

    # ---- 3 and 4. duplicate and shadowed rules

    def _shadows(self, a: Rule, b: Rule) -> bool:
        """Whenever `a` fires, `b` fires too and requires every step `a` requires."""
        if not set(self.then[a.id]) <= set(self.then[b.id]):
            return False
        if b.when.event and (not a.when.event or not set(a.when.event) <= set(b.when.event)):
            return False
        if not set(b.when.step) <= set(a.when.step):
            return False
        terms = self.terms[a.id]
        if terms is None:
            return False
        return all(self.reasoner.term_implies(t, self.expr[b.id])
                   for t in terms if self.reasoner.satisfiable(t))

    def check_duplicates_and_shadows(self) -> None:
        candidates = [r for r in self.rules if r.id not in self.dead]
        key = {r.id: (frozenset(r.when.event), frozenset(r.when.step), _canonical(self.expr[r.id]),
                      frozenset(self.then[r.id])) for r in candidates}
        by_step: dict[str, set[str]] = {}
        for r in candidates:
            for a in self.then[r.id]:
                by_step.setdefault(a, set()).add(r.id)

        shadowed_by: dict[str, set[str]] = {}
        for a in candidates:
            others = set.intersection(*(by_step[s] for s in self.then[a.id])) - {a.id}
            for bid in sorted(others):
                if self._shadows(a, self.by_id[bid]):
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
            members.sort(key=self.order)
            first = members[0]
            for other in members[1:]:
                how = "the same" if frozenset((first, other)) in same else "equivalent"
                self.add("warning", "duplicate-rule", other,
                         f"duplicates rule {self.at(first)}: {how} conditions and the same steps "
                         f"({_quote(sorted(self.then[other]))}); keep one")

        for a, bs in sorted(shadowed_by.items()):
            bs = sorted((b for b in bs if find(b) != find(a)), key=self.order)
            if not bs:
                continue
            names = ", ".join(self.at(b) for b in bs)
            self.add("warning", "shadowed-rule", a,
                     f"shadowed by rule{'s' if len(bs) > 1 else ''} {names}: whenever it fires, "
                     f"{'they fire' if len(bs) > 1 else 'that rule fires'} too and "
                     f"require{'' if len(bs) > 1 else 's'} every step it requires "
                     f"({_quote(self.then[a])}), so it changes no journey")

    # ---- 5. chaining cycles

    def check_cycles(self) -> None:
        needs: dict[str, list[str]] = {}
        for r in self.rules:
            for s in r.when.step:
                needs.setdefault(s, []).append(r.id)
        edges: dict[str, dict[str, list[str]]] = {r.id: {} for r in self.rules}
        for r in self.rules:
            for s in self.then[r.id]:
                for target in needs.get(s, ()):
                    edges[r.id].setdefault(target, []).append(s)
        cycles, complete = _elementary_cycles({k: sorted(v) for k, v in edges.items()})
        for cycle in cycles:
            hops = []
            for i, rid in enumerate(cycle):
                nxt = cycle[(i + 1) % len(cycle)]
                hops.append(f"{rid} -({_quote(sorted(set(edges[rid][nxt])))})->")
            text = " ".join(hops) + f" {cycle[0]}"
            self.add("warning", "chain-cycle", cycle[0],
                     f"rules chain in a cycle: {text}; replay stops since each step is required "
                     "once, but the policy is circular")
        if not complete:
            first = cycles[0][0] if cycles else min(edges)
            self.add("warning", "chain-cycle", first,
                     f"more chaining cycles than the {len(cycles)} listed; not all are reported")

    # ---- 6. manifest entries nothing uses

    def check_unused(self) -> None:
        mfile = _rel(self.folder / MANIFEST_FILE)
        try:
            raw = read_yaml(self.folder / MANIFEST_FILE)
        except InputError:
            raw = None

        def line_of(section: str, index: int | None = None, key: str | None = None) -> int | None:
            node = raw.get(section) if isinstance(raw, dict) else None
            default = raw.key_lines.get(section) if isinstance(raw, dict) else None
            if index is not None and hasattr(node, "item_lines") and index < len(node.item_lines):
                return node.item_lines[index]
            if key is not None and hasattr(node, "key_lines"):
                return node.key_lines.get(key, default)
            return default

        m = self.manifest
        steps = self.ps.steps.values()
        used_departments = {s.department for s in steps}
        for i, d in enumerate(m.departments):
            if d not in used_departments:
                self.add("info", "unused-department", None,
                         f"department '{d}' is in the manifest but no step is in it",
                         (mfile, line_of("departments", index=i)))
        used_channels = {s.channel for s in steps} | {m.default_channel}
        for i, c in enumerate(m.channels):
            if c not in used_channels:
                self.add("info", "unused-channel", None,
                         f"channel '{c}' is in the manifest but no step uses it",
                         (mfile, line_of("channels", index=i)))
        used_attributes = set().union(*(r.when.attributes() for r in self.rules))
        for name in m.attributes:
            if name not in used_attributes:
                self.add("info", "unused-attribute", None,
                         f"attribute '{name}' is in the manifest but no rule reads it",
                         (mfile, line_of("attributes", key=name)))
        catch_all = any(not r.when.event and not r.when.step for r in self.rules)
        used_events = {e for r in self.rules for e in r.when.event}
        for i, e in enumerate(m.events):
            if e not in used_events and not catch_all:
                self.add("info", "unused-event", None,
                         f"life event '{e}' is in the manifest but no rule starts on it: "
                         "its journeys are empty",
                         (mfile, line_of("events", index=i)))

    # ---- catalogs: rules no case exercises

    def check_catalogs(self) -> None:
        events: set[str] = set()
        for path in self.catalogs:
            try:
                stream = open_catalog(path, self.manifest)   # YAML, or JSON Lines read line by line
                for item in stream:
                    if isinstance(item, Problem):
                        self.findings.append(_from_problem(item, "catalog"))
                    else:
                        events.add(item.event)
            except InputError as e:
                self.findings.extend(_from_problem(p, "catalog") for p in e.problems)
        for r in self.rules:
            if r.id in self.dead or not r.when.event or set(r.when.event) & events:
                continue
            evs = [e for e in r.when.event if e in self.manifest.events]
            if not evs:
                continue  # unknown life events: already a load error
            self.add("warning", "uncatalogued-event", r.id,
                     f"life event {_quote(evs)} {'is' if len(evs) == 1 else 'are'} in no catalog, "
                     "so no case exercises this rule")


def _strongly_connected(graph: dict[str, list[str]]) -> dict[str, int]:
    """Component number of each node (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = components = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp[x] = components
                    if x == node:
                        break
                components += 1
    return comp


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
