"""Event logs in, cases out: XES (`.xes`, `.xes.gz`, read streaming with lxml's iterparse,
elements cleared as they are read) and CSV. Each case comes out with its events in
timestamp order and only the values the map asks for; a case the map cannot read
becomes a Problem naming the case and line, and the others carry on."""
from __future__ import annotations

import csv
import gzip
import io
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterator, Mapping, NamedTuple

from lxml import etree

from .errors import InputError, Problem, did_you_mean
from .load import relative_path
from .logmap import LogMap, Source

__all__ = ["LogCase", "LogEvent", "read_log", "log_format"]


class LogEvent(NamedTuple):
    line: int
    activity: str
    time: float            # POSIX seconds (a time without a zone is read as UTC)
    department: str
    channel: str | None    # when the channel is an event attribute


@dataclass(frozen=True)
class LogCase:
    id: str
    line: int
    life_event: str
    channel: str | None    # when the channel is a case attribute or a constant
    events: tuple[LogEvent, ...]


def log_format(path: str | os.PathLike, logmap: LogMap) -> str:
    if logmap.format:
        return logmap.format
    name = str(path).lower().removesuffix(".gz")
    for suffix in ("xes", "csv"):
        if name.endswith("." + suffix):
            return suffix
    raise InputError(Problem(relative_path(Path(path)), None, None,
                             "cannot tell the log's format: name it .xes, .xes.gz or .csv, or say `format:` in the map"))


def read_log(path: str | os.PathLike, logmap: LogMap) -> Iterator[LogCase | Problem]:
    """Every case of the log in file order, or the problem that kept it out. A problem
    with the whole file (missing, not XES, a CSV without a mapped column) raises InputError."""
    file = relative_path(Path(path))
    fmt = log_format(path, logmap)
    try:
        f = _open(path)
    except OSError as e:
        raise InputError(Problem(file, None, None, f"cannot read: {e.strerror or e}")) from None
    with f:
        reader = _xes_cases if fmt == "xes" else _csv_cases
        resolve = _Resolver(file, logmap)
        for item in reader(f, file, logmap, resolve.needed):
            yield item if isinstance(item, Problem) else resolve(*item)


def _open(path: str | os.PathLike) -> IO[bytes]:
    f = open(path, "rb")
    if f.peek(2)[:2] == b"\x1f\x8b":   # gzip, whatever the name says
        return gzip.GzipFile(fileobj=f)   # type: ignore[return-value]
    return f


ALL_KEYS = "\x00keys"   # in an event's values: every attribute name it has, when one is missing

# A case as read, before the map is applied: id, line, case attributes, (line, event values).
RawCase = tuple[str, int, Mapping[str, Any], list[tuple[int, dict[str, Any]]]]


# --------------------------------------------------------------------------- XES


def _xes_cases(f: IO[bytes], file: str, logmap: LogMap, needed: frozenset[str]) -> Iterator[RawCase | Problem]:
    context = etree.iterparse(f, events=("end",), tag=("{*}event", "{*}trace"), resolve_entities=False,
                              no_network=True, huge_tree=False, remove_comments=True)
    events: list[tuple[int, dict[str, Any]]] = []
    checked = False
    try:
        for _, el in context:
            if not checked:
                _check_root(el.getroottree().getroot(), file)
                checked = True
            if _local(el.tag) == "event":
                values = {k: a.get("value") for a in el if (k := a.get("key")) in needed}
                if len(values) < len(needed):   # keep every name, for "did you mean"
                    values[ALL_KEYS] = [a.get("key") for a in el]
                events.append((el.sourceline or 0, values))
                el.clear()
                prev = el.getprevious()
                while prev is not None and prev.tag == el.tag:   # events already read
                    el.getparent().remove(prev)
                    prev = el.getprevious()
                continue
            attrs = {a.get("key"): a.get("value") for a in el if _local(a.tag) != "event"}
            cid = attrs.get(logmap.case)
            line = el.sourceline or 0
            if cid is None:
                yield Problem(file, line, None, f"a trace without its case id '{logmap.case}'"
                              f"{did_you_mean(logmap.case, [k for k in attrs if k])}")
            else:
                yield cid, line, attrs, events
            events = []
            el.clear()
            parent = el.getparent()
            while el.getprevious() is not None:   # traces (and log headers) already read
                del parent[0]
    except etree.XMLSyntaxError as e:
        line = e.position[0] if e.position else None
        if not checked:
            raise InputError(Problem(file, line, None, f"not XES: not well-formed XML ({e.msg})")) from None
        yield Problem(file, line, None, f"the log breaks off here, nothing after it was read: {e.msg}")
        return
    except (OSError, EOFError) as e:   # a truncated or corrupt gzip stream
        yield Problem(file, None, None, f"the log cannot be read to its end: {e}")
        return
    if not checked and context.root is not None:
        _check_root(context.root, file)


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _check_root(root: Any, file: str) -> None:
    if root is None or _local(root.tag) != "log":
        got = _local(root.tag) if root is not None else "nothing"
        raise InputError(Problem(file, getattr(root, "sourceline", None), None,
                                 f"not XES: the root element is <{got}>, expected <log>"))


# --------------------------------------------------------------------------- CSV


def _csv_cases(f: IO[bytes], file: str, logmap: LogMap, needed: frozenset[str]) -> Iterator[RawCase | Problem]:
    """Rows grouped by case id in the order cases first appear (a CSV has no case
    boundaries, so the rows are held until the file ends)."""
    text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text, delimiter=logmap.csv.delimiter)
    try:
        header = reader.fieldnames or []
    except UnicodeDecodeError as e:
        raise InputError(Problem(file, 1, None, f"not UTF-8 text ({e.reason})")) from None
    case_sources = _case_sources(logmap)
    for column in sorted({logmap.case, *needed, *case_sources}):
        if column not in header and not _has_default(logmap, column):
            raise InputError(Problem(file, 1, None, f"no column '{column}' in the header"
                                     f"{did_you_mean(column, header)}"))
    cases: dict[str, tuple[int, dict[str, Any], list[tuple[int, dict[str, Any]]]]] = {}
    try:
        for row in reader:
            line = reader.line_num
            cid = row.get(logmap.case)
            if not cid:
                yield Problem(file, line, None, f"a row without a case id in column '{logmap.case}'")
                continue
            if cid not in cases:
                cases[cid] = (line, {k: row.get(k) for k in case_sources}, [])
            cases[cid][2].append((line, {k: v for k in needed if (v := row.get(k)) not in (None, "")}))
    except (UnicodeDecodeError, csv.Error) as e:
        yield Problem(file, reader.line_num + 1, None, f"the log breaks off here, nothing after it was read: {e}")
    for cid, (line, attrs, events) in cases.items():
        yield cid, line, {k: v for k, v in attrs.items() if v not in (None, "")}, events


def _case_sources(logmap: LogMap) -> set[str]:
    return {s.case for s in (logmap.department, logmap.channel, logmap.life_event) if s.case is not None}


def _has_default(logmap: LogMap, column: str) -> bool:
    return any(s.attribute == column and s.default is not None
               for s in (logmap.department, logmap.channel, logmap.life_event))


# --------------------------------------------------------------------------- the map


class _Resolver:
    """Applies the map to a raw case: values, value renames, timestamps, order."""

    def __init__(self, file: str, logmap: LogMap):
        self.file, self.m = file, logmap
        self.needed = frozenset({*logmap.activity, logmap.timestamp,
                                 *(s.event for s in (logmap.department, logmap.channel) if s.event is not None)})

    def __call__(self, cid: str, line: int, attrs: Mapping[str, Any], raw: list[tuple[int, dict[str, Any]]]
                 ) -> LogCase | Problem:
        m, subject = self.m, f"case {cid}"
        if not raw:
            return Problem(self.file, line, subject, "the case has no events")
        try:
            life_event = self._value(m.life_event, attrs, {}, "life event")
            case_channel = None if m.channel.event is not None else self._value(m.channel, attrs, {}, "channel")
            events = []
            for ev_line, values in raw:
                activity = " ".join(_present(values, k, ev_line) for k in m.activity)
                events.append(LogEvent(
                    ev_line, " ".join(activity.split()),
                    self._time(_present(values, m.timestamp, ev_line), ev_line),
                    self._value(m.department, attrs, values, "department", ev_line),
                    self._value(m.channel, attrs, values, "channel", ev_line) if case_channel is None else None))
        except _Bad as e:
            return Problem(self.file, e.line or line, subject, str(e))
        if m.order == "sort":
            events.sort(key=lambda e: e.time)   # stable: equal times keep file order
        else:
            for a, b in zip(events, events[1:]):
                if b.time < a.time:
                    return Problem(self.file, b.line, subject,
                                   f"events out of order: the event at line {b.line} ({_iso(b.time)}) is earlier "
                                   f"than the one before it at line {a.line} ({_iso(a.time)}); "
                                   "say `order: sort` in the map to sort each case by timestamp")
        return LogCase(cid, line, life_event, case_channel, tuple(events))

    def _value(self, src: Source, attrs: Mapping[str, Any], values: Mapping[str, Any], what: str,
               line: int | None = None) -> str:
        if src.value is not None:
            return src.value
        if src.case is not None:
            v, where, keys = attrs.get(src.case), "the case", attrs
        else:
            v, where, keys = values.get(src.event), f"the event at line {line}", values.get(ALL_KEYS, values)
        if v is None or v == "":
            if src.default is not None:
                return src.default
            name = src.attribute or ""
            raise _Bad(f"{where} has no attribute '{name}' (the map's {what})"
                       f"{did_you_mean(name, [k for k in keys if k and k != ALL_KEYS])}", line)
        v = str(v)
        if src.values:
            if v not in src.values:
                raise _Bad(f"{what} '{v}' is not among the map's values for it"
                           f"{did_you_mean(v, src.values)}", line)
            return src.values[v]
        return v

    def _time(self, text: str, line: int) -> float:
        fmt = self.m.csv.timestamp_format
        try:
            t = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(f"timestamp '{text}' is not a date and time"
                       f"{'' if fmt else ' (ISO 8601 expected)'}", line) from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        return t.timestamp()


class _Bad(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _present(values: Mapping[str, Any], key: str, line: int) -> str:
    v = values.get(key)
    if v is None or v == "":
        names = [k for k in values.get(ALL_KEYS, values) if k and k != ALL_KEYS]
        raise _Bad(f"the event at line {line} has no attribute '{key}'{did_you_mean(key, names)}", line)
    return str(v)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")
