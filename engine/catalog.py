"""Catalogs -> cases: a YAML catalog (personas, life events, explicit cases) or a JSON Lines
stream, each case checked against the policy set's manifest. A bad case is a Problem naming
its file, line and case id; every other case is still read."""
from __future__ import annotations

import codecs
import functools
import io
import itertools
import json
import math
import os
from pathlib import Path
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, NamedTuple

from pydantic import BaseModel

from .errors import InputError, Problem, did_you_mean
from .intake import line_reader
from .yamlio import LineDict, LineList, parse_yaml, read_yaml, relative_path, unreadable_file
from .vocabulary import EXACT_LIMIT, INT_LIMIT, MAX_VOLUME
from .manifest import Attribute, Manifest
from .case import PERSONA_KEYS, Case, CaseSpec, Catalog
from .validate import validate_document, validate_model

__all__ = ["load_catalog", "catalog_from_yaml", "resolve_cases", "iter_cases", "iter_jsonl_cases", "iter_jsonl_lines",
           "iter_jsonl_blob", "jsonl_lines", "open_catalog", "open_catalog_stream", "CaseResolver", "CatalogStream",
           "JsonLine", "JsonLineResolver", "CarefulLineReader", "LoadedCatalog"]


class LoadedCatalog(BaseModel):
    path: str
    catalog: Catalog
    case_lines: list[int]           # line of each explicit case
    persona_lines: dict[str, int]
    raw_cases: list[Any]


def load_catalog(path: str | os.PathLike) -> LoadedCatalog:
    """Parse and validate a catalog's shape. Cases are checked against a manifest later."""
    return catalog_from_yaml(read_yaml(path), relative_path(Path(path)))


def catalog_from_yaml(raw: Any, file: str) -> LoadedCatalog:
    catalog = validate_document(Catalog, raw, file, "a catalog is a mapping with personas, events and cases")
    raw_cases = raw.get("cases") or LineList()
    personas = raw.get("personas") or LineDict()
    return LoadedCatalog(
        path=file, catalog=catalog,
        case_lines=list(getattr(raw_cases, "item_lines", [1] * len(raw_cases))),
        persona_lines={k: getattr(personas, "key_lines", {}).get(k, 1) for k in personas},
        raw_cases=list(raw_cases),
    )


class CaseResolver:
    """Resolves case specs against a manifest: attributes from manifest defaults <- persona
    <- case, every value checked, the start channel chosen. One spec at a time, so a
    catalog of millions of lines streams through it."""

    def __init__(self, manifest: Manifest, file: str, personas: Mapping[str, Mapping[str, Any]] = {},
                 persona_lines: Mapping[str, int] = {}, channel: str | None = None, track_ids: bool = True,
                 personas_are_labels: bool = False, per_year: Mapping[str, float] = {}):
        self.manifest, self.file, self.channel = manifest, file, channel
        self.per_year = dict(per_year)
        self.shares: dict[str, float] = {}
        self.personas_are_labels = personas_are_labels
        # A YAML catalog is checked for duplicate ids; a stream is not (that would keep every id).
        self.track_ids = track_ids
        self.defaults = {k: a.default for k, a in manifest.attributes.items() if a.default is not None}
        self.declared = set(personas)
        self.personas: dict[str, dict[str, Any]] = {}
        self.persona_channels: dict[str, str | None] = {}
        self.problems: list[Problem] = []   # about personas: reported once, before any case
        self.seen: dict[str, int] = {}
        self._checks = {name: _fast_check(a) for name, a in manifest.attributes.items()}
        for name, attrs in sorted(personas.items()):
            own = {k: v for k, v in attrs.items() if k not in PERSONA_KEYS}
            persona_channel = attrs.get("channel")
            bad = _attribute_problems(own, manifest)
            share = attrs.get("share")
            if share is not None:
                if type(share) not in (int, float) or not 0 <= share <= 1:
                    bad.append(f"share must be a number from 0 to 1 (its part of each life event's per_year), "
                               f"got {share!r}")
                else:
                    self.shares[name] = share
            if persona_channel is not None and persona_channel not in manifest.channels:
                bad.append(f"unknown channel '{persona_channel}'{did_you_mean(persona_channel, manifest.channels)}")
            self.problems += [Problem(file, persona_lines.get(name), f"persona {name}", why) for why in bad]
            if not bad:
                self.personas[name] = own
                self.persona_channels[name] = persona_channel

    def __getstate__(self) -> dict[str, Any]:   # to worker processes: the checks are closures
        return {k: v for k, v in self.__dict__.items() if k != "_checks"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._checks = {name: _fast_check(a) for name, a in self.manifest.attributes.items()}

    def resolve(self, spec: CaseSpec, line: int | None, expanded: bool = False) -> Case | list[Problem] | None:
        """The case, its problems, or None for an expanded case an explicit one replaced."""
        manifest = self.manifest
        cid = spec.id or (f"{spec.event}/{spec.persona}" if spec.persona else spec.event)
        subject = f"case {cid}"
        if self.track_ids:
            if cid in self.seen:
                if expanded:  # an explicit case may stand in for an expanded one of the same id
                    return None
                return [Problem(self.file, line, subject, f"duplicate case id (first at line {self.seen[cid]})")]
            self.seen[cid] = line or 0
        why: list[str] = []
        if spec.event not in manifest.events:
            why.append(f"unknown life event '{spec.event}'{did_you_mean(spec.event, manifest.events)}")
        attrs = dict(self.defaults)
        if spec.persona is not None and not self.personas_are_labels:
            if spec.persona in self.personas:
                attrs.update(self.personas[spec.persona])
            elif spec.persona in self.declared:
                why.append(f"persona '{spec.persona}' is invalid (see its own error)")
            else:
                why.append(f"unknown persona '{spec.persona}'{did_you_mean(spec.persona, self.declared)}")
        checks = self._checks
        if not all(k in checks and checks[k](v) for k, v in spec.attrs.items()):
            why += _attribute_problems(spec.attrs, manifest)   # the slow path says what is wrong
        attrs.update(spec.attrs)
        channel = (spec.channel or self.persona_channels.get(spec.persona or "") or self.channel
                   or manifest.default_channel)
        if channel is None:
            why.append("no start channel: give the case, its persona or the catalog a `channel`, "
                       "or the manifest a `start_channel`")
        elif channel not in manifest.channels:
            why.append(f"unknown start channel '{channel}'{did_you_mean(channel, manifest.channels)}")
        if why:
            return [Problem(self.file, line, subject, w) for w in why]
        volume = getattr(spec, "volume", None)
        if volume is None:   # TDABC volume: events a year × this persona's share of them
            volume = self.per_year.get(spec.event, 1) * self.shares.get(spec.persona or "", 1)
        return Case(id=cid, event=spec.event, persona=spec.persona, channel=channel,
                    attrs=dict(sorted(attrs.items())), volume=volume)


def iter_cases(loaded: LoadedCatalog, manifest: Manifest) -> Iterator[Case | Problem]:
    """Every case of a YAML catalog, in catalog order (explicit cases, then expanded ones),
    interleaved with the problems of the cases that are bad. A bad case stops nothing."""
    cat, file = loaded.catalog, loaded.path
    resolver = CaseResolver(manifest, file, cat.personas, loaded.persona_lines, cat.channel,
                            per_year=cat.per_year)
    for event in sorted(set(cat.per_year) - set(manifest.events)):
        yield Problem(file, 1, None, f"per_year: unknown life event '{event}'{did_you_mean(event, manifest.events)}")
    yield from resolver.problems
    produced = False
    for i, raw in enumerate(loaded.raw_cases):
        line = loaded.case_lines[i]
        cid = raw.get("id") if isinstance(raw, Mapping) else None
        problems: list[Problem] = []
        spec = validate_model(CaseSpec, raw, file, f"case {cid}" if cid else f"case #{i + 1}", problems, line)
        if spec is None and isinstance(cid, str):
            resolver.seen.setdefault(cid, line)   # an expanded case of the same id must not stand in
        out = resolver.resolve(spec, line) if spec is not None else problems
        produced = True
        yield from (out if isinstance(out, list) else [out])
    if cat.expand:
        if not cat.personas or not cat.events:
            yield Problem(file, 1, None, "expand: true needs both personas and events")
        for event in cat.events:
            for name in sorted(cat.personas):
                out = resolver.resolve(CaseSpec(id=f"{event}/{name}", event=event, persona=name), 1, True)
                if out is not None:
                    produced = True
                    yield from (out if isinstance(out, list) else [out])
    if not produced and not resolver.problems:
        yield Problem(file, 1, None, "the catalog holds no cases")


def resolve_cases(loaded: LoadedCatalog, manifest: Manifest) -> tuple[list[Case], list[Problem]]:
    """All cases of a catalog and, apart, the problems of the bad ones."""
    cases, problems = [], []
    for item in iter_cases(loaded, manifest):
        (problems if isinstance(item, Problem) else cases).append(item)
    return cases, problems


class JsonLine(NamedTuple):
    """One line of a JSON Lines catalog, not yet parsed: cheap to hand to a worker."""

    line: int
    text: str
    error: str | None = None   # the line could not even be read


def iter_jsonl_lines(path: str | os.PathLike) -> Iterator[JsonLine]:
    file = relative_path(Path(path))
    try:
        f = open(path, "rb")   # decoded line by line: one bad line does not hide the rest
    except OSError as e:
        raise InputError(Problem(file, None, None, unreadable_file(path, e))) from None
    with f:
        yield from jsonl_lines(f)


def iter_jsonl_blob(blob: bytes, first_line: int = 1) -> Iterator[JsonLine]:
    """The lines of a block of a JSON Lines catalog that starts at line `first_line` (a
    byte range cut at line ends, as a cluster worker reads it)."""
    return jsonl_lines(io.BytesIO(blob), first_line, whole=False)   # lines end at \n only, as in a file


NO_CASES = "the catalog holds no cases"


class LineBlock:
    """A run of whole lines of a JSON Lines catalog, as bytes, starting at line
    `first_line`: what a worker process is handed (one bytes object pickles at the speed of
    a copy; hundreds of parsed lines do not). Iterated where it arrives, it gives the
    JsonLines. An empty block stands for a catalog with no case at all."""

    __slots__ = ("data", "first_line")

    def __init__(self, data: bytes, first_line: int):
        self.data, self.first_line = data, first_line

    def __iter__(self) -> Iterator[JsonLine]:
        if not self.data:
            return iter([JsonLine(1, "", NO_CASES)])
        return iter_jsonl_blob(self.data, self.first_line)

    def __reduce__(self) -> tuple:
        return LineBlock, (self.data, self.first_line)


def jsonl_blocks(f: BinaryIO, lines: int = 500) -> Iterator[LineBlock]:
    """The lines of a binary stream of JSON Lines in blocks of `lines` lines (blank ones
    included), each with the number of its first line: the lines jsonl_lines gives, and
    the same one error for a catalog with no case."""
    first, seen = 1, False
    while chunk := list(itertools.islice(f, lines)):
        block = b"".join(chunk)
        seen = seen or _holds_a_line(block, first)
        yield LineBlock(block, first)
        first += len(chunk)
    if not seen:
        yield LineBlock(b"", 1)


def _holds_a_line(block: bytes, first_line: int) -> bool:
    """A non-blank line in the block, as jsonl_lines judges one (after a byte-order mark;
    bytes that are not UTF-8 count as a line: it becomes an error row)."""
    if first_line == 1:
        block = block.removeprefix(codecs.BOM_UTF8)
    return not block.decode("utf-8", "replace").isspace() and bool(block)


def jsonl_lines(f: Iterable[bytes], first_line: int = 1, whole: bool = True) -> Iterator[JsonLine]:
    """The non-blank lines of a binary stream of JSON Lines. A line that cannot be decoded
    is kept with its error, so it becomes an error row and the stream goes on. A byte-order
    mark on the first line is dropped (some editors write one); a `whole` catalog with no
    line at all is one error, as an empty YAML catalog is."""
    empty = True
    for n, raw in enumerate(f, first_line):
        if n == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield JsonLine(n, "", f"not UTF-8 text (byte {e.start + 1}: {e.reason})")
            empty = False
            continue
        if text.strip():
            empty = False
            yield JsonLine(n, text)
    if empty and whole:
        yield JsonLine(1, "", NO_CASES)


class JsonLineResolver(functools.partial):
    """Parses and resolves JSON lines ({id, event, persona?, channel?, attrs}) one at a time:
    called on a JsonLine, the case or a single problem (its messages joined). The common
    line goes straight into a case (friction.intake's generated reader); any other takes
    the careful path (`careful`), which accepts the same lines and words what is wrong with
    the others. A partial of the generated reader: a call reaches it with no Python frame
    between (a `__call__` method would cost about a twentieth of reading the line)."""

    def __new__(cls, manifest: Manifest, file: str) -> "JsonLineResolver":
        careful = CarefulLineReader(manifest, file)
        self = super().__new__(cls, line_reader(manifest, careful))
        self.file, self.careful = file, careful
        return self

    def __reduce__(self) -> tuple:   # to worker processes: the reader is generated, so made there again
        return type(self), (self.careful.resolver.manifest, self.file)


class CarefulLineReader:
    """The careful path for a JSON line: parsed by json.loads, checked key by key, each
    problem in the owner's words (the case or one Problem)."""

    def __init__(self, manifest: Manifest, file: str):
        self.file = file
        # No persona table in JSON Lines: a persona there is a label (for coverage and
        # diff), its attributes are the line's own.
        self.resolver = CaseResolver(manifest, file, track_ids=False, personas_are_labels=True)

    def __call__(self, item: JsonLine) -> Case | Problem:
        try:
            return self._resolve(item)
        except (ValueError, TypeError, OverflowError, RecursionError) as e:
            # untrusted text: whatever a line holds, it is one error row, never the end of the run
            return Problem(self.file, item.line, None, f"cannot read this line: {e}")

    def _resolve(self, item: JsonLine) -> Case | Problem:
        n, file = item.line, self.file
        if item.error:
            return Problem(file, n, None, item.error)
        if "\x00" in item.text:
            return Problem(file, n, None, f"a NUL byte at column {item.text.index(chr(0)) + 1}: not JSON text")
        try:
            raw = json.loads(item.text)
        except json.JSONDecodeError as e:
            return Problem(file, n, None, f"bad JSON: {e.msg} (column {e.colno})")
        except RecursionError:
            return Problem(file, n, None, "bad JSON: nested too deeply")
        except ValueError as e:   # an integer of thousands of digits, past Python's limit
            return Problem(file, n, None, f"bad JSON: {str(e).split(':')[0]}")
        cid = raw.get("id") if isinstance(raw, dict) else None
        subject = f"case {cid}" if isinstance(cid, str) else f"line {n}"
        if not isinstance(raw, dict):
            return Problem(file, n, subject, "each line must be a JSON object (a case)")
        problems: list[Problem] = []
        if _plain_case(raw):  # the common, well-formed line: no validator needed
            spec = _Line(raw.get("id"), raw["event"], raw.get("persona"), raw.get("channel"), raw.get("attrs", {}),
                         raw.get("volume"))
        else:
            spec = validate_model(CaseSpec, raw, file, subject, problems, n)
        out = self.resolver.resolve(spec, n) if spec is not None else problems
        if isinstance(out, list):
            return Problem(file, n, out[0].subject, "; ".join(p.message for p in out))
        return out


def iter_jsonl_cases(path: str | os.PathLike, manifest: Manifest) -> Iterator[Case | Problem]:
    """Cases from JSON Lines, read lazily: a catalog of millions of cases is never held in
    memory. Case ids are not checked for duplicates (rows carry them; both are written)."""
    resolve = JsonLineResolver(manifest, relative_path(Path(path)))
    for item in iter_jsonl_lines(path):
        yield resolve(item)


@dataclass
class CatalogStream:
    """A catalog to run: iterate it for cases (with problems in place), or hand `raw` and
    `prepare` to workers so that parsing happens there too."""

    name: str
    loaded: LoadedCatalog | None          # the YAML catalog; None for JSON Lines
    raw: Iterable[Any]
    prepare: Callable[[Any], Case | Problem] | None = None
    note: str | None = None               # something the user should know about how it was read
    # Instead of `raw`, for worker processes: blocks(lines) gives the same lines, in blocks
    # of about that many lines (JSON Lines files only).
    blocks: Callable[[int], Iterable[LineBlock]] | None = None

    def __iter__(self) -> Iterator[Case | Problem]:
        if self.prepare is None:
            return iter(self.raw)
        return map(self.prepare, self.raw)


_CASE_KEYS = frozenset(CaseSpec.model_fields)


class _Line(NamedTuple):
    """A JSON line already known to be a valid CaseSpec (see _plain_case)."""

    id: str | None
    event: str
    persona: str | None
    channel: str | None
    attrs: dict
    volume: float | None = None


def _plain_case(raw: dict) -> bool:
    """True when `raw` is exactly what CaseSpec would accept unchanged (attribute values are
    checked against the manifest by the resolver either way)."""
    volume = raw.get("volume")
    return (raw.keys() <= _CASE_KEYS and type(raw.get("event")) is str
            and (volume is None or (type(volume) in (int, float) and 0 <= volume <= MAX_VOLUME))
            and all(raw.get(k) is None or type(raw[k]) is str for k in ("id", "persona", "channel"))
            and type(raw.get("attrs", {})) is dict and all(type(k) is str for k in raw.get("attrs", {})))


def open_catalog(path: str | os.PathLike, manifest: Manifest) -> CatalogStream:
    """A YAML catalog, or JSON Lines (streamed): a name ending in `.jsonl`, or a `.json` file
    whose first line is a whole JSON object with more lines after it (then `note` says so)."""
    lower = str(path).lower()
    note = None
    if lower.endswith(".json") and _holds_json_lines(path):
        note = f"{relative_path(Path(path))} holds JSON Lines (one case per line), read as such; name it .jsonl"
    if lower.endswith(".jsonl") or note:
        file = relative_path(Path(path))
        try:
            f = open(path, "rb")
        except OSError as e:
            raise InputError(Problem(file, None, None, unreadable_file(path, e))) from None
        return CatalogStream(file, None, _closing(f, jsonl_lines), JsonLineResolver(manifest, file), note,
                             lambda lines: _closing(f, functools.partial(jsonl_blocks, lines=lines)))
    loaded = load_catalog(path)
    return CatalogStream(loaded.path, loaded, iter_cases(loaded, manifest))


def open_catalog_stream(f: BinaryIO, name: str, manifest: Manifest) -> CatalogStream:
    """A catalog from an open binary stream (standard input): JSON Lines, streamed, when
    its first non-blank line is a whole JSON object; otherwise YAML, read whole."""
    head = []
    for raw in f:
        head.append(raw)
        if raw.strip():
            break
    if head and _json_object(head[-1]):
        return CatalogStream(name, None, jsonl_lines(itertools.chain(head, f)), JsonLineResolver(manifest, name))
    data = b"".join(head) + f.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(Problem(name, data.count(b"\n", 0, e.start) + 1, None, f"not UTF-8 text ({e.reason})")) from None
    loaded = catalog_from_yaml(parse_yaml(text, name), name)
    return CatalogStream(name, loaded, iter_cases(loaded, manifest))


def _closing(f: BinaryIO, read: Callable[[BinaryIO], Iterator[Any]]) -> Iterator[Any]:
    with f:
        yield from read(f)


def _json_object(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw.decode("utf-8-sig")), dict)
    except (ValueError, RecursionError):
        return False


def _holds_json_lines(path: str | os.PathLike) -> bool:
    """A first line that is a whole JSON object and a second non-blank line: JSON Lines.
    (A JSON catalog spans lines or holds a single one; YAML reads it as it is.)"""
    try:
        with open(path, "rb") as f:
            lines = (raw for raw in f if raw.strip())
            first = next(lines, None)
            return first is not None and _json_object(first) and next(lines, None) is not None
    except OSError:
        return False   # the YAML reader reports why


def _fast_check(spec: Attribute):
    """A predicate equal to `spec.check(v) is None`, for the millions of good values."""
    types = {"bool": (bool,), "int": (int,), "number": (int, float), "str": (str,)}[spec.type]
    lo = -math.inf if spec.min is None else spec.min
    hi = math.inf if spec.max is None else spec.max
    int_limit = INT_LIMIT if spec.type == "int" else EXACT_LIMIT
    int_lo = -int_limit - (spec.type == "int")
    allowed = None if spec.values is None else frozenset((type(v), v) for v in spec.values)

    def ok(v: Any) -> bool:
        t = type(v)
        if t not in types or (t is float and not math.isfinite(v)):
            return False
        if allowed is not None and (t, v) not in allowed and not (t is int and (float, v) in allowed) \
                and not (t is float and (int, v) in allowed):
            return False
        if t is int and not int_lo <= v <= int_limit:
            return False
        return t in (bool, str) or lo <= v <= hi
    return ok


def _attribute_problems(attrs: Mapping[str, Any], manifest: Manifest) -> list[str]:
    out = []
    for key, value in sorted(attrs.items()):
        spec = manifest.attributes.get(key)
        if spec is None:
            out.append(f"attribute '{key}' is not declared in the manifest{did_you_mean(key, manifest.attributes)}")
            continue
        why = spec.check(value)
        if why:
            out.append(f"attribute '{key}': {why}")
    return out
