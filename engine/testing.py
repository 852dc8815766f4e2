"""Hypothesis strategies for friction: cases for a policy set's own property tests, and
whole generated policy sets for testing the engine itself.

A property a policy owner would put in their own test suite ("no life event forces more
than two channels on a digital-first customer")::

    from hypothesis import given
    import friction
    from friction.testing import cases, register_profiles

    register_profiles()   # "ci" unless FRICTION_HYPOTHESIS_PROFILE says otherwise
    BANK = friction.compile_policy_set(friction.load_policy_set("policies/bank"))
    EVALUATOR = friction.Evaluator(BANK)

    @given(cases(BANK.manifest, attrs={"digital": True}))
    def test_a_digital_first_customer_never_needs_more_than_two_channels(case):
        result = EVALUATOR.evaluate(case)
        assert result.metrics.channels <= 2, result.journey.actions

On failure Hypothesis shrinks the case: every attribute moves towards its manifest
`default`, the life event towards the first the manifest lists and the start channel
towards the manifest's `start_channel`.

What is here:
- `attribute_values(spec)`: values of one declared attribute;
- `personas(manifest)`: attribute dicts for a manifest (`partial=True` may leave some out);
- `cases(manifest)`: `friction.Case` objects;
- `policy_sets()`: `(manifest_dict, files_dict)` for `load.policy_set_from_data`, every
  one loadable; `scenarios()`: the same plus cases drawn from its manifest;
- `register_profiles()`: the "ci", "dev" and "thorough" settings profiles.

`rete_safe=True` keeps numbers inside what the durable_rules engine handles today: ints
within signed 64 bits (within 2**53 for `number` attributes, where ints meet floats) and
floats that JSON writes without an exponent (durable_rules rejects e.g. `1e-05`). The
differential tests use it; see the xfail regressions in tests/test_differential.py.

Library code: nothing here prints.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
from typing import Any, Mapping, Sequence

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .vocabulary import EXACT_LIMIT, INT_LIMIT, INTERNAL_CHANNEL
from .manifest import RESERVED_ATTRIBUTES, Attribute, Manifest
from .case import Case
from .metrics import METRICS

__all__ = [
    "AWKWARD_TEXT", "PROFILES", "PROFILE_ENV", "attribute_values", "cases", "is_rete_safe",
    "normalise_action", "personas", "policy_sets", "register_profiles", "scenarios",
]

PROFILE_ENV = "FRICTION_HYPOTHESIS_PROFILE"
PROFILES = ("ci", "dev", "thorough")

SAFE_FLOAT = 1e15           # floats below this (and rounded to 4 places) print without exponent

# Text that has broken code generators, YAML writers and rule engines before.
AWKWARD_TEXT: tuple[str, ...] = (
    "__import__('os').system('true')",
    "'); import os; ('",
    '"quoted" and \'single\'',
    "new\nline",
    "tab\tand  two  spaces",
    "  padded  ",
    "ünïcödé ✓ 日本語",
    "emoji 😀",
    "back\\slash \\n",
    "'''",
    '"""',
    "# not a comment",
    "{braces} {0} %s %(x)s",
    "${HOME} $or $and",
    "nul\x00byte",
    "null",
    "true",
    "1e5",
    "0x1F",
    "- a: [list]",
    "&anchor *alias !tag",
    "a: b",
    "line\u2028separator",
    "r0",
    "catch_all",
)

_SIMPLE = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"])


# --------------------------------------------------------------------------- profiles


def register_profiles(load: bool = True) -> str:
    """Register the settings profiles and (with `load`) load the one named by
    $FRICTION_HYPOTHESIS_PROFILE (default "ci"). Returns the profile name. A profile of
    the same name registered before (a user's own "ci") is kept, not overwritten.

    - "ci": few examples, derandomized (every run tests the same examples, so CI is
      stable), no deadline, and a reproduction blob printed on failure;
    - "dev": fewer examples still, random, with the example database (fast local runs
      that replay earlier failures first);
    - "thorough": many examples, random: for nightly runs and before a release.
    """
    common: dict[str, Any] = dict(
        deadline=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    ours = {"ci": dict(max_examples=40, derandomize=True, **common), "dev": dict(max_examples=20, **common),
            "thorough": dict(max_examples=1000, **common)}
    for profile, values in ours.items():
        try:
            settings.get_profile(profile)   # a profile of this name the user registered stays theirs
        except InvalidArgument:
            settings.register_profile(profile, **values)
    name = os.environ.get(PROFILE_ENV, "ci") or "ci"
    if name not in PROFILES:
        raise InvalidArgument(f"{PROFILE_ENV}={name!r}: choose one of {', '.join(PROFILES)}")
    if load:
        settings.load_profile(name)
    return name


# --------------------------------------------------------------------------- values


def is_rete_safe(value: Any, type_: str = "number") -> bool:
    """Whether durable_rules handles `value` exactly like Python does (see the module doc)."""
    if isinstance(value, bool) or isinstance(value, str):
        return True
    if isinstance(value, int):
        return Attribute(type="number" if type_ == "number" else "int").check(value) is None
    if isinstance(value, float):
        return math.isfinite(value) and "e" not in repr(value) and abs(value) <= EXACT_LIMIT
    return False


def _int_bounds(spec: Attribute, rete_safe: bool) -> tuple[int | None, int | None]:
    lo = None if spec.min is None else math.ceil(spec.min)
    hi = None if spec.max is None else math.floor(spec.max)
    # The model refuses ints the engines would compare differently (manifest.Attribute.check).
    top = EXACT_LIMIT if spec.type == "number" else INT_LIMIT
    bottom = -EXACT_LIMIT if spec.type == "number" else -INT_LIMIT - 1
    lo = bottom if lo is None else max(lo, bottom)
    hi = top if hi is None else min(hi, top)
    return lo, hi


def _safe_floats(lo: float | None, hi: float | None) -> st.SearchStrategy[float]:
    lo = -SAFE_FLOAT if lo is None else max(lo, -SAFE_FLOAT)
    hi = SAFE_FLOAT if hi is None else min(hi, SAFE_FLOAT)
    if lo > hi:
        return st.nothing()
    return (st.floats(lo, hi, allow_nan=False, allow_infinity=False)
            .map(lambda x: round(x, 4) + 0.0)
            .filter(lambda x: lo <= x <= hi and is_rete_safe(x)))


def _typed_values(spec: Attribute, rete_safe: bool) -> st.SearchStrategy[Any]:
    """Every value of the attribute's type within min/max (ignores `values` and default)."""
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "str":
        return st.text()
    lo, hi = _int_bounds(spec, rete_safe)
    ints = st.nothing() if lo is not None and hi is not None and lo > hi else st.integers(lo, hi)
    if spec.type == "int":
        return ints
    if rete_safe:
        floats = _safe_floats(spec.min, spec.max)
    else:
        floats = st.floats(spec.min, spec.max, allow_nan=False, allow_infinity=False)
    return st.one_of(ints, floats)


def attribute_values(spec: Attribute | Mapping[str, Any], *, rete_safe: bool = False) -> st.SearchStrategy[Any]:
    """Values of one declared attribute: of its type, among its `values` when it lists
    them, within `min` and `max`. Shrinks towards the attribute's `default` when it has
    one (then towards the first allowed value, False, 0 or the empty text)."""
    if not isinstance(spec, Attribute):
        spec = Attribute.model_validate(spec)
    if spec.values is not None:
        allowed = [v for v in spec.values if not rete_safe or is_rete_safe(v, spec.type)]
        if spec.default is not None and spec.default in allowed:
            allowed.remove(spec.default)
            allowed.insert(0, spec.default)
        return st.sampled_from(allowed) if allowed else st.nothing()
    values = _typed_values(spec, rete_safe).filter(lambda v: spec.check(v) is None)
    if spec.default is not None and (not rete_safe or is_rete_safe(spec.default, spec.type)):
        return st.one_of(st.just(spec.default), values)
    return values


def _as_manifest(manifest: Any) -> Manifest:
    """A Manifest from a Manifest, a PolicySet, a CompiledPolicySet or a plain dict."""
    if isinstance(manifest, Manifest):
        return manifest
    inner = getattr(manifest, "manifest", None)
    if isinstance(inner, Manifest):
        return inner
    if isinstance(manifest, Mapping):
        return Manifest.model_validate(dict(manifest))
    raise InvalidArgument(f"expected a Manifest, a policy set or a manifest dict, got {type(manifest).__name__}")


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def personas(manifest: Any, *, partial: bool = False, attrs: Mapping[str, Any] | None = None,
             rete_safe: bool = False, hints: Mapping[str, Sequence[Any]] | None = None
             ) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts of attribute values for every attribute the manifest declares, sorted by name.

    `partial=True` may leave attributes out, to exercise the rule that a condition on a
    missing attribute is false: an attribute with a default shrinks towards being there
    with its default, one without towards being absent (as a catalog case that does not
    set it). `attrs` pins some attributes to fixed values (checked against the manifest).
    `hints` gives values worth trying per attribute (drawn about half the time, e.g. the
    constants of rule conditions and their boundaries); those not valid are left out.
    """
    m = _as_manifest(manifest)
    pinned = dict(attrs or {})
    for name, value in pinned.items():
        spec = m.attributes.get(name)
        if spec is None:
            raise InvalidArgument(f"attrs: '{name}' is not an attribute of the manifest")
        why = spec.check(value)
        if why:
            raise InvalidArgument(f"attrs: '{name}': {why}")
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, spec in sorted(m.attributes.items()):
        if name in pinned:
            fields[name] = st.just(pinned[name])
            continue
        values = attribute_values(spec, rete_safe=rete_safe)
        good = [v for v in (hints or {}).get(name, ())
                if spec.check(v) is None and (not rete_safe or is_rete_safe(v, spec.type))]
        if good:
            values = st.one_of(values, st.sampled_from(good))
        if partial:
            values = (st.one_of(values, st.just(_ABSENT)) if spec.default is not None
                      else st.one_of(st.just(_ABSENT), values))
        fields[name] = values
    return st.fixed_dictionaries(fields).map(
        lambda d: {k: v for k, v in d.items() if v is not _ABSENT})


def cases(manifest: Any, events: Sequence[str] | None = None, channels: Sequence[str] | None = None,
          *, partial: bool = False, attrs: Mapping[str, Any] | None = None,
          rete_safe: bool = False, hints: Mapping[str, Sequence[Any]] | None = None) -> st.SearchStrategy[Case]:
    """`friction.Case` objects for the manifest: a life event (of `events`, default all the
    manifest's), a start channel (of `channels`, default all; shrinks towards the manifest's
    start channel) and a persona from `personas(manifest, partial=..., attrs=...)`."""
    m = _as_manifest(manifest)
    events = list(m.events if events is None else events)
    channels = list(m.channels if channels is None else channels)
    for e in events:
        if e not in m.events:
            raise InvalidArgument(f"events: {e!r} is not a life event of the manifest")
    for c in channels:
        if c not in m.channels:
            raise InvalidArgument(f"channels: {c!r} is not a channel of the manifest")
    if not events or not channels:
        raise InvalidArgument("cases needs at least one event and one channel")
    if m.default_channel in channels:
        channels.remove(m.default_channel)
        channels.insert(0, m.default_channel)
    return st.builds(
        generated_case, event=st.sampled_from(events), channel=st.sampled_from(channels),
        attrs=personas(m, partial=partial, attrs=attrs, rete_safe=rete_safe, hints=hints),
    )


def generated_case(event: str, channel: str, attrs: dict[str, Any]) -> Case:
    """The Case `cases()` draws (named, so that a falsifying example reads well)."""
    return Case(id=f"generated/{event}", event=event, channel=channel, attrs=attrs)


# --------------------------------------------------------------------------- policy sets


def normalise_action(text: str) -> str:
    """A step's action as the loader keeps it (whitespace runs folded to one space): the
    text that `then`, `when.step` and `after` must use to name the step."""
    return " ".join(text.split())


# Generation draws through plain functions and cached strategies: building strategy
# objects per draw (sampled_from over a fresh list, nested composites) was most of the
# cost of an example.


@functools.lru_cache(maxsize=None)
def _text(awkward: bool, min_size: int = 1) -> st.SearchStrategy[str]:
    if not awkward:
        return _SIMPLE
    return st.one_of(_SIMPLE, st.sampled_from(AWKWARD_TEXT), st.text(min_size=min_size, max_size=12))


@functools.lru_cache(maxsize=None)
def _name(awkward: bool) -> st.SearchStrategy[str]:
    """Text compared with a normalised step field (departments, channels): normalised."""
    return _text(awkward).map(normalise_action).map(lambda s: s or "blank")


@functools.lru_cache(maxsize=None)
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


@functools.lru_cache(maxsize=None)
def _index_lists(n: int, min_size: int, max_size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, n - 1), min_size=min_size, max_size=min(max_size, n), unique=True)


def _pick(draw: Any, seq: Sequence[Any]) -> Any:
    """One item of seq; shrinks towards the first (like sampled_from, without building one)."""
    return seq[draw(_ints(0, len(seq) - 1))]


def _some(draw: Any, seq: Sequence[Any], min_size: int = 0, max_size: int = 3) -> list[Any]:
    """Distinct items of seq, in a drawn order."""
    return [seq[i] for i in draw(_index_lists(len(seq), min_size, max_size))]


def _chance(draw: Any, one_in: int) -> bool:
    """True about once in `one_in` draws; shrinks to False."""
    return draw(_ints(1, one_in)) == one_in


def _unique(draw: Any, strategy: st.SearchStrategy[str], n: int, taken: set[str],
            joiner: str = " ") -> list[str]:
    """n texts distinct from each other and from `taken` (made unique, never filtered)."""
    out = []
    for _ in range(n):
        text = draw(strategy)
        k = 2
        base = text
        while text in taken:
            text = f"{base}{joiner}{k}"
            k += 1
        taken.add(text)
        out.append(text)
    return out


_BOOLS = st.booleans()
_IDENTIFIERS = st.one_of(
    st.sampled_from(["digital", "products", "score", "segment", "age", "__import__", "_", "a_b",
                     "__class__", "a1"]),
    st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True),
).filter(lambda s: s not in RESERVED_ATTRIBUTES)
_TYPES = ("bool", "int", "number", "str")
_LANES = ("customer", "frontstage", "backstage", "support")
_CAUSES = ("policy", "practice", "system", "regulation")
_FILE_NAMES = ("rules.yaml", "a.yaml", "zz last.yaml", "ünï.yml", "0.yaml")
_ASKS = ("address", "proof", "email", "id")
_DAYS = st.one_of(st.sampled_from([0, 0, 0.5, 1, 2, 3, 5]),
                  st.floats(0, 30, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 2)))
_LIMITS = (0, 1, 2, 3, 1.5)
_WEIGHTS = (0, 0.5, 1, 2)
_SMALL_FLOATS = (0.5, -0.5, 1.5, 2.25, 0.1, 0.0, -0.0)


@functools.lru_cache(maxsize=None)
def _number_literals(type_: str, rete_safe: bool) -> st.SearchStrategy[Any]:
    """Numbers of an attribute's type, with small ones (that cases hit) most likely."""
    small_ints = st.integers(-3, 8)
    if type_ == "int":  # within what the model accepts (vocabulary.INT_LIMIT)
        return st.one_of(small_ints, st.integers(-INT_LIMIT - 1, INT_LIMIT))
    floats = (_safe_floats(None, None) if rete_safe
              else st.floats(allow_nan=False, allow_infinity=False))
    wide_ints = st.integers(-EXACT_LIMIT, EXACT_LIMIT)
    return st.one_of(small_ints, st.sampled_from(_SMALL_FLOATS), floats, wide_ints)


def _attribute_spec(draw: Any, type_: str, awkward: bool, rete_safe: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": type_}
    if type_ == "bool":
        default = _pick(draw, (None, True, False))
        if default is not None:
            spec["default"] = default
        return spec
    if type_ == "str":
        if draw(_BOOLS):
            values = _unique(draw, _text(awkward), draw(_ints(1, 4)), set())
            spec["values"] = values
            if draw(_BOOLS):
                spec["default"] = _pick(draw, values)
        elif draw(_BOOLS):
            spec["default"] = draw(_text(awkward))
        return spec
    shape = _pick(draw, ("range", "range", "values", "open", "min"))
    if shape == "values":
        values: list[Any] = []
        for _ in range(draw(_ints(1, 4))):
            v = draw(_number_literals(type_, rete_safe))
            if v not in values:   # 0, 0.0 and -0.0 are one value
                values.append(v)
        spec["values"] = values
        if draw(_BOOLS):
            spec["default"] = _pick(draw, values)
        return spec
    if shape in ("range", "min"):
        lo: float = draw(_ints(-3, 3))
        if type_ == "number" and draw(_BOOLS):
            lo += 0.5
        spec["min"] = lo
        if shape == "range":
            spec["max"] = lo + draw(_ints(0, 6))
    if draw(_BOOLS):
        spec["default"] = draw(attribute_values(Attribute.model_validate(spec), rete_safe=rete_safe))
    return spec


def _manifest(draw: Any, awkward: bool, rete_safe: bool) -> dict[str, Any]:
    events = _unique(draw, _text(awkward), draw(_ints(1, 3)), set())
    departments = _unique(draw, _name(awkward), draw(_ints(1, 4)), set())
    channels = _unique(draw, _name(awkward), draw(_ints(1, 3)), {INTERNAL_CHANNEL})
    types = [_pick(draw, _TYPES) for _ in range(draw(_ints(1, 6)))]
    names = _unique(draw, _IDENTIFIERS, len(types), set(RESERVED_ATTRIBUTES), joiner="_")
    attributes = {n: _attribute_spec(draw, t, awkward, rete_safe) for n, t in zip(names, types)}
    manifest: dict[str, Any] = {
        "name": draw(_text(awkward)), "version": _pick(draw, ("1", "2024.3", "0")),
        "events": events, "departments": departments, "channels": channels,
        "attributes": attributes,
        "thresholds": {"handoffs": draw(_ints(0, 4)), "silent_wait_days": _pick(draw, (0, 1, 2, 2.5))},
    }
    if draw(_BOOLS):
        manifest["start_channel"] = _pick(draw, channels)
    limits = {m: _pick(draw, _LIMITS) for m in _some(draw, METRICS, 0, 3)}
    if limits:
        manifest["limits"] = limits
    if draw(_BOOLS):
        manifest["weights"] = {m: _pick(draw, _WEIGHTS) for m in _some(draw, METRICS, 1, 4)}
    return manifest


_LIST_OPS = ("in", "not_in")
_OPS = {"bool": ("eq", "ne", "in", "not_in", "present"),
        "str": ("eq", "ne", "in", "not_in", "present"),
        "int": ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "present"),
        "number": ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "present")}


def _condition_values(spec: Attribute, awkward: bool, rete_safe: bool) -> st.SearchStrategy[Any]:
    """Values valid for the attribute's type: mostly ones a case can have (so rules fire),
    sometimes out of its range or allowed values (legal, if pointless)."""
    if spec.type == "bool":
        return _BOOLS
    other = _text(awkward, 0) if spec.type == "str" else _number_literals(spec.type, rete_safe)
    return st.one_of(attribute_values(spec, rete_safe=rete_safe), other)


def _deep(draw: Any, attributes: list[tuple[str, str, st.SearchStrategy[Any]]], levels: int,
          leaves: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A condition nested `levels` deep, all/any alternating, a leaf beside each level (and
    step or event tests among the leaves when `leaves` are given)."""
    inner = _condition(draw, attributes, 2)
    for k in range(levels):
        side = _pick(draw, leaves) if leaves and _chance(draw, 3) else _condition(draw, attributes, 2)
        inner = {("all", "any")[k % 2]: [inner, side] if draw(_BOOLS) else [side, inner]}
    return inner


def _condition(draw: Any, attributes: list[tuple[str, str, st.SearchStrategy[Any]]],
               depth: int = 0) -> dict[str, Any]:
    """One condition; `attributes` holds (name, type, condition values) for each."""
    if depth == 0 and _chance(draw, 15):
        return _deep(draw, attributes, draw(_ints(12, 20)))
    if depth < 2 and _chance(draw, 6):
        group = _pick(draw, ("all", "any"))
        return {group: [_condition(draw, attributes, depth + 1) for _ in range(draw(_ints(1, 3)))]}
    name, type_, values = _pick(draw, attributes)
    op = _pick(draw, _OPS[type_])
    if op == "present":
        return {"attr": name, "present": draw(_BOOLS)}
    if op in _LIST_OPS:
        items = [draw(values) for _ in range(draw(_ints(1, 3)))]
        return {"attr": name, op: items[0] if len(items) == 1 and draw(_BOOLS) else items}  # a scalar is a 1-list
    return {"attr": name, op: draw(values)}


def _step(draw: Any, defined: list[dict[str, Any]], taken: set[str], departments: list[str],
          channels: list[str], awkward: bool) -> dict[str, Any]:
    raw = draw(_text(awkward))
    if _chance(draw, 5):
        raw = f"  {raw}\n  again "   # spacing the loader folds away
    base = normalise_action(raw) or "step"
    action, k = base, 2
    while action in taken:
        action = f"{base} #{k}"
        k += 1
    taken.add(action)
    lane = _pick(draw, _LANES)
    step: dict[str, Any] = {"action": raw if normalise_action(raw) == action else action,
                            "lane": lane, "department": _pick(draw, departments)}
    if lane in ("customer", "frontstage"):
        step["channel"] = _pick(draw, channels)
    elif draw(_BOOLS):
        step["channel"] = _pick(draw, [INTERNAL_CHANNEL, *channels])
    asks = _some(draw, _ASKS)
    if asks:
        step["asks"] = asks[0] if len(asks) == 1 and draw(_BOOLS) else asks
    days = draw(_DAYS)
    if days or draw(_BOOLS):
        step["days"] = days
    if defined and draw(_BOOLS):
        step["after"] = _some(draw, [normalise_action(s["action"]) for s in defined], 1, 2)
    if _chance(draw, 4):
        step["informs"] = True
    return step


@st.composite
def policy_sets(draw: Any, *, min_rules: int = 1, max_rules: int = 12, max_files: int = 3,
                awkward: bool = True, rete_safe: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Whole policy sets, as `(manifest_dict, {file name: {"rules": [...]}})` ready for
    `engine.load.policy_set_from_data`. Every one loads without error (valid by
    construction, nothing is filtered).

    Manifests have 1-3 life events, 1-4 departments, 1-3 channels and 1-6 attributes of
    every type (with and without defaults, allowed values, min and max), thresholds,
    limits and weights. Rules (`min_rules`-`max_rules`, spread over 1-`max_files` files)
    use every cause and every operator (present true/false, in/not_in with one or more
    values, nested all/any), conditions on attributes cases may lack, optional events,
    chains up to three levels deep (`when.step` names steps of earlier rules; a third of
    them as `step` tests inside `any`/`all`, beside attribute and `event` tests, sometimes
    nested deep), `event` tests inside `any`, conditions nested 12-20 levels deep (past
    what one durable_rules pattern holds), `unless` on earlier steps (repaired to be
    stratified), chains that loop back (an earlier rule requires a later rule's step), steps
    required by two rules (the later one names it by action text, or repeats the same
    definition), rules that require their own trigger again, and `after` edges to
    earlier-defined steps only (so never a cycle). With `awkward` (the default), ids,
    actions, owners, names, events, departments, channels and text values include
    quotes, newlines, unicode, NUL and Python code such as `__import__('os')`.
    Shrinks towards fewer rules with fewer conditions, no chains and plain text.
    """
    manifest = _manifest(draw, awkward, rete_safe)
    attributes = []
    for name, spec in manifest["attributes"].items():
        spec = Attribute.model_validate(spec)
        attributes.append((name, spec.type, _condition_values(spec, awkward, rete_safe)))
    channels, departments, events = manifest["channels"], manifest["departments"], manifest["events"]

    ids = _unique(draw, _text(awkward), draw(_ints(min_rules, max_rules)), set())
    actions_taken: set[str] = set()
    defined: list[dict[str, Any]] = []      # step mappings in definition order
    level: dict[str, int] = {}              # action -> chain level of the rule defining it
    rules: list[dict[str, Any]] = []
    for rid in ids:
        when: dict[str, Any] = {}
        if draw(_BOOLS):
            chosen = _some(draw, events, 1, 2)
            when["event"] = chosen[0] if len(chosen) == 1 and draw(_BOOLS) else chosen
        chainable = [a for a in (normalise_action(s["action"]) for s in defined) if level[a] < 3]
        on: list[str] = []
        if chainable and draw(_ints(0, 2)) > 0:
            if draw(_BOOLS):  # grow the deepest chain, so that chains reach three levels
                deepest = max(level[a] for a in chainable)
                chainable = [a for a in chainable if level[a] == deepest]
            on = _some(draw, chainable, 1, 2)
            when["step"] = on[0] if len(on) == 1 and draw(_BOOLS) else on
        rule_level = 1 + max((level[a] for a in on), default=-1)
        # few conditions (most on rules that start a chain), so that rules do fire
        n_all = _pick(draw, (0, 1) if on else (0, 1, 0, 1, 2, 3))
        if n_all:
            when["all"] = [_condition(draw, attributes) for _ in range(n_all)]
        if _chance(draw, 4):
            when["any"] = [_condition(draw, attributes) for _ in range(draw(_ints(1, 3)))]
        if on and _chance(draw, 3):
            # the same step tests, moved into conditions: "after A or B", "A, or an attribute"
            del when["step"]
            tests = [{"step": a} for a in on]
            others = [_condition(draw, attributes, 1), {"event": _pick(draw, events)}]
            shape = _pick(draw, ("any", "any-mixed", "all-any", "deep"))
            if shape == "any":
                when["any"] = tests
            elif shape == "any-mixed":
                when["any"] = tests + [_pick(draw, others)]
            elif shape == "all-any":
                when.setdefault("all", []).append({"any": tests + ([_pick(draw, others)] if draw(_BOOLS) else [])})
            else:
                when.setdefault("all", []).append(_deep(draw, attributes, draw(_ints(2, 16)), tests + others))
        elif _chance(draw, 6):
            when.setdefault("any", []).append({"event": _some(draw, events, 1, 2)})
        if defined and _chance(draw, 4):
            when["unless"] = _some(draw, [normalise_action(x["action"]) for x in defined], 1, 2)

        then: list[Any] = []
        for _ in range(draw(_ints(1, 3))):
            kind = _pick(draw, ("new", "new", "new", "name", "repeat", "trigger"))
            if kind == "name" and defined:
                then.append(normalise_action(_pick(draw, defined)["action"]))
            elif kind == "repeat" and defined:
                then.append(dict(_pick(draw, defined)))
            elif kind == "trigger" and on:
                then.append(_pick(draw, on))   # requires its own trigger again
            else:
                step = _step(draw, defined, actions_taken, departments, channels, awkward)
                level[normalise_action(step["action"])] = rule_level
                defined.append(step)
                then.append(step)
        rule: dict[str, Any] = {
            "id": rid, "cause": _pick(draw, _CAUSES), "owner": draw(_text(awkward)),
            "rationale": draw(_text(awkward)), "when": when, "then": then,
        }
        if draw(_BOOLS):
            rule["source"] = draw(_text(awkward))
        rules.append(rule)

    if len(rules) > 1 and _chance(draw, 4):
        # a chain that loops back: an earlier rule also requires a later rule's step
        k = draw(_ints(0, len(rules) - 2))
        later = [normalise_action(x["action"]) for r in rules[k + 1:] for x in r["then"] if isinstance(x, dict)]
        if later:
            rules[k]["then"].append(_pick(draw, later))
    _stratify(rules)

    names = _some(draw, _FILE_NAMES, 1, max_files)
    files: dict[str, Any] = {name: {"rules": []} for name in names}
    for rule in rules:
        files[_pick(draw, names)]["rules"].append(rule)
    return manifest, files


def _stratify(rules: list[dict[str, Any]]) -> None:
    """Drop `unless` entries on a cycle through negation (logic.strata), so every generated
    set loads: repaired in place, deterministically, never filtered."""
    from .logic import strata
    from .language import Rule
    while True:
        models = [Rule.model_validate(r) for r in rules]
        _, cycles = strata(models)
        if not cycles:
            return
        for cycle in cycles:
            for r in rules:
                if r["id"] == cycle.rule and "unless" in r["when"]:
                    r["when"]["unless"] = [u for u in r["when"]["unless"] if normalise_action(u) != cycle.step]
                    if not r["when"]["unless"]:
                        del r["when"]["unless"]


@st.composite
def scenarios(draw: Any, *, min_cases: int = 1, max_cases: int = 6, rete_safe: bool = False,
              **policy_options: Any) -> tuple[dict[str, Any], dict[str, Any], list[Case]]:
    """`(manifest_dict, files_dict, cases)`: a generated policy set (see `policy_sets`,
    which takes `policy_options`) and `min_cases`-`max_cases` cases drawn from its
    manifest, some with every attribute, some with attributes left out
    (`personas(partial=True)`). Case ids are made unique."""
    manifest, files = draw(policy_sets(rete_safe=rete_safe, **policy_options))
    m = Manifest.model_validate(manifest)
    some_cases = st.one_of(cases(m, rete_safe=rete_safe), cases(m, partial=True, rete_safe=rete_safe))
    drawn = draw(st.lists(some_cases, min_size=min_cases, max_size=max_cases))
    return manifest, files, [dataclasses.replace(c, id=f"{c.id}#{i}") for i, c in enumerate(drawn)]
