"""Catalogs and cases: the catalog format (`Catalog`, `CaseSpec`, as pydantic models) and
`Case`, one life event for one persona resolved against a manifest (the unit replayed).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Strict as StrictMode

from .manifest import Amount
from .vocabulary import Scalar, Strict

__all__ = ["Case", "CaseSpec", "Catalog"]


class CaseSpec(Strict):
    id: str | None = None
    """Case id (default: event/persona)."""
    event: str
    """The life event (one of the manifest's events)."""
    persona: str | None = None
    """A persona of this catalog whose attributes the case takes."""
    channel: str | None = None
    """The channel the customer starts in."""
    attrs: dict[str, Scalar] = {}
    """Attributes set for this case (over the persona's and the manifest's defaults)."""
    volume: Amount | None = None
    """How many such cases a year (overrides the event's per_year × the persona's share)."""


PERSONA_KEYS = frozenset({"channel", "description", "share", "source"})  # the rest of a persona are attributes


class Catalog(Strict):
    personas: dict[str, dict[str, Any]] = {}   # values checked per persona, against the manifest
    """Named sets of case attributes (plus `channel` and `description`)."""
    events: tuple[str, ...] = ()
    """Life events to expand over every persona (default: the manifest's)."""
    cases: tuple[Any, ...] = ()   # each validated as a CaseSpec on its own
    """Explicit cases."""
    expand: Annotated[bool, StrictMode()] = False   # also every event x every persona
    """Also make a case of every event x every persona."""
    channel: str | None = None    # start channel for expanded cases without one
    """Start channel for expanded cases without one."""
    per_year: dict[str, Amount] = {}
    """Life events a year, by event: a case's volume is its event's per_year × its persona's share."""


@dataclass(frozen=True, slots=True)
class Case:
    """One life event for one persona, resolved against a manifest: the unit replayed.
    A plain dataclass: cases are built once per catalog line and must be cheap; every value
    in it was validated against the manifest on the way in (catalog.CaseResolver)."""

    id: str
    event: str
    channel: str
    attrs: dict[str, Any]
    persona: str | None = None
    volume: float = 1   # cases a year this case stands for (1: unweighted)
