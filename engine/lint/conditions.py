"""Reasoning about rule conditions: satisfiability and implication against a manifest.

Condition reasoning follows the engines' semantics: a comparison on an attribute the case
does not have is false (`ne` and `not_in` too), `present: false` means absent, and an
attribute with a manifest default is in every case (cases are resolved with defaults).
Reasoning is sound but incomplete: a rule is only called dead, or shadowed, when that is
certain; some contradictions (across `any` branches in complex ways) go unreported.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Sequence

from ..logic import TooManyAlternatives, alternatives
from ..language import LIST_OPERATORS, ORDERED_OPERATORS, Condition, Rule
from ..manifest import Attribute, Manifest

__all__ = ["Atom", "Domain", "Reasoner", "Terms", "TRUE", "canonical", "dnf", "show", "when_expr"]

MAX_TERMS = 256          # a `when` whose disjunctive normal form is larger is not reasoned about
MAX_ENUMERATED_INTS = 10_000



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
        return f"{self.attr} {self.op} {show(self.value)}"


def _tag(value: Any) -> tuple:
    return (type(value).__name__, value)


def show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(show, value)) + "]"
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
    if c.step is not None or c.event is not None:
        # Not reasoned about here: taken as true (so never a reason to call a rule dead).
        # Rules that test steps or events inside conditions, or use `unless`, are not
        # `plain`: the duplicate and shadow checks leave them out.
        return ("all", ())
    kind = "all" if c.all is not None else "any"
    return (kind, tuple(_expr(x) for x in (c.all if c.all is not None else c.any)))


def plain(rule: Rule) -> bool:
    """Step tests only as a top-level AND, no event tests inside conditions, no `unless`:
    the rules every check here reasons about exactly."""
    w = rule.when
    return not w.unless and not any(c.steps() or c.events() for c in w.all + w.any)


def alternative_steps(rule: Rule) -> list[frozenset[str]]:
    """The step sets of the rule's alternatives (logic.alternatives): it can fire once
    one of them is all required."""
    try:
        return [alt.steps for alt in alternatives(rule.when.condition(with_event=False))]
    except TooManyAlternatives:
        return [frozenset()]   # refused at load; here only: assume it can fire


def when_expr(rule: Rule) -> tuple:
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


def canonical(e: tuple) -> Any:
    """Order-insensitive form of an expression, for comparing rules."""
    if e[0] == "atom":
        return ("atom", e[1].key)
    return (e[0], frozenset(canonical(x) for x in e[1]))


def dnf(e: tuple) -> list[tuple[Atom, ...]] | None:
    """Disjunctive normal form: a list of conjunctions; None when too large to reason about."""
    if e[0] == "atom":
        return [(e[1],)]
    parts = [dnf(x) for x in e[1]]
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


# A condition as a set of alternatives, for combining conditions along chains: each
# alternative a frozenset of (key, atom) pairs (the key keeps True and 1 apart).
Term = frozenset
Terms = frozenset          # of Term; empty: never holds
TRUE: Terms = frozenset({frozenset()})


def as_terms(terms: Sequence[Sequence[Atom]] | None) -> Terms:
    """A `dnf` result as Terms; too large to reason about counts as always holding."""
    if terms is None:
        return TRUE
    return _absorb({frozenset((a.key, a) for a in t) for t in terms})


def atoms_of(term: Term) -> tuple[Atom, ...]:
    return tuple(a for _, a in sorted(term, key=lambda ka: repr(ka[0])))


def _absorb(terms: set) -> Terms:
    """Drop alternatives that hold only where a smaller one holds; past MAX_TERMS, always
    holds (an over-approximation: safe for 'can never fire', which needs certainty)."""
    if frozenset() in terms or len(terms) > 4 * MAX_TERMS:
        return TRUE
    kept = [t for t in terms if not any(u < t for u in terms)]
    return TRUE if len(kept) > MAX_TERMS else frozenset(kept)


def terms_or(a: Terms, b: Terms) -> Terms:
    return _absorb(set(a) | set(b))


class _Sat:
    """Satisfiability of alternatives, memoised."""

    def __init__(self, reasoner: "Reasoner"):
        self.reasoner = reasoner
        self.memo: dict[Term, bool] = {}

    def __call__(self, term: Term) -> bool:
        hit = self.memo.get(term)
        if hit is None:
            hit = self.memo[term] = self.reasoner.satisfiable(atoms_of(term))
        return hit


def terms_and(a: Terms, b: Terms, sat: "_Sat") -> Terms:
    """Both hold: pairwise unions of alternatives, the impossible ones dropped."""
    if a == TRUE:
        return b
    if b == TRUE:
        return a
    out = set()
    for t in a:
        for u in b:
            tu = t | u
            if sat(tu):
                out.add(tu)
                if len(out) > 4 * MAX_TERMS:
                    return TRUE
    return _absorb(out)


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
        self.sat = _Sat(self)

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
            rng = f"{show(spec.min) if spec.min is not None else '-inf'}..{show(spec.max) if spec.max is not None else 'inf'}"
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

