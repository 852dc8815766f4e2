"""The map from an event log to friction's words: which attribute is the case, the
activity, the timestamp, the department and the channel; which lane each activity is in;
which life event a case is; which step action an activity is. YAML, validated like the
policy language (every problem with file and line)."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .load import read_yaml, relative_path
from .validate import validate_document
from .vocabulary import INTERNAL_CHANNEL, Lane, Strict

__all__ = ["LogMap", "Source", "Lanes", "load_log_map", "log_map_from_data"]


class Source(Strict):
    """Where one value comes from: an attribute of each event, an attribute of the case, or
    a constant. `values` renames what the log says into what friction says (with `values`,
    a value it does not list is an error); `default` stands in when the attribute is absent."""

    event: str | None = None
    case: str | None = None
    value: str | None = None
    values: dict[str, str] = {}
    default: str | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> "Source":
        given = [k for k in ("event", "case", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "source", "say exactly one of `event: ATTRIBUTE`, `case: ATTRIBUTE` or `value: CONSTANT`"
                "{got}", {"got": f" (got {', '.join(given)})" if given else ""})
        if self.value is not None and (self.values or self.default is not None):
            raise PydanticCustomError("source", "a constant `value` takes no `values` or `default`", {})
        return self

    @property
    def attribute(self) -> str | None:
        return self.event if self.event is not None else self.case


def _activity_matcher(v: Any) -> Any:
    """An activity is named exactly, or by `{pattern: REGEX}` (searched in the name)."""
    if isinstance(v, Mapping):
        if set(v) != {"pattern"} or not isinstance(v["pattern"], str):
            raise PydanticCustomError("activity", "an activity is its name, or {{pattern: REGEX}}", {})
        try:
            return re.compile(v["pattern"])
        except re.error as e:
            raise PydanticCustomError("activity", "bad pattern '{p}': {why}", {"p": v["pattern"], "why": str(e)})
    if isinstance(v, str) and v:
        return v
    raise PydanticCustomError("activity", "an activity is its name, or {{pattern: REGEX}}, got {got}",
                              {"got": repr(v)})


def _matchers(v: Any) -> Any:
    if v is None:
        return ()
    if isinstance(v, (str, Mapping)):
        v = [v]
    if not isinstance(v, (list, tuple)):
        raise PydanticCustomError("activity", "a list of activities (names or {{pattern: REGEX}})", {})
    return tuple(_activity_matcher(x) for x in v)


class ActivitySet:
    """Activities named exactly or by pattern; exact names are checked first."""

    def __init__(self, items: tuple[Any, ...]):
        self.names = frozenset(x for x in items if isinstance(x, str))
        self.patterns = tuple(x for x in items if isinstance(x, re.Pattern))

    def exact(self, activity: str) -> bool:
        return activity in self.names

    def pattern(self, activity: str) -> bool:
        return any(p.search(activity) for p in self.patterns)

    def __contains__(self, activity: str) -> bool:
        return self.exact(activity) or self.pattern(activity)


class Lanes(Strict):
    """Which service-blueprint lane each activity is in; `default` for the rest."""

    default: Lane = Lane.backstage
    customer: tuple[Any, ...] = ()
    frontstage: tuple[Any, ...] = ()
    backstage: tuple[Any, ...] = ()
    support: tuple[Any, ...] = ()

    _lists = field_validator("customer", "frontstage", "backstage", "support", mode="before")(
        lambda v: _matchers(v))


class CsvOptions(Strict):
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    timestamp_format: str | None = None   # strptime format; default: ISO 8601


class LogMap(Strict):
    """How to read one event log as observed journeys."""

    format: Literal["xes", "csv"] | None = None   # default: from the file name
    case: str = "concept:name"          # the case id: a trace attribute in XES, a column in CSV
    activity: tuple[str, ...] = ("concept:name",)   # several attributes: their values joined by a space
    timestamp: str = "time:timestamp"
    department: Source
    channel: Source
    life_event: Source
    lanes: Lanes = Lanes()
    informs: tuple[Any, ...] = ()       # activities that tell the customer how things stand
    actions: dict[str, str] = {}        # activity -> the step action it is (default: the activity)
    channels: dict[str, str] = {}       # activity -> its channel, whatever the case's (a printed letter: post)
    order: Literal["strict", "sort"] = "strict"   # strict: an event earlier than the one before is an error
    csv: CsvOptions = CsvOptions()

    _informs = field_validator("informs", mode="before")(lambda v: _matchers(v))

    @field_validator("activity", mode="before")
    @classmethod
    def _attributes(cls, v: Any) -> Any:
        v = (v,) if isinstance(v, str) else v
        if isinstance(v, (list, tuple)) and not v:
            raise PydanticCustomError("activity", "name at least one attribute", {})
        return v

    @field_validator("department", "channel", mode="before")
    @classmethod
    def _event_attribute(cls, v: Any) -> Any:
        return {"event": v} if isinstance(v, str) else v

    @field_validator("life_event", mode="before")
    @classmethod
    def _constant_event(cls, v: Any) -> Any:
        return {"value": v} if isinstance(v, str) else v

    @field_validator("actions")
    @classmethod
    def _action_text(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: " ".join(a.split()) for k, a in v.items()}   # as step actions compare

    @model_validator(mode="after")
    def _channels(self) -> "LogMap":
        if self.channel.value == INTERNAL_CHANNEL:
            raise PydanticCustomError("source", "channel: 'internal' is for staff-only steps", {})
        return self

    def lane_matcher(self) -> "LaneOf":
        return LaneOf(self)


class LaneOf:
    """activity -> (lane, informs), memoised: a log repeats a few dozen activities."""

    def __init__(self, m: LogMap):
        self.default = m.lanes.default
        self.sets = [(lane, ActivitySet(getattr(m.lanes, lane.value))) for lane in Lane]
        self.informs = ActivitySet(m.informs)
        self.memo: dict[str, tuple[Lane, bool] | str] = {}

    def __call__(self, activity: str) -> tuple[Lane, bool] | str:
        """(lane, informs), or why the map is ambiguous about this activity."""
        out = self.memo.get(activity)
        if out is None:
            exact = [lane for lane, s in self.sets if s.exact(activity)]
            hits = exact or [lane for lane, s in self.sets if s.pattern(activity)]
            if len(hits) > 1:
                out = (f"activity '{activity}' is listed under lanes "
                       f"{' and '.join(h.value for h in hits)} in the map")
            else:
                out = (hits[0] if hits else self.default, activity in self.informs)
            self.memo[activity] = out
        return out


def load_log_map(path: str | os.PathLike) -> LogMap:
    """Read and validate a map file; InputError with every problem, each with its line."""
    file = relative_path(Path(path))
    raw = read_yaml(path)
    return _validated(raw, file)


def log_map_from_data(data: Mapping[str, Any], name: str = "<map>") -> LogMap:
    return _validated(dict(data), name)


def _validated(raw: Any, file: str) -> LogMap:
    return validate_document(LogMap, raw, file, "a log map is a mapping (case, activity, timestamp, department, ...)")
