"""Turning a JSON line straight into a case, for the millions of well-formed lines.

`line_reader(manifest)` generates one function for a manifest: it parses the text with
the json module's C scanner, checks the keys of a case, the life event, the start channel,
the volume and every attribute against the manifest with the checks inlined (the manifest
fixes each attribute's type, range and values, so no pydantic object is built), merges the
manifest's defaults and returns the Case, or None for anything else. None only means "not
the common case": catalog.JsonLineResolver then takes the careful path, which accepts exactly
the same lines and says what is wrong with the others, so both paths give equal cases
(tests check that on generated lines).

Generated source never contains manifest text except through `repr()` of a str, int,
bool or finite float.
"""
from __future__ import annotations

import json
import json.scanner
import math
from typing import Any, Callable

from .compile import _lit
from .vocabulary import EXACT_LIMIT, INT_LIMIT, MAX_VOLUME
from .manifest import Attribute, Manifest
from .case import Case, CaseSpec

__all__ = ["line_reader", "reader_source"]

_MISSING = object()
_CASE = Case.__dict__    # slot descriptors: a frozen dataclass's __init__ sets each field the same way


def _allowed(a: Attribute) -> tuple[Any, ...] | None:
    """The allowed values a value of the attribute's type can equal (True is not 1 here:
    types are compared first), or None when any value of the type goes."""
    if a.values is None:
        return None
    kinds = {"bool": (bool,), "str": (str,)}.get(a.type, (int, float))
    return tuple(x for x in a.values if type(x) in kinds)


def _check(a: Attribute, v: str, allowed: str) -> str:
    """An expression true exactly when `load._fast_check(a)(v)` is (the checks of
    Attribute.check for a good value). `allowed`: the name of the frozenset of _allowed(a)."""
    listed = "" if a.values is None else f" and {v} in {allowed}"
    if a.type == "bool":
        return f"(type({v}) is bool{listed})"
    if a.type == "str":   # a set of strs holds no other type: membership is the whole check
        return f"({v} in {allowed})" if a.values is not None else f"(type({v}) is str)"
    limit = INT_LIMIT if a.type == "int" else EXACT_LIMIT
    # int bounds as ints (an int is >= 0.5 exactly when it is >= 1): int compares with int
    lo = -limit - (a.type == "int") if a.min is None else max(math.ceil(a.min), -limit - (a.type == "int"))
    hi = limit if a.max is None else min(math.floor(a.max), limit)
    whole = f"type({v}) is int and {_lit(lo)} <= {v} <= {_lit(hi)}"
    if a.type == "int":
        return f"({whole}{listed})"
    bounds = "".join([f" and {_lit(a.min)} <= {v}" if a.min is not None else "",
                      f" and {v} <= {_lit(a.max)}" if a.max is not None else ""])
    # v - v == 0 is false for nan and the infinities
    return f"((({whole}) or (type({v}) is float and {v} - {v} == 0{bounds})){listed})"


def reader_source(manifest: Manifest) -> str:
    names = sorted(manifest.attributes)
    constants: list[str] = []   # the allowed values of attributes that list them
    lines = [
        "# friction: reads one JSON line of a catalog into a case, or None (then the careful path runs).",
        "def read(text):",
        "    raw, end = scan(text, 0)",
        # trailing text: only what json.loads allows after a value
        "    if text[end:].strip(' \\t\\n\\r') or type(raw) is not dict or not CASE_KEYS.issuperset(raw):",
        "        return None",
        "    get = raw.get",
        "    event = get('event')",
        "    cid = get('id')",
        "    persona = get('persona')",
        "    channel = get('channel')",
        "    volume = get('volume')",
        "    attrs = get('attrs', EMPTY)",
        # sets of strs hold nothing else: membership checks the type too (an unhashable
        # value raises TypeError, which sends the line to the careful path)
        "    if (event not in EVENTS or type(attrs) is not dict or not KNOWN.issuperset(attrs)",
        "            or not (type(cid) is str or cid is None) or not (persona is None or type(persona) is str)):",
        "        return None",
        "    if channel is None:",
        "        channel = START",
        "    elif channel not in CHANNELS:",
        "        return None",
        "    if volume is None:",
        "        volume = 1",
        f"    elif not (type(volume) in (int, float) and 0 <= volume <= {_lit(MAX_VOLUME)}):",
        "        return None",
        "    get = attrs.get",
    ]
    for k, name in enumerate(names):
        a = manifest.attributes[name]
        v = f"v{k}"
        allowed = _allowed(a)
        if allowed is not None:
            constants.append(f"A{k} = frozenset(({''.join(_lit(x) + ', ' for x in allowed)}))")
        if a.default is None:
            lines.append(f"    {v} = get({_lit(name)}, MISSING)")
            lines.append(f"    if {v} is not MISSING and not {_check(a, v, 'A' + str(k))}:")
        else:   # the manifest's loader checked the default: checking it again changes nothing
            lines.append(f"    {v} = get({_lit(name)}, {_lit(a.default)})")
            lines.append(f"    if not {_check(a, v, 'A' + str(k))}:")
        lines.append("        return None")
    lines[1:1] = constants
    lines.append("    out = {" + ", ".join(f"{_lit(name)}: v{k}" for k, name in enumerate(names)) + "}")
    for k, name in enumerate(names):
        if manifest.attributes[name].default is None:
            lines.append(f"    if v{k} is MISSING:")
            lines.append(f"        del out[{_lit(name)}]")
    lines += [
        "    case = new(Case)",
        "    set_id(case, cid or (event + '/' + persona if persona else event))",
        "    set_event(case, event)",
        "    set_channel(case, channel)",
        "    set_attrs(case, out)",
        "    set_persona(case, persona)",
        "    set_volume(case, volume)",
        "    return case",
    ]
    return "\n".join(lines) + "\n"


def line_reader(manifest: Manifest) -> Callable[[str], Case | None]:
    """The fast reader of one JSON line for `manifest` (see the module's docstring). It may
    raise on text that is not JSON; callers treat that as None."""
    start = manifest.default_channel
    namespace: dict[str, Any] = {
        "__builtins__": {}, "type": type, "len": len, "int": int, "float": float, "bool": bool, "str": str,
        "dict": dict, "frozenset": frozenset, "MISSING": _MISSING, "EMPTY": {},
        "scan": json.scanner.make_scanner(json.JSONDecoder()),
        "CASE_KEYS": frozenset(CaseSpec.model_fields), "EVENTS": frozenset(manifest.events),
        "CHANNELS": frozenset(manifest.channels), "KNOWN": frozenset(manifest.attributes),
        # no start channel: such a line is a problem, which the careful path words
        "START": start, "new": object.__new__, "Case": Case,
        **{f"set_{f}": _CASE[f].__set__ for f in ("id", "event", "channel", "attrs", "persona", "volume")},
    }
    exec(compile(reader_source(manifest), f"<friction case reader {manifest.name!r}>", "exec"), namespace)  # noqa: S102
    read = namespace["read"]
    if start is None:
        return lambda text: (None if (case := read(text)) is None or case.channel is None else case)
    return read
