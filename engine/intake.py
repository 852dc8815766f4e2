"""Turning a JSON line straight into a case, for the millions of well-formed lines.

`line_reader(manifest, other)` generates one function for a manifest. It parses the line
with the json module's C scanner (json.loads without its Python wrapper), merges the line
over a mapping of every key a case line may have and its attributes over a mapping of the
manifest's attributes in name order (defaults, or a marker for none), so that one key more
than the mapping has is one nobody declared and the values come out in a fixed order;
then checks the life event, the start channel, the volume and every attribute's type,
range and values with the checks inlined (the manifest fixes them, so no pydantic object
is built), and returns the Case. Any other line goes to `other`: catalog.JsonLineResolver
passes its careful path, which accepts exactly the same lines and says what is wrong with
the others, so both paths give equal cases (tests check that on generated lines).

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
from .case import Case

__all__ = ["line_reader", "reader_source"]

_MISSING = object()


class _Other(Exception):
    """Raised inside the reader for a line it leaves to the other path."""


class _CaseSlots:
    """A Case's slots, settable: the reader fills one and makes it a Case by assigning its
    `__class__` (Python allows that between classes of the same slots). Setting a frozen
    dataclass's six slots through their descriptors costs twice as much, Case() four times."""

    __slots__ = Case.__slots__


# A line's keys, in the order the reader unpacks them, with the value of each when absent.
_LINE = {"id": None, "event": None, "persona": None, "channel": None, "attrs": {}, "volume": None}
CASE_FIELDS = tuple(_LINE)


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
    if a.min is not None and a.max is not None:   # finite bounds: false for nan and the infinities
        real = f"{_lit(a.min)} <= {v} <= {_lit(a.max)}"
    else:   # v - v == 0 is false for nan and the infinities
        real = "".join([f"{v} - {v} == 0", f" and {_lit(a.min)} <= {v}" if a.min is not None else "",
                        f" and {v} <= {_lit(a.max)}" if a.max is not None else ""])
    return f"(((type({v}) is float and {real}) or ({whole})){listed})"


def reader_source(manifest: Manifest) -> str:
    names = sorted(manifest.attributes)
    specs = [manifest.attributes[name] for name in names]
    constants: list[str] = []   # the allowed values of attributes that list them
    checks: list[str] = []
    for k, a in enumerate(specs):
        allowed = _allowed(a)
        if allowed is not None:
            constants.append(f"A{k} = frozenset(({''.join(_lit(x) + ', ' for x in allowed)}))")
        check = _check(a, f"v{k}", f"A{k}")
        # MISSING only comes from ATTRS: the attribute has no default and the line omits it
        checks.append(check if a.default is not None else f"(v{k} is MISSING or {check})")
    other = "raise Other"   # not the common line: the reader hands it to `other`
    body = [
        "text = item.text",
        "raw, end = scan(text, 0)",
        # trailing text: only what json.loads allows after a value (a line's own end is the common one)
        "if type(raw) is not dict or (text[end:] != '\\n' and text[end:].strip(' \\t\\n\\r')):",
        f"    {other}",
        # merged over a mapping of every key a case line has, in a fixed order: the values
        # come out in that order, and a key no case has is one value too many to unpack
        # (ValueError)
        f"{', '.join(CASE_FIELDS)} = (LINE | raw).values()",
        # sets of strs hold nothing else: membership checks the type too (an unhashable
        # value raises TypeError, which sends the line to the other path)
        "if (event not in EVENTS or not (type(id) is str or id is None)",
        "        or not (persona is None or type(persona) is str)):",
        f"    {other}",
        *(["if channel is None:",
           "    channel = START",
           "elif channel not in CHANNELS:"] if manifest.default_channel is not None else
          # no start channel: a line without one is a problem, which the careful path words
          ["if channel not in CHANNELS:"]),
        f"    {other}",
        "if volume is None:",
        "    volume = 1",
        f"elif not (type(volume) in (int, float) and 0 <= volume <= {_lit(MAX_VOLUME)}):",
        f"    {other}",
        # the same for attributes: the manifest's in name order (defaults, or MISSING), the
        # line's values over them; one more is an attribute the manifest does not declare
        # (and attrs that are not a mapping raise TypeError: only a dict merges into a dict)
        "attrs = ATTRS | attrs",
    ]
    if not names:
        body += ["if attrs:", f"    {other}"]
    else:
        body.append(", ".join(f"v{k}" for k in range(len(names))) + ("," if len(names) == 1 else "") + " = attrs.values()")
        body += ["if not (" + checks[0], *("        and " + c for c in checks[1:])]
        body[-1] += "):"
        body.append(f"    {other}")
    for k, (name, a) in enumerate(zip(names, specs)):
        if a.default is None:
            body.append(f"if v{k} is MISSING:")
            body.append(f"    del attrs[{_lit(name)}]")
    body += [
        "case = CaseSlots()",
        "case.id = id or (event + '/' + persona if persona else event)",
        "case.event = event",
        "case.channel = channel",
        "case.attrs = attrs",
        "case.persona = persona",
        "case.volume = volume",
        "case.__class__ = Case",
        "return case",
    ]
    return "\n".join([
        "# friction: reads one JSON line of a catalog into a case; any other line goes to `other`.",
        *constants,
        "def read(item):",
        "    try:",
        *("        " + x for x in body),
        # text that is not JSON, or a value of a type no check expects
        "    except (Other, ValueError, TypeError, StopIteration, RecursionError, OverflowError):",
        "        pass",
        "    return other(item)",
    ]) + "\n"


def line_reader(manifest: Manifest, other: Callable[[Any], Any] = lambda item: None) -> Callable[[Any], Any]:
    """The fast reader of one line (a catalog.JsonLine: `.text`) for `manifest`: the Case,
    or `other(item)` for any other line, called once, outside the reader's own handling of
    bad text (see the module's docstring)."""
    namespace: dict[str, Any] = {
        "__builtins__": {}, "type": type, "len": len, "int": int, "float": float, "bool": bool, "str": str,
        "dict": dict, "frozenset": frozenset, "MISSING": _MISSING, "other": other, "Other": _Other,
        "ValueError": ValueError, "TypeError": TypeError, "StopIteration": StopIteration,
        "RecursionError": RecursionError, "OverflowError": OverflowError,
        "scan": json.scanner.make_scanner(json.JSONDecoder()),
        "LINE": _LINE, "EVENTS": frozenset(manifest.events), "CHANNELS": frozenset(manifest.channels),
        "ATTRS": {name: _MISSING if a.default is None else a.default
                  for name, a in sorted(manifest.attributes.items())},
        "START": manifest.default_channel, "CaseSlots": _CaseSlots, "Case": Case,
    }
    exec(compile(reader_source(manifest), f"<friction case reader {manifest.name!r}>", "exec"), namespace)  # noqa: S102
    return namespace["read"]
