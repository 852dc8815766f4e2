"""Cases built in Python, checked as a catalog's are.

`Case(...)` is a plain record: it applies no defaults and checks nothing (an unknown life
event simply fires no rule). `make_case` is the constructor for notebooks and scripts:
the manifest's defaults, then the persona's attributes (when a catalog's personas are
given), then the case's own, every value checked, the start channel chosen as a catalog
does, and an InputError naming what is wrong otherwise."""
from __future__ import annotations

from typing import Any, Mapping

from .compile import CompiledPolicySet
from .errors import InputError
from .catalog import CaseResolver, LoadedCatalog
from .vocabulary import MAX_VOLUME
from .manifest import Manifest, PolicySet
from .case import Case, CaseSpec

__all__ = ["make_case"]


def make_case(source: CompiledPolicySet | PolicySet | Manifest, event: str, *, persona: str | None = None,
              channel: str | None = None, id: str | None = None,
              personas: Mapping[str, Mapping[str, Any]] | LoadedCatalog | None = None,
              attrs: Mapping[str, Any] | None = None, volume: float | None = None, **more: Any) -> Case:
    """One validated case of `event` for the policy set (or manifest) `source`.

    Attributes come from the manifest's defaults, then `personas[persona]` (a mapping of
    persona name to attributes, or a loaded catalog), then `attrs` and keyword arguments.
    Without `personas`, `persona` is only a label. `volume` (cases a year) defaults to the
    catalog's per_year for the event × the persona's share, as in a catalog. Raises InputError when the event, the
    channel, the persona or any attribute is unknown or out of range."""
    manifest = source if isinstance(source, Manifest) else source.manifest
    if volume is not None and not (type(volume) in (int, float) and 0 <= volume <= MAX_VOLUME):
        raise InputError(f"case {id or event}: volume must be a number from 0 to {MAX_VOLUME:g}, got {volume!r}")
    per_year: Mapping[str, float] = {}
    if isinstance(personas, LoadedCatalog):
        table, lines, file = personas.catalog.personas, personas.persona_lines, personas.path
        per_year = personas.catalog.per_year
    else:
        table, lines, file = personas or {}, {}, ""   # no file: problems name only the case
    resolver = CaseResolver(manifest, file, table, lines, personas_are_labels=personas is None, per_year=per_year)
    if resolver.problems:
        raise InputError(resolver.problems)
    spec = CaseSpec.model_construct(id=id, event=event, persona=persona, channel=channel,
                                    attrs={**(attrs or {}), **more}, volume=volume)
    out = resolver.resolve(spec, None)
    if isinstance(out, list):
        raise InputError(out)
    return out
